/**
 * `CapacityLimiter` (AnyIO's and Trio's) and `RateLimiter` (aiolimiter's
 * leaky bucket): how much runs at once, and how fast.
 *
 * Both park their waiters in a `ParkingLot` (waiters.ts) and grant on a
 * waiter's behalf when they wake it (a token borrowed, a share of the bucket
 * filled). A waiter cancelled after it was woken but before it resumed gives
 * the grant back and the next waiter is served (the lot's rule), so a
 * cancellation never leaks a token nor spends rate that nobody used.
 */
import { inspectCustom } from "./repr.js";
import { functionArg, integerArg, numberArg } from "./arguments.js";
import type { Coro } from "./coroutines.js";
import { RuntimeError } from "./errors.js";
import { getRunningLoopOrNull } from "./running-loop.js";
import type { EventLoop } from "./events.js";
import type { TimerHandle } from "./handles.js";
import { LoopBound } from "./loop-bound.js";
import { taskGroup } from "./taskgroups.js";
import { currentTask } from "./tasks.js";
import { ParkingLot, Waiter, holding } from "./waiters.js";

// ------------------------------------------------------------ CapacityLimiter

/** Statistics of a `CapacityLimiter` (AnyIO's `CapacityLimiterStatistics`). */
export interface CapacityLimiterStatistics {
  borrowedTokens: number;
  totalTokens: number;
  /** Who holds the tokens: tasks, or the borrowers given to `acquireOnBehalfOf`. */
  borrowers: readonly object[];
  tasksWaiting: number;
}

// A task waiting for a token on behalf of `borrower`.
class TokenWaiter extends Waiter {
  constructor(
    loop: EventLoop,
    readonly borrower: object,
  ) {
    super(loop);
  }
}

function checkTotalTokens(value: unknown, name: string): number {
  return integerArg(value, name, { min: 1, infinite: true });
}

/**
 * A pool of `totalTokens` tokens, at most one per borrower (by default the
 * current task): `acquire` borrows one, waiting FIFO while none is left;
 * `release` returns it. Unlike a `Semaphore`, it knows who holds its tokens,
 * refuses a second token to the same borrower (`RuntimeError`, as AnyIO and
 * Trio do), and its size can change while it is in use.
 *
 * @example
 * const downloads = new CapacityLimiter(5);
 * yield* downloads.hold(() => download(url));
 */
export class CapacityLimiter extends LoopBound {
  private total: number;
  // Invariant: every borrower in the set holds exactly one token; a woken waiter's borrower is added when it is woken.
  private readonly borrowers = new Set<object>();
  // A waiter is woken with its token lent (its borrower added); woken and then cancelled, it gives it back.
  private readonly waiters = new ParkingLot<TokenWaiter>({
    grant: (waiter) => {
      if (this.borrowers.size >= this.total) return false;
      this.borrowers.add(waiter.borrower);
      return true;
    },
    revoke: (waiter) => {
      this.borrowers.delete(waiter.borrower);
      return true;
    },
  });

  constructor(totalTokens: number) {
    super();
    this.total = checkTotalTokens(totalTokens, "CapacityLimiter(): totalTokens");
  }

  /** How many tokens the limiter has. Setting it wakes as many waiters as the new size allows; lowering it below `borrowedTokens` takes no token back. */
  get totalTokens(): number {
    return this.total;
  }

  /** Changes the number of tokens; raising it wakes as many waiters as the new tokens allow. */
  set totalTokens(value: number) {
    this.total = checkTotalTokens(value, "CapacityLimiter.totalTokens");
    this.wakeWaiters();
  }

  /** How many tokens are lent out. */
  get borrowedTokens(): number {
    return this.borrowers.size;
  }

  /** How many tokens could be borrowed now (never negative, even after `totalTokens` was lowered). */
  get availableTokens(): number {
    return Math.max(0, this.total - this.borrowers.size);
  }

  /** Borrows a token for the current task, waiting FIFO while none is free; returns `true`. */
  *acquire(): Coro<true> {
    return yield* this.acquireOnBehalfOf(this.currentBorrower("acquire"));
  }

  /** Borrows a token for `borrower` (any object: a task, a request...), waiting FIFO while none is free. */
  *acquireOnBehalfOf(borrower: object): Coro<true> {
    if (borrower === null || typeof borrower !== "object" && typeof borrower !== "function") {
      throw new TypeError(`CapacityLimiter.acquireOnBehalfOf(): borrower must be an object, got ${String(borrower)}`);
    }
    if (this.borrowers.has(borrower)) throw new RuntimeError("this borrower is already holding one of this CapacityLimiter's tokens");
    if (this.borrowers.size < this.total && !this.waiters.hasLive()) {
      this.borrowers.add(borrower);
      return true;
    }
    try {
      yield* this.waiters.park(new TokenWaiter(this.getLoop(), borrower));
    } catch (error) {
      this.wakeWaiters();
      throw error;
    }
    return true;
  }

  /** Returns the current task's token and wakes the first waiter; `RuntimeError` if it holds none. */
  release(): void {
    this.releaseOnBehalfOf(this.currentBorrower("release"));
  }

  /** Returns `borrower`'s token; `RuntimeError` if it holds none. */
  releaseOnBehalfOf(borrower: object): void {
    if (!this.borrowers.delete(borrower)) throw new RuntimeError("this borrower isn't holding any of this CapacityLimiter's tokens");
    this.wakeWaiters();
  }

  /** Borrows a token, runs `body`, and always gives the token back (AnyIO's `async with limiter:`). */
  *hold<T>(body: () => Coro<T>): Coro<T> {
    // Checked when the hold starts; the task that acquires is then the task that releases.
    this.currentBorrower("hold");
    return yield* holding(this, body);
  }

  /**
   * Runs `fn(item, index)` for every item, as many at once as the limiter
   * lends, and returns the results in the order of `items` (a `gather` with
   * a limit). Each call is a task of a task group that holds a token on its
   * own behalf, and a task is only made once its token is free, so a million
   * items never make a million waiting tasks. The first failure cancels the
   * rest and raises, as `taskGroup` does, in an `ExceptionGroup`.
   *
   * @example
   * const pages = yield* new CapacityLimiter(5).map(urls, (url) => download(url));
   */
  *map<T, R>(items: Iterable<T>, fn: (item: T, index: number) => Coro<R>): Coro<R[]> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the group's body is a generator of its own
    const limiter = this;
    if (items === null || typeof (items as Partial<Iterable<T>>)[Symbol.iterator] !== "function") {
      throw new TypeError(`CapacityLimiter.map(): items must be iterable, got ${String(items)}`);
    }
    functionArg(fn, "CapacityLimiter.map(): fn");
    const results: R[] = [];
    yield* taskGroup(function* (this: void, group) {
      let index = 0;
      for (const item of items) {
        const at = index++;
        const borrower = {};
        yield* limiter.acquireOnBehalfOf(borrower);
        let released = false;
        const release = (): void => {
          if (released) return;
          released = true;
          limiter.releaseOnBehalfOf(borrower);
        };
        const task = group.createTask((function* (): Coro<void> {
          try {
            results[at] = yield* fn(item, at);
          } finally {
            release();
          }
        })());
        // Also when done: a task cancelled before its first step never enters its body.
        task.addDoneCallback(release);
      }
    });
    return results;
  }

  /** Tokens, borrowers and waiting tasks. */
  statistics(): CapacityLimiterStatistics {
    return { borrowedTokens: this.borrowers.size, totalTokens: this.total, borrowers: [...this.borrowers], tasksWaiting: this.waiters.length };
  }

  private currentBorrower(what: string): object {
    const task = currentTask();
    if (task === null) throw new RuntimeError(`CapacityLimiter.${what}() must be called from a task`);
    return task;
  }

  // Keeps the invariant: while a token is free, no live waiter is left unwoken.
  private wakeWaiters(): void {
    this.waiters.serve();
  }

  [inspectCustom](): string {
    const waiting = this.waiters.length > 0 ? `, waiters:${this.waiters.length}` : "";
    return `<CapacityLimiter [borrowed:${this.borrowers.size}/${this.total}${waiting}]>`;
  }
}

// ---------------------------------------------------------------- RateLimiter

/** Statistics of a `RateLimiter`. */
export interface RateLimiterStatistics {
  maxRate: number;
  timePeriod: number;
  /** How full the bucket is now (0 to `maxRate`). */
  level: number;
  tasksWaiting: number;
}

// A task waiting for room for `amount` in the bucket.
class RateWaiter extends Waiter {
  constructor(
    loop: EventLoop,
    readonly amount: number,
  ) {
    super(loop);
  }
}

// Virtual-clock arithmetic in seconds is floating point: a waiter woken by the
// timer computed for it must find its room even if the leak rounds down.
const LEVEL_TOLERANCE = 1e-9;

function checkPositive(name: string, value: unknown): number {
  const checked = numberArg(value, name, { infinite: false });
  if (!(checked > 0)) throw new RangeError(`${name} must be > 0, got ${checked}`);
  return checked;
}

/**
 * At most `maxRate` acquisitions per `timePeriod` seconds (aiolimiter's
 * `AsyncLimiter`): a leaky bucket of size `maxRate` that drains at
 * `maxRate / timePeriod` per second. `acquire(amount)` adds `amount` to the
 * bucket, waiting FIFO until it fits. A burst of `maxRate` passes at once;
 * after it, acquisitions are spaced `timePeriod / maxRate` apart. In any
 * window of `w` seconds it admits at most `maxRate + w * maxRate / timePeriod`.
 *
 * @example
 * const perSecond = new RateLimiter(10, 1);
 * yield* perSecond.hold(() => fetchPage(url));
 */
export class RateLimiter extends LoopBound {
  /** The bucket's size: how much may be acquired in a burst. */
  readonly maxRate: number;
  /** Seconds in which the bucket drains completely. */
  readonly timePeriod: number;
  private level = 0;
  private lastLeak = 0;
  // A waiter is admitted with its amount added to the bucket; admitted and then cancelled, it takes it out.
  private readonly waiters = new ParkingLot<RateWaiter>({
    grant: (waiter) => {
      this.leak();
      if (!this.fits(waiter.amount)) return false;
      this.level += waiter.amount;
      return true;
    },
    revoke: (waiter) => {
      // The rate was not used.
      this.level = Math.max(0, this.level - waiter.amount);
      return true;
    },
  });
  // Armed for the first live waiter's moment of room, while there is one.
  private timer: TimerHandle | null = null;

  constructor(maxRate: number, timePeriod = 60) {
    super();
    this.maxRate = checkPositive("RateLimiter(): maxRate", maxRate);
    this.timePeriod = checkPositive("RateLimiter(): timePeriod", timePeriod);
  }

  /** Whether `acquire(amount)` would go through now without waiting (room in the bucket and nobody waiting before it). */
  hasCapacity(amount = 1): boolean {
    this.checkAmount(amount);
    if (this.waiters.hasLive()) return false;
    this.leak();
    return this.fits(amount);
  }

  /** Adds `amount` to the bucket, waiting FIFO until it fits; `RangeError` if `amount` exceeds `maxRate`. Returns `true`. */
  *acquire(amount = 1): Coro<true> {
    this.checkAmount(amount);
    const loop = this.getLoop();
    if (!this.waiters.hasLive()) {
      this.leak();
      if (this.fits(amount)) {
        this.level += amount;
        return true;
      }
    }
    const waiter = new RateWaiter(loop, amount);
    // Joined first, so serving the queue arms the timer for it when it is first.
    this.waiters.join(waiter);
    this.serveWaiters();
    try {
      yield* this.waiters.park(waiter);
    } catch (error) {
      this.serveWaiters();
      throw error;
    }
    return true;
  }

  /** Acquires 1, then runs `body` (aiolimiter's `async with limiter:`; nothing is given back on exit). */
  hold<T>(body: () => Coro<T>): Coro<T> {
    return holding({ acquire: () => this.acquire() }, body);
  }

  /** The bucket's level now and how many tasks wait. */
  statistics(): RateLimiterStatistics {
    // Outside a loop (after run() returned) the level is the one last computed.
    if (this.level > 0 && getRunningLoopOrNull() !== null) this.leak();
    return { maxRate: this.maxRate, timePeriod: this.timePeriod, level: this.level, tasksWaiting: this.waiters.length };
  }

  private checkAmount(amount: number): void {
    checkPositive("RateLimiter.acquire(): amount", amount);
    if (amount > this.maxRate) throw new RangeError(`RateLimiter amount ${amount} exceeds maxRate ${this.maxRate}: it could never be acquired`);
  }

  private fits(amount: number): boolean {
    return this.level + amount <= this.maxRate + LEVEL_TOLERANCE * this.maxRate;
  }

  private leak(): void {
    const now = this.getLoop().time();
    const elapsed = now - this.lastLeak;
    this.lastLeak = now;
    if (this.level > 0 && elapsed > 0) this.level = Math.max(0, this.level - (elapsed * this.maxRate) / this.timePeriod);
  }

  // Admits waiters in order while they fit, then arms the timer for the first one left.
  private readonly serveWaiters = (): void => {
    this.timer?.cancel();
    this.timer = null;
    this.leak();
    this.waiters.serve();
    const first = this.waiters.firstLive();
    if (first === undefined) return;
    const wait = ((this.level + first.amount - this.maxRate) * this.timePeriod) / this.maxRate;
    this.timer = this.getLoop().callAt(this.lastLeak + wait, this.serveWaiters);
  };

  [inspectCustom](): string {
    const { level, tasksWaiting } = this.statistics();
    const waiting = tasksWaiting > 0 ? `, waiters:${tasksWaiting}` : "";
    return `<RateLimiter [${this.maxRate}/${this.timePeriod}s, level:${Number(level.toFixed(6))}${waiting}]>`;
  }
}
