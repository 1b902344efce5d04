/**
 * The future `pool.shutdown()` returns: awaitable with `yield*` from a
 * coroutine and with `await` from native code, on a running loop or none.
 */
import { EventLoop } from "../events.js";
import { getRunningLoopOrNull } from "../running-loop.js";
import { Future } from "../futures.js";

// Shutdown may be called with no loop running (after `run()`, in plain
// async code); such a future belongs to this loop, which never runs.
let detachedLoop: EventLoop | null = null;

/**
 * A `Future<void>` that settles when the executor's shutdown is complete.
 * `then` follows the shutdown itself, so `await pool.shutdown()` works even
 * when no loop is running; cancelling the future stops the wait, not the
 * shutdown.
 */
export class ShutdownFuture extends Future<void> {
  private readonly completion: Promise<void>;

  /** @internal Use `pool.shutdown()`. */
  constructor(completion: Promise<void>) {
    const loop = getRunningLoopOrNull() ?? (detachedLoop ??= new EventLoop({ clock: "real", debug: false }));
    super(loop);
    this.completion = completion;
    loop.holdTimeFor(completion, this);
  }

  /** Settles with the shutdown, whether or not a loop is running (rejects with `CancelledError` if this future was cancelled). */
  override then<R1 = void, R2 = never>(
    onFulfilled?: ((value: void) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.completion
      .then(() => {
        if (this.cancelled()) throw this.makeCancelledError();
      })
      .then(onFulfilled, onRejected);
  }
}
