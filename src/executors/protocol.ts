/**
 * The messages between a pool and its workers (threads or child processes),
 * and how a function travels: by source text, or as a module export.
 */

/** How a job names its function. */
export type WireFunction = { kind: "source"; source: string; name: string } | { kind: "module"; url: string; name: string };

/** Parent to worker. */
export type ToWorker =
  | { type: "init"; initializer: WireFunction | null; initargs: unknown[] }
  | { type: "run"; id: number; fn: WireFunction; args: unknown[] }
  | { type: "map"; id: number; fn: WireFunction; items: unknown[] };

/**
 * A worker's error, as data that always survives the structured clone:
 * name, message and stack as strings; its other own fields (`code`, `errno`,
 * ...) as themselves when they clone, as their `String()` otherwise.
 */
export interface RemoteError {
  name: string;
  message: string;
  stack: string | undefined;
  fields?: Record<string, unknown>;
}

/** Worker to parent. */
export type FromWorker =
  | { type: "ready" }
  | { type: "init-failed"; error: RemoteError }
  | { type: "done"; id: number; ok: true; value: unknown }
  | { type: "done"; id: number; ok: false; error: RemoteError };

/** The caller-side copy of a worker's error: its name, message, stack and own fields (shared by the local pools and the distributed executor). */
export function fromRemoteError(remote: RemoteError): Error {
  const error = new Error(remote.message);
  Object.defineProperty(error, "name", { value: remote.name, configurable: true, writable: true });
  if (remote.stack !== undefined) error.stack = remote.stack;
  if (remote.fields !== undefined) {
    for (const [key, value] of Object.entries(remote.fields)) Object.defineProperty(error, key, { value, configurable: true, writable: true, enumerable: true });
  }
  return error;
}
