/**
 * `Semaphore` and `BoundedSemaphore` (Python's `asyncio.Semaphore` and
 * `asyncio.BoundedSemaphore`): a counter of permits, FIFO among waiters.
 *
 * A woken waiter has its permit taken on its behalf (`value` decremented
 * when woken); if it is cancelled before it resumes, the permit is given
 * back and the next waiter woken (the `ParkingLot`'s rule), so no permit
 * leaks or is invented.
 */
import { inspectCustom } from "./repr.js";
import type { Awaitable, Coro } from "./coroutines.js";
import { LoopBound } from "./loop-bound.js";
import { integerArg } from "./arguments.js";
import { ParkingLot, Waiter, holding } from "./waiters.js";

/**
 * A semaphore: `acquire` takes one of `value` permits, waiting while none is
 * left; `release` gives one back.
 *
 * @example
 * const ovens = new Semaphore(4);
 * yield* ovens.hold(() => bake(pizza));
 */
export class Semaphore extends LoopBound {
  /** @internal Permits available. */
  protected value: number;
  // Made at the first contention; a woken waiter's permit is taken when it is woken.
  private waiters: ParkingLot<Waiter> | null = null;

  constructor(value = 1) {
    super();
    this.value = integerArg(value, `${new.target.name}(): value`, { min: 0 });
  }

  /** Whether `acquire` would wait (no permit, or earlier waiters go first). */
  locked(): boolean {
    // CPython: no permit, or a waiter not cancelled (woken ones included) goes first.
    const waiters = this.waiters;
    return this.value === 0 || (waiters !== null && (waiters.woken > 0 || waiters.hasLive()));
  }

  /** Takes a permit, waiting FIFO while none is free; returns `true`. */
  *acquire(): Coro<true> {
    if (!this.locked()) {
      this.value--;
      return true;
    }
    const waiters = (this.waiters ??= new ParkingLot<Waiter>(this.permitGrants()));
    try {
      yield* waiters.park(new Waiter(this.getLoop()));
    } finally {
      // Later arrivals waited for FIFO's sake: wake as many as permits allow.
      waiters.serve();
    }
    return true;
  }

  /** Gives a permit back and wakes the first waiter. */
  release(): void {
    this.value++;
    this.waiters?.serve(1);
  }

  /** Acquires, runs `body` (returning any awaitable), and always releases (Python's `async with semaphore:`). */
  hold<T>(body: () => Awaitable<T>): Coro<T> {
    return holding(this, body);
  }

  /** Permits available and tasks waiting. */
  statistics(): { value: number; waiters: number } {
    return { value: this.value, waiters: this.waiters?.waiting ?? 0 };
  }

  // A waiter is woken with a permit taken on its behalf; woken and then cancelled, it gives it back.
  private permitGrants(): { grant(): boolean; revoke(): boolean } {
    return {
      grant: () => {
        if (this.value <= 0) return false;
        this.value--;
        return true;
      },
      revoke: () => {
        this.value++;
        return true;
      },
    };
  }

  [inspectCustom](): string {
    const waiters = this.waiters?.waiting ?? 0;
    return `<${this.constructor.name} [${this.locked() ? "locked" : `unlocked, value:${this.value}`}${waiters > 0 ? `, waiters:${waiters}` : ""}]>`;
  }
}

/** A semaphore that refuses to be released above its initial value (`RangeError`, Python's `ValueError`). */
export class BoundedSemaphore extends Semaphore {
  private readonly bound: number;

  constructor(value = 1) {
    super(value);
    this.bound = value;
  }

  override release(): void {
    if (this.value >= this.bound) throw new RangeError("BoundedSemaphore released too many times");
    super.release();
  }
}
