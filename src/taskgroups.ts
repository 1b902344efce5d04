/**
 * `TaskGroup` and `taskGroup(body)`: structured concurrency (Python's
 * `async with asyncio.TaskGroup() as tg:`).
 *
 * The block does not end before every task created in the group is done.
 * The first task to fail cancels the others and the body (once, through the
 * parent task's cancellation count, which the group withdraws on exit);
 * failures are raised together as one `ExceptionGroup`; cancellations are
 * never part of it. A cancellation of the parent from outside still
 * propagates as `CancelledError` unless an error takes priority.
 */
import { formatValue, inspectCustom } from "./repr.js";
import type { Awaitable, Coro } from "./coroutines.js";
import { CancelledError, ExceptionGroup, RuntimeError } from "./errors.js";
import { type EventLoop } from "./events.js";
import { type TaskOptions } from "./tasks.js";
import { getRunningLoop } from "./running-loop.js";
import type { Future } from "./futures.js";
import { ChildWatcher } from "./handles.js";
import { LiveTaskList } from "./live-tasks.js";
import { currentTask, type Task } from "./tasks.js";

// The future a group's owner waits on at the end of its block -> the group (await graph).
const groupOfWait = new WeakMap<Future<unknown>, TaskGroup>();

/** @internal The task group whose block is waiting on `future`, if any. */
export function taskGroupWaitingOn(future: Future<unknown>): TaskGroup | undefined {
  return groupOfWait.get(future);
}

// What a group registers with each of its tasks (one per group).
class GroupWatcher extends ChildWatcher<Task<unknown>> {
  constructor(private readonly group: TaskGroup) {
    super();
  }

  childDone(task: Task<unknown>): void {
    this.group.childDone(task);
  }
}

/**
 * A group of tasks that a `taskGroup` block waits for. Made by `taskGroup`;
 * `createTask` adds a task to it.
 */
export class TaskGroup {
  private entered = false;
  private exiting = false;
  private aborting = false;
  private finished = false;
  private loop: EventLoop | null = null;
  private parentTask: Task<unknown> | null = null;
  private parentCancelRequested = false;
  // The parent's cancel-scope depth at entry: the group cancels its body from there, so a
  // shield around the group does not hold it back (one inside the body does).
  private scopeDepth = 0;
  // Set by cancel(): the block then ends without raising its own cancellation.
  private cancelCalled = false;
  // The group's tasks whose done notification has not run yet, in creation
  // order; `size` counts them. The loop's own set of pending tasks, reused:
  // a task leaves it when its notification runs, and the entries of those
  // gone are dropped once they outnumber the rest, and all of them once none
  // is left, so a long-lived group does not hold every task it ever ran.
  // PERF: an array and a count, no Set (bench row "TaskGroup of 100k";
  // docs/decisions.md, "The live-task set is an array compacted lazily").
  private readonly tasks = new LiveTaskList<Task<unknown>>();
  private readonly watcher = new GroupWatcher(this);
  private readonly errors: Error[] = [];
  private allDone: Future<boolean> | null = null;

  /**
   * Starts `coro` as a task of this group (it starts at the next iteration,
   * or at once with `eagerStart`; Python 3.14's options). `RuntimeError`
   * before the block starts, once it has ended, or while the group is
   * shutting down after a failure or `cancel()`.
   */
  createTask<T>(coro: Coro<T>, options?: TaskOptions): Task<T> {
    if (!this.entered) {
      void coro.return?.(undefined as T);
      throw new RuntimeError(`TaskGroup ${this.describe()} has not been entered`);
    }
    if (this.finished || (this.exiting && this.tasks.size === 0)) {
      void coro.return?.(undefined as T);
      throw new RuntimeError(`TaskGroup ${this.describe()} is finished`);
    }
    if (this.aborting) {
      void coro.return?.(undefined as T);
      throw new RuntimeError(`TaskGroup ${this.describe()} is shutting down`);
    }
    const task = this.loop!.createTask(coro, options);
    this.tasks.add(task as Task<unknown>);
    // An eager task that finished in its first step is handled at once (Python's TaskGroup does the same).
    if (task.done()) this.childDone(task as Task<unknown>);
    else task.addWaiter(this.watcher);
    return task;
  }

  /**
   * Runs `fn` as a task of the group and waits until it calls
   * `status.started(value)`; returns `value` while the task goes on in the
   * group (Trio's `nursery.start`, AnyIO's `TaskGroup.start`). An error `fn`
   * raises before `started()` is raised here and does not fail the group;
   * returning before `started()` is a `RuntimeError`. Cancelling the caller
   * while it waits cancels the starting task.
   *
   * @example
   * const port = yield* tg.start(function* (status) {
   *   const server = yield* startServer(handle, "127.0.0.1", 0);
   *   status.started(server.address().port);
   *   yield* server.serveForever();
   * });
   */
  *start<T>(fn: (status: TaskStatus<T>) => Awaitable<unknown>, options?: { name?: string }): Coro<T> {
    const status = new TaskStatus<T>(this.loop ?? getRunningLoop());
    const task = this.createTask(runUntilStarted(fn, status), options);
    try {
      return yield* status.startedFuture;
    } catch (error) {
      if (error instanceof CancelledError && !status.startedCalled) task.cancel();
      throw error;
    }
  }

  /**
   * Cancels every task of the group and the block's body (Python 3.15's
   * `TaskGroup.cancel`); the block then ends without raising. Only the
   * cancellations this call made are absorbed: a cancellation from outside
   * still propagates, and failures still raise an `ExceptionGroup`.
   */
  cancel(reason?: unknown): void {
    if (!this.entered || this.finished || this.cancelCalled) return;
    this.cancelCalled = true;
    this.abort(reason);
    const parent = this.parentTask!;
    if (!this.exiting && !this.parentCancelRequested && !parent.done()) {
      this.parentCancelRequested = true;
      parent.cancelFromDepth(this.scopeDepth, reason);
    }
  }

  /** @internal Runs `body` as the group's block. */
  *run<T>(body: (group: TaskGroup) => Awaitable<T>): Coro<T> {
    this.enter();
    let result: T | undefined;
    let threw = false;
    let error: unknown;
    try {
      result = yield* body(this);
    } catch (raised) {
      threw = true;
      error = raised;
    }
    // After a raise this always throws: the error, the cancellation or an ExceptionGroup.
    yield* this.exit(error, threw);
    return result as T;
  }

  private enter(): void {
    if (this.entered) throw new RuntimeError(`TaskGroup ${this.describe()} has already been entered`);
    this.loop = getRunningLoop();
    const parent = currentTask();
    if (parent === null) throw new RuntimeError(`TaskGroup ${this.describe()} cannot determine the parent task`);
    this.parentTask = parent;
    this.scopeDepth = parent.cancelScopeDepth();
    this.entered = true;
  }

  // Waits for the tasks, then decides what leaves the block.
  private *exit(error: unknown, threw: boolean): Coro<void> {
    this.exiting = true;
    let propagateCancellation: CancelledError | null = threw && error instanceof CancelledError ? error : null;
    if (threw && !this.aborting) {
      // The body failed, or the parent was cancelled while in the body.
      this.abort();
    }
    // A loop: the wait may be cancelled again and again by the parent's canceller.
    while (this.tasks.size > 0) {
      if (this.allDone === null) {
        this.allDone = this.loop!.createFuture<boolean>();
        groupOfWait.set(this.allDone, this);
      }
      try {
        yield* this.allDone;
      } catch (waitError) {
        if (!(waitError instanceof CancelledError)) throw waitError;
        if (!this.aborting) {
          propagateCancellation = waitError;
          this.abort();
        }
      }
      this.allDone = null;
    }
    this.finished = true;
    const parent = this.parentTask!;
    if (this.parentCancelRequested && parent.uncancel() === 0) {
      // Our own cancellation of the parent: it does not leave the block.
      propagateCancellation = null;
    }
    if (propagateCancellation !== null && this.errors.length === 0) throw propagateCancellation;
    if (threw && !(error instanceof CancelledError)) this.errors.push(error as Error);
    if (this.errors.length > 0) {
      // Keep an outside cancellation pending for the parent's next await.
      if (parent.cancelling() > 0) {
        parent.uncancel();
        parent.cancel();
      }
      throw new ExceptionGroup("unhandled errors in a TaskGroup", [...this.errors]);
    }
  }

  /** @internal The group's tasks that are not done (await graph). */
  pendingTasks(): Task<unknown>[] {
    return [...this.tasks];
  }

  private abort(reason?: unknown): void {
    this.aborting = true;
    // The list walks a copy of its entries: a cancellation may add or finish tasks meanwhile.
    for (const task of this.tasks) task.cancel(reason);
  }

  /** @internal A task of the group is done (its notification ran, one iteration after it finished). */
  childDone(task: Task<unknown>): void {
    this.tasks.finished(task);
    this.tasks.compactIfSparse(this.tasks.size === 0);
    if (this.allDone !== null && this.tasks.size === 0 && !this.allDone.done()) this.allDone.setResult(true);
    if (task.cancelled()) return;
    const error = task.exception();
    if (error === null) return;
    this.errors.push(error);
    const parent = this.parentTask!;
    if (parent.done()) {
      this.loop!.callExceptionHandler({
        message: `Task ${(task as Task<unknown>).getName()} has errored out but its parent task ${parent.getName()} is already completed`,
        exception: error,
        task: task as Task<unknown>,
      });
      return;
    }
    if (!this.aborting && !this.parentCancelRequested) {
      // Interrupt the body where it waits; exit() withdraws this cancellation.
      this.abort();
      this.parentCancelRequested = true;
      parent.cancelFromDepth(this.scopeDepth);
    }
  }

  private describe(): string {
    return formatValue(this);
  }

  [inspectCustom](): string {
    const parts = [`tasks=${this.tasks.size}`];
    if (this.errors.length > 0) parts.push(`errors=${this.errors.length}`);
    if (this.aborting) parts.push("cancelling");
    else if (this.entered && !this.finished) parts.push("entered");
    return `<TaskGroup ${parts.join(" ")}>`;
  }
}

/**
 * The handle `TaskGroup.start` gives its function (Trio's `TaskStatus`):
 * `started(value)` reports that the task is ready and hands `value` to the
 * caller of `start`.
 */
export class TaskStatus<T> {
  /** @internal Resolved by `started()`; `start` waits on it (cancelled when the caller of `start` is). */
  readonly startedFuture: Future<T>;
  #startedCalled = false;

  /** @internal Made by `TaskGroup.start`. */
  constructor(loop: EventLoop) {
    this.startedFuture = loop.createFuture<T>();
  }

  /** Reports the task ready: `start` returns `value`. A second call is a `RuntimeError`. */
  started(...value: undefined extends T ? [value?: T] : [value: T]): void {
    if (this.#startedCalled) throw new RuntimeError("TaskStatus.started() was already called");
    this.#startedCalled = true;
    if (!this.startedFuture.done()) this.startedFuture.setResult(value[0] as T);
  }

  /** @internal Whether `started()` was called. */
  get startedCalled(): boolean {
    return this.#startedCalled;
  }
}

// The task `start` runs: until `started()`, an outcome of `fn` belongs to the caller of `start`, not to the group.
function* runUntilStarted<T>(fn: (status: TaskStatus<T>) => Awaitable<unknown>, status: TaskStatus<T>): Coro<unknown> {
  const started = status.startedFuture;
  let result: unknown;
  try {
    result = yield* fn(status);
  } catch (error) {
    if (status.startedCalled) throw error;
    if (error instanceof CancelledError) {
      started.cancel();
      throw error;
    }
    if (!started.done()) started.setException(error);
    return undefined;
  }
  if (!status.startedCalled && !started.done()) {
    started.setException(new RuntimeError("the task given to TaskGroup.start() returned without calling status.started()"));
  }
  return result;
}

/**
 * Runs `body` with a new `TaskGroup` and waits for every task created in it.
 * The first task to fail cancels the rest and the body; all failures are
 * raised together as one `ExceptionGroup`. `body` may return any awaitable
 * (a coroutine, a `Future`, a `Task`); the block's result is its result.
 *
 * @example
 * yield* taskGroup(function* (tg) {
 *   tg.createTask(fetchData("url1"));
 *   tg.createTask(fetchData("url2"));
 * }); // both are done here
 */
export function* taskGroup<T>(body: (group: TaskGroup) => Awaitable<T>): Coro<T> {
  return yield* new TaskGroup().run(body);
}
