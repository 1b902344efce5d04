/**
 * `Future`: the eventual result of an operation (Python's `asyncio.Future`).
 *
 * A future starts pending and ends exactly once: finished with a result,
 * finished with an exception, or cancelled. Done-callbacks always run through
 * the loop's ready queue, never synchronously. `yield* future` suspends the
 * calling task until the future is done, then returns its result or throws
 * its exception; `await future` does the same from native async code.
 */
import { formatValue, inspectCustom } from "./repr.js";
import { CancelledError, InvalidStateError } from "./errors.js";
import { ChildWatcher, runStep, type Runnable } from "./handles.js";
import type { EventLoop, ExceptionContext } from "./events.js";
import type { Task } from "./tasks.js";
import { getRunningLoop } from "./running-loop.js";

/** The three states of a future. */
export type FutureState = "pending" | "finished" | "cancelled";

/** A done-callback: receives the future once it is done. */
export type DoneCallback<T> = (future: Future<T>) => void;
type StoredCallback = (future: never) => void;

// The await protocol. `yield* future` calls the awaiter's `next()`, which
// records the future here just before handing it to the task driving the
// generator; the task takes it back in the same synchronous step. A future
// that reaches the task without passing through here was yielded with a
// plain `yield`, which is a mistake the task reports. PERF: a module-level
// side channel rather than a wrapper object per suspension (bench rows
// "sleep(0) switches" and "spawn"; docs/decisions.md, "Coroutines are
// generators; the await protocol is checked, not trusted").
let awaitedFuture: Future<unknown> | null = null;

/** @internal The future the last `yield*` suspended on (cleared by reading). */
export function takeAwaitedFuture(): Future<unknown> | null {
  const future = awaitedFuture;
  awaitedFuture = null;
  return future;
}

/** @internal Lets other awaitables (sleep) follow the same protocol. */
export function markAwaited(future: Future<unknown>): void {
  awaitedFuture = future;
}

/**
 * A native `await` of a future (`then`): a ready-queue item that resolves the
 * promise `then` returned with the future's outcome. Kept among the future's
 * waiters while it is pending, so the closed-loop rule can tell it apart.
 */
class NativeAwaiter<T> implements Runnable {
  constructor(
    private readonly future: Future<T>,
    private readonly resolve: (value: T) => void,
    private readonly reject: (reason: unknown) => void,
  ) {}

  [runStep](): void {
    try {
      this.resolve(this.future.result());
    } catch (error) {
      this.reject(error);
    }
  }
}

// "exception was never retrieved": a future that fails and whose exception
// nobody reads is reported once, by whichever comes first: its collection
// (Python logs it from `__del__`), or its loop's close (`reportUnretrieved`),
// so a lost error shows even when no garbage collection happens. Only failing
// futures pay for this: their outcome is a `Failure` holding the exception
// (plus a WeakRef, a registry entry and a set entry); retrieving the
// exception removes all but the Failure. PERF: the outcome carries the
// failure, so a future needs no flags field (bench row "heap per finished
// task its caller still holds"; docs/decisions.md, "A future is its own
// awaiter, and a failure is its outcome").
class Failure {
  // Invariant: set once the report was made or the exception read; the
  // report is never made after that (it is made at most once).
  retrieved = false;

  constructor(
    readonly loop: EventLoop,
    readonly exception: unknown,
    readonly kind: "Task" | "Future",
    readonly name: string | undefined,
    readonly sourceTraceback: string | undefined,
    // Weak: the registry must not keep the future it watches alive.
    readonly future: WeakRef<Future<unknown>>,
  ) {}
}

// Invariant: a failure is in its loop's set exactly while it is not retrieved.
const unreportedByLoop = new WeakMap<EventLoop, Set<Failure>>();

function unretrievedContext(report: Failure, future: Future<unknown> | undefined): ExceptionContext {
  const context: ExceptionContext = { message: `${report.kind} exception was never retrieved`, exception: report.exception };
  if (future !== undefined) {
    // Only tasks have a report name, so a "Task" report's future is one.
    if (report.kind === "Task") context.task = future as Task<unknown>;
    else context.future = future;
  } else if (report.name !== undefined) context["taskName"] = report.name;
  if (report.sourceTraceback !== undefined) context.sourceTraceback = report.sourceTraceback;
  return context;
}

const unretrievedRegistry = new FinalizationRegistry<Failure>((report) => {
  if (report.retrieved) return;
  report.retrieved = true;
  unreportedByLoop.get(report.loop)?.delete(report);
  const context = unretrievedContext(report, undefined);
  // A closed loop has no handler to run; stderr is all that is left.
  if (report.loop.isClosed()) report.loop.defaultExceptionHandler(context);
  else report.loop.callExceptionHandler(context);
});

/**
 * @internal Reports every failed future of `loop` whose exception nobody
 * read ("Task exception was never retrieved", context `{ message, exception,
 * task }`; "Future exception ..." with `future`) through the loop's
 * exception handler; the loop calls it as it closes.
 */
export function reportUnretrieved(loop: EventLoop): void {
  // A handler may fail more futures of this loop: those are reported too.
  for (let reports = unreportedByLoop.get(loop); reports !== undefined; reports = unreportedByLoop.get(loop)) {
    unreportedByLoop.delete(loop);
    for (const report of reports) {
      const future = report.future.deref();
      // Read now: the report is made, no second one at collection.
      if (future !== undefined) future.markRetrieved();
      else report.retrieved = true;
      loop.callExceptionHandler(unretrievedContext(report, future));
    }
  }
}

/**
 * The closed-loop rule: a future settled after its loop closed keeps its
 * outcome, but a closed loop never runs again, so what waits on the future
 * through the loop (tasks, done-callbacks) is dropped, and native `await`s
 * (`then`) are resolved at once: a promise needs no loop.
 */
function settledAfterClose(callbacks: StoredCallback | Runnable | Array<StoredCallback | Runnable>): void {
  const entries = Array.isArray(callbacks) ? callbacks : [callbacks];
  for (const entry of entries) if (entry instanceof NativeAwaiter) entry[runStep]();
}

/**
 * The eventual result of an operation. `Future` is `PromiseLike`: native
 * `async` code can `await` it.
 *
 * @example
 * const loop = getRunningLoop();
 * const fut = loop.createFuture<number>();
 * loop.callLater(1, () => fut.setResult(42));
 * const answer = yield* fut; // 42, one second later
 */
export class Future<T> implements PromiseLike<T> {
  /** @internal */ state: FutureState = "pending";
  /** @internal */ readonly loop: EventLoop;
  // The result ("finished"), a `Failure` holding the exception ("finished"
  // with an exception), or the CancelledError ("cancelled"); undefined while
  // pending (or what a subclass parks there). A Failure never escapes this
  // module, so no result is one.
  /** @internal Subclasses may park a value here while pending (`sleep` keeps its result). */
  protected outcome: unknown = undefined;
  // Invariant: null once done. One entry is stored bare (the common case:
  // one task awaits the future), several in an array. Functions are user
  // callbacks; Runnables are tasks waiting and native awaiters (`then`),
  // both scheduled without a Handle.
  // Stored without T so that Future<T> stays assignable to Future<unknown>.
  private callbacks: StoredCallback | Runnable | Array<StoredCallback | Runnable> | null = null;

  /** A pending future on `loop` (the running loop when omitted). */
  constructor(loop?: EventLoop) {
    this.loop = loop ?? getRunningLoop();
  }

  /** Whether the future has a result, an exception, or was cancelled. */
  done(): boolean {
    return this.state !== "pending";
  }

  /** Whether the future was cancelled. */
  cancelled(): boolean {
    return this.state === "cancelled";
  }

  /**
   * The result. Throws `InvalidStateError` while pending, `CancelledError` if
   * cancelled, and the exception itself (the same object) if one was set.
   */
  result(): T {
    if (this.state === "finished") {
      const outcome = this.outcome;
      if (!(outcome instanceof Failure)) return outcome as T;
      this.markRetrieved();
      throw outcome.exception;
    }
    if (this.state === "cancelled") throw this.makeCancelledError();
    throw new InvalidStateError("Result is not ready.");
  }

  /**
   * The exception, or `null` if the future finished with a result. Throws
   * `InvalidStateError` while pending and `CancelledError` if cancelled.
   */
  exception(): Error | null {
    if (this.state === "finished") {
      const outcome = this.outcome;
      if (!(outcome instanceof Failure)) return null;
      this.markRetrieved();
      return outcome.exception as Error;
    }
    if (this.state === "cancelled") throw this.makeCancelledError();
    throw new InvalidStateError("Exception is not set.");
  }

  /** Marks the future finished with `value` and schedules its callbacks; `InvalidStateError` if done. */
  setResult(value: T): void {
    if (this.state !== "pending") throw new InvalidStateError(`invalid state: ${this.state}`);
    this.settleResult(value);
  }

  /** Marks the future finished with `error` and schedules its callbacks; `InvalidStateError` if done. */
  setException(error: unknown): void {
    if (this.state !== "pending") throw new InvalidStateError(`invalid state: ${this.state}`);
    if (typeof error === "function" && error.prototype instanceof Error) {
      error = new (error as new () => Error)();
    }
    if (error === undefined) throw new TypeError("setException() needs an exception, got undefined");
    if (error instanceof CancelledError) throw new TypeError("CancelledError cannot be set as an exception: call cancel() instead");
    this.settleException(error);
  }

  /**
   * Cancels the future: if pending, it becomes cancelled and its callbacks are
   * scheduled; returns `true`. Returns `false` if it was already done.
   */
  cancel(message?: unknown): boolean {
    if (this.state !== "pending") {
      this.markRetrieved();
      return false;
    }
    this.settleCancelled(new CancelledError(message));
    return true;
  }

  /**
   * Runs `callback(future)` once the future is done, through the loop's ready
   * queue (at the next iteration if it is done already).
   */
  addDoneCallback(callback: DoneCallback<T>): void {
    if (typeof callback !== "function") throw new TypeError(`addDoneCallback() takes a function, got ${typeof callback}`);
    if (this.state !== "pending") this.loop.callSoon(callback, this);
    else this.addEntry(callback as StoredCallback);
  }

  /** Removes every registration of `callback`; returns how many there were. */
  removeDoneCallback(callback: DoneCallback<T>): number {
    const callbacks = this.callbacks;
    if (callbacks === null) return 0;
    if (!Array.isArray(callbacks)) {
      if (callbacks !== callback) return 0;
      this.callbacks = null;
      return 1;
    }
    const kept = callbacks.filter((entry) => entry !== callback);
    const removed = callbacks.length - kept.length;
    if (removed > 0) this.callbacks = kept.length === 0 ? null : kept;
    return removed;
  }

  /** The loop this future is bound to. */
  getLoop(): EventLoop {
    return this.loop;
  }

  /** `yield* future`: suspends until done, then returns the result or throws. */
  [Symbol.iterator](): Iterator<Future<unknown>, T, unknown> {
    // PERF: the future is its own iterator (no awaiter object per awaited
    // future, no field for one): `next` reads the state on every call, so it
    // serves any number of awaiters (bench rows "spawn", "gather" and "heap
    // per finished task"; docs/decisions.md, "A future is its own awaiter,
    // and a failure is its outcome").
    return this as unknown as Iterator<Future<unknown>, T, unknown>;
  }

  /**
   * @internal The iterator protocol `yield*` drives: a pending future is
   * handed to the task (through `markAwaited`'s side channel), a done one
   * returns its result or throws. No `return` method: `isCoroutine` must
   * not take a future for a coroutine, and `yield*` needs none.
   */
  next(): IteratorResult<Future<unknown>, T> {
    if (this.state === "pending") {
      markAwaited(this);
      return { value: this, done: false };
    }
    return { value: this.result(), done: true };
  }

  /** @internal `yield*` forwards a throw into the awaiting coroutine here: it goes on up. */
  throw(error: unknown): IteratorResult<Future<unknown>, T> {
    throw error;
  }

  /** Lets native `async` code `await` the future (the outcome is delivered through the loop). */
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const promise = new Promise<T>((resolve, reject) => {
      const awaiter = new NativeAwaiter(this, resolve, reject);
      if (this.state === "pending") this.addEntry(awaiter);
      // Done: through the loop while it runs; a loop that is not running
      // (never started, stopped, closed) may never run it, so at once.
      else if (this.loop.isRunning()) this.loop.pushReady(awaiter);
      else awaiter[runStep]();
    });
    return promise.then(onFulfilled, onRejected);
  }

  // ---------------------------------------------------------- internals

  /** @internal The tasks and callbacks waiting for this future (empty once done). */
  getWaiters(): readonly unknown[] {
    const callbacks = this.callbacks;
    if (callbacks === null) return [];
    return Array.isArray(callbacks) ? callbacks : [callbacks];
  }

  /** @internal A task registers itself as a waiter: woken through the ready queue, no Handle. */
  addWaiter(task: Runnable): void {
    this.addEntry(task);
  }

  private addEntry(entry: StoredCallback | Runnable): void {
    const callbacks = this.callbacks;
    if (callbacks === null) this.callbacks = entry;
    else if (Array.isArray(callbacks)) callbacks.push(entry);
    else this.callbacks = [callbacks, entry];
  }

  /** @internal */
  settleResult(value: T): void {
    this.outcome = value;
    this.state = "finished";
    this.scheduleCallbacks();
  }

  /** @internal */
  settleException(error: unknown, sourceTraceback?: string): void {
    this.state = "finished";
    // Formatting the stack now drops V8's raw call sites, which hold the
    // frames' receivers (this very task) and would keep it from ever being
    // collected while the registry holds the error.
    if (error instanceof Error) void error.stack;
    const name = this.reportName();
    const failure = new Failure(this.loop, error, name === undefined ? "Future" : "Task", name, sourceTraceback, new WeakRef<Future<unknown>>(this));
    this.outcome = failure;
    unretrievedRegistry.register(this, failure, this);
    let failures = unreportedByLoop.get(this.loop);
    if (failures === undefined) unreportedByLoop.set(this.loop, (failures = new Set()));
    failures.add(failure);
    this.scheduleCallbacks();
  }

  /** @internal `error` is kept and thrown to whoever reads the result. */
  settleCancelled(error: CancelledError): void {
    this.outcome = error;
    this.state = "cancelled";
    this.scheduleCallbacks();
  }

  /** @internal The CancelledError this future hands to readers. */
  makeCancelledError(): CancelledError {
    return this.state === "cancelled" ? (this.outcome as CancelledError) : new CancelledError();
  }

  /** @internal The name put in "exception was never retrieved" reports (tasks have one). */
  protected reportName(): string | undefined {
    return undefined;
  }

  /** @internal Whether the exception was set and nobody read it yet (the testing kit's check). */
  exceptionUnretrieved(): boolean {
    const outcome = this.outcome;
    return outcome instanceof Failure && !outcome.retrieved;
  }

  /** @internal Stops the "never retrieved" report. */
  markRetrieved(): void {
    const outcome = this.outcome;
    if (outcome instanceof Failure && !outcome.retrieved) {
      outcome.retrieved = true;
      unretrievedRegistry.unregister(this);
      unreportedByLoop.get(this.loop)?.delete(outcome);
    }
  }

  private scheduleCallbacks(): void {
    const callbacks = this.callbacks;
    if (callbacks === null) return;
    this.callbacks = null;
    if (this.loop.isClosed()) {
      settledAfterClose(callbacks);
      return;
    }
    if (!Array.isArray(callbacks)) {
      this.scheduleEntry(callbacks);
      return;
    }
    for (let i = 0; i < callbacks.length; i++) this.scheduleEntry(callbacks[i]!);
  }

  private scheduleEntry(entry: StoredCallback | Runnable): void {
    if (typeof entry === "function") this.loop.callSoon(entry as DoneCallback<T>, this);
    // PERF: a group's or gather's watcher notes the child and is queued itself: no Handle, no object per child
    // (docs/decisions.md, "Task groups and gather watch their children through a link" and "A watcher queues itself once per child").
    else if (entry instanceof ChildWatcher) this.loop.pushReady((entry as ChildWatcher<Future<T>>).childFinished(this));
    else this.loop.pushReady(entry);
  }

  /** @internal */
  protected describeState(): string {
    if (this.state === "pending") {
      const waiting = this.getWaiters().length;
      return waiting > 0 ? `pending waiters:${waiting}` : "pending";
    }
    if (this.state === "cancelled") return "cancelled";
    return this.outcome instanceof Failure
      ? `finished exception=${formatValue(this.outcome.exception, { depth: 0, breakLength: Infinity }).split("\n")[0]}`
      : `finished result=${formatValue(this.outcome, { depth: 0 })}`;
  }

  [inspectCustom](): string {
    return `<Future ${this.describeState()}>`;
  }
}
