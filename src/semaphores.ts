/**
 * `Semaphore` and `BoundedSemaphore` (Python's `asyncio.Semaphore` and
 * `asyncio.BoundedSemaphore`): a counter of permits, FIFO among waiters.
 *
 * A woken waiter has its permit taken on its behalf (`value` decremented
 * when woken); if it is cancelled before it resumes, the permit is given
 * back and the next waiter woken, so no permit leaks or is invented.
 */
import { inspectCustom } from "./repr.js";
import type { Awaitable, Coro } from "./coroutines.js";
import { Deque } from "./deque.js";
import { CancelledError } from "./errors.js";
import type { Future } from "./futures.js";
import { holding } from "./locks.js";
import { LoopBound } from "./loop-bound.js";
import { integerArg } from "./arguments.js";

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
  private waiters: Deque<Future<true>> | null = null;

  constructor(value = 1) {
    super();
    this.value = integerArg(value, `${new.target.name}(): value`, { min: 0 });
  }

  /** Whether `acquire` would wait (no permit, or earlier waiters go first). */
  locked(): boolean {
    if (this.value === 0) return true;
    if (this.waiters !== null) for (const waiter of this.waiters) if (!waiter.cancelled()) return true;
    return false;
  }

  /** Takes a permit, waiting FIFO while none is free; returns `true`. */
  *acquire(): Coro<true> {
    if (!this.locked()) {
      this.value--;
      return true;
    }
    const waiters = (this.waiters ??= new Deque());
    const waiter = this.getLoop().createFuture<true>();
    waiters.push(waiter);
    try {
      try {
        yield* waiter;
      } finally {
        waiters.remove(waiter);
      }
    } catch (error) {
      // Woken (permit taken for us) but cancelled: give the permit back.
      if (error instanceof CancelledError && waiter.done() && !waiter.cancelled()) this.value++;
      throw error;
    } finally {
      // Later arrivals waited for FIFO's sake: wake as many as permits allow.
      while (this.value > 0) if (!this.wakeUpNext()) break;
    }
    return true;
  }

  /** Gives a permit back and wakes the first waiter. */
  release(): void {
    this.value++;
    this.wakeUpNext();
  }

  /** Acquires, runs `body` (returning any awaitable), and always releases (Python's `async with semaphore:`). */
  hold<T>(body: () => Awaitable<T>): Coro<T> {
    return holding(this, body);
  }

  /** Permits available and tasks waiting. */
  statistics(): { value: number; waiters: number } {
    return { value: this.value, waiters: this.waiters?.length ?? 0 };
  }

  private wakeUpNext(): boolean {
    if (this.waiters === null) return false;
    for (const waiter of this.waiters) {
      if (!waiter.done()) {
        this.value--;
        waiter.setResult(true);
        return true;
      }
    }
    return false;
  }

  [inspectCustom](): string {
    const waiters = this.waiters?.length ?? 0;
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
