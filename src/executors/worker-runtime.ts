/**
 * What runs inside a worker (thread or child process): load functions from
 * their references, run jobs, report results and errors as data.
 */
import type { FromWorker, FunctionRef, RemoteError, ToWorker } from "./protocol.js";

type Callable = (...args: unknown[]) => unknown;
const cache = new Map<string, Callable>();

function compile(ref: Extract<FunctionRef, { kind: "source" }>): Callable {
  // No outer scope: a function that closed over variables meets a ReferenceError when it runs.
  const attempts = [`return (${ref.source});`, `return ({ ${ref.source} })[${JSON.stringify(ref.name)}];`];
  let lastError: unknown;
  for (const body of attempts) {
    try {
      const fn = new Function(body)() as unknown;
      if (typeof fn === "function") return fn as Callable;
    } catch (error) {
      lastError = error;
    }
  }
  throw new TypeError(`the function's source could not be compiled in the worker: ${String(lastError)}`);
}

async function load(ref: FunctionRef): Promise<Callable> {
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

function toRemoteError(error: unknown, ref: FunctionRef | null): RemoteError {
  if (error instanceof ReferenceError && ref?.kind === "source") {
    const variable = /^(\S+) is not defined/.exec(error.message)?.[1];
    return {
      name: "ReferenceError",
      message: `${error.message}: ${ref.name || "the function"} closes over ${variable ?? "an outer variable"}, which does not exist in the worker. A function sent by its source must be self-contained: pass values as arguments, or use { module, name }`,
      stack: error.stack,
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack, code: (error as { code?: unknown }).code };
  return { name: "Error", message: `non-error thrown: ${String(error)}`, stack: undefined };
}

/** Serves jobs: `send` posts a message back to the parent. */
export function serve(send: (message: FromWorker) => void): (message: ToWorker) => void {
  let ready: Promise<void> = Promise.resolve();
  const reply = (message: FromWorker): void => {
    try {
      send(message);
    } catch (error) {
      if (message.type === "done" && message.ok) {
        send({ type: "done", id: message.id, ok: false, error: { name: "TypeError", message: `the result cannot be sent back from the worker: ${String(error)}`, stack: undefined } });
      } else {
        throw error;
      }
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
