/**
 * `ensureFuture(aw)`: the future behind any awaitable (Python's
 * `asyncio.ensure_future`): a future or task as it is, a coroutine wrapped in
 * a new task, a native promise bridged with `fromPromise`.
 */
import { fromPromise } from "./bridge.js";
import { describeValue, isCoroutine, isThenable, type Awaitable, type Coro } from "./coroutines.js";
import { type EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";
import { Future } from "./futures.js";

/** A future for `aw`; coroutines become tasks on `loop` (the running loop by default). */
export function ensureFuture<T>(aw: Awaitable<T> | PromiseLike<T>, loop?: EventLoop): Future<T> {
  // Coroutine first: what sleep() returns is both a coroutine and (inside) a future, and must be driven.
  if (isCoroutine(aw)) return (loop ?? getRunningLoop()).createTask(aw);
  if (aw instanceof Future) {
    if (loop !== undefined && aw.getLoop() !== loop) throw new RangeError("The future belongs to a different loop than the one given");
    return aw;
  }
  if (isThenable(aw)) return fromPromise(aw);
  throw new TypeError(`a Future, a coroutine or a promise is required, got ${describeValue(aw)}`);
}

/** @internal Copies `source`'s outcome (result, exception or cancellation) into a pending `target`. */
export function copyOutcome<T>(source: Future<T>, target: Future<T>): void {
  if (source.cancelled()) {
    target.cancel();
    return;
  }
  let value: T;
  try {
    value = source.result();
  } catch (error) {
    // settleException, not setException: the error may be a CancelledError (a gather's).
    target.settleException(error);
    return;
  }
  target.setResult(value);
}

/**
 * @internal Awaits what a user callback returned: a coroutine (driven in the
 * calling task), a future or task, or a promise (bridged). Anything else is
 * a `TypeError` naming `what`.
 */
export function* awaitReturned<R>(outcome: unknown, what: string): Coro<R> {
  if (isCoroutine(outcome)) return (yield* outcome) as R;
  if (outcome instanceof Future) return (yield* outcome) as R;
  if (isThenable(outcome)) return (yield* fromPromise(outcome)) as R;
  throw new TypeError(`${what} returned ${describeValue(outcome)}, not a coroutine, future or promise`);
}
