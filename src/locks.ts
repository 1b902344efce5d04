/**
 * `Lock`, `Event` and `Condition` (Python's `asyncio.Lock`, `asyncio.Event`,
 * `asyncio.Condition`).
 *
 * Waiters park in a `ParkingLot` (waiters.ts). The invariant every method
 * keeps: when the lock is free and a live waiter exists, the first live
 * waiter has been woken. A waiter cancelled after it was woken passes the
 * wake-up on (the lot's rule), so a cancellation can never leak the lock.
 */
import { inspectCustom } from "./repr.js";
import type { Awaitable, Coro } from "./coroutines.js";
import { CancelledError, RuntimeError } from "./errors.js";
import { LoopBound } from "./loop-bound.js";
import { integerArg } from "./arguments.js";
import { GRANT_NOTHING, ParkingLot, Waiter, holding } from "./waiters.js";

/** Statistics of a lock (Trio's `statistics()`). */
export interface LockStatistics {
  locked: boolean;
  waiters: number;
}

/**
 * A mutual-exclusion lock for tasks; FIFO fair. Not reentrant.
 *
 * @example
 * const lock = new Lock();
 * yield* lock.hold(function* () {
 *   // only one task at a time here
 * });
 */
export class Lock extends LoopBound {
  private isLocked = false;
  // Made at the first contention. A woken waiter takes the lock when it resumes,
  // not when it is woken, so locked() is false between release() and then (as in
  // CPython); nobody barges meanwhile, since a woken waiter makes acquire() wait.
  private waiters: ParkingLot<Waiter> | null = null;

  /** Whether the lock is held. */
  locked(): boolean {
    return this.isLocked;
  }

  /** Waits until the lock is free, then takes it; returns `true`. */
  *acquire(): Coro<true> {
    if (!this.free()) yield* this.park();
    this.isLocked = true;
    return true;
  }

  /** Releases the lock and wakes the first waiter; `RuntimeError` if it is not held. */
  release(): void {
    if (!this.isLocked) throw new RuntimeError("Lock is not acquired.");
    this.isLocked = false;
    this.waiters?.serve(1);
  }

  /** Acquires, runs `body` (returning any awaitable), and always releases (Python's `async with lock:`). */
  *hold<T>(body: () => Awaitable<T>): Coro<T> {
    // PERF: acquire() written out, not `holding(this, body)`: two generators
    // fewer per hold, and two fewer levels of `yield*` that every resumption
    // of the holder passes through (bench row "Lock 1000x100"). A subclass's
    // own acquire() or release() is still called, as `async with` calls them.
    if (this.acquire !== lockAcquire || this.release !== lockRelease) return yield* holding(this, body);
    if (!this.free()) yield* this.park();
    this.isLocked = true;
    try {
      return yield* body();
    } finally {
      this.release();
    }
  }

  // Whether acquire() may take the lock without waiting: it is free and no
  // waiter is ahead (a woken one, or a live one in the queue).
  private free(): boolean {
    const waiters = this.waiters;
    return !this.isLocked && (waiters === null || (waiters.woken === 0 && !waiters.hasLive()));
  }

  private park(): Coro<void> {
    return (this.waiters ??= new ParkingLot<Waiter>(this.lockGrants())).park(new Waiter(this.getLoop()));
  }

  /** The lock's state and how many tasks wait for it. */
  statistics(): LockStatistics {
    return { locked: this.isLocked, waiters: this.waiters?.waiting ?? 0 };
  }

  // The first live waiter may be woken while the lock is free; a wake-up grants
  // nothing, so a woken-then-cancelled waiter passes it on while the lock is free.
  private lockGrants(): { grant(): boolean; revoke(): boolean } {
    return { grant: () => !this.isLocked, revoke: () => true };
  }

  [inspectCustom](): string {
    const waiters = this.waiters?.waiting ?? 0;
    return `<Lock [${this.isLocked ? "locked" : "unlocked"}${waiters > 0 ? `, waiters:${waiters}` : ""}]>`;
  }
}

const lockAcquire = Lock.prototype.acquire;
const lockRelease = Lock.prototype.release;

/**
 * A flag tasks can wait for (Python's `asyncio.Event`): `set()` wakes every
 * waiter; `clear()` makes later waits block again.
 */
export class Event extends LoopBound {
  private value = false;
  private readonly waiters = new ParkingLot<Waiter>(GRANT_NOTHING);

  /** Whether the flag is set (Python's `is_set`). */
  isSet(): boolean {
    return this.value;
  }

  /** Sets the flag and wakes every waiting task. */
  set(): void {
    if (this.value) return;
    this.value = true;
    this.waiters.wakeAll();
  }

  /** Clears the flag. */
  clear(): void {
    this.value = false;
  }

  /** Waits until the flag is set; returns `true` at once if it is. */
  *wait(): Coro<true> {
    if (this.value) return true;
    yield* this.waiters.park(new Waiter(this.getLoop()));
    return true;
  }

  /** The flag and how many tasks wait. */
  statistics(): { set: boolean; waiters: number } {
    return { set: this.value, waiters: this.waiters.waiting };
  }

  [inspectCustom](): string {
    const waiters = this.waiters.waiting;
    return `<Event [${this.value ? "set" : "unset"}${waiters > 0 ? `, waiters:${waiters}` : ""}]>`;
  }
}

/**
 * A condition variable (Python's `asyncio.Condition`): tasks holding its
 * lock wait to be notified. It owns a new `Lock` or shares the one given.
 *
 * @example
 * yield* cond.hold(function* () {
 *   yield* cond.waitFor(() => items.length > 0);
 *   return items.shift();
 * });
 */
export class Condition extends LoopBound {
  private readonly lock: Lock;
  // A notification grants nothing; wait() passes one on by CPython's own rule
  // (any raise out of wait() notifies another waiter), so the lot does not.
  private readonly waiters = new ParkingLot<Waiter>(GRANT_NOTHING);

  constructor(lock?: Lock) {
    super();
    if (lock !== undefined && !(lock instanceof Lock)) throw new TypeError("Condition() takes a Lock");
    this.lock = lock ?? new Lock();
  }

  /** Whether the underlying lock is held. */
  locked(): boolean {
    return this.lock.locked();
  }

  /** Acquires the underlying lock. */
  acquire(): Coro<true> {
    return this.lock.acquire();
  }

  /** Releases the underlying lock. */
  release(): void {
    this.lock.release();
  }

  /** Acquires the condition's lock, runs `body` (returning any awaitable), and always releases. */
  hold<T>(body: () => Awaitable<T>): Coro<T> {
    return holding(this.lock, body);
  }

  /**
   * Releases the lock, waits for a notification, and re-acquires the lock
   * before returning, even when cancelled. `RuntimeError` without the lock.
   */
  *wait(): Coro<true> {
    if (!this.locked()) throw new RuntimeError("cannot wait on un-acquired lock");
    this.release();
    try {
      let cancellation: unknown = null;
      try {
        yield* this.waiters.park(new Waiter(this.getLoop()));
        return true;
      } finally {
        // The lock must be held again on the way out, whatever happens.
        for (;;) {
          try {
            yield* this.acquire();
            break;
          } catch (error) {
            // eslint-disable-next-line no-unsafe-finally -- only a non-cancellation error may escape the re-acquire loop
            if (!(error instanceof CancelledError)) throw error;
            cancellation = error;
          }
        }
        // eslint-disable-next-line no-unsafe-finally -- re-raise a cancellation that arrived while re-acquiring
        if (cancellation !== null) throw cancellation;
      }
    } catch (error) {
      // Raising out of here may come after this task was notified (woken,
      // then cancelled before or while re-acquiring): notify another waiter
      // instead, so no wake-up is lost (a spurious wake-up is allowed, as in
      // Python 3.13).
      this.notifyWaiters(1);
      throw error;
    }
  }

  /** Waits until `predicate()` is truthy (checked under the lock); returns its value. */
  *waitFor<T>(predicate: () => T): Coro<T> {
    let result = predicate();
    while (!result) {
      yield* this.wait();
      result = predicate();
    }
    return result;
  }

  /** Wakes up to `n` waiting tasks; `RuntimeError` without the lock. */
  notify(n = 1): void {
    integerArg(n, "notify(): n", { min: 0, infinite: true });
    if (!this.locked()) throw new RuntimeError("cannot notify on un-acquired lock");
    this.notifyWaiters(n);
  }

  /** Wakes every waiting task (Python's `notify_all`); `RuntimeError` without the lock. */
  notifyAll(): void {
    this.notify(this.waiters.waiting);
  }

  /** @internal Wakes up to `n` waiters without checking the lock (Barrier's synchronous reset/abort). */
  wakeWaiters(n: number): void {
    this.notifyWaiters(n);
  }

  private notifyWaiters(n: number): void {
    this.waiters.wake(n);
  }

  /** The lock's state and how many tasks wait for a notification. */
  statistics(): { locked: boolean; waiters: number } {
    return { locked: this.locked(), waiters: this.waiters.waiting };
  }

  [inspectCustom](): string {
    const waiters = this.waiters.waiting;
    return `<Condition [${this.locked() ? "locked" : "unlocked"}${waiters > 0 ? `, waiters:${waiters}` : ""}]>`;
  }
}
