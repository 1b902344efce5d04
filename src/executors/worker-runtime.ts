/**
 * What runs inside a worker (thread or child process): load functions from
 * their references, run jobs, report results and errors as data.
 */
import type { FromWorker, RemoteError, ToWorker, WireFunction } from "./protocol.js";

type Callable = (...args: unknown[]) => unknown;
const cache = new Map<string, Callable>();

// esbuild's keepNames helper (tsx wraps nested named functions in it); see function-ref.ts.
const nameHelper = (target: unknown, value: string): unknown => Object.defineProperty(target, "name", { value, configurable: true });

function compile(ref: Extract<WireFunction, { kind: "source" }>): Callable {
  // No outer scope: a function that closed over variables meets a ReferenceError when it runs.
  const attempts = [`return (${ref.source});`, `return ({ ${ref.source} })[${JSON.stringify(ref.name)}];`];
  let lastError: unknown;
  for (const body of attempts) {
    try {
      const fn = new Function("__name", body)(nameHelper) as unknown;
      if (typeof fn === "function") return fn as Callable;
    } catch (error) {
      lastError = error;
    }
  }
  throw new TypeError(`the function's source could not be compiled in the worker: ${safeString(lastError)}`);
}

async function load(ref: WireFunction): Promise<Callable> {
  const key = ref.kind === "source" ? `s:${ref.source}` : `m:${ref.url}#${ref.name}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let fn: unknown;
  if (ref.kind === "source") fn = compile(ref);
  else {
    const module = (await import(ref.url)) as Record<string, unknown>;
    fn = module[ref.name];
    if (typeof fn !== "function") throw new TypeError(`${ref.url} has no exported function named ${JSON.stringify(ref.name)}`);
  }
  cache.set(key, fn as Callable);
  return fn as Callable;
}

/** `String(value)`, or a placeholder when even that throws (a hostile `toString`). */
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `[${typeof value} that cannot be converted to a string]`;
  }
}

/** Reads `object[key]`, or `fallback` when its getter throws. */
function safeGet(object: object, key: string, fallback: unknown): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    return fallback;
  }
}

/** `value` itself when it survives the structured clone, else its `String()`. */
function cloneable(value: unknown): unknown {
  try {
    structuredClone(value);
    return value;
  } catch {
    return safeString(value);
  }
}

/**
 * A faithful stand-in for `error` that always clones: name, message and
 * stack as strings, every other own enumerable field cloneable or as its
 * `String()`. Reading the error never throws (getters may).
 */
export function toRemoteError(error: unknown, ref: WireFunction | null): RemoteError {
  try {
    return describeError(error, ref);
  } catch {
    // `instanceof` on a proxy whose traps throw, and the like.
    return { name: "Error", message: "the worker threw a value that could not be inspected", stack: undefined };
  }
}

function describeError(error: unknown, ref: WireFunction | null): RemoteError {
  if (error instanceof ReferenceError && ref?.kind === "source") {
    const message = safeString(safeGet(error, "message", ""));
    const variable = /^(\S+) is not defined/.exec(message)?.[1];
    return {
      name: "ReferenceError",
      message: `${message}: ${ref.name || "the function"} closes over ${variable ?? "an outer variable"}, which does not exist in the worker. A function sent by its source must be self-contained: pass values as arguments, or use { module, name }`,
      stack: safeString(safeGet(error, "stack", undefined)),
    };
  }
  if (error instanceof Error) {
    const name = safeString(safeGet(error, "name", "Error"));
    const message = safeString(safeGet(error, "message", "[the error's message could not be read]"));
    const unreadable = {};
    const stack = safeGet(error, "stack", unreadable);
    const remote: RemoteError = {
      name,
      message,
      stack: stack === unreadable ? `${name}: ${message}\n    at [the worker's stack could not be read]` : stack === undefined ? undefined : safeString(stack),
    };
    let keys: string[] = [];
    try {
      keys = Object.keys(error);
    } catch {
      // A proxy that refuses to list its keys: the fields are lost, the rest stays.
    }
    const fields: Record<string, unknown> = {};
    let any = false;
    for (const key of keys) {
      if (key === "name" || key === "message" || key === "stack") continue;
      fields[key] = cloneable(safeGet(error, key, "[the field's getter threw]"));
      any = true;
    }
    if (any) remote.fields = fields;
    return remote;
  }
  return { name: "Error", message: `non-error thrown: ${safeString(error)}`, stack: undefined };
}

/** Serves jobs: `send` posts a message back to the parent. */
export function serve(send: (message: FromWorker) => void): (message: ToWorker) => void {
  let ready: Promise<void> = Promise.resolve();
  const reply = (message: FromWorker): void => {
    try {
      send(message);
    } catch (error) {
      // Only the job fails, never the worker: a result or error that cannot be sent becomes a TypeError.
      const detail = `cannot be sent back from the worker: ${safeString(error)}`;
      const fallback: RemoteError = { name: "TypeError", message: message.type === "done" && message.ok ? `the result ${detail}` : `the error ${detail}`, stack: undefined };
      if (message.type === "done") send({ type: "done", id: message.id, ok: false, error: fallback });
      else if (message.type === "init-failed") send({ type: "init-failed", error: fallback });
      else throw error;
    }
  };
  return (message: ToWorker) => {
    if (message.type === "init") {
      ready = (async () => {
        try {
          if (message.initializer !== null) await (await load(message.initializer))(...message.initargs);
          reply({ type: "ready" });
        } catch (error) {
          reply({ type: "init-failed", error: toRemoteError(error, message.initializer) });
        }
      })();
      return;
    }
    void ready.then(async () => {
      try {
        const fn = await load(message.fn);
        const value = message.type === "run" ? await fn(...message.args) : await Promise.all(message.items.map((item) => fn(item)));
        reply({ type: "done", id: message.id, ok: true, value });
      } catch (error) {
        reply({ type: "done", id: message.id, ok: false, error: toRemoteError(error, message.fn) });
      }
    });
  };
}
