/**
 * `wait(futures, { timeout, returnWhen })` and `asCompleted(aws, { timeout })`:
 * waiting on a set of futures without owning them (Python's `asyncio.wait`
 * and `asyncio.as_completed`). Neither cancels anything on timeout.
 */
import { isCoroutine, type Awaitable, type Coro } from "./coroutines.js";
import { TimeoutError } from "./errors.js";
import { type EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";
import { copyOutcome, ensureFuture } from "./ensure-future.js";
import { Future, type DoneCallback } from "./futures.js";
import { aiterSymbol, type AsyncIterableSource, type AsyncSource } from "./iteration.js";
import { Deque } from "./deque.js";
import type { TimerHandle } from "./handles.js";
import { nullableNumberArg, optionalNumberArg, optionsArg } from "./arguments.js";
import { ParkingLot, Waiter } from "./waiters.js";

/** `wait` returns when any future finishes or is cancelled. */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/** `wait` returns when any future finishes with an exception (or all are done). */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/** `wait` returns when every future is done (the default). */
export const ALL_COMPLETED = "ALL_COMPLETED";

/** When `wait` returns. */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/** Options of `wait`. */
export interface WaitOptions {
  /** Seconds to wait at most; `null`/absent waits without limit. On timeout `wait` returns, it never throws. */
  timeout?: number | null;
  returnWhen?: ReturnWhen;
}

/**
 * Waits until the futures are done as `returnWhen` says, or `timeout`
 * seconds pass, and returns `[done, pending]` as of that moment. Never throws
 * `TimeoutError`, never cancels the futures; cancelling the waiting task
 * leaves them running. Coroutines are refused: wrap them with `createTask`.
 *
 * @example
 * const [done, pending] = yield* wait([t1, t2], { returnWhen: FIRST_COMPLETED });
 */
export function* wait<F extends Future<unknown>>(futures: Iterable<F>, options: WaitOptions = {}): Coro<[done: Set<F>, pending: Set<F>]> {
  if (futures instanceof Future || isCoroutine(futures)) {
    throw new TypeError(`wait() expects an iterable of futures, not a single ${futures instanceof Future ? "Future" : "coroutine"}: wrap it in an array`);
  }
  if (futures === null || typeof (futures as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
    throw new TypeError("wait() expects an iterable of futures");
  }
  const set = new Set<F>(futures);
  // CPython's order: an empty set and a bad `returnWhen` are refused before
  // the members are looked at (test_wait_errors).
  if (set.size === 0) throw new RangeError("Set of Tasks/Futures is empty.");
  optionsArg(options, "wait(): options");
  const returnWhen = options.returnWhen ?? ALL_COMPLETED;
  if (returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION && returnWhen !== ALL_COMPLETED) {
    throw new RangeError(`wait(): returnWhen must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${String(returnWhen)}`);
  }
  for (const f of set) {
    if (isCoroutine(f)) throw new TypeError("Passing coroutines is forbidden, use tasks explicitly.");
    if (!(f instanceof Future)) throw new TypeError(`wait() expects futures or tasks, got ${typeof f}`);
  }
  optionalNumberArg(options.timeout, "wait(): timeout");
  const loop = getRunningLoop();
  const waiter = loop.createFuture<void>();
  const release = (): void => {
    if (!waiter.done()) waiter.setResult(undefined);
  };
  const timer = options.timeout === undefined || options.timeout === null ? null : loop.callLater(options.timeout, release);
  let remaining = set.size;
  const onCompletion = (f: Future<unknown>): void => {
    remaining--;
    if (
      remaining <= 0 ||
      returnWhen === FIRST_COMPLETED ||
      (returnWhen === FIRST_EXCEPTION && !f.cancelled() && f.exception() !== null)
    ) {
      release();
    }
  };
  for (const f of set) f.addDoneCallback(onCompletion);
  try {
    yield* waiter;
  } finally {
    timer?.cancel();
    for (const f of set) f.removeDoneCallback(onCompletion);
  }
  const done = new Set<F>();
  const pending = new Set<F>();
  for (const f of set) (f.done() ? done : pending).add(f);
  return [done, pending];
}

/** Options of `asCompleted`. */
export interface AsCompletedOptions {
  /** Seconds until every result not yet delivered becomes a `TimeoutError`. */
  timeout?: number | null;
}

/**
 * The futures the plain iteration of `asCompleted` hands out. Each is bound
 * to a completion only when it is first awaited (`yield*`, `then`, a done
 * callback): the first one awaited gets the first completion, whatever
 * order they were handed out in (Python's `_wait_for_one`).
 */
class CompletionSlot<T> extends Waiter<T> {
  private claimed = false;

  constructor(private readonly order: CompletionOrder<T>) {
    super(order.loop);
  }

  override [Symbol.iterator](): Iterator<Future<unknown>, T, unknown> {
    this.claim();
    return super[Symbol.iterator]();
  }

  override addDoneCallback(callback: DoneCallback<T>): void {
    this.claim();
    super.addDoneCallback(callback);
  }

  private claim(): void {
    if (this.claimed) return;
    this.claimed = true;
    this.order.bind(this);
  }
}

// A task waiting in the async form for the next completed input.
class CompletionTaker<T> extends Waiter {
  completion: Future<T> | undefined = undefined;
}

/**
 * The object `asCompleted` returns: iterable (futures settling in
 * completion order) and an async source (the original futures, in
 * completion order: 3.13's `async for`).
 */
class CompletionOrder<T> implements Iterable<Future<T>>, AsyncIterableSource<Future<T>> {
  readonly loop: EventLoop;
  private readonly count: number;
  // Completed inputs nobody has taken yet, and those waiting for a completion:
  // slots of the plain form (queued, settled like the input), or takers of the
  // async form (parked, given the input). A taker given an input and then
  // cancelled before it resumed gives it back, first in line (the lot's rule).
  private readonly completed = new Deque<Future<T>>();
  private readonly waiting = new ParkingLot<CompletionSlot<T> | CompletionTaker<T>>({
    grant: () => false,
    revoke: (taker) => {
      if (taker instanceof CompletionTaker && taker.completion !== undefined) this.deliver(taker.completion, true);
      return false;
    },
  });
  private readonly todo = new Set<Future<T>>();
  private timer: TimerHandle | null = null;
  private timedOut = false;
  private handedOut = 0;

  constructor(aws: Iterable<Awaitable<T> | PromiseLike<T>>, timeout: number | null | undefined) {
    this.loop = getRunningLoop();
    const inputs = new Set<Future<T>>();
    const seen = new Set<unknown>();
    for (const aw of aws) {
      if (seen.has(aw)) continue;
      seen.add(aw);
      inputs.add(ensureFuture(aw, this.loop));
    }
    this.count = inputs.size;
    for (const f of inputs) {
      if (f.done()) this.completed.push(f);
      else {
        this.todo.add(f);
        f.addDoneCallback(this.onDone);
      }
    }
    if (timeout !== undefined && timeout !== null && this.todo.size > 0) this.timer = this.loop.callLater(timeout, this.onTimeout);
  }

  *[Symbol.iterator](): Iterator<Future<T>> {
    while (this.handedOut < this.count) {
      this.handedOut++;
      yield new CompletionSlot(this);
    }
  }

  [aiterSymbol](): AsyncSource<Future<T>> & AsyncIterableSource<Future<T>> {
    // The iterator is a source too, returning itself (Python's `__aiter__`).
    const iterator = { next: () => this.nextOriginal(), [aiterSymbol]: () => iterator };
    return iterator;
  }

  /** @internal Gives `slot` the next completion, now or when it happens. */
  bind(slot: CompletionSlot<T>): void {
    const ready = this.completed.shift();
    if (ready !== undefined) copyOutcome(ready, slot);
    else if (this.timedOut) slot.setException(new TimeoutError());
    else this.waiting.enqueue(slot);
  }

  private *nextOriginal(): Coro<IteratorResult<Future<T>, undefined>> {
    if (this.handedOut >= this.count) return { done: true, value: undefined };
    this.handedOut++;
    const ready = this.completed.shift();
    if (ready !== undefined) return { done: false, value: ready };
    if (this.timedOut) throw new TimeoutError();
    const taker = new CompletionTaker<T>(this.loop);
    try {
      yield* this.waiting.park(taker);
    } catch (error) {
      // Cancelled (its completion, if given, stays for the next caller) or timed out.
      this.handedOut--;
      throw error;
    }
    return { done: false, value: taker.completion! };
  }

  private readonly onDone = (f: Future<T>): void => {
    if (!this.todo.delete(f)) return;
    this.deliver(f, false);
    if (this.todo.size === 0) this.timer?.cancel();
  };

  // Hands a completed input to the first waiting taker, or keeps it (first in line when it was given back).
  private deliver(f: Future<T>, givenBack: boolean): void {
    const next = this.waiting.wakeNext();
    if (next === undefined) {
      if (givenBack) this.completed.unshift(f);
      else this.completed.push(f);
    } else if (next instanceof CompletionSlot) copyOutcome(f, next);
    else {
      next.completion = f;
      next.setResult(undefined);
    }
  }

  private readonly onTimeout = (): void => {
    this.timedOut = true;
    for (const f of this.todo) f.removeDoneCallback(this.onDone);
    this.todo.clear();
    for (let next = this.waiting.wakeNext(); next !== undefined; next = this.waiting.wakeNext()) {
      next.setException(new TimeoutError());
    }
  };
}

/**
 * The awaitables in completion order (coroutines are wrapped in tasks).
 * Iterated plainly, it yields one future per input: the first one awaited
 * settles like the first input to complete, and so on. As an async source
 * (`forEach`, Python 3.13's `async for`) it yields the original futures or
 * tasks themselves, each once it is done. After `timeout` seconds what is
 * not yet delivered raises `TimeoutError`; nothing is cancelled.
 *
 * @example
 * for (const next of asCompleted([fetchData("a"), fetchData("b")], { timeout: 5 })) {
 *   console.log(yield* next); // fastest first
 * }
 * yield* forEach(asCompleted(tasks), function* (task) {
 *   console.log(task.getName(), task.result());
 * });
 */
export function asCompleted<T>(aws: Iterable<Awaitable<T> | PromiseLike<T>>, options: AsCompletedOptions = {}): Iterable<Future<T>> & AsyncIterableSource<Future<T>> {
  if (aws instanceof Future || isCoroutine(aws)) throw new TypeError("asCompleted() expects an iterable of awaitables, not a single one: wrap it in an array");
  const seconds = options.timeout === undefined ? null : nullableNumberArg(options.timeout, "asCompleted(): timeout");
  return new CompletionOrder(aws, seconds);
}
