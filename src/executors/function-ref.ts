/**
 * Turning what the user passes as `fn` into a `FunctionRef` a worker can
 * load: a self-contained function travels as its source text; a
 * `{ module, name }` reference as a module URL and an export name.
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ExecutorFunction } from "../events.js";
import type { FunctionRef } from "./protocol.js";

/** Makes the reference a worker loads `fn` from; `TypeError` for what cannot travel. */
export function toFunctionRef(fn: ExecutorFunction<never[], unknown>): FunctionRef {
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
