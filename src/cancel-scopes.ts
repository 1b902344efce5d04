/**
 * Cancel scopes (AnyIO's `CancelScope`, Trio's `move_on_after`/`fail_after`):
 * a block that can be cancelled as a unit — by `cancel()` or at a deadline —
 * and that may shield its body from cancellations made outside it.
 *
 * The mechanism is asyncio's, so it composes with `task.cancel()`,
 * `cancelling()`/`uncancel()`, `timeout` and `TaskGroup`: a scope cancels its
 * task through the task's cancellation counter, tagged with the scope's depth
 * in the task's stack of scopes; when the `CancelledError` leaves the body and
 * the counter shows no other cancellation reached the body, the scope absorbs
 * it (the way asyncio's `timeout` turns its own cancellation into
 * `TimeoutError` and passes everyone else's through). A shielding scope makes
 * the task hold back every cancellation made outside it until it ends.
 *
 * On purpose, unlike Trio and AnyIO, a cancelled scope delivers one
 * `CancelledError` (asyncio's edge-triggered cancellation), not one at every
 * later suspension: a body that catches it may go on awaiting.
 */
import { inspectCustom } from "./repr.js";
import type { Awaitable, Coro } from "./coroutines.js";
import { CancelledError, RuntimeError, TimeoutError } from "./errors.js";
import type { EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";
import type { Handle } from "./handles.js";
import { currentTask, type Task } from "./tasks.js";
import { nullableNumberArg, numberArg } from "./arguments.js";

/** Where a `CancelScope` is in its life: not entered yet, its body running, or ended. */
export type CancelScopeState = "created" | "entered" | "exited";

/** The options of `cancelScope` (AnyIO's `CancelScope(deadline=, shield=)`). */
export interface CancelScopeOptions {
  /** Loop time (`loop.time()` seconds) at which the scope cancels itself; `null` (default) for none. */
  deadline?: number | null;
  /** Hold back cancellations made outside the scope while its body runs (default `false`). */
  shield?: boolean;
}

/**
 * A block that can be cancelled as a unit (AnyIO's `CancelScope`), handed to
 * the body of `cancelScope`, `moveOnAfter` and the like. Cancelling it throws
 * `CancelledError` into the body at its current `yield*`; the block then ends
 * normally. A cancellation from outside the scope is never absorbed by it.
 */
export class CancelScope {
  #state: CancelScopeState = "created";
  #deadline: number | null;
  #shield: boolean;
  #cancelCalled = false;
  #cancelledCaught = false;
  #deadlineReached = false;
  #reason: unknown = undefined;
  #caughtError: CancelledError | null = null;
  #loop: EventLoop | null = null;
  // Invariant: non-null only while the body runs (the task whose scope stack holds this frame).
  #task: Task<unknown> | null = null;
  // The depth this scope's own cancellations come from in its task's scope stack (1 for the outermost).
  #depth = 0;
  // The task's delivered cancellation requests when the body started: more at exit means someone else's reached it.
  #deliveredAtEntry = 0;
  // Whether this scope added a request to its task's `cancelling()` count (withdrawn at exit).
  #requested = false;
  // Invariant: non-null only while the body runs and a deadline is set and not yet reached.
  #timer: Handle | null = null;

  /** A scope not entered yet; `cancelScope()` makes and enters one. */
  constructor(options: CancelScopeOptions = {}) {
    this.#deadline = nullableNumberArg(options.deadline ?? null, "CancelScope(): deadline");
    this.#shield = options.shield === true;
  }

  /** The loop time at which the scope cancels itself, or `null`; setting it while the body runs re-arms the timer. */
  get deadline(): number | null {
    return this.#deadline;
  }

  /** Moves the deadline (loop time, `null` for none); a deadline already past cancels at the body's next suspension. */
  set deadline(when: number | null) {
    this.#deadline = nullableNumberArg(when, "CancelScope.deadline");
    if (this.#state === "entered") this.armDeadline();
  }

  /** Whether cancellations from outside the scope are held back until the body ends; settable while it runs. */
  get shield(): boolean {
    return this.#shield;
  }

  /** Shields the body (or stops shielding it: what the shield held back is then delivered at once). */
  set shield(value: boolean) {
    if (typeof value !== "boolean") throw new TypeError(`CancelScope.shield must be a boolean, got ${typeof value}`);
    this.#shield = value;
    this.#task?.reviewShields();
  }

  /** Whether the scope was cancelled, by `cancel()` or its deadline. */
  get cancelCalled(): boolean {
    return this.#cancelCalled;
  }

  /** Whether the body ended with the scope's own `CancelledError`, which the scope absorbed. */
  get cancelledCaught(): boolean {
    return this.#cancelledCaught;
  }

  /** @internal Whether the cancellation came from the deadline rather than `cancel()`. */
  get deadlineReached(): boolean {
    return this.#deadlineReached;
  }

  /** @internal The `CancelledError` the scope absorbed, if any. */
  get caughtError(): CancelledError | null {
    return this.#caughtError;
  }

  /** @internal Where the scope is in its life. */
  get state(): CancelScopeState {
    return this.#state;
  }

  /**
   * Cancels the scope: its body gets `CancelledError(reason)` at its current
   * `yield*` (at once if it is waiting, else at its next suspension; before
   * the body starts, as soon as it starts). Idempotent; no effect once the
   * block has ended.
   */
  cancel(reason?: unknown): void {
    if (this.#cancelCalled || this.#state === "exited") return;
    this.#cancelCalled = true;
    this.#reason = reason;
    if (this.#state === "entered") this.deliver();
  }

  /** @internal Runs `body` as the scope's block; `undefined` when the scope absorbed its own cancellation. */
  *run<T>(body: (scope: CancelScope) => Awaitable<T>): Coro<T | undefined> {
    this.enter();
    let result: T;
    try {
      result = yield* body(this);
    } catch (error) {
      if (this.exit(error)) return undefined;
      throw error;
    }
    this.exit(undefined);
    return result;
  }

  private enter(): void {
    if (this.#state !== "created") throw new RuntimeError("a CancelScope can be entered only once");
    const task = currentTask();
    if (task === null) throw new RuntimeError("a cancel scope must be used inside a task");
    this.#loop = getRunningLoop();
    this.#task = task;
    this.#deliveredAtEntry = task.deliveredCancelling();
    this.#depth = task.pushCancelScope(this);
    this.#state = "entered";
    if (this.#cancelCalled) this.deliver();
    else this.armDeadline();
  }

  // Decides whether the error leaving the body is this scope's own cancellation (absorbed: returns true).
  private exit(error: unknown): boolean {
    const task = this.#task!;
    this.#timer?.cancel();
    this.#timer = null;
    let absorbed = false;
    if (this.#requested) {
      // Counted before the frame is popped: requests this scope's shield held back never reached the body.
      task.uncancel();
      if (error instanceof CancelledError && task.deliveredCancelling() <= this.#deliveredAtEntry) {
        absorbed = true;
        this.#cancelledCaught = true;
        this.#caughtError = error;
      }
    }
    this.#state = "exited";
    this.#task = null;
    // Releases what this scope's shield held back: it arrives at the next suspension after the block.
    task.popCancelScope(this);
    return absorbed;
  }

  private armDeadline(): void {
    this.#timer?.cancel();
    this.#timer = null;
    const when = this.#deadline;
    // Infinity is Trio's "no deadline" too: no timer (a virtual clock must not jump to it).
    if (when === null || when === Infinity || this.#cancelCalled) return;
    const loop = this.#loop!;
    // A deadline already past fires at the body's next suspension, not synchronously (as asyncio's timeout).
    this.#timer = when <= loop.time() ? loop.callSoon(this.onDeadline) : loop.callAt(when, this.onDeadline);
  }

  // Only the timer calls this; deliver() and exit() cancel the timer, so the scope is not cancelled yet.
  private readonly onDeadline = (): void => {
    this.#timer = null;
    this.#deadlineReached = true;
    this.#cancelCalled = true;
    this.deliver();
  };

  private deliver(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#requested = true;
    this.#task!.cancelFromDepth(this.#depth, this.#reason);
  }

  [inspectCustom](): string {
    const parts: string[] = [this.#state === "entered" ? "active" : this.#state];
    if (this.#cancelCalled) parts.push("cancelled");
    if (this.#shield) parts.push("shielded");
    if (this.#deadline !== null) parts.push(`deadline=${this.#deadline.toFixed(3)}`);
    return `<CancelScope ${parts.join(" ")}>`;
  }
}

/**
 * Runs `body` in a new cancel scope (AnyIO's `with CancelScope():`). When the
 * scope is cancelled — `scope.cancel(reason)` or its `deadline` — the body
 * gets `CancelledError` at its current `yield*` and the block ends with
 * `undefined` (`scope.cancelledCaught` is then true). A cancellation from
 * outside is never absorbed; with `shield: true` it is held back until the
 * body ends.
 *
 * @example
 * const line = yield* cancelScope(function* (scope) {
 *   stopButton.onclick = () => scope.cancel("stopped by the user");
 *   return yield* reader.readline();
 * }); // undefined if the scope was cancelled
 */
export function* cancelScope<T>(body: (scope: CancelScope) => Awaitable<T>, options?: CancelScopeOptions): Coro<T | undefined> {
  return yield* new CancelScope(options).run(body);
}

function deadlineAfter(delay: number, where: string): number {
  return getRunningLoop().time() + numberArg(delay, `${where}: delay`);
}

/**
 * Runs `body` with a deadline `delay` seconds from now (Trio's
 * `move_on_after`): its result, or `undefined` if the deadline cut it short.
 *
 * @example
 * const reply = yield* moveOnAfter(2, () => readReply(conn)); // undefined after 2 s
 */
export function* moveOnAfter<T>(delay: number, body: (scope: CancelScope) => Awaitable<T>): Coro<T | undefined> {
  return yield* new CancelScope({ deadline: deadlineAfter(delay, "moveOnAfter()") }).run(body);
}

/** Like `moveOnAfter`, with an absolute deadline in loop time (Trio's `move_on_at`). */
export function* moveOnAt<T>(when: number, body: (scope: CancelScope) => Awaitable<T>): Coro<T | undefined> {
  return yield* new CancelScope({ deadline: numberArg(when, "moveOnAt(): when") }).run(body);
}

function* runOrFail<T>(scope: CancelScope, body: (scope: CancelScope) => Awaitable<T>): Coro<T> {
  const result = yield* scope.run(body);
  if (scope.cancelledCaught) {
    const message = scope.deadlineReached ? "the deadline passed" : "the scope was cancelled";
    throw new TimeoutError(message, { cause: scope.caughtError });
  }
  return result as T;
}

/**
 * Runs `body` with a deadline `delay` seconds from now and raises
 * `TimeoutError` if it cut the body short (Trio's `fail_after`; asyncio's
 * `timeout`). Cancelling the scope handed to `body` raises `TimeoutError` too.
 *
 * @example
 * const page = yield* failAfter(5, () => download(url)); // TimeoutError after 5 s
 */
export function* failAfter<T>(delay: number, body: (scope: CancelScope) => Awaitable<T>): Coro<T> {
  return yield* runOrFail(new CancelScope({ deadline: deadlineAfter(delay, "failAfter()") }), body);
}

/** Like `failAfter`, with an absolute deadline in loop time (Trio's `fail_at`). */
export function* failAt<T>(when: number, body: (scope: CancelScope) => Awaitable<T>): Coro<T> {
  return yield* runOrFail(new CancelScope({ deadline: numberArg(when, "failAt(): when") }), body);
}

/** The options of `shielded`. */
export interface ShieldedOptions {
  /** Loop time at which the shielded block is cancelled all the same (the block then ends with `undefined`). */
  deadline: number | null;
}

/**
 * Runs `body` shielded from cancellation made outside it (Trio's
 * `CancelScope(shield=True)`): `task.cancel()`, an enclosing scope's or
 * `timeout`'s deadline, a failing `TaskGroup` and Ctrl-C are held back until
 * the body ends, then delivered at the next suspension after the block (the
 * task is still `cancelling()` meanwhile). What `finally` needs for cleanup
 * that awaits. With `{ deadline }`, the block is still cut short at that
 * deadline and then ends with `undefined`.
 *
 * @example
 * try {
 *   yield* sleep(3600); // serving the connection
 * } finally {
 *   yield* shielded(function* () {
 *     writer.write("goodbye\n");
 *     yield* writer.drain(); // completes even when the task is being cancelled
 *   });
 * }
 */
export function shielded<T>(body: () => Awaitable<T>): Coro<T>;
export function shielded<T>(body: () => Awaitable<T>, options: ShieldedOptions): Coro<T | undefined>;
export function* shielded<T>(body: () => Awaitable<T>, options?: ShieldedOptions): Coro<T | undefined> {
  return yield* new CancelScope({ deadline: options?.deadline ?? null, shield: true }).run(() => body());
}
