/**
 * Executors: thread and process pools, `toThread`, and the loop's default
 * executor (Python's `concurrent.futures` pools and `asyncio.to_thread`).
 * Importing this module installs the default executor factory.
 */
import type { Coro } from "../coroutines.js";
import { setDefaultExecutorFactory } from "../events.js";
import { type ExecutorFunction } from "../executor.js";
import { getRunningLoop } from "../running-loop.js";
import { ThreadPoolExecutor } from "./thread-pool.js";

export { ProcessPoolExecutor } from "./process-pool.js";
export { ExecutorFuture, type ExecutorOptions, type MapOptions } from "./pool.js";
export { functionRef } from "./function-ref.js";
export { ShutdownFuture } from "./shutdown-future.js";
export type { FunctionRef, ExecutorFunction } from "../executor.js";
export { ThreadPoolExecutor };

setDefaultExecutorFactory(() => new ThreadPoolExecutor());

/**
 * Runs `fn(...args)` on the loop's default thread pool and waits for it
 * (Python's `asyncio.to_thread`); `run()` shuts that pool down at the end.
 *
 * @example
 * const digest = yield* toThread((text: string) => text.length, "payload");
 */
export function* toThread<R, A extends unknown[]>(fn: ExecutorFunction<A, R>, ...args: A): Coro<R> {
  return yield* getRunningLoop().runInExecutor(null, fn, ...args);
}
