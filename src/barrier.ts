/**
 * `Barrier` (Python's `asyncio.Barrier`): `parties` tasks wait until all of
 * them have arrived, then all proceed together; it then refills for the next
 * round.
 */
import { inspectCustom } from "./repr.js";
import type { Coro } from "./coroutines.js";
import { BrokenBarrierError } from "./errors.js";
import { Condition } from "./locks.js";
import { integerArg } from "./arguments.js";

/** The phases of a barrier. */
type BarrierState = "filling" | "draining" | "resetting" | "broken";

/**
 * A barrier for `parties` tasks. `wait()` returns the arrival index (0 to
 * parties - 1); `reset()` and `abort()` make current waiters raise
 * `BrokenBarrierError`.
 *
 * @example
 * const start = new Barrier(3);
 * const index = yield* start.wait(); // all three continue together
 */
export class Barrier {
  private readonly condition = new Condition();
  private state: BarrierState = "filling";
  private count = 0;
  /** How many tasks must call `wait()` to pass the barrier. */
  readonly parties: number;

  constructor(parties: number) {
    this.parties = integerArg(parties, "Barrier(): parties", { min: 1 });
  }

  /** Waits until `parties` tasks are waiting; returns this task's arrival index. */
  *wait(): Coro<number> {
    return yield* this.condition.hold(
      function* (this: Barrier): Coro<number> {
        // A previous round still draining (or a reset in progress) must finish first.
        yield* this.condition.waitFor(() => this.state !== "draining" && this.state !== "resetting");
        if (this.state === "broken") throw new BrokenBarrierError("Barrier aborted");
        const index = this.count;
        this.count++;
        try {
          if (index + 1 === this.parties) {
            this.state = "draining";
            this.condition.notifyAll();
          } else {
            yield* this.condition.waitFor(() => this.state !== "filling");
            const after = this.state as BarrierState;
            if (after === "broken" || after === "resetting") throw new BrokenBarrierError("Abort or reset of barrier");
          }
          return index;
        } finally {
          this.count--;
          this.exitRound();
        }
      }.bind(this),
    );
  }

  /**
   * Returns the barrier to its empty state; tasks waiting now raise
   * `BrokenBarrierError`. Synchronous (asyncio's is a coroutine only because
   * it takes the condition's lock, which no task holds across a suspension).
   */
  reset(): void {
    if (this.count > 0) {
      if (this.state !== "resetting") this.state = "resetting";
    } else {
      this.state = "filling";
    }
    this.wakeAll();
  }

  /** Breaks the barrier: current and future `wait()` calls raise `BrokenBarrierError`. */
  abort(): void {
    this.state = "broken";
    this.wakeAll();
  }

  /** How many tasks are waiting in the current round (Python's `n_waiting`). */
  get nWaiting(): number {
    return this.state === "filling" ? this.count : 0;
  }

  /** Whether the barrier is broken. */
  get broken(): boolean {
    return this.state === "broken";
  }

  private exitRound(): void {
    if (this.count === 0) {
      if (this.state === "resetting" || this.state === "draining") this.state = "filling";
      this.condition.notifyAll();
    }
  }

  // Wakes every waiter without taking the condition's lock: no task holds
  // it across a suspension, so the state change and the wake-up are atomic.
  private wakeAll(): void {
    this.condition.wakeWaiters(Infinity);
  }

  [inspectCustom](): string {
    return `<Barrier [${this.state}, waiters:${this.nWaiting}/${this.parties}]>`;
  }
}
