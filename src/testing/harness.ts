/**
 * The core of the testing kit: run a test body as the main task of a fresh
 * loop and collect everything that should fail the test — the body's error,
 * a timeout (with the await graph of every live task), tasks left pending,
 * reports to the loop's exception handler (an error in a callback), a
 * failed future whose exception nobody read ("never retrieved"), and OS
 * resources left open.
 */
import type { ClockOption } from "../clocks.js";
import type { Coro } from "../coroutines.js";
import { formatTaskGraphs } from "../debug/graph.js";
import { type EventLoop, type ExceptionContext } from "../events.js";
import { getRunningLoop } from "../running-loop.js";
import type { TimerHandle } from "../handles.js";
import { run } from "../runners.js";
import { Task, currentTask } from "../tasks.js";
import { ResourceTracker } from "./resources.js";

/** Options of one test run (`asyncTest`, `coroutineTest`, `exploreSchedules`). */
export interface TestOptions {
  /** The loop's clock: `"virtual"` (default; time jumps to the next timer when idle), `"real"` or a `Clock`. */
  clock?: ClockOption;
  /**
   * Seconds after which the test is cancelled and fails, showing where each
   * live task waits: loop seconds, and also real seconds (so a test hung on
   * real work fails instead of hanging the run).
   */
  timeout?: number;
  /**
   * Under the virtual clock, how many real seconds outstanding real work (a
   * socket, a child process, an executor job, a bridged promise) may make no
   * progress before time jumps to the next deadline anyway (default 1, as
   * Trio's `MockClock(autojump_threshold)`); with nothing real outstanding,
   * time jumps at once.
   */
  autojumpThreshold?: number;
  /** Run each iteration's ready batch in a seeded random order (Trio's scheduler). */
  shuffle?: boolean;
  /** The shuffle's seed; random when omitted, and printed when the test fails. */
  seed?: number;
  /** Debug mode of the loop (slow-step warnings, task creation sites in the await graph). */
  debug?: boolean;
}

/** @internal What the harness checks; our own suite turns checks off for old tests. */
export interface HarnessOptions extends TestOptions {
  /** Fail when a task other than the body's is pending when the body returns (default true). */
  checkTasks?: boolean;
  /** Fail when a socket, server, pipe, child process or worker opened in the test is still open (default true). */
  checkResources?: boolean;
  /** Fail when a future or task failed and nobody read its exception (default true). */
  checkUnretrieved?: boolean;
  /** Names the main task (by default it keeps the loop's "Task-N"). */
  name?: string;
}

/** @internal Everything one run of a test body produced. */
export interface TestOutcome<T> {
  value?: T;
  /** What the run rejected with (the body's error, or the CancelledError of a timeout). */
  error?: unknown;
  /** Set when the timeout fired: the message, with the await graph. */
  timedOut: string | null;
  /** Tasks still pending when the body returned, each with where it waits. */
  pendingTasks: string[];
  /** What the loop's exception handler received. */
  reports: ExceptionContext[];
  /** OS resources opened in the test and still open at its end. */
  openResources: string[];
  /** The loop's schedule seed, `null` without shuffling. */
  scheduleSeed: number | null;
}


function liveTasksOf(loop: EventLoop, except: Task<unknown> | null): Task<unknown>[] {
  return [...loop.liveTasks].filter((task) => task !== except);
}

// Python's messages for a failed future or task nobody read.
const neverRetrieved = /^(Task|Future) exception was never retrieved$/;

/**
 * @internal Runs `body` as the main task of a fresh loop and returns what
 * happened; never rejects.
 */
export async function runTestBody<T>(body: () => Coro<T>, options: HarnessOptions = {}): Promise<TestOutcome<T>> {
  const outcome: TestOutcome<T> = { timedOut: null, pendingTasks: [], reports: [], openResources: [], scheduleSeed: null };
  const checkTasks = options.checkTasks ?? true;
  const tracker = (options.checkResources ?? true) ? new ResourceTracker() : null;
  let collecting = true;
  // Set once the body is over: what the loop reports at its close comes after.
  let bodyOver = false;
  const checkUnretrieved = options.checkUnretrieved ?? true;
  const timeout = options.timeout;
  if (timeout !== undefined && !(timeout > 0)) throw new RangeError(`timeout must be a positive number of seconds, got ${String(timeout)}`);

  function* main(): Coro<T> {
    const loop = getRunningLoop();
    const self = currentTask();
    if (options.name !== undefined) self?.setName(options.name);
    outcome.scheduleSeed = loop.scheduleSeed;
    loop.setExceptionHandler((_loop, context) => {
      // The loop reports a failed future nobody read when it closes, after
      // the body; with that check off (our own older tests), those are let go.
      if (!checkUnretrieved && bodyOver && neverRetrieved.test(context.message)) return;
      if (collecting) outcome.reports.push(context);
      else loop.defaultExceptionHandler(context);
    });
    let timer: TimerHandle | null = null;
    let realTimer: ReturnType<typeof setTimeout> | null = null;
    if (timeout !== undefined) {
      const timeOut = (clock: string): void => {
        if (outcome.timedOut !== null) return;
        const graph = formatTaskGraphs(liveTasksOf(loop, null), loop.time());
        outcome.timedOut = `timed out after ${timeout} s of ${clock}; where each live task waits:\n${graph}`;
        self?.cancel(`test timed out after ${timeout} s`);
      };
      timer = loop.callLater(timeout, timeOut, "loop time");
      // Also in real time: real work that hangs (a child, a socket) must not hang the run.
      realTimer = setTimeout(() => {
        if (!loop.isClosed()) loop.callSoon(timeOut, "real time");
      }, Math.min(timeout * 1000, 2 ** 31 - 1));
    }
    let value: T;
    try {
      value = yield* body();
    } finally {
      timer?.cancel();
      if (realTimer !== null) clearTimeout(realTimer);
      bodyOver = true;
    }
    if (checkTasks) {
      const pending = liveTasksOf(loop, self);
      if (pending.length > 0) outcome.pendingTasks = formatTaskGraphs(pending, loop.time()).split(/\n(?=\* )/);
    }
    return value;
  }

  tracker?.start();
  try {
    outcome.value = await run(main, {
      clock: options.clock ?? "virtual",
      ...(options.debug !== undefined ? { debug: options.debug } : {}),
      ...(options.shuffle !== undefined ? { shuffle: options.shuffle } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.autojumpThreshold !== undefined ? { autojumpThreshold: options.autojumpThreshold } : {}),
    });
  } catch (error) {
    outcome.error = error;
  }
  collecting = false;
  if (tracker !== null) outcome.openResources = await tracker.stop();
  return outcome;
}

function describeReport(context: ExceptionContext): string {
  const exception = context.exception;
  const detail = exception === undefined ? "" : `: ${exception instanceof Error ? `${exception.name}: ${exception.message}` : String(exception)}`;
  const task = context.task;
  const taskName = task instanceof Task ? task.getName() : context["taskName"];
  const name = typeof taskName === "string" ? ` (task ${JSON.stringify(taskName)})` : "";
  return `${context.message}${name}${detail}`;
}

/** The line that tells how to replay a shuffled schedule. */
export function seedLine(seed: number): string {
  return `schedule seed ${seed} (reproduce with { shuffle: true, seed: ${seed} })`;
}

function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || (typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string");
}

// Appends the seed line to an Error's message (and to the first line of its
// stack, which test runners print); anything else is wrapped.
function withSeed(error: unknown, seed: number | null): unknown {
  if (seed === null) return error;
  const line = seedLine(seed);
  // Duck-typed: Jest runs tests in a vm context, where node:assert's errors are another realm's Error.
  if (!isErrorLike(error)) return new Error(`test failed: ${String(error)}\n${line}`, { cause: error });
  try {
    const message = error.message;
    error.message = `${message}\n${line}`;
    if (typeof error.stack === "string") {
      const at = message === "" ? -1 : error.stack.indexOf(message);
      error.stack = at >= 0 ? error.stack.slice(0, at) + error.message + error.stack.slice(at + message.length) : `${line}\n${error.stack}`;
    }
    return error;
  } catch {
    return new Error(`${String(error)}\n${line}`, { cause: error });
  }
}

/**
 * @internal The error a failed run reports, `null` when it passed. The
 * body's own error is thrown as it is (the original object, the seed line
 * appended when shuffling); the kit's checks give one Error listing each.
 */
export function failureOf(outcome: TestOutcome<unknown>, label = "test"): unknown {
  const seed = outcome.scheduleSeed;
  if (outcome.timedOut !== null) {
    return withSeed(new Error(`${label} ${outcome.timedOut}`, { cause: outcome.error }), seed);
  }
  if ("error" in outcome) return withSeed(outcome.error, seed);
  const problems: string[] = [];
  if (outcome.pendingTasks.length > 0) {
    problems.push(`${outcome.pendingTasks.length === 1 ? "a task is" : `${outcome.pendingTasks.length} tasks are`} still pending after the body returned (await or cancel them):\n${outcome.pendingTasks.join("\n")}`);
  }
  if (outcome.reports.length > 0) {
    problems.push(`the loop's exception handler received:\n${outcome.reports.map((r) => `  ${describeReport(r)}`).join("\n")}`);
  }
  if (outcome.openResources.length > 0) {
    problems.push(`opened in the test and still open at its end: ${outcome.openResources.join(", ")}`);
  }
  if (problems.length === 0) return null;
  const exception = outcome.reports.find((r) => r.exception !== undefined)?.exception;
  const error = new Error(`${label} failed: ${problems.join("\n")}`, exception !== undefined ? { cause: exception } : undefined);
  return withSeed(error, seed);
}
