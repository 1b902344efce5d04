/**
 * What the host JavaScript runtime offers beyond ECMAScript, detected rather
 * than assumed. The portable core (loop, futures, tasks, composition,
 * primitives, queues, context, iteration) imports nothing from Node; the parts
 * that need a Node API (streams, servers, subprocesses, files, executors, the
 * inspector, trace files, signals, `AsyncLocalStorage`) reach it through this
 * module, at the moment they are used. Node, Bun and Deno all answer
 * `process.getBuiltinModule`; a browser has no `process`, and there these
 * parts throw a `RuntimeError` naming what is missing, while the rest works.
 */
import { RuntimeError } from "./errors.js";

/** The part of Node's `process` object the library may use, when the host has one. */
export type HostProcess = NodeJS.Process;

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown;
}

/** The host's `process` object (Node, Bun, Deno), or `null` (a browser, a worker without one). */
export function hostProcess(): HostProcess | null {
  const candidate = (globalThis as { process?: unknown }).process;
  return typeof candidate === "object" && candidate !== null && typeof (candidate as { on?: unknown }).on === "function"
    ? (candidate as HostProcess)
    : null;
}

/** The host's `process`; throws `RuntimeError` naming `what` when there is none. */
export function requireHostProcess(what: string): HostProcess {
  const host = hostProcess();
  if (host === null) throw new RuntimeError(`${what} needs a host process object (Node.js, Bun or Deno)`);
  return host;
}

const loaded = new Map<string, unknown>();

/**
 * The Node built-in `id` (such as `"node:net"`) if this host has it, else
 * `null`. Loaded once, on first request.
 */
export function optionalBuiltin<T>(id: string): T | null {
  if (loaded.has(id)) return loaded.get(id) as T | null;
  const host = (globalThis as { process?: ProcessLike }).process;
  let module: unknown = null;
  if (typeof host?.getBuiltinModule === "function") {
    try {
      module = host.getBuiltinModule(id) ?? null;
    } catch {
      module = null;
    }
  }
  loaded.set(id, module);
  return module as T | null;
}

/**
 * The Node built-in `id`; throws `RuntimeError` naming it when the host has
 * none (a browser). `what` says which feature needed it.
 */
export function requireBuiltin<T>(id: string, what: string): T {
  const module = optionalBuiltin<T>(id);
  if (module === null) throw new RuntimeError(`${what} needs ${id}, which this JavaScript host does not provide (Node.js, Bun and Deno do)`);
  return module;
}

/**
 * A stand-in for `import * as name from id` that loads the built-in on first
 * use of any of its members, so importing a Node-only module costs nothing
 * and fails nowhere; only using it on a host without `id` throws.
 */
export function lazyBuiltin<T extends object>(id: string, what: string): T {
  let target: T | null = null;
  const resolve = (): T => (target ??= requireBuiltin<T>(id, what));
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(resolve(), key),
    has: (_, key) => Reflect.has(resolve(), key),
  });
}

/**
 * An environment variable of the host, or `undefined`: none set, no
 * environment, or one the program may not read (Deno without `--allow-env`
 * throws `NotCapable` on the read; such a variable counts as unset).
 */
export function hostEnv(name: string): string | undefined {
  try {
    return hostProcess()?.env?.[name];
  } catch {
    return undefined;
  }
}

/**
 * Runs `callback` in a later macrotask of the host, after its pending I/O
 * callbacks: `setImmediate` where the host has it (Node, Bun, Deno), else a
 * `MessageChannel` message (browsers; unlike `setTimeout(0)` it is not
 * clamped to 4 ms when nested), else `setTimeout(0)`.
 */
export const scheduleHostTurn: (callback: () => void) => unknown = pickHostTurn(globalThis);

/** The timer functions {@link pickHostTurn} looks for on a host's global object. */
export interface HostTimers {
  setImmediate?: unknown;
  MessageChannel?: unknown;
  setTimeout: (callback: () => void, ms: number) => unknown;
}

/** @internal How to give the host a turn, chosen from what `host` (a global object) offers. */
export function pickHostTurn(host: HostTimers): (callback: () => void) => unknown {
  // setImmediate itself, not a wrapper: this is on the loop's path once per macrotask.
  if (typeof host.setImmediate === "function") return host.setImmediate as (callback: () => void) => unknown;
  if (typeof host.MessageChannel === "function") return messageChannelTurns(new (host.MessageChannel as typeof MessageChannel)());
  return (callback) => host.setTimeout(callback, 0);
}

/**
 * @internal A host turn per message of `channel`: one message per callback,
 * run in the order posted. The queue's head index moves instead of shifting
 * the array, and is reset whenever the queue drains.
 */
export function messageChannelTurns(channel: InstanceType<typeof MessageChannel>): (callback: () => void) => void {
  const queue: ((() => void) | undefined)[] = [];
  let head = 0;
  // A browser MessagePort (Node's has no onmessage property in its types).
  (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => {
    const callback = queue[head];
    queue[head++] = undefined;
    if (head === queue.length) queue.length = head = 0;
    callback?.();
  };
  return (callback) => {
    queue.push(callback);
    channel.port2.postMessage(null);
  };
}
