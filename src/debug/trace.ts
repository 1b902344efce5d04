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
import { hostEnv } from "../host.js";
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

interface WaitMark {
  ts: number;
  what: string;
}

/**
 * Where a `TaskTracer` sends each event as it happens: as an object
 * (`event`), or as its JSON text (`json`, what the file writer takes; no
 * object is made then).
 */
export type TraceOutput =
  | {
      /** Receives each event as an object. */
      event(event: TraceEvent): void;
    }
  | {
      /** Receives each event as its JSON text. */
      json(text: string): void;
    };

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

/** The three shapes of event a tracer emits. */
interface Emitter {
  /** The track's name (`thread_name` metadata). */
  named(tid: number, name: string): void;
  /** A thread-scoped instant: created, done, failed, cancelled. */
  instant(name: string, ts: number, tid: number): void;
  /** A complete span: a step or a wait. */
  span(name: string, cat: "step" | "wait", ts: number, dur: number, tid: number): void;
}

function objectEmitter(event: (event: TraceEvent) => void): Emitter {
  return {
    named: (tid, name) => event({ name: "thread_name", ph: "M", ts: 0, pid: 1, tid, args: { name } }),
    instant: (name, ts, tid) => event({ name, ph: "i", s: "t", ts, pid: 1, tid }),
    span: (name, cat, ts, dur, tid) => event({ name, cat, ph: "X", ts, dur, pid: 1, tid }),
  };
}

/** Writes the same JSON as `traceEventJSON` of the objects, without making them. */
function textEmitter(json: (text: string) => void): Emitter {
  return {
    named: (tid, name) => json(`{"name":"thread_name","ph":"M","ts":0,"pid":1,"tid":${tid},"args":{"name":${JSON.stringify(name)}}}`),
    instant: (name, ts, tid) => json(`{"name":"${name}","ph":"i","ts":${ts},"pid":1,"tid":${tid},"s":"t"}`),
    span: (name, cat, ts, dur, tid) => json(`{"name":${JSON.stringify(name)},"ph":"X","ts":${ts},"dur":${dur},"pid":1,"tid":${tid},"cat":"${cat}"}`),
  };
}

/**
 * Records task events on a loop. Without an output it keeps them, and
 * `toJSON()` gives the trace; with one (as `run()` does, streaming to the
 * file) it keeps nothing and `toJSON()` has no events.
 */
export class TaskTracer implements LoopInstrument {
  private readonly events: TraceEvent[] = [];
  private readonly out: Emitter;
  // Per-task state lives in a Map keyed by the task's number, deleted when
  // the task is done: memory follows the live tasks only, and (unlike
  // WeakMaps, whose ephemeron tables made each GC slower with every live
  // task) costs the collector nothing special. The track id (`tid`) is the
  // task's number.
  private readonly waitStart = new Map<number, WaitMark>();
  // Steps never nest (one task steps at a time), so one start time suffices.
  private stepStart = 0;

  constructor(
    private readonly loop: EventLoop,
    output?: TraceOutput,
  ) {
    if (output === undefined) this.out = objectEmitter((event) => void this.events.push(event));
    else if ("json" in output) this.out = textEmitter((text) => output.json(text));
    else this.out = objectEmitter((event) => output.event(event));
  }

  private now(): number {
    return Math.round(this.loop.time() * 1e6);
  }

  /** A task was created (LoopInstrument hook). */
  taskCreated(task: Task<unknown>): void {
    const tid = task.taskId;
    const ts = this.now();
    this.out.named(tid, task.getName());
    this.out.instant("created", ts, tid);
    this.waitStart.set(tid, { ts, what: "first step" });
  }

  /** A task step began (LoopInstrument hook). */
  stepStarted(task: Task<unknown>): void {
    const tid = task.taskId;
    const ts = this.now();
    const waiting = this.waitStart.get(tid);
    if (waiting !== undefined) {
      this.out.span(`wait: ${waiting.what}`, "wait", waiting.ts, ts - waiting.ts, tid);
      this.waitStart.delete(tid);
    } else {
      // First seen now: created before the tracer was installed.
      this.out.named(tid, task.getName());
    }
    this.stepStart = ts;
  }

  /** A task step ended (LoopInstrument hook). */
  stepEnded(task: Task<unknown>): void {
    const tid = task.taskId;
    const ts = this.now();
    const started = Math.min(this.stepStart, ts);
    // A step shorter than a microsecond of loop time still shows as one.
    this.out.span("step", "step", started, Math.max(1, ts - started), tid);
    if (!task.done()) this.waitStart.set(tid, { ts, what: describeWait(task.getWaitingOn()) });
  }

  /** A task finished (LoopInstrument hook). */
  taskDone(task: Task<unknown>): void {
    const tid = task.taskId;
    this.waitStart.delete(tid);
    this.out.instant(task.cancelled() ? "cancelled" : task.exception() !== null ? "failed" : "done", this.now(), tid);
  }

  /** The trace so far, in Trace Event Format. */
  toJSON(): TraceFile {
    return { traceEvents: this.events, displayTimeUnit: "ms" };
  }
}

addRunSetup((loop, options) => {
  const path = options.trace ?? hostEnv("ASYNCIO_TS_TRACE");
  if (path === undefined || path === "") return;
  let tracer: TaskTracer | null = null;
  // A file that fails (at open or later) stops the tracing; the run goes on.
  const file = new TraceFileWriter(path, () => {
    if (tracer !== null && loop.instrument === tracer) loop.instrument = null;
  });
  if (!file.ok) return;
  tracer = new TaskTracer(loop, { json: (text) => file.append(text) });
  loop.instrument = tracer;
  const unregister = onEnding(() => file.checkpoint());
  return () => {
    unregister();
    if (loop.instrument === tracer) loop.instrument = null;
    file.close();
    return file.closed();
  };
});
