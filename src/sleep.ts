/**
 * `sleep(delay, result?)`: suspend the calling task for `delay` seconds
 * (Python's `asyncio.sleep`). `sleep(0)` (or any delay <= 0) gives every
 * other ready task one turn and then continues: the canonical checkpoint.
 */
import type { Coro } from "./coroutines.js";
import { type EventLoop } from "./events.js";
import { getRunningLoopOrNull } from "./running-loop.js";
import { Future, markAwaited } from "./futures.js";
import { runStep, type Timer } from "./handles.js";
import { resumeToken, statelessCoroutines, yieldOnceMarker } from "./tasks.js";
import { numberArg } from "./arguments.js";

// Bits of `SleepFuture.bits`: where its generator protocol is (FRESH until
// the first next(), WAITING until it resumes, DONE after), and the timer's
// two flags.
const FRESH = 0;
const WAITING = 1;
const DONE = 2;
const PHASE = 3;
const IN_HEAP = 4;
const CANCELLED = 8;

/**
 * `sleep(delay > 0)` as one object: the future the task waits on, the timer
 * that finishes it, and the generator protocol `yield*` drives (written by
 * hand: no generator object, no closure, no timer handle, no argument list).
 * A sleeping task therefore costs its own task and generator plus this.
 * PERF: one object in three roles, its flags in one field and its result
 * parked in the future's outcome until it fires (bench rows "heap per
 * sleeping task" and "100k sleep(1)"; docs/decisions.md, "What a sleeping
 * task costs").
 */
class SleepFuture<T> extends Future<T> implements Generator<Future<unknown>, T, unknown>, Timer {
  // The delay until the timer is scheduled (at the first next()), then the
  // loop's deadline. PERF: one field fewer per sleeping task (bench row "heap
  // per sleeping task"; docs/decisions.md, "What a sleeping task costs").
  /** @internal */ deadline: number;
  /** @internal */ sequence = 0;
  // The phase and the timer's flags (the bits above).
  private bits = FRESH;

  constructor(loop: EventLoop, delay: number, value: T) {
    super(loop);
    this.deadline = delay;
    // The result, until the timer fires and settles the future with it.
    this.outcome = value;
  }

  /** @internal Whether the timer sits in the loop's heap. */
  get inHeap(): boolean {
    return (this.bits & IN_HEAP) !== 0;
  }

  set inHeap(value: boolean) {
    this.bits = value ? this.bits | IN_HEAP : this.bits & ~IN_HEAP;
  }

  /** @internal Whether the timer was cancelled (it stays in the heap until popped). */
  get isCancelled(): boolean {
    return (this.bits & CANCELLED) !== 0;
  }

  set isCancelled(value: boolean) {
    this.bits = value ? this.bits | CANCELLED : this.bits & ~CANCELLED;
  }

  override next(): IteratorResult<Future<unknown>, T> {
    const phase = this.bits & PHASE;
    if (phase === FRESH) {
      this.bits |= WAITING;
      const delay = this.deadline;
      if (delay !== Infinity) this.loop.scheduleTimer(this, this.loop.time() + delay);
      markAwaited(this);
      return { value: this, done: false };
    }
    if (phase === WAITING) {
      this.bits = (this.bits & ~PHASE) | DONE;
      this.cancelTimer();
      return { value: this.result(), done: true };
    }
    return { value: undefined as T, done: true };
  }

  override throw(error: unknown): IteratorResult<Future<unknown>, T> {
    this.bits = (this.bits & ~PHASE) | DONE;
    this.cancelTimer();
    throw error;
  }

  return(value?: T): IteratorResult<Future<unknown>, T> {
    this.bits = (this.bits & ~PHASE) | DONE;
    this.cancelTimer();
    return { value: value as T, done: true };
  }

  override [Symbol.iterator](): this {
    return this;
  }

  override cancel(message?: unknown): boolean {
    this.cancelTimer();
    return super.cancel(message);
  }

  /** @internal The timer fired. */
  [runStep](): void {
    if ((this.bits & CANCELLED) === 0 && this.state === "pending") this.settleResult(this.outcome as T);
  }

  private cancelTimer(): void {
    if ((this.bits & (IN_HEAP | CANCELLED)) === IN_HEAP) {
      this.bits |= CANCELLED;
      this.loop.timerCancelled(this);
    }
  }
}

/** @internal The deadline a pending `sleep` future waits for, or `null` if `future` is not one (await graph). */
export function sleepDeadline(future: Future<unknown>): number | null {
  return future instanceof SleepFuture && future.inHeap ? future.deadline : null;
}

/**
 * `sleep(delay <= 0)` with no result: one shared, frozen iterator and two
 * shared, frozen iterator results. It keeps no state: the task resumes its
 * coroutine with `resumeToken`, which `yield*` forwards here, and that is
 * what tells the second `next()` from the first. PERF: a switch allocates
 * nothing, where a `YieldOnce` and two results per `sleep(0)` cost 8 minor
 * GCs per million switches (bench rows "sleep(0)" and "three coroutine levels
 * deep"; docs/decisions.md, "sleep(0) allocates nothing"). Driven by hand
 * (not by a task) it yields the marker again on every plain `next()`.
 */
class SharedYieldOnce implements Generator<Future<unknown>, undefined, unknown> {
  next(sent?: unknown): IteratorResult<Future<unknown>, undefined> {
    return sent === resumeToken ? resumedResult : markerResult;
  }

  throw(error: unknown): IteratorResult<Future<unknown>, undefined> {
    throw error;
  }

  return(value?: undefined): IteratorResult<Future<unknown>, undefined> {
    return { value, done: true };
  }

  [Symbol.iterator](): this {
    return this;
  }
}
const markerResult: IteratorResult<Future<unknown>, undefined> = Object.freeze({ value: yieldOnceMarker, done: false });
const resumedResult: IteratorResult<Future<unknown>, undefined> = Object.freeze({ value: undefined, done: true });
const sharedYieldOnce = Object.freeze(new SharedYieldOnce());
statelessCoroutines.add(sharedYieldOnce);

/** `sleep(delay <= 0, result)`: yields the marker once, then returns the result. */
class YieldOnce<T> implements Generator<Future<unknown>, T, unknown> {
  private yielded = false;

  constructor(private readonly value: T) {}

  next(): IteratorResult<Future<unknown>, T> {
    if (this.yielded) return { value: this.value, done: true };
    this.yielded = true;
    return { value: yieldOnceMarker, done: false };
  }

  throw(error: unknown): IteratorResult<Future<unknown>, T> {
    this.yielded = true;
    throw error;
  }

  return(value?: T): IteratorResult<Future<unknown>, T> {
    this.yielded = true;
    return { value: value as T, done: true };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

// A sleep made outside any running loop binds to the loop that first runs it.
function* deferredSleep<T>(delay: number, result: T): Coro<T> {
  return yield* sleep(delay, result);
}

/**
 * Suspends the calling task for `delay` seconds, then returns `result`.
 * `delay <= 0` yields to the loop exactly once; `Infinity` sleeps until cancelled.
 *
 * @example
 * yield* sleep(0.5);                 // half a second
 * const v = yield* sleep(1, "done"); // "done", a second later
 */
export function sleep(delay: number): Coro<void>;
export function sleep<T>(delay: number, result: T): Coro<T>;
export function sleep<T>(delay: number, result?: T): Coro<T | undefined> {
  // PERF: `sleep(0)`, the checkpoint, skips the argument check (0 passes it)
  // (bench rows "sleep(0)" and "three coroutine levels deep").
  if (delay === 0 && result === undefined) return sharedYieldOnce;
  numberArg(delay, "sleep(): delay");
  if (delay <= 0) return result === undefined ? sharedYieldOnce : new YieldOnce<T | undefined>(result);
  const loop = getRunningLoopOrNull();
  if (loop === null) return deferredSleep(delay, result);
  return new SleepFuture<T | undefined>(loop, delay, result);
}
