// TypeDoc plugin: leaves out `[inspectCustom]()` (util.inspect.custom) methods, which are how
// objects print themselves in Node, not API a caller uses.
import { Converter, ReflectionKind } from "typedoc";

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.Method)) {
      if (reflection.name === "[custom]" || reflection.name === "[inspectCustom]") context.project.removeReflection(reflection);
    }
  });
}
