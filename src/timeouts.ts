/**
 * `timeout(delay, body)` and `timeoutAt(when, body)`: run a block with a
 * deadline (Python's `async with asyncio.timeout(delay):`).
 *
 * On expiry the block's task is cancelled; when the resulting
 * `CancelledError` leaves the block it becomes a `TimeoutError`. The
 * task's `cancelling()` count tells this timeout's cancellation from any
 * other: if someone else also cancelled the task (or an outer timeout
 * expired too), the `CancelledError` propagates unchanged, so only the right
 * block turns it into a `TimeoutError`.
 */
import { inspectCustom } from "./repr.js";
import type { Awaitable, Coro } from "./coroutines.js";
import { CancelledError, RuntimeError, TimeoutError } from "./errors.js";
import { type EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";
import type { Handle } from "./handles.js";
import { currentTask, type Task } from "./tasks.js";
import { nullableNumberArg } from "./arguments.js";

/** The states of a `Timeout`. */
export type TimeoutState = "created" | "entered" | "expiring" | "expired" | "exited";

// How Python names each state in reprs and errors (`_State` values).
const STATE_LABEL: Record<TimeoutState, string> = { created: "created", entered: "active", expiring: "expiring", expired: "expired", exited: "finished" };

/**
 * The deadline of a `timeout` block (Python's `asyncio.Timeout`), handed to
 * the block's body so it can read or move the deadline.
 */
export class Timeout {
  private state: TimeoutState = "created";
  private deadline: number | null;
  private timer: Handle | null = null;
  private task: Task<unknown> | null = null;
  private loop: EventLoop | null = null;
  private cancellingAtEntry = 0;

  /** A timeout for loop time `when` (seconds), or none when `null`. Use `timeout()`/`timeoutAt()`. */
  constructor(when: number | null) {
    this.deadline = nullableNumberArg(when, "Timeout(): when");
  }

  /** The deadline in loop time, or `null` for none. */
  when(): number | null {
    return this.deadline;
  }

  /** Moves the deadline to loop time `when` (or removes it with `null`); only inside the block, before expiry. */
  reschedule(when: number | null): void {
    if (this.state !== "entered") {
      if (this.state === "created") throw new RuntimeError("Timeout has not been entered");
      throw new RuntimeError(`Cannot change state of ${STATE_LABEL[this.state]} Timeout`);
    }
    this.deadline = when = nullableNumberArg(when, "reschedule(): when");
    this.timer?.cancel();
    this.timer = null;
    if (when === null) return;
    const loop = this.loop!;
    // A deadline already past fires at the block's next suspension, not synchronously.
    this.timer = when <= loop.time() ? loop.callSoon(this.expire) : loop.callAt(when, this.expire);
  }

  /** Whether the deadline passed and the block was (or is being) cancelled. */
  expired(): boolean {
    return this.state === "expiring" || this.state === "expired";
  }

  /** @internal Runs `body` inside the deadline. */
  *run<T>(body: (timeout: Timeout) => Awaitable<T>): Coro<T> {
    this.enter();
    let result: T;
    try {
      result = yield* body(this);
    } catch (error) {
      this.exit(error, true);
      throw error;
    }
    this.exit(undefined, false);
    return result;
  }

  private enter(): void {
    if (this.state !== "created") throw new RuntimeError("Timeout has already been entered");
    const task = currentTask();
    if (task === null) throw new RuntimeError("Timeout should be used inside a task");
    this.task = task;
    this.loop = getRunningLoop();
    this.cancellingAtEntry = task.cancelling();
    this.state = "entered";
    this.reschedule(this.deadline);
  }

  // Throws the TimeoutError when this timeout's own cancellation is leaving the block.
  private exit(error: unknown, threw: boolean): void {
    this.timer?.cancel();
    this.timer = null;
    if (this.state === "expiring") {
      this.state = "expired";
      if (this.task!.uncancel() <= this.cancellingAtEntry && threw && error instanceof CancelledError) {
        throw new TimeoutError("the timeout expired", { cause: error });
      }
    } else if (this.state === "entered") {
      this.state = "exited";
    }
  }

  // Only the timer calls this, and it is cancelled whenever the block leaves "entered".
  private readonly expire = (): void => {
    this.timer = null;
    this.state = "expiring";
    this.task!.cancel();
  };

  [inspectCustom](): string {
    const when = this.state !== "entered" ? "" : ` when=${this.deadline === null ? "null" : this.deadline.toFixed(3)}`;
    return `<Timeout [${STATE_LABEL[this.state]}]${when}>`;
  }
}

/**
 * Runs `body` and cancels it if it is still running `delay` seconds from now
 * (`null`: no deadline); the cancellation leaves the block as `TimeoutError`.
 * `body` may return any awaitable (a coroutine, a `Future`, a `Task`, a
 * `gather(...)`); the block's result is its result.
 *
 * @example
 * const page = yield* timeout(5, function* () {
 *   return yield* download(url);
 * });
 */
export function* timeout<T>(delay: number | null, body: (timeout: Timeout) => Awaitable<T>): Coro<T> {
  const seconds = nullableNumberArg(delay, "timeout(): delay");
  const loop = getRunningLoop();
  return yield* new Timeout(seconds === null ? null : loop.time() + seconds).run(body);
}

/** Like `timeout`, with an absolute deadline in loop time (`loop.time()` seconds). */
export function* timeoutAt<T>(when: number | null, body: (timeout: Timeout) => Awaitable<T>): Coro<T> {
  return yield* new Timeout(nullableNumberArg(when, "timeoutAt(): when")).run(body);
}
