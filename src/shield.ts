/**
 * `shield(aw)`: protect an operation from the cancellation of whoever awaits
 * it (Python's `asyncio.shield`).
 */
import type { Awaitable } from "./coroutines.js";
import { copyOutcome, ensureFuture } from "./ensure-future.js";
import type { Future } from "./futures.js";

/**
 * A future that mirrors `aw`, except that cancelling it (or the task awaiting
 * it) leaves `aw` running. The awaiting task still gets `CancelledError`. If
 * `aw` is cancelled by other means, the shield is cancelled too. An `aw`
 * already done is returned as it is. Like the other body-taking helpers,
 * `shield` also takes a function returning the awaitable, called at once.
 * To let a whole block (a `finally` doing cleanup) run to its end while the
 * task itself is being cancelled, use `shielded(body)` instead.
 *
 * @example
 * const saved = yield* shield(saveToDisk(data)); // a cancel here does not interrupt the save
 * const both = yield* shield(() => gather(save(a), save(b)));
 */
export function shield<T>(aw: Awaitable<T> | PromiseLike<T> | (() => Awaitable<T> | PromiseLike<T>)): Future<T> {
  const inner = ensureFuture(typeof aw === "function" ? aw() : aw);
  if (inner.done()) return inner;
  const outer = inner.getLoop().createFuture<T>();
  const onInnerDone = (): void => {
    if (outer.cancelled()) {
      // Nobody will read it through the shield: do not report it as lost.
      if (!inner.cancelled()) inner.exception();
      return;
    }
    copyOutcome(inner, outer);
  };
  const onOuterDone = (): void => {
    if (!inner.done()) inner.removeDoneCallback(onInnerDone);
  };
  inner.addDoneCallback(onInnerDone);
  outer.addDoneCallback(onOuterDone);
  return outer;
}
