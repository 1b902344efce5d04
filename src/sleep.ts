/**
 * `sleep(delay, result?)`: suspend the calling task for `delay` seconds
 * (Python's `asyncio.sleep`). `sleep(0)` (or any delay <= 0) gives every
 * other ready task one turn and then continues: the canonical checkpoint.
 */
import type { Coro } from "./coroutines.js";
import { getRunningLoop } from "./events.js";
import { markAwaited, type Future } from "./futures.js";
import type { TimerHandle } from "./handles.js";
import { yieldOnceMarker } from "./tasks.js";

type SleepState = "fresh" | "yielded" | "waiting" | "done";

function setResultUnlessCancelled<T>(future: Future<T>, result: T): void {
  if (!future.done()) future.setResult(result);
}

/**
 * The generator protocol implemented by hand: no generator object, no
 * closure, and `sleep(0)` allocates nothing but this object.
 */
class SleepOperation<T> implements Generator<Future<unknown>, T, unknown> {
  private state: SleepState = "fresh";
  private future: Future<T> | null = null;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly delay: number,
    private readonly value: T,
  ) {}

  next(): IteratorResult<Future<unknown>, T> {
    switch (this.state) {
      case "fresh": {
        if (this.delay <= 0) {
          this.state = "yielded";
          return { value: yieldOnceMarker, done: false };
        }
        const loop = getRunningLoop();
        const future = loop.createFuture<T>();
        this.future = future;
        if (this.delay !== Infinity) this.timer = loop.callLater(this.delay, setResultUnlessCancelled, future, this.value);
        this.state = "waiting";
        markAwaited(future);
        return { value: future, done: false };
      }
      case "yielded":
        this.state = "done";
        return { value: this.value, done: true };
      case "waiting": {
        this.state = "done";
        this.timer?.cancel();
        return { value: this.future!.result(), done: true };
      }
      default:
        return { value: undefined as T, done: true };
    }
  }

  throw(error: unknown): IteratorResult<Future<unknown>, T> {
    this.state = "done";
    this.timer?.cancel();
    throw error;
  }

  return(value?: T): IteratorResult<Future<unknown>, T> {
    this.state = "done";
    this.timer?.cancel();
    return { value: value as T, done: true };
  }

  [Symbol.iterator](): this {
    return this;
  }
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
  if (typeof delay !== "number") throw new TypeError(`sleep() takes a delay in seconds, got ${typeof delay}`);
  if (Number.isNaN(delay)) throw new RangeError("Invalid delay: NaN (not a number)");
  return new SleepOperation<T | undefined>(delay, result);
}
