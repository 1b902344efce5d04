/**
 * A timeline of a run in Trace Event Format (the JSON that Perfetto and
 * Chrome's tracing view open): one track per task, with when it was created,
 * each step it ran, each wait and what for, and how it ended. Enabled by
 * `run(main, { trace: "run.json" })` or `ASYNCIO_TS_TRACE=run.json`; costs
 * nothing when off (the loop's instrument stays null).
 *
 * Times are the loop's clock, so under a virtual clock the timeline shows
 * virtual seconds: the chapter's sequential-vs-gather lesson at its real scale.
 *
 * A traced run streams its events to the file as they happen (trace-file.ts),
 * so its memory stays flat however many tasks it runs, and the file is
 * complete, valid JSON after every ending: `run()` returning or rejecting, an
 * uncaught exception, `process.exit()`, SIGTERM, SIGINT, SIGHUP (see
 * endings.ts). A file that cannot be written is a warning, never a failed run.
 */
import type { EventLoop, LoopInstrument } from "../events.js";
import { GatheringFuture } from "../gather.js";
import type { Future } from "../futures.js";
import { addRunSetup } from "../runners.js";
import { sleepDeadline } from "../sleep.js";
import { Task } from "../tasks.js";
import { onEnding } from "./endings.js";
import { TraceFileWriter } from "./trace-file.js";

/** One Trace Event Format event. */
export interface TraceEvent {
  name: string;
  ph: "X" | "i" | "M";
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: "t";
  cat?: string;
  args?: Record<string, unknown>;
}

/** The file written: `{ traceEvents, displayTimeUnit }`. */
export interface TraceFile {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms";
}

function describeWait(future: Future<unknown> | null): string {
  if (future === null) return "ready";
  if (future instanceof Task) return `task ${future.getName()}`;
  if (future instanceof GatheringFuture) return `gather of ${future.children.length}`;
  const deadline = sleepDeadline(future);
  if (deadline !== null) return `sleep until ${deadline.toFixed(3)}`;
  return "future";
}

/** Where a `TaskTracer` sends each event as it happens. */
export type TraceSink = (event: TraceEvent) => void;

/** The JSON text of `event`, written field by field (several times faster than `JSON.stringify` of the object). */
export function traceEventJSON(event: TraceEvent): string {
  let text = `{"name":${JSON.stringify(event.name)},"ph":"${event.ph}","ts":${event.ts}`;
  if (event.dur !== undefined) text += `,"dur":${event.dur}`;
  text += `,"pid":${event.pid},"tid":${event.tid}`;
  if (event.s !== undefined) text += `,"s":"${event.s}"`;
  if (event.cat !== undefined) text += `,"cat":${JSON.stringify(event.cat)}`;
  if (event.args !== undefined) text += `,"args":${JSON.stringify(event.args)}`;
  return `${text}}`;
}

/**
 * Records task events on a loop. Without a sink it keeps them, and
 * `toJSON()` gives the trace; with one (as `run()` does, streaming to the
 * file) it keeps nothing and `toJSON()` has no events.
 */
export class TaskTracer implements LoopInstrument {
  private readonly events: TraceEvent[] = [];
  private readonly emit: TraceSink;
  private readonly ids = new WeakMap<Task<unknown>, number>();
  private readonly stepStart = new WeakMap<Task<unknown>, number>();
  private readonly waitStart = new WeakMap<Task<unknown>, { ts: number; what: string }>();
  private nextId = 1;

  constructor(
    private readonly loop: EventLoop,
    sink?: TraceSink,
  ) {
    this.emit = sink ?? ((event) => void this.events.push(event));
  }

  private now(): number {
    return Math.round(this.loop.time() * 1e6);
  }

  private idOf(task: Task<unknown>): number {
    let id = this.ids.get(task);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(task, id);
      this.emit({ name: "thread_name", ph: "M", ts: 0, pid: 1, tid: id, args: { name: task.getName() } });
    }
    return id;
  }

  /** A task was created (LoopInstrument hook). */
  taskCreated(task: Task<unknown>): void {
    const tid = this.idOf(task);
    const ts = this.now();
    this.emit({ name: "created", ph: "i", s: "t", ts, pid: 1, tid });
    this.waitStart.set(task, { ts, what: "first step" });
  }

  /** A task step began (LoopInstrument hook). */
  stepStarted(task: Task<unknown>): void {
    const tid = this.idOf(task);
    const ts = this.now();
    const waiting = this.waitStart.get(task);
    if (waiting !== undefined) {
      this.emit({ name: `wait: ${waiting.what}`, cat: "wait", ph: "X", ts: waiting.ts, dur: ts - waiting.ts, pid: 1, tid });
      this.waitStart.delete(task);
    }
    this.stepStart.set(task, ts);
  }

  /** A task step ended (LoopInstrument hook). */
  stepEnded(task: Task<unknown>): void {
    const tid = this.idOf(task);
    const ts = this.now();
    const started = this.stepStart.get(task) ?? ts;
    // A step shorter than a microsecond of loop time still shows as one.
    this.emit({ name: "step", cat: "step", ph: "X", ts: started, dur: Math.max(1, ts - started), pid: 1, tid });
    if (!task.done()) this.waitStart.set(task, { ts, what: describeWait(task.getWaitingOn()) });
  }

  /** A task finished (LoopInstrument hook). */
  taskDone(task: Task<unknown>): void {
    const outcome = task.cancelled() ? "cancelled" : task.exception() !== null ? "failed" : "done";
    this.emit({ name: outcome, ph: "i", s: "t", ts: this.now(), pid: 1, tid: this.idOf(task) });
  }

  /** The trace so far, in Trace Event Format. */
  toJSON(): TraceFile {
    return { traceEvents: this.events, displayTimeUnit: "ms" };
  }
}

addRunSetup((loop, options) => {
  const path = options.trace ?? process.env["ASYNCIO_TS_TRACE"];
  if (path === undefined || path === "") return;
  const file = new TraceFileWriter(path, () => {
    if (loop.instrument === tracer) loop.instrument = null;
  });
  if (!file.ok) return;
  const tracer = new TaskTracer(loop, (event) => file.append(traceEventJSON(event)));
  loop.instrument = tracer;
  const unregister = onEnding(() => file.checkpoint());
  return () => {
    unregister();
    if (loop.instrument === tracer) loop.instrument = null;
    file.close();
    return file.closed();
  };
});
