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
import { getRunningLoop, type EventLoop } from "./events.js";
import type { Future } from "./futures.js";
import { ChildWatcher, DoneLink } from "./handles.js";
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
  // The group's tasks in creation order, finished ones dropped in batches
  // (compactTasks). PERF: an array and a count instead of a Set (bench row
  // "TaskGroup of 100k"; docs/decisions.md, "Task groups and gather watch
  // their children through a link").
  private tasks: Task<unknown>[] = [];
  // Invariant: how many of the group's tasks have not had their done notification yet.
  private pendingCount = 0;
  private readonly watcher = new GroupWatcher(this);
  private readonly errors: Error[] = [];
  private allDone: Future<boolean> | null = null;

  /**
   * Starts `coro` as a task of this group (it starts at the next iteration).
   * `RuntimeError` before the block starts, once it has ended, or while the
   * group is shutting down after a failure.
   */
  createTask<T>(coro: Coro<T>, options?: { name?: string }): Task<T> {
    if (!this.entered) {
      void coro.return?.(undefined as T);
      throw new RuntimeError(`TaskGroup ${this.describe()} has not been entered`);
    }
    if (this.finished || (this.exiting && this.pendingCount === 0)) {
      void coro.return?.(undefined as T);
      throw new RuntimeError(`TaskGroup ${this.describe()} is finished`);
    }
    if (this.aborting) {
      void coro.return?.(undefined as T);
      throw new RuntimeError(`TaskGroup ${this.describe()} is shutting down`);
    }
    const task = this.loop!.createTask(coro, options);
    this.tasks.push(task as Task<unknown>);
    this.pendingCount++;
    // An eager task may be done already: its notification still comes at the next iteration.
    if (task.done()) this.loop!.pushReady(new DoneLink(this.watcher, task as Task<unknown>));
    else task.addWaiter(this.watcher);
    return task;
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
    while (this.pendingCount > 0) {
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
    return this.tasks.filter((task) => !task.done());
  }

  private abort(): void {
    this.aborting = true;
    for (const task of this.tasks) if (!task.done()) task.cancel();
  }

  // Drops finished tasks once they are more than half of the list, so a
  // long-lived group does not hold every task it ever ran (amortised O(1)).
  private compactTasks(): void {
    if (this.tasks.length >= 32 && this.pendingCount * 2 < this.tasks.length) this.tasks = this.tasks.filter((task) => !task.done());
  }

  /** @internal A task of the group is done (its `DoneLink` ran, one iteration after it finished). */
  childDone(task: Task<unknown>): void {
    this.pendingCount--;
    this.compactTasks();
    if (this.allDone !== null && this.pendingCount === 0 && !this.allDone.done()) this.allDone.setResult(true);
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
      parent.cancel();
    }
  }

  private describe(): string {
    return formatValue(this);
  }

  [inspectCustom](): string {
    const parts = [`tasks=${this.pendingCount}`];
    if (this.errors.length > 0) parts.push(`errors=${this.errors.length}`);
    if (this.aborting) parts.push("cancelling");
    else if (this.entered && !this.finished) parts.push("entered");
    return `<TaskGroup ${parts.join(" ")}>`;
  }
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
