/**
 * Handles: what `callSoon`, `callLater` and `callAt` return (Python's
 * `asyncio.Handle` and `asyncio.TimerHandle`).
 */
import { inspectCustom } from "./repr.js";
import { Deque } from "./deque.js";
import { currentContextVars, enterContext, restoreContext, type VarMap } from "./contextvars.js";

/** The loop-side view a handle needs; kept minimal so this module does not import the loop. */
export interface HandleOwner {
  reportCallbackError(error: unknown, handle: Handle): void;
  timerCancelled(timer: Timer): void;
}

/** The method the ready queue calls; a symbol so that it stays off the public surface of tasks. */
export const runStep: unique symbol = Symbol("asyncio-ts.runStep");

/** Something the loop's ready queue can run: a callback handle or a task's next step. */
export interface Runnable {
  [runStep](): void;
}

const noArguments: readonly unknown[] = Object.freeze([]);

/**
 * @internal A structure of ours watching its children (a task group, a
 * gather), registered with each child future as a waiter. When a child is
 * done the watcher notes it and puts itself in the ready queue: nothing per
 * child while the child runs, and no `Handle`, argument list, spread call or
 * link object when it ends. `childDone` runs at the next iteration, as a done
 * callback would; it must not throw (an error would end the loop's run).
 * PERF: bench rows "TaskGroup of 100k", "gather of 100k" and "heap per
 * sleeping task"; docs/decisions.md, "Task groups and gather watch their
 * children through a link" and "A watcher queues itself once per child".
 */
export abstract class ChildWatcher<C> implements Runnable {
  // Invariant: the children done whose `childDone` has not run yet, in the
  // order they ended; the watcher is in its loop's ready queue once for each,
  // so each run takes the oldest (made at the first child's end).
  private doneChildren: Deque<C> | null = null;

  /** Called one iteration after `child` is done. */
  abstract childDone(child: C): void;

  /** @internal `child` is done: returns what its future puts in the ready queue for it (the watcher itself). */
  childFinished(child: C): this {
    (this.doneChildren ??= new Deque<C>()).push(child);
    return this;
  }

  [runStep](): void {
    this.childDone(this.doneChildren!.shift()!);
  }
}

/**
 * Internal (not exported by the package): What the loop's timer heap holds: a `TimerHandle`, or sleep's
 * own future (which is its own timer, to keep a sleeping task small).
 */
export interface Timer extends Runnable {
  /** Deadline in the loop's clock seconds. */
  deadline: number;
  /** Insertion order: breaks ties between equal deadlines FIFO. */
  sequence: number;
  /** Whether it sits in the loop's heap. */
  inHeap: boolean;
  /** Cancelled timers stay in the heap until popped or compacted away. */
  isCancelled: boolean;
}

/**
 * A callback scheduled on the loop; `cancel()` keeps it from running. The
 * callback runs in a copy of the context current when it was scheduled
 * (Python's `call_soon(..., context=None)`), so its `ContextVar` sets stay
 * in that copy.
 */
export class Handle {
  /** @internal */ callback: ((...args: never[]) => unknown) | null;
  /** @internal */ args: readonly unknown[];
  /** @internal */ isCancelled = false;
  /** @internal The loop it is scheduled on (null until a timer is scheduled). */ owner: HandleOwner | null;
  /**
   * @internal The callback's context: a copy of the one current when it was
   * scheduled (a copy is the same immutable map; a `set` replaces it here).
   */
  contextVars: VarMap;

  /** @internal Handles are made by the loop, not by users. */
  constructor(callback: ((...args: never[]) => unknown) | null, args: readonly unknown[], owner: HandleOwner | null) {
    this.callback = callback;
    this.args = args;
    this.owner = owner;
    this.contextVars = currentContextVars();
  }

  /** Keeps the callback from running; does nothing if it ran already. */
  cancel(): void {
    if (this.isCancelled) return;
    this.isCancelled = true;
    // Drop references so a cancelled handle waiting in a queue holds nothing alive.
    this.callback = null;
    this.args = noArguments;
  }

  /** Whether `cancel()` was called. */
  cancelled(): boolean {
    return this.isCancelled;
  }

  /** @internal Runs the callback; an error goes to the loop's exception handler. */
  [runStep](): void {
    const callback = this.callback;
    if (this.isCancelled || callback === null) return;
    const previousContext = enterContext(this);
    try {
      (callback as (...args: unknown[]) => unknown)(...this.args);
    } catch (error) {
      this.owner?.reportCallbackError(error, this);
    } finally {
      restoreContext(previousContext);
    }
  }

  [inspectCustom](): string {
    const state = this.isCancelled ? "cancelled" : (this.callback?.name || "<anonymous>");
    return `<${this.constructor.name} ${state}>`;
  }
}

/**
 * A callback scheduled for a time; `when()` is its deadline in loop seconds.
 * The loop sets the deadline when it schedules the timer.
 */
export class TimerHandle extends Handle {
  /** @internal Deadline in the loop's clock seconds. */ deadline = 0;
  /** @internal Insertion order: breaks ties between equal deadlines FIFO. */ sequence = 0;
  /** @internal Whether the timer sits in the loop's heap. */ inHeap = false;

  /** @internal */
  constructor(callback: ((...args: never[]) => unknown) | null, args: readonly unknown[]) {
    super(callback, args, null);
  }

  /** The deadline, in the loop's `time()` seconds. */
  when(): number {
    return this.deadline;
  }

  override cancel(): void {
    if (this.isCancelled) return;
    super.cancel();
    if (this.inHeap) this.owner?.timerCancelled(this);
  }
}

/**
 * @internal One handle that lives as long as the process. V8 holds the maps
 * a class's instances reach as their fields are set only while an instance
 * uses them: a full GC that finds no handle clears them, and the next handle
 * gets a new map, which the loop's optimized iteration (it dispatches on the
 * item's map) has not seen, so it deoptimizes. Between `run()`s and after
 * idle periods that happened once per GC (`--trace-deopt`: "wrong map" in
 * `runOnce`, once per run of every benchmark row). PERF: bench rows
 * "sleep(0)" and "three coroutine levels deep" (docs/decisions.md, "No
 * deoptimization per run").
 */
export const handleShapeKeeper: Handle = new Handle(null, noArguments, null);
