/**
 * `exitStack(body)` and `AsyncExitStack` (Python's
 * `contextlib.AsyncExitStack`): cleanups registered as a block goes, run in
 * reverse order when it ends, however it ends.
 *
 * `await using` is a syntax error inside a generator, so this is how a
 * coroutine holds `AsyncDisposable` resources (executors, file streams,
 * servers) with guaranteed LIFO cleanup:
 *
 *     async with AsyncExitStack() as stack:      yield* exitStack(function* (stack) {
 *         pool = stack.enter_context(...)          const pool = stack.use(new ProcessPoolExecutor());
 *         stack.push_async_callback(bye)           stack.callback(bye);
 *         ...                                      ...
 *                                                });
 */
import { inspectCustom } from "./repr.js";
import type { Coro } from "./coroutines.js";
import { awaitReturned } from "./ensure-future.js";
import type { Future } from "./futures.js";

/** A cleanup: called with no arguments; may return a coroutine, a future or a promise to await. */
export type Cleanup = () => Coro<unknown> | Future<unknown> | PromiseLike<unknown> | void;

/**
 * A stack of cleanups. `callback` and `use` push; `aclose()` (or the end of
 * an `exitStack` block) pops and runs them all, last pushed first, each one
 * awaited, even when the block failed or was cancelled. When cleanups raise,
 * the last error raised propagates, and the error it replaced (the block's,
 * or an earlier cleanup's) becomes its `cause` (Python's `__context__`).
 */
export class AsyncExitStack {
  private cleanups: Cleanup[] = [];

  /** Pushes `fn` to be called on exit; returns `fn` (Python's `push_async_callback`/`callback`). */
  callback<F extends Cleanup>(fn: F): F {
    if (typeof fn !== "function") throw new TypeError(`AsyncExitStack.callback() takes a function, got ${typeof fn}`);
    this.cleanups.push(fn);
    return fn;
  }

  /**
   * Pushes the disposal of `resource` and returns it: `[Symbol.asyncDispose]()`
   * is awaited on exit, or else `[Symbol.dispose]()` called (Python's
   * `enter_async_context`/`enter_context` for disposables).
   */
  use<T extends AsyncDisposable | Disposable>(resource: T): T {
    if (resource === null || (typeof resource !== "object" && typeof resource !== "function")) {
      throw new TypeError(`AsyncExitStack.use() takes a disposable object, got ${resource === null ? "null" : typeof resource}`);
    }
    const asyncDispose = (resource as Partial<AsyncDisposable>)[Symbol.asyncDispose];
    if (typeof asyncDispose === "function") {
      this.cleanups.push(() => asyncDispose.call(resource));
      return resource;
    }
    const dispose = (resource as Partial<Disposable>)[Symbol.dispose];
    if (typeof dispose === "function") {
      this.cleanups.push(() => {
        dispose.call(resource);
      });
      return resource;
    }
    throw new TypeError("AsyncExitStack.use() takes an object with [Symbol.asyncDispose]() or [Symbol.dispose]()");
  }

  /** Moves every cleanup to a new stack and returns it; this one is left empty (Python's `pop_all`). */
  popAll(): AsyncExitStack {
    const moved = new AsyncExitStack();
    moved.cleanups = this.cleanups;
    this.cleanups = [];
    return moved;
  }

  /** Runs every cleanup now, last pushed first; the stack is empty afterwards. */
  *aclose(): Coro<void> {
    yield* this.unwind(false, undefined);
  }

  /**
   * @internal Runs the cleanups with the block's outcome: `failed` with its
   * `error`, or not. Throws the error that is left, if any.
   */
  *unwind(failed: boolean, error: unknown): Coro<void> {
    let pending = failed;
    let pendingError = error;
    for (let cleanup = this.cleanups.pop(); cleanup !== undefined; cleanup = this.cleanups.pop()) {
      try {
        const outcome = cleanup();
        if (outcome !== undefined) yield* awaitReturned(outcome, "an exit stack cleanup");
      } catch (raised) {
        if (pending) chainCause(raised, pendingError);
        pending = true;
        pendingError = raised;
      }
    }
    if (pending) throw pendingError;
  }

  [inspectCustom](): string {
    return `<AsyncExitStack cleanups=${this.cleanups.length}>`;
  }
}

/**
 * Runs `body` with a fresh `AsyncExitStack` and unwinds the stack when the
 * body ends, by returning, raising or being cancelled (Python's
 * `async with AsyncExitStack() as stack:`). Resolves with the body's result.
 *
 * @example
 * const total = yield* exitStack(function* (stack) {
 *   const pool = stack.use(new ProcessPoolExecutor({ maxWorkers: 2 }));
 *   stack.callback(() => console.log("pool shut down, bye"));
 *   return yield* pool.map(cpuBound, [1, 2, 3]);
 * });
 */
export function* exitStack<T>(body: (stack: AsyncExitStack) => Coro<T> | Future<T>): Coro<T> {
  if (typeof body !== "function") throw new TypeError(`exitStack() takes a function of the stack, got ${typeof body}`);
  const stack = new AsyncExitStack();
  let result: T | undefined;
  let failed = false;
  let error: unknown;
  try {
    result = yield* awaitReturned<T>(body(stack), "the exitStack body");
  } catch (raised) {
    failed = true;
    error = raised;
  }
  // Throws the error that is left after the cleanups, if any.
  yield* stack.unwind(failed, error);
  return result as T;
}

// An error raised while handling another: the other becomes its cause, unless it has one.
function chainCause(raised: unknown, replaced: unknown): void {
  if (raised === replaced || raised === null || typeof raised !== "object") return;
  if ((raised as { cause?: unknown }).cause !== undefined) return;
  try {
    Object.defineProperty(raised, "cause", { value: replaced, configurable: true, writable: true, enumerable: false });
  } catch {
    // A frozen error keeps what it has.
  }
}
