/**
 * `Task`: a coroutine driven by the loop (Python's `asyncio.Task`).
 *
 * A task runs its coroutine one *step* at a time: a step resumes the
 * generator and runs it to its next `yield*` suspension. What the step does
 * next depends on what the generator handed over:
 *
 * - a pending future, through `yield*`: the task waits on it and is put back
 *   in the ready queue when it is done (one iteration after it completes);
 * - the `sleep(0)` marker: the task goes straight back to the ready queue;
 * - anything else (a plain `yield` of a future, generator or promise): a
 *   `TypeError` naming the fix is thrown into the coroutine at the next step.
 *
 * Cancellation is a request counter delivered once, as in asyncio 3.11+:
 * `cancel()` cancels the future the task waits on (whose wake-up then throws
 * `CancelledError` at the `yield*`), or, when it waits on nothing, makes the
 * next step throw `CancelledError` into the coroutine.
 */
import { formatValue, inspectCustom } from "./repr.js";
import { describeValue, generatorPrototype, isCoroutine, isNativeGenerator, isThenable, type Coro } from "./coroutines.js";
import { CancelledError, RuntimeError } from "./errors.js";
import { captureAsyncScope, setRunningTaskScopeAdopter, storelessAsyncScope, storesInUse, type AsyncScope } from "./async-scope.js";
import { Context, currentContextVars, enterContext, restoreContext, type VarMap } from "./contextvars.js";
import type { EventLoop } from "./events.js";
import { getRunningLoop, getRunningLoopOrNull } from "./running-loop.js";
import { Future, takeAwaitedFuture } from "./futures.js";
import { runStep } from "./handles.js";

// The generator methods, called with .call so that a step stays monomorphic
// whichever `function*` made the coroutine (see `generatorPrototype`).
const generatorNext = generatorPrototype.next as (this: Coro<unknown>, value: unknown) => IteratorResult<Future<unknown>, unknown>;
const generatorThrow = generatorPrototype.throw as (this: Coro<unknown>, error: unknown) => IteratorResult<Future<unknown>, unknown>;

/** @internal What `sleep(0)` hands the task: "put me back in the ready queue". */
export const yieldOnceMarker: Future<unknown> = Object.freeze(Object.create(null)) as Future<unknown>;

// The abort reasons of task signals whose cancellation is over (`uncancel()`
// brought `cancelling()` back to 0 after the signal was aborted). A promise
// rejecting with one was handed a stale signal, not cancelled now.
const spentSignalReasons = new WeakSet<object>();

/**
 * @internal Whether `reason` is the abort reason of a task signal whose
 * cancellation is over: a signal read before a caught timeout and reused.
 */
export function isSpentSignalReason(reason: unknown): boolean {
  return typeof reason === "object" && reason !== null && spentSignalReasons.has(reason);
}

/**
 * @internal What a task sends into its coroutine on every resumption. The
 * iterator `yield*` is suspended in receives it; every awaitable of ours
 * ignores it but `sleep(0)`'s shared, stateless iterator, which tells by it
 * its resumption (done) from its start (yield the marker).
 */
export const resumeToken: unknown = Object.freeze(Object.create(null));

// The task whose step is on the call stack (Python's `_current_tasks[loop]`).
let runningTask: Task<unknown> | null = null;
let taskCounter = 0;

// Pending tasks in debug mode: reported if collected before they finish
// (Python's "Task was destroyed but it is pending!").
const pendingTasks = new FinalizationRegistry<{ loop: EventLoop; name: string; sourceTraceback: string | undefined }>((held) => {
  const context = {
    message: "Task was destroyed but it is pending!",
    taskName: held.name,
    ...(held.sourceTraceback !== undefined ? { sourceTraceback: held.sourceTraceback } : {}),
  };
  if (held.loop.isClosed()) held.loop.defaultExceptionHandler(context);
  else held.loop.callExceptionHandler(context);
});

// Coroutines already driven by a task (debug mode): a second task must not
// take one over (asyncio: "coroutine is being awaited already").
const drivenCoroutines = new WeakSet<object>();

/** @internal Coroutine objects that keep no state, so any number of tasks may drive each (`sleep(0)`'s shared one). */
export const statelessCoroutines = new WeakSet<object>();

interface TaskExtras {
  name: string | undefined;
  // Set when a cancellation must be thrown in at the next step.
  mustCancel: boolean;
  // `cancel()` calls not withdrawn by `uncancel()`.
  cancelRequests: number;
  cancelMessage: unknown;
  // An error to throw into the coroutine at the next step (a bad yield).
  pendingThrow: unknown;
  abortController: AbortController | null;
  sourceTraceback: string | undefined;
  // Debug mode: held weakly by the loop and registered for the destroyed-while-pending report.
  weaklyTracked: boolean;
  // The context given with `createTask(coro, { context })`: steps run in it instead of the task's own copy.
  boundContext: Context | null;
  // AsyncLocalStorage stores current at creation (only once a store is in use in the process).
  asyncScope: AsyncScope | null;
  // A coroutine object that is not a native generator, as given (the task drives a generator delegating to it).
  foreignCoro: Coro<unknown> | null;
  // The cancel scopes entered by the coroutine, outermost first (cancel-scopes.ts pushes and pops them).
  // Invariant: a frame is on this stack exactly while the scope's body runs in this task.
  cancelScopes: CancelScopeFrame[] | null;
  // Where the undelivered `mustCancel` came from: the scope depth (0: from outside every scope).
  mustCancelDepth: number;
  // Cancellation requests a shielding scope holds back, each with the depth it came from.
  // Invariant: every entry is counted in `cancelRequests` and blocked by a shield at or inside its depth.
  heldCancels: HeldCancel[] | null;
}

/**
 * Internal (not exported by the package): a cancel scope as the task sees it,
 * a frame of its scope stack that may shield what is inside it from
 * cancellations made outside it.
 */
export interface CancelScopeFrame {
  readonly shield: boolean;
}

// A cancellation request waiting for the shield that holds it back to end.
interface HeldCancel {
  depth: number;
  message: unknown;
}

// Whether a cancellation made at `depth` (0: outside every scope; N: by the
// Nth scope, for its own body) is held back: some scope strictly inside it shields.
function shieldedFrom(scopes: readonly CancelScopeFrame[], depth: number): boolean {
  for (let i = depth; i < scopes.length; i++) if (scopes[i]!.shield) return true;
  return false;
}

/** Options of `createTask` (Python's `create_task` keywords). */
export interface TaskOptions {
  /** The task's name (default `Task-N`). */
  name?: string;
  /** Run the task in this context itself rather than a copy of the current one (its `set`s land there). */
  context?: Context;
  /** Run the first step inside `createTask` (Python 3.14's `eager_start`). */
  eagerStart?: boolean;
}

/**
 * A task factory (Python's `loop.set_task_factory`): makes the task for
 * `loop.createTask(coro, options)`; it should return `new Task(coro, { ...options, loop })`
 * or a subclass's instance.
 */
export type TaskFactory = <T>(loop: EventLoop, coro: Coro<T>, options?: TaskOptions) => Task<T>;

/**
 * A coroutine scheduled on the loop. A Task is a Future of the coroutine's
 * result; `cancel()` throws `CancelledError` into the coroutine at its
 * current `yield*`.
 */
export class Task<T> extends Future<T> {
  // The coroutine lives in the future's `outcome` while the task is pending
  // (invariant: exactly then it holds the native generator the task steps),
  // and the outcome replaces it when the task finishes. PERF: no field of its
  // own, and a finished task drops its generator (and the generator its
  // frame), which halved what a held finished task costs and the GC time of
  // eager spawns (bench rows "heap per finished task" and "eager tasks";
  // docs/decisions.md, "A finished task drops its coroutine" and "A task
  // keeps its coroutine in its outcome").
  private readonly id: number;
  /**
   * @internal The task's own context (a copy of its creator's, made at
   * creation; unused when the task runs in a `boundContext`).
   */
  contextVars: VarMap;
  // Invariant: non-null from the step that suspended on a pending future (the
  // task then among its waiters) until the next step starts; the future may
  // be done meanwhile, and the task is then in the ready queue, woken by it.
  // `cancel()` relies on this: cancelling a future already done fails, and
  // the cancellation is then thrown in at that next step instead.
  private futureWaitedOn: Future<unknown> | null = null;
  // Fields most tasks never use, allocated on first need (keeps a task small:
  // every cancellation-related field lives there).
  private extras: TaskExtras | null = null;

  /** Use `createTask()` or `loop.createTask()`. */
  constructor(coro: Coro<T>, options?: TaskOptions & { loop?: EventLoop }) {
    const loop = options?.loop ?? getRunningLoop();
    super(loop);
    // PERF: only the common path is written here; the rest is in methods of
    // its own, which keeps the constructor under V8's inlining limit (460
    // bytes of bytecode) so that `createTask` inlines it (bench rows "spawn"
    // and "eager tasks"; docs/decisions.md, "The task constructor is small
    // enough to inline").
    // Invariant: `coro` is a native generator, stepped through %GeneratorPrototype%'s
    // methods; any other coroutine object is driven through a generator delegating to it.
    // PERF: one prototype check on the common path (bench row "spawn"; docs/decisions.md, "The spawn path").
    if (typeof coro === "object" && coro !== null && isNativeGenerator(coro)) this.outcome = coro;
    else this.driveForeign(coro);
    this.id = ++taskCounter;
    this.contextVars = currentContextVars();
    if (options !== undefined && (options.name !== undefined || options.context !== undefined)) this.applyOptions(options);
    const asyncScope = captureAsyncScope();
    if (asyncScope !== null) this.getExtras().asyncScope = asyncScope;
    if (loop.getDebug()) this.trackInDebugMode(loop, coro);
    else loop.liveTasks.add(this as Task<unknown>);
    if (options?.eagerStart === true && loop.isRunning()) {
      // Eager start (Python 3.12's eager_task_factory, 3.14's eager_start): the
      // first step runs now, as the current task; a coroutine that finishes
      // without suspending never touches the ready queue.
      if (loop.instrument !== null) loop.instrument.taskCreated(this as Task<unknown>);
      this[runStep]();
      return;
    }
    loop.pushReady(this);
    if (loop.instrument !== null) loop.instrument.taskCreated(this as Task<unknown>);
  }

  // A coroutine object that is not a native generator: driven through one delegating to it.
  private driveForeign(coro: Coro<T>): void {
    if (!isCoroutine(coro)) throw new TypeError(coroutineExpected("createTask()", coro));
    this.outcome = delegateTo(coro);
    this.getExtras().foreignCoro = coro;
  }

  // `createTask`'s name and context options.
  private applyOptions(options: TaskOptions): void {
    if (options.name !== undefined) this.getExtras().name = String(options.name);
    if (options.context !== undefined) {
      if (!(options.context instanceof Context)) throw new TypeError("createTask(): context must be a Context (from copyContext())");
      this.getExtras().boundContext = options.context;
    }
  }

  // Debug mode: one task per coroutine, where the task was made, and a weak
  // hold so that losing the last reference to a pending task is seen and reported.
  private trackInDebugMode(loop: EventLoop, coro: Coro<T>): void {
    // Debug mode only: a WeakSet lookup per task is measurable on the spawn path.
    if (drivenCoroutines.has(coro) && !statelessCoroutines.has(coro)) {
      throw new RuntimeError("this coroutine is already driven by a task; await that task instead of the coroutine");
    }
    drivenCoroutines.add(coro);
    const extras = this.getExtras();
    extras.sourceTraceback = new Error("task created here").stack;
    loop.liveTasks.addWeak(this as Task<unknown>);
    extras.weaklyTracked = true;
    pendingTasks.register(this, { loop, name: this.getName(), sourceTraceback: extras.sourceTraceback }, this);
  }

  /** @internal Stack where the task was created (debug mode only). */
  get sourceTraceback(): string | undefined {
    return this.extras?.sourceTraceback;
  }

  private getExtras(): TaskExtras {
    return (this.extras ??= {
      name: undefined,
      mustCancel: false,
      cancelRequests: 0,
      cancelMessage: undefined,
      pendingThrow: undefined,
      abortController: null,
      sourceTraceback: undefined,
      weaklyTracked: false,
      boundContext: null,
      asyncScope: null,
      foreignCoro: null,
      cancelScopes: null,
      mustCancelDepth: 0,
      heldCancels: null,
    });
  }

  /** @internal The task's number (the N of `Task-N`), stable for its life. */
  get taskId(): number {
    return this.id;
  }

  /** The task's name: the one given, or `Task-N`. */
  getName(): string {
    return this.extras?.name ?? `Task-${this.id}`;
  }

  /** Renames the task (non-strings are converted with `String`). */
  setName(name: unknown): void {
    this.getExtras().name = String(name);
  }

  /**
   * The coroutine this task drives, or `null` once the task is done (the
   * task lets go of it when it finishes; Python returns `None` only for a
   * task that completed eagerly).
   */
  getCoro(): Coro<T> | null {
    if (this.state !== "pending") return null;
    return (this.extras?.foreignCoro as Coro<T> | null | undefined) ?? (this.outcome as Coro<T>);
  }

  /** Tasks end by their coroutine returning; `RuntimeError`. */
  override setResult(_value: T): never {
    throw new RuntimeError("Task does not support setResult operation");
  }

  /** Tasks end by their coroutine throwing; `RuntimeError`. */
  override setException(_error: unknown): never {
    throw new RuntimeError("Task does not support setException operation");
  }

  /**
   * Requests cancellation: throws `CancelledError(msg)` into the coroutine at
   * its current `yield*` (cancelling the future it waits on first). Returns
   * `false` if the task is done. Every call counts in `cancelling()`. Inside a
   * shielded cancel scope the request is held back until the shield ends.
   */
  override cancel(message?: unknown): boolean {
    return this.cancelFromDepth(0, message);
  }

  /**
   * @internal A cancellation made at `depth` of the task's scope stack: 0 is
   * outside every scope (`cancel()`), N is the Nth scope cancelling its own
   * body. A shield strictly inside that depth holds it back.
   */
  cancelFromDepth(depth: number, message?: unknown): boolean {
    if (this.state !== "pending") {
      this.markRetrieved();
      return false;
    }
    const extras = this.getExtras();
    extras.cancelRequests++;
    if (extras.cancelScopes !== null && shieldedFrom(extras.cancelScopes, depth)) {
      (extras.heldCancels ??= []).push({ depth, message });
      return true;
    }
    this.deliverCancel(extras, depth, message);
    return true;
  }

  private deliverCancel(extras: TaskExtras, depth: number, message: unknown): void {
    const controller = extras.abortController;
    if (controller !== null && !controller.signal.aborted) controller.abort(new CancelledError(message));
    const waitedOn = this.futureWaitedOn;
    if (waitedOn !== null && waitedOn.cancel(message)) {
      // The wake-up delivers the CancelledError at the `yield*`.
      return;
    }
    extras.mustCancel = true;
    extras.cancelMessage = message;
    extras.mustCancelDepth = depth;
  }

  /** @internal The number of cancel scopes the coroutine is inside. */
  cancelScopeDepth(): number {
    return this.extras?.cancelScopes?.length ?? 0;
  }

  /** @internal A cancel scope's body starts in this task; returns the depth its own cancellations come from. */
  pushCancelScope(frame: CancelScopeFrame): number {
    const scopes = (this.getExtras().cancelScopes ??= []);
    scopes.push(frame);
    if (frame.shield) this.reviewShields();
    return scopes.length;
  }

  /** @internal A cancel scope's body ended; held cancellations it no longer blocks are delivered. */
  popCancelScope(frame: CancelScopeFrame): void {
    const scopes = this.extras?.cancelScopes;
    if (scopes == null || scopes[scopes.length - 1] !== frame) {
      throw new RuntimeError("cancel scope misnesting: a scope ended while another one entered after it was still open");
    }
    scopes.pop();
    const extras = this.extras!;
    // Its own cancellation, requested but never delivered (the body ended without suspending), ends with it.
    if (extras.mustCancel && extras.mustCancelDepth > scopes.length) extras.mustCancel = false;
    this.reviewShields();
  }

  /** @internal The cancellation requests that reached the coroutine or will at its next suspension (not those a shield holds). */
  deliveredCancelling(): number {
    const extras = this.extras;
    if (extras === null) return 0;
    return extras.cancelRequests - (extras.heldCancels?.length ?? 0);
  }

  /**
   * @internal Re-reads the shields of the scope stack (one was entered, left
   * or changed): a cancellation not yet delivered that a shield now blocks is
   * held back, and held ones that nothing blocks any more are delivered (once).
   */
  reviewShields(): void {
    const extras = this.extras;
    if (extras === null || this.state !== "pending") return;
    const scopes = extras.cancelScopes ?? [];
    if (extras.mustCancel && shieldedFrom(scopes, extras.mustCancelDepth)) {
      extras.mustCancel = false;
      (extras.heldCancels ??= []).push({ depth: extras.mustCancelDepth, message: extras.cancelMessage });
    }
    const held = extras.heldCancels;
    if (held === null) return;
    let released: HeldCancel | null = null;
    const stillHeld = held.filter((entry) => {
      // A scope that ended took its own held request with it (it withdraws it with uncancel()).
      if (entry.depth > scopes.length) return false;
      if (shieldedFrom(scopes, entry.depth)) return true;
      released ??= entry;
      return false;
    });
    extras.heldCancels = stillHeld.length > 0 ? stillHeld : null;
    if (released !== null) {
      const { depth, message } = released as HeldCancel;
      this.deliverCancel(extras, depth, message);
    }
  }

  /** How many cancellation requests are pending (`cancel()` calls not yet `uncancel()`ed). */
  cancelling(): number {
    return this.extras?.cancelRequests ?? 0;
  }

  /**
   * Withdraws one cancellation request; returns the remaining count. At zero
   * an undelivered cancellation is dropped (asyncio 3.13).
   */
  uncancel(): number {
    const extras = this.extras;
    if (extras === null) return 0;
    if (extras.cancelRequests > 0) {
      extras.cancelRequests--;
      if (extras.cancelRequests === 0) {
        extras.mustCancel = false;
        extras.heldCancels = null;
        // The cancelled operation is over: its signal stays aborted for whoever
        // holds it, and the next read of `signal` makes a fresh one.
        const signal = extras.abortController?.signal;
        if (signal?.aborted === true) {
          if (typeof signal.reason === "object" && signal.reason !== null) spentSignalReasons.add(signal.reason as object);
          extras.abortController = null;
        }
      }
    }
    return extras.cancelRequests;
  }

  /**
   * An `AbortSignal` for the task's current cancellation state: aborted when
   * the task is cancelled (or ends cancelled); pass it to `fetch` and other
   * signal-aware APIs. Once `uncancel()` brings `cancelling()` back to 0 (a
   * caught timeout does), the next read gives a fresh, unaborted signal; one
   * handed out before stays aborted, and a promise that rejects with its
   * reason fails `fromPromise` with a `RuntimeError` saying so. Read it
   * inside the block you retry, or prefer `fromPromise((signal) => …)`,
   * whose signal belongs to the one operation. Made on first access.
   */
  get signal(): AbortSignal {
    const extras = this.getExtras();
    if (extras.abortController === null) {
      extras.abortController = new AbortController();
      // Requests a shield holds back do not abort it: the shielded work may pass the signal on.
      const delivered = extras.cancelRequests - (extras.heldCancels?.length ?? 0);
      if (delivered > 0 || this.state === "cancelled") extras.abortController.abort(this.makeCancelledError());
    }
    return extras.abortController.signal;
  }

  // ------------------------------------------------------------ stepping

  /** @internal Whether the task's steps run in an `AsyncResource` of their own. */
  hasAsyncScope(): boolean {
    return this.extras?.asyncScope != null;
  }

  /** @internal Gives the task a store-less `AsyncResource` to step in (it had none). */
  adoptAsyncScope(): AsyncScope {
    return (this.getExtras().asyncScope = storelessAsyncScope());
  }

  /** @internal What the task is suspended on: a pending future, or `null` (ready, running or done). */
  getWaitingOn(): Future<unknown> | null {
    return this.futureWaitedOn;
  }

  /** @internal Runs the coroutine to its next suspension, telling the loop's instrument if one is installed. */
  [runStep](): void {
    if (this.state !== "pending") return;
    const instrument = this.loop.instrument;
    // A task created before any store was in use gets a store-less resource of its own, once.
    const asyncScope = this.extras?.asyncScope ?? (storesInUse ? this.adoptAsyncScope() : null);
    if (instrument === null) {
      if (asyncScope === null) this.step();
      else asyncScope.runInAsyncScope(this.step, this);
      return;
    }
    instrument.stepStarted(this as Task<unknown>);
    try {
      if (asyncScope === null) this.step();
      else asyncScope.runInAsyncScope(this.step, this);
    } finally {
      instrument.stepEnded(this as Task<unknown>);
      if (this.state !== "pending") instrument.taskDone(this as Task<unknown>);
    }
  }

  private step(): void {
    const coro = this.outcome as Coro<T>;
    this.futureWaitedOn = null;
    const previousTask = runningTask;
    runningTask = this as Task<unknown>;
    const extras = this.extras;
    const previousContext = enterContext(extras === null || extras.boundContext === null ? this : extras.boundContext);
    let step: IteratorResult<Future<unknown>, T>;
    try {
      if (extras === null || (!extras.mustCancel && extras.pendingThrow === undefined)) {
        step = generatorNext.call(coro, resumeToken) as IteratorResult<Future<unknown>, T>;
      } else {
        let error: unknown;
        if (extras.mustCancel) {
          extras.mustCancel = false;
          error = new CancelledError(extras.cancelMessage);
        } else {
          error = extras.pendingThrow;
          extras.pendingThrow = undefined;
        }
        step = generatorThrow.call(coro, error) as IteratorResult<Future<unknown>, T>;
      }
    } catch (error) {
      runningTask = previousTask;
      restoreContext(previousContext);
      takeAwaitedFuture();
      if (error instanceof CancelledError) this.finishCancelled(error);
      else this.finishWithException(error);
      return;
    }
    runningTask = previousTask;
    restoreContext(previousContext);
    if (step.done === true) {
      const extras = this.extras;
      if (extras !== null && extras.mustCancel) {
        // Cancelled during its last step: the result is discarded (asyncio's test_cancel_at_end).
        extras.mustCancel = false;
        this.finishCancelled(new CancelledError(extras.cancelMessage));
      } else {
        this.finishWithResult(step.value);
      }
      return;
    }
    const yielded = step.value;
    if (yielded === takeAwaitedFuture() && yielded !== null) {
      this.waitOn(yielded);
    } else if (yielded === yieldOnceMarker) {
      this.loop.pushReady(this);
    } else {
      this.throwAtNextStep(new TypeError(badYieldMessage(yielded)));
    }
  }

  private waitOn(future: Future<unknown>): void {
    if (future.loop !== this.loop) {
      this.throwAtNextStep(new RuntimeError(`Task ${this.getName()} got a Future attached to a different loop`));
      return;
    }
    if (future === this) {
      this.throwAtNextStep(new RuntimeError("Task cannot await on itself"));
      return;
    }
    if (future.state !== "pending") {
      // Completed in between (a custom awaitable did so): resume next iteration.
      this.loop.pushReady(this);
      return;
    }
    future.addWaiter(this);
    this.futureWaitedOn = future;
    const extras = this.extras;
    if (extras !== null && extras.mustCancel && future.cancel(extras.cancelMessage)) extras.mustCancel = false;
  }

  private throwAtNextStep(error: unknown): void {
    this.getExtras().pendingThrow = error;
    this.loop.pushReady(this);
  }

  // The task is about to settle. getCoro() is null from here on: the
  // generator (replaced in `outcome` as the task settles) and a foreign
  // coroutine it delegated to can be collected. Debug mode stops watching
  // for the task's loss while pending.
  private letGo(): void {
    const extras = this.extras;
    if (extras === null) return;
    extras.foreignCoro = null;
    if (extras.weaklyTracked) pendingTasks.unregister(this);
  }

  private finishWithResult(value: T): void {
    this.letGo();
    const extras = this.extras;
    if (extras !== null && extras.cancelRequests > 0 && this.loop.getDebug()) {
      // asyncio lacks this check: a cancellation swallowed without uncancel() usually hides a bug.
      this.loop.callExceptionHandler({
        message: `Task ${JSON.stringify(this.getName())} was cancelled but finished normally: it swallowed its CancelledError without calling uncancel()`,
        task: this as Task<unknown>,
        ...(extras.sourceTraceback !== undefined ? { sourceTraceback: extras.sourceTraceback } : {}),
      });
    }
    this.settleResult(value);
    this.loop.liveTasks.finished(this as Task<unknown>);
  }

  private finishWithException(error: unknown): void {
    this.letGo();
    this.settleException(error, this.sourceTraceback);
    this.loop.liveTasks.finished(this as Task<unknown>);
  }

  private finishCancelled(error: CancelledError): void {
    this.letGo();
    const controller = this.extras?.abortController;
    if (controller != null && !controller.signal.aborted) controller.abort(error);
    this.settleCancelled(error);
    this.loop.liveTasks.finished(this as Task<unknown>);
  }

  /**
   * @internal Throws if one of the task's invariants is broken (the loop's
   * `checkInvariants` calls it for each live task). `timesReady`: how often
   * the task sits in the ready queue, or `null` when unknown (a step runs).
   */
  checkInvariants(timesReady: number | null): void {
    const fail = (what: string): never => {
      throw new RuntimeError(`broken task invariant: ${this.getName()} ${what}`);
    };
    const waitedOn = this.futureWaitedOn;
    const suspended = waitedOn !== null && waitedOn.state === "pending";
    if (waitedOn !== null && this.state !== "pending") fail("is done but still waits on a future");
    if (suspended && !waitedOn.getWaiters().includes(this)) fail("waits on a pending future that will not wake it");
    const extras = this.extras;
    if (extras !== null) {
      if (extras.mustCancel && extras.cancelRequests === 0) fail("must throw a cancellation nobody requested");
      if ((extras.heldCancels?.length ?? 0) > extras.cancelRequests) fail("holds back more cancellations than were requested");
    }
    if (timesReady === null || this.state !== "pending") return;
    if (timesReady > 1) fail(`is in the ready queue ${timesReady} times`);
    if (timesReady === 1 && suspended) fail("is ready and suspended on a pending future at once");
    if (timesReady === 0 && !suspended) fail("is neither ready nor suspended on a pending future: nothing will run it again");
  }

  protected override reportName(): string {
    return this.getName();
  }

  override [inspectCustom](): string {
    // As Python's repr: "cancelling" from cancel() until the task is done, and the future it waits on.
    let state = this.describeState();
    if (!this.done() && this.cancelling() > 0) state = state.replace(/^pending/, "cancelling");
    const waitFor = this.futureWaitedOn === null ? "" : ` wait_for=${formatValue(this.futureWaitedOn)}`;
    return `<Task ${state} name=${JSON.stringify(this.getName())}${waitFor}>`;
  }
}

// A native generator driving any other coroutine object (`yield*` forwards next, throw and return).
function* delegateTo<T>(coro: Coro<T>): Coro<T> {
  return yield* coro;
}

function coroutineExpected(where: string, value: unknown): string {
  if (typeof value === "function") {
    return `${where} takes a coroutine (a generator object), got ${describeValue(value)}: call it first, e.g. ${where.replace("()", "")}(${value.name || "f"}())`;
  }
  if (value instanceof Future) return `${where} takes a coroutine, got a ${value.constructor.name}: await it with yield* instead`;
  if (isThenable(value)) return `${where} takes a coroutine, got a promise: wrap it with fromPromise(promise)`;
  return `a coroutine was expected, got ${describeValue(value)}`;
}

function badYieldMessage(value: unknown): string {
  if (value === undefined) return "a coroutine yielded undefined (a bare `yield`): use `yield* sleep(0)` to give other tasks a turn";
  if (isCoroutine(value)) return "a coroutine yielded a generator with plain `yield`: use `yield* coro` to run it";
  if (value instanceof Future) return `a coroutine yielded a ${value.constructor.name} with plain \`yield\`: use \`yield* future\` to wait for it`;
  if (isThenable(value)) return "a coroutine yielded a promise: use `yield* fromPromise(promise)` to wait for it";
  return `Task got bad yield: ${describeValue(value)}`;
}

// Reused by the factories: the constructor reads every field before it runs a
// step (so a task created during an eager first step cannot disturb it) and
// keeps none (no options object allocated per task on the spawn path).
// PERF: shared and mutable on purpose (bench row "spawn + await 100k";
// docs/decisions.md, "The spawn path").
const factoryOptions: TaskOptions & { loop?: EventLoop } = {};

/** @internal Makes a task for `loop.createTask`; `eagerByDefault` for `eagerTaskFactory`. */
export function makeTask<T>(loop: EventLoop, coro: Coro<T>, options: TaskOptions | undefined, eagerByDefault: boolean): Task<T> {
  factoryOptions.loop = loop;
  // PERF: the options a caller passes are read in a function of their own.
  // Read here, the optimized factory checked their map, and the literals
  // `run()` passes got a new map after each full GC (no instance kept it), so
  // the whole spawn path deoptimized once per run (`--trace-deopt`: "wrong
  // map" in makeTask). Bench row "eager tasks" (docs/decisions.md, "No
  // deoptimization per run").
  if (options === undefined) {
    factoryOptions.name = undefined;
    factoryOptions.context = undefined;
    factoryOptions.eagerStart = eagerByDefault;
  } else {
    copyOptions(options, eagerByDefault);
  }
  return new Task(coro, factoryOptions);
}

// `makeTask` with options given.
function copyOptions(options: TaskOptions, eagerByDefault: boolean): void {
  factoryOptions.name = options.name;
  factoryOptions.context = options.context;
  factoryOptions.eagerStart = options.eagerStart ?? eagerByDefault;
}

// The first enterWith of the process may come from a step of a task that has no
// resource yet: async-scope.ts gives it one, so its later steps keep the store.
setRunningTaskScopeAdopter(() => {
  const task = runningTask;
  if (task === null || task.hasAsyncScope()) return null;
  return task.adoptAsyncScope();
});

/**
 * A task factory whose tasks start eagerly (Python 3.12's
 * `asyncio.eager_task_factory`): `loop.setTaskFactory(eagerTaskFactory)`
 * makes every `createTask` run the coroutine's first step at once, so a
 * coroutine that finishes without suspending returns an already-done task
 * and is never scheduled. Done callbacks still run through the loop.
 */
export const eagerTaskFactory: TaskFactory = (loop, coro, options) => makeTask(loop, coro, options, true);

/**
 * Schedules `coro` as a task on the running loop; it starts at the next
 * iteration. Keep the task if you need its result.
 *
 * @example
 * const task = createTask(fetchData("url1"), { name: "fetch-1" });
 * const data = yield* task;
 */
export function createTask<T>(coro: Coro<T>, options?: TaskOptions): Task<T> {
  return getRunningLoop().createTask(coro, options);
}

/** The task whose step is running, or `null` in a plain callback; `RuntimeError` outside a running loop. */
export function currentTask(): Task<unknown> | null {
  if (runningTask !== null) return runningTask;
  getRunningLoop();
  return null;
}

/** The running loop's tasks that are not done yet. */
export function allTasks(loop?: EventLoop): Set<Task<unknown>> {
  const target = loop ?? getRunningLoopOrNull();
  if (target === null) throw new RuntimeError("no running event loop");
  return new Set(target.liveTasks);
}
