/**
 * `run(main)` and `Runner`: the entry points of an asyncio-ts program
 * (Python's `asyncio.run` and `asyncio.Runner`), with Python 3.11+'s Ctrl-C
 * handling: the first SIGINT cancels the main task, so its `finally` blocks
 * and its children's run, and `run` then rejects with `KeyboardInterrupt`;
 * a second SIGINT exits at once.
 */
import { numberArg } from "./arguments.js";
import type { ClockOption } from "./clocks.js";
import { copyContext, type Context } from "./contextvars.js";
import { isCoroutine, type Coro } from "./coroutines.js";
import { DeadlockError, KeyboardInterrupt, RuntimeError } from "./errors.js";
import { EventLoop } from "./events.js";
import { isInsideLoopIteration } from "./running-loop.js";
import { hostProcess, optionalBuiltin } from "./host.js";
import type { Future } from "./futures.js";
import { formatValue } from "./repr.js";
import type { Task } from "./tasks.js";

/** Options of `run()`. */
export interface RunOptions {
  /** Debug mode: slow-step warnings, task creation stacks (default: env `ASYNCIO_TS_DEBUG`). */
  debug?: boolean;
  /** `"real"` (default), `"virtual"` (time jumps to the next timer when idle), or a `Clock`. */
  clock?: ClockOption;
  /** Answer `asyncio-ts ps`/`pstree` on a private Unix socket (default: env `ASYNCIO_TS_INSPECT`). */
  inspect?: boolean;
  /** Write a Trace Event Format timeline of the run to this file (default: env `ASYNCIO_TS_TRACE`). */
  trace?: string;
  /**
   * Handle Ctrl-C as Python does (default `true`): the first SIGINT cancels
   * the main task, then `run` rejects with `KeyboardInterrupt`. With `false`,
   * or when the program already listens for SIGINT, SIGINT is left alone.
   */
  handleSignals?: boolean;
  /**
   * Stall watchdog: when the loop has not turned for this many seconds, report
   * it through the loop's exception handler while the stall goes on, with the
   * running task and the main thread's stack (default: env `ASYNCIO_TS_WATCHDOG`).
   */
  watchdog?: number;
  /** Run each iteration's ready batch in a seeded random order (Trio's scheduler), to shake out order dependence. */
  shuffle?: boolean;
  /** The shuffle's seed (read it back as `loop.scheduleSeed`); random when omitted. */
  seed?: number;
  /**
   * Under a virtual clock, how many real seconds outstanding real work (a
   * socket, a child process, an executor job, a bridged promise) may make no
   * progress before time jumps to the next deadline anyway (default 1; Trio's
   * `MockClock(autojump_threshold)`). With nothing real outstanding, time jumps at once.
   */
  autojumpThreshold?: number;
}

/** Options of `new Runner()`: those of `run()`. */
export type RunnerOptions = RunOptions;

/**
 * @internal Something to set up on every new loop of a runner (debug tooling).
 * It returns a finisher called after the loop closes, or nothing.
 */
export type RunSetup = (loop: EventLoop, options: RunOptions) => (() => void | Promise<void>) | void;
const runSetups: RunSetup[] = [];

/** @internal Registers a `RunSetup` (the debug modules do, when imported). */
export function addRunSetup(setup: RunSetup): void {
  runSetups.push(setup);
}

type RunnerState = "created" | "initialized" | "closed";

/**
 * Runs several coroutines, one after another, on one event loop (Python's
 * `asyncio.Runner`): for test adapters, REPLs and programs whose top level
 * is not a single `main`. The `run` calls share the runner's context, so a
 * `ContextVar` set in one is seen by the next. `close()` (or `await using`)
 * cancels the tasks left over, shuts the default executor down and closes
 * the loop.
 *
 * @example
 * await using runner = new Runner({ clock: "virtual" });
 * await runner.run(setUp());
 * const result = await runner.run(work());
 */
export class Runner {
  private state: RunnerState = "created";
  private loop: EventLoop | null = null;
  private context: Context | null = null;
  private finishers: Array<() => void | Promise<void>> = [];
  private readonly options: RunnerOptions;

  constructor(options: RunnerOptions = {}) {
    if (options === null || typeof options !== "object") throw new TypeError("Runner() takes an options object");
    if (options.handleSignals !== undefined && typeof options.handleSignals !== "boolean") {
      throw new TypeError(`Runner(): handleSignals must be a boolean, got ${typeof options.handleSignals}`);
    }
    if (options.watchdog !== undefined) numberArg(options.watchdog, "Runner(): watchdog", { min: 0.001, infinite: false });
    this.options = options;
  }

  /**
   * Runs `main` as a task on the runner's loop until it is done; resolves
   * with its result or rejects with its exception. `context` replaces the
   * runner's context for this call. `RuntimeError` when the runner is closed,
   * or when called from inside a running loop.
   */
  async run<T>(main: Coro<T> | (() => Coro<T>), options: { context?: Context } = {}): Promise<T> {
    if (isInsideLoopIteration()) throw new RuntimeError("Runner.run() cannot be called from a running event loop");
    if (this.state === "closed") throw new RuntimeError("Runner is closed");
    const coro = typeof main === "function" ? main() : main;
    if (!isCoroutine(coro)) {
      throw new TypeError(`run() takes a coroutine or a generator function, got ${coro === null ? "null" : typeof coro}`);
    }
    const loop = this.lazyInit();
    if (loop.isRunning()) throw new RuntimeError("Runner.run() cannot be called while another run() of the same runner is in progress");
    const task = loop.createTask(coro, { context: options.context ?? this.context! });
    const interrupts = this.options.handleSignals === false ? null : CtrlC.listen(loop, task);
    const deadlock = DeadlockWatch.listen(loop, task);
    let value: T;
    try {
      value = await loop.runUntilComplete(task);
    } catch (error) {
      if (deadlock?.error != null) throw deadlock.error;
      // Cancelled by our Ctrl-C, and not by anything else: that is a KeyboardInterrupt.
      if (interrupts !== null && interrupts.count > 0 && task.cancelled() && task.uncancel() === 0) {
        throw newKeyboardInterrupt();
      }
      throw error;
    } finally {
      interrupts?.stop();
      deadlock?.stop();
    }
    // Main swallowed the cancellation and returned: the program was deadlocked all the same.
    if (deadlock?.error != null) throw deadlock.error;
    return value;
  }

  /** The runner's loop (made on first use). `RuntimeError` once closed. */
  getLoop(): EventLoop {
    if (this.state === "closed") throw new RuntimeError("Runner is closed");
    return this.lazyInit();
  }

  /**
   * Cancels and awaits every task still alive, shuts down the default
   * executor and closes the loop. Closing a closed runner does nothing.
   */
  async close(): Promise<void> {
    if (this.state !== "initialized") {
      this.state = "closed";
      return;
    }
    const loop = this.loop!;
    if (loop.isRunning()) throw new RuntimeError("Runner.close() cannot be called while a run() is in progress");
    this.state = "closed";
    try {
      await cancelAllTasks(loop);
      await loop.runUntilComplete(loop.createTask(loop.shutdownDefaultExecutor(), { name: "shutdown default executor" }));
    } finally {
      loop.close();
      for (const finish of this.finishers) await finish();
      this.finishers = [];
    }
  }

  /** `await using runner = new Runner()`: closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private lazyInit(): EventLoop {
    if (this.loop !== null) return this.loop;
    const options = this.options;
    const loop = new EventLoop({
      ...(options.clock !== undefined ? { clock: options.clock } : {}),
      ...(options.debug !== undefined ? { debug: options.debug } : {}),
      ...(options.shuffle !== undefined ? { shuffle: options.shuffle } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.autojumpThreshold !== undefined ? { autojumpThreshold: options.autojumpThreshold } : {}),
    });
    for (const setup of runSetups) {
      const finish = setup(loop, options);
      if (finish !== undefined) this.finishers.push(finish);
    }
    this.loop = loop;
    this.context = copyContext();
    this.state = "initialized";
    return loop;
  }
}

/**
 * Runs `main` on a new event loop and returns its result. When `main` ends,
 * every task still alive is cancelled and awaited, the default executor is
 * shut down and the loop is closed. Rejects with `main`'s exception (the
 * original object), or with `KeyboardInterrupt` after a Ctrl-C.
 *
 * @example
 * const answer = await run(function* () {
 *   yield* sleep(1);
 *   return 42;
 * });
 */
export function run<T>(main: Coro<T> | (() => Coro<T>), options: RunOptions = {}): Promise<T> {
  if (isInsideLoopIteration()) throw new RuntimeError("run() cannot be called from a running event loop");
  const coro = typeof main === "function" ? main() : main;
  if (!isCoroutine(coro)) {
    throw new TypeError(`run() takes a coroutine or a generator function, got ${coro === null ? "null" : typeof coro}`);
  }
  const runner = new Runner(options);
  return runAndClose(runner, coro);
}

async function runAndClose<T>(runner: Runner, coro: Coro<T>): Promise<T> {
  try {
    return await runner.run(coro);
  } finally {
    await runner.close();
  }
}

/**
 * Cancels every live task and runs the loop until they are all done, or
 * until nothing can wake them any more (their cleanup blocks for ever).
 */
async function cancelAllTasks(loop: EventLoop): Promise<void> {
  const tasks = [...loop.liveTasks];
  if (tasks.length === 0) return;
  for (const task of tasks) task.cancel();
  const everyDone = allDone(loop, tasks);
  const deadlock = DeadlockWatch.listen(loop, null);
  try {
    await loop.runUntilComplete(everyDone);
  } catch (error) {
    if (deadlock?.error == null) throw error;
    const stuck = tasks.filter((task) => !task.done());
    loop.callExceptionHandler({
      message: `${stuck.length === 1 ? "a task was" : `${stuck.length} tasks were`} still pending when the loop closed: ${stuck.length === 1 ? "its" : "their"} cleanup waits on something nothing can wake (the error shows what)`,
      exception: deadlock.error,
    });
  } finally {
    deadlock?.stop();
  }
  for (const task of tasks) {
    if (!task.done()) continue;
    if (task.cancelled()) continue;
    const exception = task.exception();
    if (exception !== null) {
      loop.callExceptionHandler({ message: "unhandled exception during asyncio.run() shutdown", exception, task });
    }
  }
}

function allDone(loop: EventLoop, tasks: readonly Task<unknown>[]): Future<void> {
  const done = loop.createFuture<void>();
  let remaining = tasks.length;
  const onDone = (): void => {
    if (--remaining === 0 && !done.done()) done.setResult(undefined);
  };
  for (const task of tasks) task.addDoneCallback(onDone);
  return done;
}

// ---------------------------------------------------------------- deadlock

/**
 * @internal Renders what each pending task waits on, for a deadlock's
 * message. The await-graph module installs `formatCallGraph` here; without
 * it, one line per task.
 */
export type PendingTasksDescriber = (tasks: readonly Task<unknown>[], now: number) => string;

let describePendingTasks: PendingTasksDescriber = (tasks) =>
  tasks.map((task) => `* Task ${JSON.stringify(task.getName())} waiting on ${formatValue(task.getWaitingOn(), { depth: 0 })}`).join("\n");

/** @internal Installs how a deadlock's message shows the pending tasks. */
export function setPendingTasksDescriber(describe: PendingTasksDescriber): void {
  describePendingTasks = describe;
}

/**
 * Node's `'beforeExit'` while the loop runs for `mainTask`: the host has no
 * timer, I/O or signal handler left that could wake a task, so what the
 * loop waits for can never come. The first time, the watch records the
 * await graph in a `DeadlockError` and cancels the main task, whose
 * `finally` blocks then run; if the host empties again (that cleanup blocks
 * too) it stops the loop. Without a main task (the final cleanup), it stops
 * the loop the first time.
 */
class DeadlockWatch {
  // Invariant: set at the first 'beforeExit'; the run then ends with it.
  error: DeadlockError | null = null;

  private constructor(
    private readonly loop: EventLoop,
    private readonly mainTask: Task<unknown> | null,
  ) {}

  static listen(loop: EventLoop, mainTask: Task<unknown> | null): DeadlockWatch | null {
    const host = hostProcess();
    if (host === null) return null;
    const watch = new DeadlockWatch(loop, mainTask);
    // One host listener for every run in progress (many concurrent runs must not trip Node's listener-leak warning).
    if (activeDeadlockWatches.size === 0) host.on("beforeExit", onBeforeExit);
    activeDeadlockWatches.add(watch);
    return watch;
  }

  stop(): void {
    if (!activeDeadlockWatches.delete(this)) return;
    if (activeDeadlockWatches.size === 0) hostProcess()?.removeListener("beforeExit", onBeforeExit);
  }

  /** The host has nothing left that could wake a task. */
  nothingCanWake(): void {
    if (!this.loop.isRunning()) return;
    if (this.error !== null || this.mainTask === null || this.mainTask.done()) {
      this.error ??= this.deadlockError();
      this.loop.stop();
      return;
    }
    this.error = this.deadlockError();
    this.mainTask.cancel("deadlock: nothing can wake the main task");
  }

  private deadlockError(): DeadlockError {
    const pending = [...this.loop.liveTasks];
    const what = this.mainTask === null ? "the tasks being cancelled are" : `the main task ${JSON.stringify(this.mainTask.getName())} is`;
    return new DeadlockError(
      `deadlock: ${what} waiting, and nothing left in the process can wake a task (no timer, I/O or signal handler); ` +
        `these waits end only if something sets, puts or resolves what they wait on:\n${describePendingTasks(pending, this.loop.time())}`,
    );
  }
}

// Invariant: the host's 'beforeExit' has `onBeforeExit` as a listener exactly while this set is not empty.
const activeDeadlockWatches = new Set<DeadlockWatch>();

function onBeforeExit(): void {
  for (const watch of [...activeDeadlockWatches]) watch.nothingCanWake();
}

// ------------------------------------------------------------------ Ctrl-C

/**
 * SIGINT while a runner's `run` is in progress. Installed only when nobody
 * else listens for SIGINT (Python: only when the handler is the default
 * one), and removed when `run` ends, so the host's own handling is untouched.
 */
class CtrlC {
  count = 0;

  private constructor(
    private readonly loop: EventLoop,
    private readonly mainTask: Task<unknown>,
  ) {}

  static listen(loop: EventLoop, mainTask: Task<unknown>): CtrlC | null {
    const host = hostProcess();
    if (host === null || !isMainThread()) return null;
    if (host.listeners("SIGINT").some((listener) => !(passiveListener in listener))) return null;
    const interrupts = new CtrlC(loop, mainTask);
    host.on("SIGINT", interrupts.onSigint);
    return interrupts;
  }

  stop(): void {
    process.removeListener("SIGINT", this.onSigint);
  }

  private readonly onSigint = (): void => {
    // A program that handles SIGINT on the loop (loop.addSignalHandler) decides itself.
    if (this.loop.hasSignalHandler("SIGINT")) return;
    this.count++;
    if (this.count === 1 && !this.mainTask.done()) {
      this.mainTask.cancel();
      return;
    }
    this.stop();
    process.stderr.write("KeyboardInterrupt: second Ctrl-C, exiting at once\n");
    process.exit(130);
  };
}

function isMainThread(): boolean {
  return optionalBuiltin<{ isMainThread?: boolean }>("node:worker_threads")?.isMainThread !== false;
}

// Marks a signal listener of our own tooling that only cleans up (the
// inspector socket, the trace file) and leaves the decision to others.
const passiveListener = Symbol.for("asyncio-ts.passiveSignalListener");

/** @internal Marks `listener` as one that Ctrl-C handling need not step aside for. */
export function markPassive<F extends (...args: never[]) => void>(listener: F): F {
  return Object.assign(listener, { [passiveListener]: true });
}

// A KeyboardInterrupt that escapes the program exits with status 130, as in Python.
let exitStatusWatched = false;

function newKeyboardInterrupt(): KeyboardInterrupt {
  if (!exitStatusWatched) {
    exitStatusWatched = true;
    let uncaught = false;
    process.on("uncaughtExceptionMonitor", (error) => {
      if (error instanceof KeyboardInterrupt) uncaught = true;
    });
    process.on("exit", (code) => {
      if (uncaught && code === 1) process.exitCode = 130;
    });
  }
  return new KeyboardInterrupt();
}
