/**
 * Turning what the user passes as `fn` into a `FunctionRef` a worker can
 * load: a self-contained function travels as its source text; a
 * `{ module, name }` reference as a module URL and an export name.
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ExecutorFunction, FunctionRef } from "../events.js";
import type { FunctionRef as WireFunction } from "./protocol.js";

/**
 * A typed reference to the export `name` of `module`, for `pool.submit`,
 * `pool.map` and `loop.runInExecutor`: the worker imports the module and
 * calls the export, and the type `F` checks the arguments and types the
 * result. A relative `module` path resolves against the working directory;
 * pass `new URL("./jobs.js", import.meta.url)` to resolve it against the caller.
 *
 * @typeParam F - the exported function's type (`typeof exportedFunction`,
 *   from an `import type`, so the caller does not load the module itself).
 *
 * @example
 * import type { checksum } from "./jobs.js";
 * const ref = functionRef<typeof checksum>(new URL("./jobs.js", import.meta.url), "checksum");
 * const sum = yield* pool.submit(ref, "some text"); // typed as checksum's result
 */
export function functionRef<F extends (...args: never[]) => unknown>(module: string | URL, name: string): FunctionRef<F> {
  if (typeof name !== "string" || name === "") throw new TypeError("functionRef() takes the export's name");
  if (typeof module !== "string" && !(module instanceof URL)) throw new TypeError("functionRef() takes a module path or URL");
  return Object.freeze({ module, name });
}

/** Makes the reference a worker loads `fn` from; `TypeError` for what cannot travel. */
export function toFunctionRef(fn: ExecutorFunction<never[], unknown>): WireFunction {
  if (typeof fn === "function") {
    const source = Function.prototype.toString.call(fn);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
      throw new TypeError(`${fn.name || "this function"} is native or bound and cannot be sent to a worker: pass a plain function, or { module, name }`);
    }
    return { kind: "source", source, name: fn.name };
  }
  if (typeof fn === "object" && fn !== null && typeof fn.name === "string" && (typeof fn.module === "string" || fn.module instanceof URL)) {
    const module = fn.module;
    let url: string;
    if (module instanceof URL) url = module.href;
    else if (/^[a-z][a-z0-9+.-]*:/i.test(module)) url = module;
    else url = pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
    return { kind: "module", url, name: fn.name };
  }
  throw new TypeError("an executor runs a function, or { module: path | URL, name: exportName }");
}
