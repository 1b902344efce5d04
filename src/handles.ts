/**
 * Handles: what `callSoon`, `callLater` and `callAt` return (Python's
 * `asyncio.Handle` and `asyncio.TimerHandle`).
 */
import { inspect } from "node:util";

/** The loop-side view a handle needs; kept minimal so this module does not import the loop. */
export interface HandleOwner {
  reportCallbackError(error: unknown, handle: Handle): void;
  timerCancelled(timer: TimerHandle): void;
}

/** The method the ready queue calls; a symbol so that it stays off the public surface of tasks. */
export const runStep: unique symbol = Symbol("asyncio-ts.runStep");

/** Something the loop's ready queue can run: a callback handle or a task's next step. */
export interface Runnable {
  [runStep](): void;
}

/** A callback scheduled on the loop; `cancel()` keeps it from running. */
export class Handle implements Runnable {
  /** @internal */ callback: ((...args: never[]) => unknown) | null;
  /** @internal */ args: readonly unknown[];
  /** @internal */ isCancelled = false;
  /** @internal */ readonly owner: HandleOwner;

  /** @internal Handles are made by the loop, not by users. */
  constructor(callback: (...args: never[]) => unknown, args: readonly unknown[], owner: HandleOwner) {
    this.callback = callback;
    this.args = args;
    this.owner = owner;
  }

  /** Keeps the callback from running; does nothing if it ran already. */
  cancel(): void {
    if (this.isCancelled) return;
    this.isCancelled = true;
    // Drop references so a cancelled handle waiting in a queue holds nothing alive.
    this.callback = null;
    this.args = [];
  }

  /** Whether `cancel()` was called. */
  cancelled(): boolean {
    return this.isCancelled;
  }

  /** @internal Runs the callback; an error goes to the loop's exception handler. */
  [runStep](): void {
    const callback = this.callback;
    if (this.isCancelled || callback === null) return;
    try {
      (callback as (...args: unknown[]) => unknown)(...this.args);
    } catch (error) {
      this.owner.reportCallbackError(error, this);
    }
  }

  [inspect.custom](): string {
    const state = this.isCancelled ? "cancelled" : (this.callback?.name || "<anonymous>");
    return `<${this.constructor.name} ${state}>`;
  }
}

/** A callback scheduled for a time; `when()` is its deadline in loop seconds. */
export class TimerHandle extends Handle {
  /** @internal Deadline in the loop's clock seconds. */ readonly deadline: number;
  /** @internal Insertion order: breaks ties between equal deadlines FIFO. */ readonly sequence: number;
  /** @internal Whether the timer still sits in the loop's heap. */ inHeap = true;

  /** @internal */
  constructor(deadline: number, sequence: number, callback: (...args: never[]) => unknown, args: readonly unknown[], owner: HandleOwner) {
    super(callback, args, owner);
    this.deadline = deadline;
    this.sequence = sequence;
  }

  /** The deadline, in the loop's `time()` seconds. */
  when(): number {
    return this.deadline;
  }

  override cancel(): void {
    if (this.isCancelled) return;
    super.cancel();
    if (this.inHeap) this.owner.timerCancelled(this);
  }
}
