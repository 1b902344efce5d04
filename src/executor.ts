/**
 * The executor protocol (Python's `concurrent.futures.Executor`): what the
 * loop's `runInExecutor` and its default executor need of a pool, and the
 * functions a pool can run — self-contained source, or a reference to a
 * module's export. The pools themselves are in `executors/`, the
 * distributed one in `distributed/`.
 */
import type { Future } from "./futures.js";

// Type-only: carries a FunctionRef's function type; no such property exists at run time.
declare const functionType: unique symbol;

/**
 * A reference to an exported function a worker imports: `{ module, name }`.
 * Made with `functionRef<F>(module, name)`, it carries the function's type
 * `F`, so `pool.submit(ref, ...args)` checks the arguments and types the
 * result. A plain `{ module, name }` object is a `FunctionRef` of unknown type.
 *
 * @typeParam F - the exported function's type (`typeof exportedFunction`).
 */
export interface FunctionRef<F extends (...args: never[]) => unknown = (...args: never[]) => unknown> {
  /** The module's path (relative to the working directory), file URL or specifier. */
  readonly module: string | URL;
  /** The export's name. */
  readonly name: string;
  /** @internal Type-only: the function's type. */
  readonly [functionType]?: F;
}

/** A function an executor can run: self-contained source, or a module export (`FunctionRef`). */
export type ExecutorFunction<A extends unknown[] = never[], R = unknown> =
  | ((...args: A) => R | PromiseLike<R>)
  | FunctionRef<(...args: A) => R | PromiseLike<R>>;

/** The part of an executor the loop uses (`runInExecutor`, default executor shutdown). */
export interface Executor {
  /** Starts `fn(...args)`; a future of its result. */
  submit<R>(fn: ExecutorFunction<never[], R>, ...args: unknown[]): Future<R>;
  /** Stops accepting work; settles once the executor has shut down. */
  shutdown(options?: { wait?: boolean; cancelFutures?: boolean }): PromiseLike<void>;
}
