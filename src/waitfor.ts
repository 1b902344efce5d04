/**
 * `waitFor(aw, timeout)`: await with a deadline, cancelling the work when it
 * passes (Python's `asyncio.wait_for`, 3.12+ semantics).
 */
import { isCoroutine, type Awaitable, type Coro } from "./coroutines.js";
import { CancelledError, TimeoutError } from "./errors.js";
import { ensureFuture } from "./ensure-future.js";
import type { Future } from "./futures.js";
import { currentTask } from "./tasks.js";
import { timeout } from "./timeouts.js";
import { optionalNumberArg } from "./arguments.js";

/**
 * Waits for `aw` at most `seconds` (no limit when `null`). On timeout the
 * work is cancelled, waited for until it has finished cancelling, and
 * `TimeoutError` is thrown. A coroutine runs inline in the calling task; a
 * future or task is awaited. `seconds <= 0` checks once: a done future's
 * result is returned, anything else is cancelled (a coroutine never starts).
 * If the work swallows the cancellation and returns a value, that value is
 * returned; a result that arrives in the same loop iteration as the timeout
 * is returned, not lost.
 *
 * @example
 * const data = yield* waitFor(fetchData("url"), 2.5);
 */
export function* waitFor<T>(aw: Awaitable<T> | PromiseLike<T>, seconds: number | null): Coro<T> {
  seconds = optionalNumberArg(seconds, "waitFor(): timeout");
  if (seconds !== null && seconds <= 0) {
    const future = ensureFuture(aw);
    if (future.done()) return future.result();
    yield* cancelAndWait(future);
    try {
      return future.result();
    } catch (error) {
      if (error instanceof CancelledError) throw new TimeoutError("waitFor() timed out", { cause: error });
      throw error;
    }
  }
  if (isCoroutine(aw)) return yield* timeout(seconds, () => aw);
  const future = ensureFuture(aw);
  return yield* timeout(seconds, function* (deadline) {
    const task = currentTask()!;
    const cancellingBefore = task.cancelling();
    try {
      return yield* future;
    } catch (error) {
      // The future finished in the same iteration as our timer fired: only
      // our own cancellation is pending, so keep the result.
      if (
        error instanceof CancelledError &&
        deadline.expired() &&
        future.done() &&
        !future.cancelled() &&
        task.cancelling() === cancellingBefore + 1
      ) {
        return future.result();
      }
      throw error;
    }
  });
}

function* cancelAndWait(future: Future<unknown>): Coro<void> {
  const waiter = future.getLoop().createFuture<void>();
  const release = (): void => {
    if (!waiter.done()) waiter.setResult(undefined);
  };
  future.addDoneCallback(release);
  try {
    future.cancel();
    yield* waiter;
  } finally {
    future.removeDoneCallback(release);
  }
}
