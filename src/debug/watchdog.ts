/**
 * The stall watchdog (`run(main, { watchdog: seconds })`, `Runner({ watchdog })`
 * or env `ASYNCIO_TS_WATCHDOG=seconds`): a watcher thread notices that the
 * loop has been inside one turn for that long — a step or callback is
 * blocking the thread — and reports it through the loop's exception handler
 * *while the stall goes on*, with the task whose step is running and the main
 * thread's JavaScript stack; then one line when the stall ends, with its total.
 *
 * How a report gets out of a blocked thread (docs/decisions.md, "Stall
 * watchdog"): the loop bumps a shared turn counter at the start and the end
 * of every turn (odd while a turn runs). The watcher, a worker thread polling
 * that counter, sees it odd and unchanged for `seconds`; it then connects an
 * inspector session to the main thread (`Session.connectToMainThread()`) and
 * sends it a `Runtime.evaluate` of a call of the reporter registered below.
 * Node hands a message from another thread to the main thread's inspector as
 * a V8 interrupt, which the busy code serves at its next interrupt check (any
 * loop back-edge or call): the call runs on the main thread, on top of the
 * blocked stack, so it can read the running task, `new Error().stack` holds
 * the culprit's frames, and it calls the exception handler and schedules the
 * "stall ended" line for when the blocked turn returns. Then the watcher
 * disconnects. No debugger domain is ever enabled and no session exists
 * while the loop is healthy.
 *
 * Where the inspector cannot reach the loop's thread (a loop in a worker
 * thread, a host without `node:inspector`), the watcher posts a message; it
 * is read once the stall is over, and the report then says so: it has the
 * total but neither the task nor the stack.
 */
import type * as workerThreads from "node:worker_threads";
import type { EventLoop, ExceptionContext } from "../events.js";
import { hostEnv, hostProcess, lazyBuiltin } from "../host.js";
import { addRunSetup } from "../runners.js";
import { currentTask } from "../tasks.js";
import { warn } from "./endings.js";

const workerThreadsApi = lazyBuiltin<typeof workerThreads>("node:worker_threads", "The stall watchdog");

/** What the watcher thread is given. */
interface WatcherData {
  id: number;
  turnCounter: SharedArrayBuffer;
  thresholdMs: number;
  pollMs: number;
  /** Why the inspector cannot reach the loop's thread, or `null` when it can. */
  noInspector: string | null;
  /** When the watchdog was set up (`performance.timeOrigin + performance.now()`). */
  startedAt: number;
}

/** What the watcher posts when it could not report through the inspector. */
interface LateReport {
  since: number;
  reason: string;
}

// The watcher, as plain CommonJS evaluated in a worker thread: no file to
// resolve next to a bundled or transpiled copy of this module.
const watcherSource = `
const { workerData, parentPort } = require("node:worker_threads");
const { id, thresholdMs, pollMs, noInspector, startedAt } = workerData;
const turnCounter = new Int32Array(workerData.turnCounter);
const now = () => performance.timeOrigin + performance.now();
// A turn already under way when this thread starts began after the watchdog was set up: count from then.
let seen = Atomics.load(turnCounter, 0);
let since = startedAt;
let reported = false;
function check() {
  const turn = Atomics.load(turnCounter, 0);
  const at = now();
  if (turn !== seen) {
    seen = turn;
    since = at;
    reported = false;
  } else if ((turn & 1) === 1 && !reported && at - since >= thresholdMs) {
    reported = true;
    report(turn, since);
  }
  setTimeout(check, pollMs);
}
function post(session, method, params) {
  return new Promise((resolve, reject) => session.post(method, params || {}, (error, result) => (error ? reject(error) : resolve(result))));
}
async function report(turn, since) {
  if (noInspector !== null) return parentPort.postMessage({ since, reason: noInspector });
  let session = null;
  try {
    const { Session } = require("node:inspector");
    session = new Session();
    session.connectToMainThread();
    const call = "globalThis[Symbol.for('asyncio-ts.watchdog')](" + id + "," + turn + "," + since + ")";
    const { exceptionDetails } = await post(session, "Runtime.evaluate", { expression: call });
    if (exceptionDetails !== undefined) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
  } catch (error) {
    parentPort.postMessage({ since, reason: "the inspector failed: " + String(error && error.message) });
  } finally {
    try {
      if (session !== null) session.disconnect();
    } catch {}
  }
}
setTimeout(check, pollMs);
`;

/** Seconds since `epochMs` (a time on `performance.timeOrigin`'s scale, any thread's). */
function secondsSince(epochMs: number): number {
  return Math.max(0, performance.timeOrigin + performance.now() - epochMs) / 1000;
}

/** The frames of the blocked stack: what a stack trace taken inside the inspector's evaluation shows under it. */
function blockedStack(): string {
  const holder = { stack: "" };
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  try {
    Error.captureStackTrace(holder, reportFromInspector);
  } finally {
    Error.stackTraceLimit = limit;
  }
  // The first line is the header, then the inspector's evaluation (`<anonymous>`), then the blocked code.
  const frames = holder.stack.split("\n").slice(1);
  while (frames.length > 0 && /^\s*at <anonymous>:\d+:\d+$/.test(frames[0]!)) frames.shift();
  return frames.join("\n");
}

/** One loop's reports of its stalls (the watcher reports each stall once). */
class Watchdog {
  constructor(
    private readonly loop: EventLoop,
    readonly turnCounter: Int32Array,
  ) {}

  /** Reports the stall of `turn`, blocked since `since`: called on the blocked main thread, from the inspector's interrupt. */
  reportDuringStall(turn: number, since: number): void {
    // The interrupt is served at the next check in JavaScript; for a thread
    // blocked in a native call that is once the call returns, maybe after the turn ended.
    const context: ExceptionContext = { message: "event loop blocked", blockedFor: secondsSince(since) };
    if (Atomics.load(this.turnCounter, 0) === turn) {
      // Inside a turn the loop is running, so currentTask() does not throw.
      const task = currentTask();
      if (task !== null) context.task = task;
      if (task?.sourceTraceback !== undefined) context.sourceTraceback = task.sourceTraceback;
      context.stack = blockedStack();
      /* c8 ignore start */
    } else {
      // A race (the turn ended between the watcher's look and the interrupt) that no test can time.
      context.stack = "unavailable: the stall ended before the inspector could interrupt the thread";
    }
    /* c8 ignore stop */
    this.loop.callExceptionHandler(context);
    // Runs when the blocked turn has returned: the stall is over.
    setImmediate(() => this.reportEnd(since));
  }

  /** Reports a stall after it ended, when the inspector could not pause the thread. */
  reportAfterStall({ since, reason }: LateReport): void {
    this.loop.callExceptionHandler({ message: "event loop blocked", blockedFor: secondsSince(since), stack: `unavailable: ${reason}; the report is late, the stall is over` });
    this.reportEnd(since);
  }

  private reportEnd(since: number): void {
    const total = secondsSince(since);
    this.loop.callExceptionHandler({ message: `event loop unblocked after ${total.toFixed(3)} s`, blockedFor: total });
  }
}

// The reporters the watchers can reach on a blocked main thread, by watchdog id.
const watchdogs = new Map<number, Watchdog>();
let nextWatchdogId = 1;

function reportFromInspector(id: number, turn: number, since: number): void {
  watchdogs.get(id)?.reportDuringStall(turn, since);
}
(globalThis as Record<symbol, unknown>)[Symbol.for("asyncio-ts.watchdog")] = reportFromInspector;

/** Why the inspector cannot reach this thread, or `null` when it can. */
function inspectorUnavailable(): string | null {
  if (!workerThreadsApi.isMainThread) return "the loop runs in a worker thread, and node:inspector reaches only the main thread";
  // Hosts without node:inspector (Bun, Deno) run no watchdog test.
  /* c8 ignore next */
  if (hostProcess()?.features?.inspector !== true) return "this host has no node:inspector";
  return null;
}

/** The watchdog's threshold from the options or the environment, in seconds; `null` for none. */
function thresholdSeconds(option: number | undefined): number | null {
  if (option !== undefined) return option;
  const text = hostEnv("ASYNCIO_TS_WATCHDOG");
  if (text === undefined || text === "" || text === "0") return null;
  const seconds = Number(text);
  if (!(seconds >= 0.001 && seconds < Infinity)) {
    warn(`ASYNCIO_TS_WATCHDOG=${text} is not a number of seconds (>= 0.001); no watchdog`);
    return null;
  }
  return seconds;
}

addRunSetup((loop, options) => {
  const seconds = thresholdSeconds(options.watchdog);
  if (seconds === null) return;
  const id = nextWatchdogId++;
  const turnCounter = new Int32Array(new SharedArrayBuffer(4));
  const data: WatcherData = {
    id,
    turnCounter: turnCounter.buffer as SharedArrayBuffer,
    thresholdMs: seconds * 1000,
    // A tenth of the threshold: the stall is seen within 10% of it.
    pollMs: Math.min(100, Math.max(1, (seconds * 1000) / 10)),
    noInspector: inspectorUnavailable(),
    startedAt: performance.timeOrigin + performance.now(),
  };
  let watcher: workerThreads.Worker;
  try {
    // No inherited flags (a loader such as tsx would load into the thread for nothing), a small heap.
    watcher = new workerThreadsApi.Worker(watcherSource, { eval: true, workerData: data, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    /* c8 ignore start */
  } catch (error) {
    // A host that has worker_threads but cannot start a thread (resource limits): no test reaches it.
    warn(`the stall watchdog could not start a thread (${(error as Error).message}); no watchdog`);
    return;
  }
  /* c8 ignore stop */
  const watchdog = new Watchdog(loop, turnCounter);
  watcher.unref();
  watcher.on("message", (late: LateReport) => watchdog.reportAfterStall(late));
  watcher.on("error", (error) => warn(`the stall watchdog's thread failed (${error.message}); no watchdog`));
  watchdogs.set(id, watchdog);
  loop.turnCounter = turnCounter;
  return async () => {
    if (loop.turnCounter === turnCounter) loop.turnCounter = null;
    watchdogs.delete(id);
    await watcher.terminate();
  };
});
