/**
 * The messages between a pool and its workers (threads or child processes),
 * and how a function travels: by source text, or as a module export.
 */

/** How a job names its function. */
export type FunctionRef = { kind: "source"; source: string; name: string } | { kind: "module"; url: string; name: string };

/** Parent to worker. */
export type ToWorker =
  | { type: "init"; initializer: FunctionRef | null; initargs: unknown[] }
  | { type: "run"; id: number; fn: FunctionRef; args: unknown[] }
  | { type: "map"; id: number; fn: FunctionRef; items: unknown[] };

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
