/**
 * The bridge from native promises into the loop: `fromPromise`. (The other
 * direction needs no bridge: a `Future` is `PromiseLike`, so `await task`
 * works in native async code.)
 */
import { CancelledError, RuntimeError } from "./errors.js";
import { type EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";
import { Future } from "./futures.js";
import { isSpentSignalReason } from "./tasks.js";

/** The error for a promise rejected by a task signal whose cancellation is over: it is not cancelled now. */
function spentSignalError(reason: unknown): RuntimeError {
  return new RuntimeError(
    "fromPromise(): the promise was rejected by a task.signal from an earlier cancellation that is over " +
      "(the task caught it, e.g. a timeout, and went on); that signal stays aborted, so every operation given it fails at once. " +
      "Read currentTask().signal inside the block you retry, or use the factory form: fromPromise((signal) => fetch(url, { signal }))",
    { cause: reason },
  );
}

/** A future fed by a promise; cancelling it aborts the promise's signal at once. */
class PromiseFuture<T> extends Future<T> {
  constructor(
    loop: EventLoop,
    private readonly abortController: AbortController | null,
  ) {
    super(loop);
  }

  override cancel(message?: unknown): boolean {
    const cancelled = super.cancel(message);
    if (cancelled && this.abortController !== null) this.abortController.abort(new CancelledError(message));
    return cancelled;
  }
}

/**
 * A future that settles as `source` does: with its value, or with its
 * rejection reason as the exception; a rejection with a `CancelledError`
 * (such as an aborted `task.signal`'s reason) cancels the future, so the
 * awaiting code sees that `CancelledError`; one from a task signal whose
 * cancellation is over (read before a caught timeout, then reused) fails
 * the future with a `RuntimeError` naming the fix instead. Given a factory, it is called at once
 * with an `AbortSignal` that aborts when the future is cancelled, so
 * `yield* fromPromise((signal) => fetch(url, { signal }))` stops the fetch
 * when the task is cancelled. Under a virtual clock, time does not jump
 * while the promise is outstanding.
 *
 * @example
 * const response = yield* fromPromise((signal) => fetch(url, { signal }));
 * const text = yield* fromPromise(fs.promises.readFile("a.txt", "utf8"));
 */
export function fromPromise<T>(source: PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T>)): Future<T> {
  const loop = getRunningLoop();
  let promise: PromiseLike<T>;
  let future: PromiseFuture<T>;
  if (typeof source === "function") {
    const controller = new AbortController();
    future = new PromiseFuture<T>(loop, controller);
    try {
      promise = source(controller.signal);
    } catch (error) {
      future.setException(error);
      return future;
    }
  } else {
    future = new PromiseFuture<T>(loop, null);
    promise = source;
  }
  if (promise === null || typeof promise !== "object" || typeof (promise as { then?: unknown }).then !== "function") {
    if (typeof source === "function") {
      future.setException(new TypeError(`fromPromise(): the factory returned ${promise === null ? "null" : typeof promise}, not a promise`));
      return future;
    }
    throw new TypeError("fromPromise() takes a promise (or a function of an AbortSignal returning one)");
  }
  // Python's wrap_future: a cancelled source cancels the bridged future,
  // keeping the CancelledError (an aborted task.signal's reason) as it is.
  // A signal whose cancellation is over cancels nothing now: say so.
  loop.holdTimeFor(promise, future, (reason) => (isSpentSignalReason(reason) ? spentSignalError(reason) : reason));
  return future;
}
