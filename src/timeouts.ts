/**
 * `timeout(delay, body)` and `timeoutAt(when, body)`: run a block with a
 * deadline (Python's `async with asyncio.timeout(delay):`).
 *
 * A timeout is a cancel scope with a deadline (cancel-scopes.ts): on expiry
 * the block's task is cancelled; when the resulting `CancelledError` leaves
 * the block it becomes a `TimeoutError`. The task's `cancelling()` count tells
 * this timeout's cancellation from any other: if someone else also cancelled
 * the task (or an outer timeout expired too), the `CancelledError` propagates
 * unchanged, so only the right block turns it into a `TimeoutError`.
 */
import { inspectCustom } from "./repr.js";
import type { Awaitable, Coro } from "./coroutines.js";
import { RuntimeError, TimeoutError } from "./errors.js";
import { getRunningLoop } from "./running-loop.js";
import { CancelScope } from "./cancel-scopes.js";
import { nullableNumberArg } from "./arguments.js";
import { currentTask as currentTaskOrNull } from "./tasks.js";

/** The states of a `Timeout`. */
export type TimeoutState = "created" | "entered" | "expiring" | "expired" | "exited";

// How Python names each state in reprs and errors (`_State` values).
const STATE_LABEL: Record<TimeoutState, string> = { created: "created", entered: "active", expiring: "expiring", expired: "expired", exited: "finished" };

/**
 * The deadline of a `timeout` block (Python's `asyncio.Timeout`), handed to
 * the block's body so it can read or move the deadline. A thin layer over a
 * `CancelScope` with a deadline: the scope's absorbed cancellation becomes
 * `TimeoutError`.
 */
export class Timeout {
  private readonly scope: CancelScope;

  /** A timeout for loop time `when` (seconds), or none when `null`. Use `timeout()`/`timeoutAt()`. */
  constructor(when: number | null) {
    this.scope = new CancelScope({ deadline: nullableNumberArg(when, "Timeout(): when") });
  }

  private get state(): TimeoutState {
    switch (this.scope.state) {
      case "created":
        return "created";
      case "entered":
        return this.scope.cancelCalled ? "expiring" : "entered";
      case "exited":
        return this.scope.cancelCalled ? "expired" : "exited";
    }
  }

  /** The deadline in loop time, or `null` for none. */
  when(): number | null {
    return this.scope.deadline;
  }

  /** Moves the deadline to loop time `when` (or removes it with `null`); only inside the block, before expiry. */
  reschedule(when: number | null): void {
    const state = this.state;
    if (state !== "entered") {
      if (state === "created") throw new RuntimeError("Timeout has not been entered");
      throw new RuntimeError(`Cannot change state of ${STATE_LABEL[state]} Timeout`);
    }
    this.scope.deadline = nullableNumberArg(when, "reschedule(): when");
  }

  /** Whether the deadline passed and the block was (or is being) cancelled. */
  expired(): boolean {
    return this.scope.cancelCalled;
  }

  /** @internal Runs `body` inside the deadline. */
  *run<T>(body: (timeout: Timeout) => Awaitable<T>): Coro<T> {
    if (this.scope.state !== "created") throw new RuntimeError("Timeout has already been entered");
    if (currentTaskOrNull() === null) throw new RuntimeError("Timeout should be used inside a task");
    const result = yield* this.scope.run(() => body(this));
    if (this.scope.cancelledCaught) throw new TimeoutError("the timeout expired", { cause: this.scope.caughtError });
    return result as T;
  }

  [inspectCustom](): string {
    const state = this.state;
    const deadline = this.scope.deadline;
    const when = state !== "entered" ? "" : ` when=${deadline === null ? "null" : deadline.toFixed(3)}`;
    return `<Timeout [${STATE_LABEL[state]}]${when}>`;
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
