/**
 * The event loop (Python's `asyncio.BaseEventLoop`): a ready queue of
 * callbacks, a heap of timers, and the rules for when each runs.
 *
 * This is the one module that decides ordering. Its invariants:
 *
 * - One *iteration* first moves every due timer into the ready queue (in
 *   deadline order, ties first-in first-out), then runs exactly the items
 *   that were in the ready queue when the iteration began. Items added during
 *   the iteration run in the next one (asyncio's `_run_once` with `ntodo`).
 *   The batch runs first-in first-out, or, with the `shuffle` option, in a
 *   seeded random order (Trio's scheduler; `scheduleSeed` reproduces it).
 * - After every iteration the loop gives Node's own loop a turn
 *   (`setImmediate`), so sockets, Node timers and promise callbacks run
 *   between any two iterations: a task spinning on `sleep(0)` cannot starve
 *   them.
 * - At most one pending host callback of each kind per loop: a turn
 *   (`setImmediate`); on a real clock a Node timer, armed only while the
 *   ready queue is empty, for the earliest live deadline; on a virtual clock
 *   a time jump (`setImmediate`, so a turn and a jump may both be pending)
 *   and an autojump retry timer. The fields below say which is which.
 * - `checkInvariants()` asserts what this module writes as `Invariant:` on
 *   its fields; debug mode and the test suite run it after every iteration.
 * - Under a `VirtualClock` time stands still while anything is ready and
 *   jumps to the next deadline only when the loop is idle after Node's loop
 *   has had a turn. While real work is outstanding (a bridged promise, an
 *   executor job, a child process, a socket read or connect: the
 *   `holdTime()` holds), it jumps only once that work has made no progress
 *   — no hold taken or released, no iteration ran — for
 *   `autojumpThreshold` real seconds (Trio's `MockClock(autojump_threshold)`).
 */
import { hostEnv, hostProcess, requireHostProcess, scheduleHostTurn } from "./host.js";
import { neutralScope } from "./async-scope.js";
import { formatValue, inspectCustom } from "./repr.js";
import { makeClock, VIRTUAL_CLOCK_RESOLUTION, VirtualClock, type Clock, type ClockOption } from "./clocks.js";
import { isCoroutine, type Awaitable, type Coro } from "./coroutines.js";
import { Deque } from "./deque.js";
import { CancelledError, RuntimeError } from "./errors.js";
import { Future, reportUnretrieved } from "./futures.js";
import { Handle, runStep, TimerHandle, type Runnable, type Timer } from "./handles.js";
import { TimerHeap } from "./heap.js";
import { LiveTaskList } from "./live-tasks.js";
import { makeTask, Task, type TaskFactory, type TaskOptions } from "./tasks.js";
import type { Executor, ExecutorFunction } from "./executor.js";
import { checkRegistryOf, enterIteration, isInsideLoopIteration, isIterating, leaveIteration, setLoopRunning } from "./running-loop.js";
import { numberArg } from "./arguments.js";

/** What the loop's exception handler receives (Python's context dict). */
export interface ExceptionContext {
  message: string;
  exception?: unknown;
  future?: Future<unknown>;
  task?: Task<unknown>;
  handle?: Handle;
  /** Stack where the task or future was created (debug mode). */
  sourceTraceback?: string;
  [key: string]: unknown;
}

/** A custom exception handler: `loop.setExceptionHandler((loop, context) => ...)`. */
export type ExceptionHandler = (loop: EventLoop, context: ExceptionContext) => void;

/**
 * Internal (not exported by the package): Hooks for debug tooling (await graph, trace, debug-mode checks).
 * The loop's `instrument` is `null` unless a tool installs one, so the task
 * hot path pays one null check per step.
 */
export interface LoopInstrument {
  taskCreated(task: Task<unknown>): void;
  stepStarted(task: Task<unknown>): void;
  stepEnded(task: Task<unknown>): void;
  taskDone(task: Task<unknown>): void;
}

/**
 * Internal (not exported by the package): real work a loop's virtual time
 * holds for, from `loop.holdTime()` until `release()`. Releasing twice does
 * nothing, so every path out of the work may release it.
 */
export class TimeHold {
  // Invariant: non-null exactly until the first release; the loop counts the hold while it is.
  private releaseFromLoop: (() => void) | null;

  /** @internal Made by `loop.holdTime()`. */
  constructor(releaseFromLoop: () => void) {
    this.releaseFromLoop = releaseFromLoop;
  }

  /** Ends the hold; does nothing the second time. */
  release(): void {
    const release = this.releaseFromLoop;
    if (release === null) return;
    this.releaseFromLoop = null;
    release();
  }

  /** Whether `release()` was called. */
  get released(): boolean {
    return this.releaseFromLoop === null;
  }
}

/** Options of `new EventLoop()`. */
export interface EventLoopOptions {
  clock?: ClockOption;
  debug?: boolean;
  /** Run each iteration's ready batch in a seeded random order (Trio's scheduler); default `false`. */
  shuffle?: boolean;
  /** The shuffle's seed (an unsigned 32-bit integer); random when omitted. */
  seed?: number;
  /**
   * Under a virtual clock, how many real seconds outstanding real work (a
   * socket, a child process, an executor job, a bridged promise) may make no
   * progress before time jumps to the next deadline anyway (default 1).
   * With nothing real outstanding, time jumps at once.
   */
  autojumpThreshold?: number;
}

let defaultExecutorFactory: (() => Executor) | null = null;

// Set by the test suite: every loop made afterwards checks its invariants
// after each iteration, as debug mode's loops do.
let invariantChecksForced = false;

/** @internal Makes every loop created from now on run `checkInvariants()` after each iteration (the test suite). */
export function forceInvariantChecks(enabled: boolean): void {
  invariantChecksForced = enabled;
}

/** @internal The executors module registers the default executor's constructor. */
export function setDefaultExecutorFactory(factory: () => Executor): void {
  defaultExecutorFactory = factory;
}


// Node's setTimeout holds at most 2**31 - 1 ms; a later deadline is re-armed.
const MAX_NODE_TIMER_MS = 2 ** 31 - 1;
// How long one Node macrotask may keep iterating before the host gets a turn:
// bounds how long a ready-task spinner can delay a socket read or a Node timer.
// Measured (bench/fairness.bench.ts, A/B against 1 ms): 0.5 ms puts a socket
// round trip under a spinner at p99 1.8 ms (1 ms: 3.3 ms) for no measurable
// cost to switches and locks; 0.25 ms cost lock hand-offs 4-16%.
const TURN_BUDGET_MS = 0.5;
// On the real clock, a turn reads the clock once this many items have run
// since it last did (not after every iteration): a lock hand-off runs one or
// two items an iteration, and a clock read per iteration was 7% of it. PERF:
// bench row "Lock, 1000 tasks x 100 acquisitions" (docs/decisions.md, "A turn
// reads the clock every 64 items").
const CLOCK_CHECK_ITEMS = 64;
// Compact the heap when cancelled timers are this share of it (and at least MIN).
const CANCELLED_TIMER_FRACTION = 0.5;
const MIN_CANCELLED_TIMERS_FOR_COMPACTION = 100;
// Trio's MockClock(autojump_threshold) default for our kit: real work gets a second.
const DEFAULT_AUTOJUMP_THRESHOLD = 1;

// The signal handlers' keep-alive timer has nothing to do.
const keepAlive = (): void => {};

const envDebug = (): boolean => {
  const value = hostEnv("ASYNCIO_TS_DEBUG");
  return value !== undefined && value !== "" && value !== "0";
};

/** A schedule seed: the given one as an unsigned 32-bit integer, or a random one. */
function normaliseSeed(seed: number | undefined): number {
  if (seed === undefined) return Math.floor(Math.random() * 2 ** 32);
  if (typeof seed !== "number" || !Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${String(seed)}`);
  return seed >>> 0;
}

/** mulberry32: a small, fast, well-mixed 32-bit generator; the same seed gives the same sequence. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * An event loop. Most programs never touch it: `run(main)` makes one, runs
 * `main` on it and closes it. Inside a coroutine, `getRunningLoop()` returns it.
 */
export class EventLoop {
  /** Seconds a single callback or task step may take before debug mode warns (Python's `slow_callback_duration`). */
  slowCallbackDuration = 0.1;

  /** @internal */ readonly clock: Clock;
  private readonly virtualClock: VirtualClock | null;
  // Invariant: a timer runs only once `clock.time() + clockResolution >= deadline`.
  // Real clock: 0, so no timer fires early (asyncio allows its `clock_resolution`
  // early; we do not): Node's millisecond timers may wake us a little before the
  // deadline, and `waitForNextTimer` then re-arms for the rest. Virtual clock:
  // VIRTUAL_CLOCK_RESOLUTION, so float sums of delays never strand a timer; time
  // then moves up to the deadline (runOnce), so there too none fires early.
  private readonly clockResolution: number;

  // Invariant: every item is a Handle (possibly cancelled: skipped), a
  // TimerHandle or sleep timer that came due, a task whose next step is due,
  // or a future's native awaiter (`then`); a task is in here at most once, and
  // then is not among the waiters of any pending future. Empty once closed.
  private readonly readyQueue = new Deque<Runnable>(1024);
  // Invariant: heap-ordered by (deadline, sequence); every timer in it has
  // `inHeap` set and a `sequence` below `timerSequence`, and is in it once;
  // a timer not in it has `inHeap` clear. Empty once closed.
  private readonly timerHeap = new TimerHeap();
  // Invariant: the number of cancelled timers still in `timerHeap` (lazy deletion).
  private cancelledTimerCount = 0;
  private timerSequence = 0;

  // Invariant: set by `stop()` while running, cleared when the run ends.
  private stopping = false;
  private closed = false;
  private debug: boolean;
  // Invariant: `debug || invariantChecksForced` (when the loop was made or
  // `setDebug` last ran): the loop then runs `checkInvariants` after every
  // iteration. Never set otherwise: the hot path pays one boolean per iteration.
  private checkingInvariants: boolean;
  private exceptionHandler: ExceptionHandler | null = null;
  private customTaskFactory: TaskFactory | null = null;
  private defaultExecutor: Executor | null = null;
  private executorShutdownCalled = false;

  // Host callbacks pending, at most one of each kind per loop:
  // - `turnScheduled`: a `turn` (setImmediate). Invariant: true from
  //   `scheduleTurn` until that turn starts (it may then find the loop stopped
  //   and do nothing); at the end of a turn of a running loop, true whenever
  //   the ready queue is not empty.
  // - `jumpScheduled` (virtual clock only): a `jumpIfIdle` (setImmediate), so
  //   on a virtual clock a turn and a jump may both be pending.
  // - `nodeTimer` (real clock only): a Node timer for `nodeTimerDeadline`.
  //   Invariant: `nodeTimerDeadline` is Infinity exactly while it is null; at
  //   the end of a turn with nothing ready it is armed for at most the earliest
  //   live deadline (none at all once the run ends).
  // - `autojumpTimer` (virtual clock only): a Node timer retrying the jump.
  private turnScheduled = false;
  private jumpScheduled = false;
  private nodeTimer: NodeJS.Timeout | null = null;
  private nodeTimerDeadline = Infinity;
  // Invariant: the number of `TimeHold`s not yet released; never negative.
  private timeHolds = 0;
  // Waits that hold virtual time only while their probe says they are real
  // (a socket read whose peer may be a socket of this very loop).
  private readonly probedWaits = new Set<() => boolean>();
  // Virtual clock only: real seconds outstanding real work may stall before time jumps anyway.
  private readonly autojumpThresholdMs: number;
  // Virtual clock only: `performance.now()` of the last progress (an iteration ran, a time hold was taken or released).
  private lastProgressMs = 0;
  // Virtual clock only: the real timer that retries the jump once the threshold has passed.
  private autojumpTimer: ReturnType<typeof setTimeout> | null = null;
  // Invariant: non-null exactly while the loop runs (from `runForever` until
  // that run ends), which is what `isRunning()` reports, and exactly while the
  // running-loop registry holds this loop. Never non-null once closed.
  private stopRun: ((error?: unknown) => void) | null = null;
  private signalListeners: Map<NodeJS.Signals, () => void> | null = null;
  // Invariant: non-null exactly while a signal handler is registered. A ref'd
  // host timer that never fires: the host's own signal watchers do not keep
  // it alive, and a program waiting for SIGTERM must neither exit nor count
  // as deadlocked (Python's loop waits for its signal handlers).
  private signalKeepAlive: ReturnType<typeof setInterval> | null = null;

  /**
   * @internal Tasks not yet done, for `allTasks()` and `run()`'s final
   * cleanup. Invariant: exactly this loop's pending tasks, each once.
   */
  readonly liveTasks = new LiveTaskList<Task<unknown>>();

  /** @internal Debug tooling hooks; see `LoopInstrument`. */
  instrument: LoopInstrument | null = null;

  /**
   * @internal The stall watchdog's view of this loop (debug/watchdog.ts), or
   * `null`. Invariant: while non-null, element 0 is odd exactly while a turn
   * (one Node macrotask of iterations) is on the call stack, and changes at
   * every turn's start and end; a watcher thread that sees it odd and
   * unchanged for long knows the loop is blocked inside a turn, and an even
   * value unchanged is an idle loop, never a stall.
   */
  turnCounter: Int32Array | null = null;

  /** The seed of the schedule shuffle, or `null` when the loop keeps FIFO order (`shuffle` off). */
  readonly scheduleSeed: number | null;
  // Non-null exactly when shuffling: the seeded generator of the batch orders.
  private readonly shuffleRandom: (() => number) | null;

  constructor(options: EventLoopOptions = {}) {
    this.clock = makeClock(options.clock);
    this.virtualClock = this.clock instanceof VirtualClock ? this.clock : null;
    this.clockResolution = this.virtualClock ? VIRTUAL_CLOCK_RESOLUTION : 0;
    this.debug = options.debug ?? envDebug();
    this.checkingInvariants = this.debug || invariantChecksForced;
    this.autojumpThresholdMs =
      numberArg(options.autojumpThreshold ?? DEFAULT_AUTOJUMP_THRESHOLD, "autojumpThreshold", { min: 0, infinite: true }) * 1000;
    if (options.shuffle === true) {
      this.scheduleSeed = normaliseSeed(options.seed);
      this.shuffleRandom = seededRandom(this.scheduleSeed);
    } else {
      this.scheduleSeed = null;
      this.shuffleRandom = null;
    }
  }

  // ---------------------------------------------------------------- time

  /** The loop's monotonic time in seconds (virtual under a virtual clock). */
  time(): number {
    return this.clock.time();
  }

  // ---------------------------------------------------------- scheduling

  /** Schedules `callback(...args)` for the next iteration; FIFO among `callSoon` calls. */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    this.checkClosed();
    if (typeof callback !== "function") throw new TypeError(`callSoon() takes a function, got ${typeof callback}`);
    const handle = new Handle(callback as (...args: never[]) => unknown, args, this);
    this.readyQueue.push(handle);
    if (!this.turnScheduled) this.scheduleTurn();
    return handle;
  }

  /** Schedules `callback(...args)` to run `delay` seconds from now (negative delays allowed). */
  callLater<A extends unknown[]>(delay: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    numberArg(delay, "callLater(): delay");
    return this.callAt(this.time() + delay, callback, ...args);
  }

  /** Schedules `callback(...args)` at loop time `when` (seconds, as `time()` reports). */
  callAt<A extends unknown[]>(when: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    this.checkClosed();
    numberArg(when, "callAt(): when");
    if (typeof callback !== "function") throw new TypeError(`callAt() takes a function, got ${typeof callback}`);
    const timer = new TimerHandle(callback as (...args: never[]) => unknown, args);
    timer.owner = this;
    this.scheduleTimer(timer, when);
    return timer;
  }

  /** @internal Puts `timer` in the heap for loop time `when` (callAt, and sleep's own timer). */
  scheduleTimer(timer: Timer, when: number): void {
    timer.deadline = when;
    timer.sequence = this.timerSequence++;
    timer.inHeap = true;
    this.timerHeap.push(timer);
    // A running loop that is idle must re-arm for an earlier deadline.
    if (this.stopRun !== null && !this.turnScheduled && when < this.nodeTimerDeadline) this.scheduleTurn();
  }

  /** @internal Queues a task's next step (no Handle: the hot path of every switch). */
  pushReady(item: Runnable): void {
    this.readyQueue.push(item);
    if (!this.turnScheduled) this.scheduleTurn();
  }

  /** @internal Called by `TimerHandle.cancel()` for lazy deletion. */
  timerCancelled(_timer: Timer): void {
    this.cancelledTimerCount++;
    if (
      this.cancelledTimerCount > MIN_CANCELLED_TIMERS_FOR_COMPACTION &&
      this.cancelledTimerCount > this.timerHeap.size * CANCELLED_TIMER_FRACTION
    ) {
      this.timerHeap.filter((timer) => {
        if (timer.isCancelled) timer.inHeap = false;
        return !timer.isCancelled;
      });
      this.cancelledTimerCount = 0;
    }
  }

  /**
   * @internal Real work outside the loop started (a bridged promise, an
   * executor job, a child process, a connect): under a virtual clock, time
   * holds for it (up to the autojump threshold) until the returned hold is
   * released. Every such wait goes through here.
   */
  holdTime(): TimeHold {
    this.timeHolds++;
    if (this.virtualClock !== null) this.lastProgressMs = performance.now();
    return new TimeHold(this.releaseTimeHold);
  }

  /**
   * @internal A future fed by a promise: holds time until `promise` settles,
   * then settles `future` with its outcome, unless the future is done by then
   * or the loop has closed. A rejection cancels the future when its reason is
   * a `CancelledError` (Python's `wrap_future`), else fails it with
   * `failure(reason)` (by default the reason itself; an `Error` for `undefined`).
   */
  holdTimeFor<T>(promise: PromiseLike<T>, future: Future<T>, failure?: (reason: unknown) => unknown): void {
    const hold = this.holdTime();
    promise.then(
      (value) => {
        hold.release();
        if (!future.done() && !this.closed) future.setResult(value);
      },
      (reason: unknown) => {
        hold.release();
        if (future.done() || this.closed) return;
        const error = failure === undefined ? reason : failure(reason);
        if (error instanceof CancelledError) future.settleCancelled(error);
        else future.setException(error ?? new Error("promise rejected with undefined"));
      },
    );
  }

  private readonly releaseTimeHold = (): void => {
    this.timeHolds--;
    if (this.virtualClock === null) return;
    this.lastProgressMs = performance.now();
    if (this.timeHolds === 0 && this.stopRun !== null && !this.turnScheduled) this.scheduleTurn();
  };

  /**
   * @internal A wait that counts as real work (virtual time holds for it)
   * while `isReal()` returns true, asked whenever time would jump: a socket
   * read is real unless its peer turns out to be a socket of this loop.
   */
  probedWaitStarted(isReal: () => boolean): void {
    // Only a virtual clock asks; on a real clock a read costs nothing more.
    if (this.virtualClock === null) return;
    this.probedWaits.add(isReal);
    this.lastProgressMs = performance.now();
  }

  /**
   * @internal The wait `probedWaitStarted(isReal)` began has ended (in a
   * step of the waiting task, so the loop looks at jumping after it anyway).
   */
  probedWaitEnded(isReal: () => boolean): void {
    if (this.virtualClock === null) return;
    this.probedWaits.delete(isReal);
    this.lastProgressMs = performance.now();
  }

  // Whether real work is outstanding: virtual time must wait for it (up to the autojump threshold).
  private realWorkOutstanding(): boolean {
    if (this.timeHolds > 0) return true;
    for (const isReal of this.probedWaits) if (isReal()) return true;
    return false;
  }

  // ------------------------------------------------- futures and tasks

  /** A new pending future bound to this loop. */
  createFuture<T>(): Future<T> {
    return new Future<T>(this);
  }

  /**
   * Wraps `coro` in a task on this loop; it starts at the next iteration
   * (unless `eagerStart`). Made by the loop's task factory when one is set.
   */
  createTask<T>(coro: Coro<T>, options?: TaskOptions): Task<T> {
    this.checkClosed();
    const factory = this.customTaskFactory;
    return factory === null ? makeTask(this, coro, options, false) : factory(this, coro, options);
  }

  /**
   * Sets the factory `createTask` uses (Python's `loop.set_task_factory`),
   * e.g. `eagerTaskFactory`; `null` restores the default.
   */
  setTaskFactory(factory: TaskFactory | null): void {
    if (factory !== null && typeof factory !== "function") throw new TypeError(`setTaskFactory() takes a function or null, got ${typeof factory}`);
    this.customTaskFactory = factory;
  }

  /** The factory set with `setTaskFactory`, or `null` for the default. */
  getTaskFactory(): TaskFactory | null {
    return this.customTaskFactory;
  }

  // ------------------------------------------------------------- running

  /** Whether the loop is running (`runForever` or `runUntilComplete` in progress). */
  isRunning(): boolean {
    return this.stopRun !== null;
  }

  /** Whether `close()` was called. */
  isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs the loop until `stop()` is called. The promise settles when it stops.
   */
  runForever(): Promise<void> {
    this.checkClosed();
    if (this.stopRun !== null) throw new RuntimeError("This event loop is already running");
    if (isInsideLoopIteration()) throw new RuntimeError("Cannot run the event loop while another loop is running");
    setLoopRunning(this, true);
    return new Promise<void>((resolve, reject) => {
      this.stopRun = (error?: unknown) => {
        this.stopRun = null;
        this.stopping = false;
        setLoopRunning(this, false);
        this.disarmNodeTimer();
        this.disarmAutojump();
        if (error === undefined) resolve();
        else reject(error);
      };
      this.scheduleTurn();
    });
  }

  /**
   * Runs the loop until `aw` is done; resolves with its result or rejects with
   * its exception (the original object). A coroutine is wrapped in a task.
   */
  async runUntilComplete<T>(aw: Awaitable<T>): Promise<T> {
    this.checkClosed();
    if (this.stopRun !== null) throw new RuntimeError("This event loop is already running");
    let future: Future<T>;
    if (isCoroutine(aw)) {
      // Coroutine first: what sleep() returns is both a coroutine and a future, and must be driven.
      future = this.createTask(aw as Coro<T>);
    } else if (aw instanceof Future) {
      if (aw.getLoop() !== this) throw new RuntimeError("The future belongs to a different loop than the one given");
      future = aw;
    } else {
      throw new TypeError("runUntilComplete() takes a coroutine, a Future or a Task");
    }
    const stopWhenDone = (): void => this.stop();
    future.addDoneCallback(stopWhenDone);
    try {
      await this.runForever();
    } finally {
      future.removeDoneCallback(stopWhenDone);
    }
    if (!future.done()) throw new RuntimeError("Event loop stopped before Future completed.");
    return future.result();
  }

  /** Stops the loop after the current iteration. */
  stop(): void {
    this.stopping = true;
    if (this.stopRun !== null && !this.turnScheduled) this.scheduleTurn();
  }

  /**
   * Closes the loop: reports every failed future or task of this loop whose
   * exception nobody retrieved ("Task exception was never retrieved"), drops
   * pending callbacks and timers and shuts the default executor down without
   * waiting. A closed loop cannot run again.
   */
  close(): void {
    if (this.stopRun !== null) throw new RuntimeError("Cannot close a running event loop");
    if (this.closed) return;
    reportUnretrieved(this);
    this.closed = true;
    if (this.signalListeners !== null) for (const signal of [...this.signalListeners.keys()]) this.removeSignalHandler(signal);
    this.readyQueue.clear();
    this.timerHeap.filter((timer) => (timer.inHeap = false));
    this.cancelledTimerCount = 0;
    this.disarmNodeTimer();
    const executor = this.defaultExecutor;
    this.defaultExecutor = null;
    if (executor !== null) executor.shutdown({ wait: false }).then(undefined, () => undefined);
    if (this.checkingInvariants) this.checkInvariants();
  }

  // ------------------------------------------------------------- signals

  /**
   * Runs `callback(...args)` through the ready queue whenever the process
   * receives `signal` (Python's `loop.add_signal_handler`); replaces an earlier
   * handler for the same signal. Removed when the loop closes.
   *
   * @example
   * loop.addSignalHandler("SIGTERM", () => server.close());
   */
  addSignalHandler<A extends unknown[]>(signal: NodeJS.Signals, callback: (...args: A) => unknown, ...args: A): void {
    this.checkClosed();
    if (typeof signal !== "string" || !/^SIG[A-Z0-9]+$/.test(signal)) throw new RangeError(`invalid signal: ${String(signal)}`);
    if (typeof callback !== "function") throw new TypeError("addSignalHandler() takes a function");
    this.removeSignalHandler(signal);
    const listener = (): void => {
      if (!this.closed) this.callSoon(callback, ...args);
    };
    requireHostProcess("addSignalHandler()").on(signal, listener);
    (this.signalListeners ??= new Map()).set(signal, listener);
    this.signalKeepAlive ??= setInterval(keepAlive, MAX_NODE_TIMER_MS);
  }

  /** @internal Whether `addSignalHandler(signal, ...)` is in effect (Ctrl-C handling then steps aside). */
  hasSignalHandler(signal: NodeJS.Signals): boolean {
    return this.signalListeners?.has(signal) === true;
  }

  /** Removes the handler for `signal`; returns whether there was one. */
  removeSignalHandler(signal: NodeJS.Signals): boolean {
    const listener = this.signalListeners?.get(signal);
    if (listener === undefined) return false;
    hostProcess()?.removeListener(signal, listener);
    this.signalListeners!.delete(signal);
    if (this.signalListeners!.size === 0 && this.signalKeepAlive !== null) {
      clearInterval(this.signalKeepAlive);
      this.signalKeepAlive = null;
    }
    return true;
  }

  // ---------------------------------------------------------- debugging

  /** Whether debug mode is on (slow-callback warnings, creation stacks, ...). */
  getDebug(): boolean {
    return this.debug;
  }

  /** Turns debug mode on or off. */
  setDebug(enabled: boolean): void {
    this.debug = Boolean(enabled);
    this.checkingInvariants = this.debug || invariantChecksForced;
  }

  // ------------------------------------------------ exception handling

  /** Installs `handler` for errors nobody else can catch; `null` restores the default. */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null && typeof handler !== "function") {
      throw new TypeError(`A callable object or null is expected, got ${String(handler)}`);
    }
    this.exceptionHandler = handler;
  }

  /** The installed exception handler, or `null` for the default. */
  getExceptionHandler(): ExceptionHandler | null {
    return this.exceptionHandler;
  }

  /** Logs `context` to stderr: the message, then the exception's stack. */
  defaultExceptionHandler(context: ExceptionContext): void {
    const lines = [context.message || "Unhandled exception in event loop"];
    for (const [key, value] of Object.entries(context)) {
      if (key === "message" || key === "exception") continue;
      lines.push(`${key}: ${typeof value === "string" ? value : formatValue(value, { depth: 1 })}`);
    }
    const exception = context.exception;
    if (exception !== undefined) lines.push(exception instanceof Error ? (exception.stack ?? String(exception)) : formatValue(exception));
    console.error(lines.join("\n"));
  }

  /** Passes `context` to the installed handler (or the default); never throws. */
  callExceptionHandler(context: ExceptionContext): void {
    const handler = this.exceptionHandler;
    if (handler === null) {
      try {
        this.defaultExceptionHandler(context);
      } catch {
        // Logging must never take the loop down.
      }
      return;
    }
    try {
      handler(this, context);
    } catch (error) {
      try {
        this.defaultExceptionHandler({ message: "Unhandled error in exception handler", exception: error, context });
      } catch {
        // As above.
      }
    }
  }

  /** @internal An error escaped a callback: report it, keep running. */
  reportCallbackError(error: unknown, handle: Handle): void {
    this.callExceptionHandler({ message: `Exception in callback ${handle.callback?.name || "<anonymous>"}`, exception: error, handle });
  }

  // ----------------------------------------------------------- executors

  /** Runs `fn(...args)` on `executor` (the loop's default thread pool when `null`); returns a future of its result. */
  runInExecutor<R, A extends unknown[] = unknown[]>(executor: Executor | null, fn: ExecutorFunction<A, R>, ...args: A): Future<R> {
    this.checkClosed();
    let target = executor;
    if (target === null) {
      if (this.executorShutdownCalled) throw new RuntimeError("Executor shutdown has been called");
      if (this.defaultExecutor === null) {
        if (defaultExecutorFactory === null) throw new RuntimeError("no default executor is available (executors module not loaded)");
        this.defaultExecutor = defaultExecutorFactory();
      }
      target = this.defaultExecutor;
    }
    return target.submit(fn as unknown as ExecutorFunction<never[], R>, ...args);
  }

  /** Replaces the default executor used by `runInExecutor(null, ...)` and `toThread`. */
  setDefaultExecutor(executor: Executor): void {
    this.defaultExecutor = executor;
  }

  /** Shuts the default executor down and waits for its workers to finish. */
  *shutdownDefaultExecutor(): Coro<void> {
    this.executorShutdownCalled = true;
    const executor = this.defaultExecutor;
    if (executor === null) return;
    this.defaultExecutor = null;
    const done = this.createFuture<void>();
    this.holdTimeFor(executor.shutdown({ wait: true }), done);
    yield* done;
  }

  // ---------------------------------------------------------- internals

  private checkClosed(): void {
    if (this.closed) throw new RuntimeError("Event loop is closed");
  }

  private scheduleTurn(): void {
    if (this.turnScheduled || this.stopRun === null) return;
    this.turnScheduled = true;
    scheduleHostTurn(this.turn);
  }

  // One Node macrotask: iterations while tasks are ready, for at most
  // TURN_BUDGET_MS, then give the host a turn (I/O, its timers, microtasks)
  // and decide how to wait for the next. Several iterations per macrotask
  // keep asyncio's order (each iteration still runs exactly the batch that
  // was ready when it began) and save a setImmediate per iteration.
  private readonly turn = (): void => {
    // Once async-local stores are in use, a turn runs in a store-less scope,
    // not in the one of whoever scheduled it (async-scope.ts).
    const scope = neutralScope;
    if (scope === null) this.runTurn();
    else scope.runInAsyncScope(this.runTurn, this);
  };

  private runTurn(): void {
    this.turnScheduled = false;
    if (this.stopRun === null) return;
    // PERF: two stores to a shared Int32Array per macrotask, nothing per step
    // and no allocation; bench/watchdog.bench.ts ("sleep(0) switches,
    // watchdog on") holds it against the same workload with the watchdog off.
    const turnCounter = this.turnCounter;
    if (turnCounter !== null) turnCounter[0] = turnCounter[0]! + 1;
    try {
      // On a virtual clock, one iteration per macrotask: time jumps after a
      // host turn with nothing ready, and socket data written by one iteration
      // must have had its host turns by then.
      let deadline = 0;
      if (this.virtualClock === null) deadline = performance.now() + TURN_BUDGET_MS;
      else this.lastProgressMs = performance.now();
      // A virtual clock checks after every iteration (its deadline, 0, is always past).
      const checkEvery = this.virtualClock === null ? CLOCK_CHECK_ITEMS : 0;
      let unchecked = 0;
      do {
        unchecked += this.runOnce();
        if (this.checkingInvariants) this.checkInvariants();
        if (unchecked >= checkEvery) {
          unchecked = 0;
          if (performance.now() >= deadline) break;
        }
      } while (this.readyQueue.length > 0 && !this.stopping);
    } catch (error) {
      // Only an internal bug gets here; items catch their own errors.
      this.stopRun?.(error);
      return;
    } finally {
      if (turnCounter !== null) turnCounter[0] = turnCounter[0]! + 1;
    }
    if (this.stopping) {
      this.stopRun?.();
      return;
    }
    const idle = this.readyQueue.length === 0;
    if (idle) this.waitForNextTimer();
    else this.scheduleTurn();
    // Finished tasks leave the live-task set here (and, while busy, once they are as many as the live ones).
    this.liveTasks.compactIfSparse(idle);
    if (this.checkingInvariants) this.checkAtTurnEnd();
  }

  // The turn's own decisions (the next turn, the Node timer) are checked too.
  private checkAtTurnEnd(): void {
    try {
      this.checkInvariants();
      this.checkWakeUpArmed();
    } catch (error) {
      this.stopRun?.(error);
    }
  }

  // At the end of a turn of a running loop, something will run the next
  // iteration: a turn, or for the earliest live timer the Node timer (real
  // clock) or a jump, its retry or real work that will end (virtual clock).
  private checkWakeUpArmed(): void {
    if (this.stopRun === null || this.turnScheduled) return;
    let earliest = Infinity;
    for (const timer of this.timerHeap.values()) if (!timer.isCancelled && timer.deadline < earliest) earliest = timer.deadline;
    if (earliest === Infinity) return;
    const armed =
      this.virtualClock === null
        ? this.nodeTimer !== null && this.nodeTimerDeadline <= earliest
        : this.jumpScheduled || this.autojumpTimer !== null || this.realWorkOutstanding();
    if (!armed) throw new RuntimeError(`broken event loop invariant: nothing is armed to wake the loop for the timer due at ${earliest}`);
  }

  // One iteration; returns how many items it ran (the batch ready at its start).
  private runOnce(): number {
    const readyQueue = this.readyQueue;
    const heap = this.timerHeap;
    if (heap.size > 0) {
      const now = this.clock.time();
      const end = now + this.clockResolution;
      let latestDue = now;
      let timer = heap.peek();
      while (timer !== undefined && (timer.isCancelled || timer.deadline <= end)) {
        heap.pop();
        timer.inHeap = false;
        if (timer.isCancelled) this.cancelledTimerCount--;
        else {
          readyQueue.push(timer);
          latestDue = timer.deadline;
        }
        timer = heap.peek();
      }
      // A virtual deadline due within the resolution moves time up to it: no
      // timer sees loop.time() before its deadline, and a loop that sleeps
      // "until the deadline" gets there instead of waking for ever short of it.
      if (latestDue > now) this.virtualClock!.jumpTo(latestDue);
    }
    const previous = enterIteration(this);
    const batch = readyQueue.length;
    try {
      let count = batch;
      if (this.shuffleRandom !== null) this.shuffleBatch(count);
      if (this.debug) {
        while (count-- > 0) this.runTimed(readyQueue.shift()!);
      } else {
        while (count-- > 0) readyQueue.shift()![runStep]();
      }
    } finally {
      leaveIteration(previous);
    }
    return batch;
  }

  // Trio's scheduler: the batch about to run, in a seeded random order
  // (Fisher-Yates over the first `count` items of the ready queue).
  private shuffleBatch(count: number): void {
    const random = this.shuffleRandom!;
    for (let i = count - 1; i > 0; i--) this.readyQueue.swap(i, Math.floor(random() * (i + 1)));
  }

  /** @internal The earliest live timer's deadline, if any (`advanceTime`). */
  nextTimerDeadline(): number | undefined {
    return this.peekLiveTimer()?.deadline;
  }

  /** @internal How many items wait in the ready queue (`advanceTime`). */
  readyCount(): number {
    return this.readyQueue.length;
  }

  private runTimed(item: Runnable): void {
    const start = performance.now();
    item[runStep]();
    const seconds = (performance.now() - start) / 1000;
    if (seconds >= this.slowCallbackDuration) {
      this.callExceptionHandler({ message: `Executing ${formatValue(item, { depth: 0 })} took ${seconds.toFixed(3)} seconds` });
    }
  }

  // The earliest timer that is not cancelled; cancelled ones on top are dropped.
  private peekLiveTimer(): Timer | undefined {
    const heap = this.timerHeap;
    let next = heap.peek();
    while (next !== undefined && next.isCancelled) {
      heap.pop();
      next.inHeap = false;
      this.cancelledTimerCount--;
      next = heap.peek();
    }
    return next;
  }

  private waitForNextTimer(): void {
    const next = this.peekLiveTimer();
    if (next === undefined) {
      this.disarmNodeTimer();
      return;
    }
    if (this.virtualClock !== null) {
      if (!this.jumpScheduled) {
        this.jumpScheduled = true;
        scheduleHostTurn(this.jumpIfIdle);
      }
      return;
    }
    const deadline = next.deadline;
    if (this.nodeTimer !== null && this.nodeTimerDeadline <= deadline) return;
    this.disarmNodeTimer();
    const delayMs = Math.min(MAX_NODE_TIMER_MS, Math.max(0, Math.ceil((deadline - this.clock.time()) * 1000)));
    this.nodeTimerDeadline = deadline;
    this.nodeTimer = setTimeout(this.nodeTimerFired, delayMs);
  }

  private readonly nodeTimerFired = (): void => {
    this.nodeTimer = null;
    this.nodeTimerDeadline = Infinity;
    this.scheduleTurn();
  };

  private disarmNodeTimer(): void {
    if (this.nodeTimer !== null) {
      clearTimeout(this.nodeTimer);
      this.nodeTimer = null;
    }
    this.nodeTimerDeadline = Infinity;
  }

  // Virtual time moves only here: after Node's loop had a turn (I/O and
  // promise callbacks ran) and still nothing is ready, and either nothing real
  // is outstanding or it has made no progress for the autojump threshold.
  private readonly jumpIfIdle = (): void => {
    this.jumpScheduled = false;
    if (this.stopRun === null || this.turnScheduled || this.readyQueue.length > 0) return;
    const next = this.peekLiveTimer();
    if (next === undefined) return;
    if (this.realWorkOutstanding()) {
      const stalledMs = performance.now() - this.lastProgressMs;
      if (stalledMs < this.autojumpThresholdMs) {
        this.armAutojump(this.autojumpThresholdMs - stalledMs);
        return;
      }
    }
    this.virtualClock!.jumpTo(next.deadline);
    this.scheduleTurn();
  };

  // A real timer to look again once outstanding real work may have stalled
  // for the threshold; progress before then makes that look find it busy.
  private armAutojump(delayMs: number): void {
    if (this.autojumpTimer !== null || delayMs === Infinity) return;
    this.autojumpTimer = setTimeout(this.autojumpTimerFired, Math.min(MAX_NODE_TIMER_MS, Math.ceil(delayMs)));
  }

  private readonly autojumpTimerFired = (): void => {
    this.autojumpTimer = null;
    this.jumpIfIdle();
  };

  private disarmAutojump(): void {
    if (this.autojumpTimer !== null) {
      clearTimeout(this.autojumpTimer);
      this.autojumpTimer = null;
    }
  }

  // ---------------------------------------------------------- invariants

  /**
   * @internal Throws a `RuntimeError` naming the first broken invariant of the
   * loop (those written `Invariant:` on its fields), of its live tasks, its
   * timer heap and the running-loop registry. Debug mode and the test suite
   * run it after every iteration. Called from inside an iteration it skips
   * what only holds between iterations (where each task is).
   */
  checkInvariants(): void {
    const fail = (what: string): never => {
      throw new RuntimeError(`broken event loop invariant: ${what}`);
    };
    const running = this.stopRun !== null;
    checkRegistryOf(this, running);
    if (this.closed && running) fail("a closed loop is running");
    if (this.stopping && !running) fail("stopping is set on a loop that is not running");
    if (this.timeHolds < 0) fail(`timeHolds is ${this.timeHolds}`);
    // Host callbacks.
    if ((this.nodeTimer === null) !== (this.nodeTimerDeadline === Infinity)) fail("nodeTimerDeadline disagrees with nodeTimer");
    if (this.virtualClock !== null && this.nodeTimer !== null) fail("a Node timer is armed on a virtual clock");
    if (this.virtualClock === null && (this.jumpScheduled || this.autojumpTimer !== null)) fail("a time jump is pending on a real clock");
    if (!running && (this.nodeTimer !== null || this.autojumpTimer !== null)) fail("a host timer is armed on a loop that is not running");
    if (running && this.readyQueue.length > 0 && !this.turnScheduled) fail("items are ready but no turn is scheduled");
    // The timer heap.
    const heap = this.timerHeap;
    if (!heap.isOrdered()) fail("the timer heap is out of (deadline, sequence) order");
    const timers = new Set<Timer>();
    let cancelled = 0;
    for (const timer of heap.values()) {
      if (timers.has(timer)) fail("a timer is in the heap twice");
      timers.add(timer);
      if (!timer.inHeap) fail("a timer in the heap has inHeap clear");
      if (timer.sequence >= this.timerSequence) fail("a timer's sequence was not handed out by this loop");
      if (timer.isCancelled) cancelled++;
    }
    if (cancelled !== this.cancelledTimerCount) fail(`cancelledTimerCount is ${this.cancelledTimerCount}, the heap holds ${cancelled} cancelled timers`);
    // The ready queue.
    if (this.closed && (this.readyQueue.length > 0 || heap.size > 0)) fail("a closed loop still holds callbacks or timers");
    const timesReady = new Map<Task<unknown>, number>();
    for (let i = 0; i < this.readyQueue.length; i++) {
      const item = this.readyQueue.at(i)!;
      if (timers.has(item as Timer)) fail("a timer is both in the heap and in the ready queue");
      if (item instanceof Task) {
        if (item.loop !== this) fail(`task ${item.getName()} is in the ready queue of another loop`);
        if (item.state !== "pending") fail(`task ${item.getName()} is done but still in the ready queue`);
        timesReady.set(item, (timesReady.get(item) ?? 0) + 1);
      } else if (item instanceof TimerHandle && item.inHeap) fail("a ready TimerHandle has inHeap set");
    }
    // The live tasks, and where each one is.
    this.liveTasks.checkEntries();
    const between = !this.closed && !isIterating(this);
    for (const task of this.liveTasks.members()) {
      if (task.loop !== this) fail(`task ${task.getName()} is in the live-task list of another loop`);
      if (task.state !== "pending") fail(`task ${task.getName()} is done but still in the live-task list`);
      task.checkInvariants(between ? (timesReady.get(task) ?? 0) : null);
      timesReady.delete(task);
    }
    for (const task of timesReady.keys()) fail(`task ${task.getName()} is ready but not in the live-task list`);
  }

  [inspectCustom](): string {
    const state = this.closed ? "closed" : this.stopRun !== null ? "running" : "idle";
    return `<EventLoop ${state} ready=${this.readyQueue.length} timers=${this.timerHeap.size} debug=${this.debug}>`;
  }
}
