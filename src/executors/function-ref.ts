/**
 * Turning what the user passes as `fn` into a `FunctionRef` a worker can
 * load: a self-contained function travels as its source text; a
 * `{ module, name }` reference as a module URL and an export name.
 *
 * A function sent by source is compiled again in the worker with no outer
 * scope, so it is checked at `submit` (parsed with acorn, its scopes analysed
 * with eslint-scope): one that uses `this` or `super`, or names a free
 * identifier that is not an ECMAScript standard global, would be silently
 * wrong or fail in the worker (a local named `process` would bind to the
 * worker's own `process`), and is refused with a `TypeError` naming it.
 *
 * The parser and the scope analyser are loaded on the first check, not when
 * this module is imported: `import "asyncio-ts"` must not pay for a
 * JavaScript parser that only functions shipped by source text need.
 */
import type * as path from "node:path";
import type * as url from "node:url";
import type * as nodeModule from "node:module";
import type * as acorn from "acorn";
import type * as eslintScope from "eslint-scope";
import { lazyBuiltin } from "../host.js";
import type { ExecutorFunction, FunctionRef } from "../executor.js";
import type { WireFunction } from "./protocol.js";

const pathApi = lazyBuiltin<typeof path>("node:path", "Function references");
const urlApi = lazyBuiltin<typeof url>("node:url", "Function references");
const moduleApi = lazyBuiltin<typeof nodeModule>("node:module", "Checking a function sent by its source");

interface SourceTools {
  parse: typeof acorn.parse;
  analyze: typeof eslintScope.analyze;
}

// Loaded synchronously on the first check (`submit` is synchronous); both
// packages ship a CommonJS build, so `require` is enough and works on Node 20.
let sourceTools: SourceTools | null = null;
function loadSourceTools(): SourceTools {
  if (sourceTools === null) {
    const require = moduleApi.createRequire(import.meta.url);
    const { parse } = require("acorn") as typeof acorn;
    const { analyze } = require("eslint-scope") as typeof eslintScope;
    sourceTools = { parse, analyze };
  }
  return sourceTools;
}

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

/**
 * The global names ECMAScript itself defines (ECMA-262 §19 plus Annex B's
 * `escape`/`unescape`, and ECMA-402's `Intl`): they mean the same in every
 * worker. Host globals (`process`, `console`, `performance`, `crypto`,
 * `setTimeout`, ...) are not here: the worker has its own, so a function
 * must get them from a module (`{ module, name }`).
 */
const STANDARD_GLOBALS: ReadonlySet<string> = new Set([
  "globalThis", "Infinity", "NaN", "undefined",
  "eval", "isFinite", "isNaN", "parseFloat", "parseInt",
  "decodeURI", "decodeURIComponent", "encodeURI", "encodeURIComponent", "escape", "unescape",
  "AggregateError", "Array", "ArrayBuffer", "Atomics", "BigInt", "BigInt64Array", "BigUint64Array",
  "Boolean", "DataView", "Date", "Error", "EvalError", "FinalizationRegistry",
  "Float16Array", "Float32Array", "Float64Array", "Function",
  "Int8Array", "Int16Array", "Int32Array", "Intl", "Iterator", "JSON", "Map", "Math",
  "Number", "Object", "Promise", "Proxy", "RangeError", "ReferenceError", "Reflect", "RegExp",
  "Set", "SharedArrayBuffer", "String", "Symbol", "SyntaxError", "TypeError",
  "Uint8Array", "Uint8ClampedArray", "Uint16Array", "Uint32Array", "URIError",
  "WeakMap", "WeakRef", "WeakSet",
]);

/**
 * esbuild's `keepNames` helper, which tsx puts around nested named functions
 * and classes; the worker provides its own (see worker-runtime.ts).
 */
export const NAME_HELPER = "__name";

// Checking parses the source: remember what was checked (sources repeat: the
// same arrow submitted in a loop is a new function object with the same text).
const checked = new Map<string, string | null>();
const CHECKED_LIMIT = 1024;

interface EsNode {
  type: string;
  [key: string]: unknown;
}

/** The first use of `this` or `super` that refers to the shipped function's own receiver, if any. */
function findReceiverUse(root: EsNode): "this" | "super" | null {
  let found: "this" | "super" | null = null;
  const visit = (node: EsNode, isRoot: boolean): void => {
    if (found !== null) return;
    if (node.type === "ThisExpression") {
      found = "this";
      return;
    }
    if (node.type === "Super") {
      found = "super";
      return;
    }
    // A nested non-arrow function has its own `this`.
    if (!isRoot && (node.type === "FunctionExpression" || node.type === "FunctionDeclaration")) return;
    if (node.type === "ClassBody") {
      // Members have their own `this`; only computed keys run in the outer scope.
      for (const member of node.body as EsNode[]) if (member.computed === true) visit(member.key as EsNode, false);
      return;
    }
    for (const key of Object.keys(node)) {
      if (key === "type" || key === "start" || key === "end" || key === "range" || key === "loc") continue;
      const value = node[key];
      if (Array.isArray(value)) {
        for (const item of value) if (item !== null && typeof item === "object" && typeof (item as EsNode).type === "string") visit(item as EsNode, false);
      } else if (value !== null && typeof value === "object" && typeof (value as EsNode).type === "string") visit(value as EsNode, false);
    }
  };
  visit(root, true);
  return found;
}

/** Parses a function's source: an expression (`function`, arrow, class) or a method shorthand. */
function parseFunction(source: string): { program: acorn.Node; fn: EsNode } {
  const { parse } = loadSourceTools();
  const options = { ecmaVersion: "latest" as const, sourceType: "script" as const, ranges: true };
  try {
    const program = parse(`(${source});`, options);
    const statement = (program as unknown as { body: EsNode[] }).body[0]!;
    return { program, fn: statement.expression as EsNode };
  } catch (first) {
    try {
      const program = parse(`({ ${source} });`, options);
      const object = (program as unknown as { body: EsNode[] }).body[0]!.expression as EsNode;
      const property = (object.properties as EsNode[])[0]!;
      return { program, fn: property.value as EsNode };
    } catch {
      throw first;
    }
  }
}

/** Why a function's source cannot run in a worker, or `null` when it can. */
function problemWith(source: string, label: string): string | null {
  let parsed: { program: acorn.Node; fn: EsNode };
  try {
    parsed = parseFunction(source);
  } catch (error) {
    return `${label}'s source cannot be parsed (${String((error as Error).message)}), so it cannot be checked or sent to a worker`;
  }
  const receiver = findReceiverUse(parsed.fn);
  if (receiver !== null) {
    return `${label} uses \`${receiver}\`, which does not travel to a worker: a function sent by its source must be self-contained`;
  }
  const scopes = loadSourceTools().analyze(parsed.program as never, { ecmaVersion: 2022, sourceType: "script" });
  for (const reference of scopes.globalScope!.through) {
    const name = reference.identifier.name;
    if (STANDARD_GLOBALS.has(name) || name === NAME_HELPER) continue;
    return `${label} closes over ${name}, which is not an ECMAScript standard global: in the worker it would be missing or another object of that name. A function sent by its source must be self-contained`;
  }
  return null;
}

/**
 * Refuses a function sent by source that would not mean the same in a
 * worker: `TypeError` naming `this`, `super`, or the free identifier.
 */
export function checkSelfContained(source: string, name: string): void {
  let problem = checked.get(source);
  if (problem === undefined) {
    problem = problemWith(source, name === "" ? "the function" : name);
    if (checked.size >= CHECKED_LIMIT) checked.clear();
    checked.set(source, problem);
  }
  if (problem !== null) throw new TypeError(`${problem}: pass values as arguments, or export the function from a module and pass { module, name }`);
}

/** Makes the reference a worker loads `fn` from; `TypeError` for what cannot travel. */
export function toFunctionRef(fn: ExecutorFunction<never[], unknown>): WireFunction {
  if (typeof fn === "function") {
    const source = Function.prototype.toString.call(fn);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
      throw new TypeError(`${fn.name || "this function"} is native or bound and cannot be sent to a worker: pass a plain function, or { module, name }`);
    }
    checkSelfContained(source, fn.name);
    return { kind: "source", source, name: fn.name };
  }
  if (typeof fn === "object" && fn !== null && typeof fn.name === "string" && (typeof fn.module === "string" || fn.module instanceof URL)) {
    const module = fn.module;
    let url: string;
    if (module instanceof URL) url = module.href;
    else if (/^[a-z][a-z0-9+.-]*:/i.test(module)) url = module;
    else url = urlApi.pathToFileURL(pathApi.isAbsolute(module) ? module : pathApi.resolve(module)).href;
    return { kind: "module", url, name: fn.name };
  }
  throw new TypeError("an executor runs a function, or { module: path | URL, name: exportName }");
}
