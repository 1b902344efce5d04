/**
 * A timeline of a run in Trace Event Format (the JSON that Perfetto and
 * Chrome's tracing view open): one track per task, with when it was created,
 * each step it ran, each wait and what for, and how it ended. Enabled by
 * `run(main, { trace: "run.json" })` or `ASYNCIO_TS_TRACE=run.json`; costs
 * nothing when off (the loop's instrument stays null).
 *
 * Times are the loop's clock, so under a virtual clock the timeline shows
 * virtual seconds: the chapter's sequential-vs-gather lesson at its real scale.
 */
import { writeFileSync } from "node:fs";
import type { EventLoop, LoopInstrument } from "../events.js";
import { GatheringFuture } from "../gather.js";
import type { Future } from "../futures.js";
import { addRunSetup } from "../runners.js";
import { sleepDeadline } from "../sleep.js";
import { Task } from "../tasks.js";

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

/** Records task events on a loop; `toJSON()` gives the trace. */
export class TaskTracer implements LoopInstrument {
  private readonly events: TraceEvent[] = [];
  private readonly ids = new WeakMap<Task<unknown>, number>();
  private readonly stepStart = new WeakMap<Task<unknown>, number>();
  private readonly waitStart = new WeakMap<Task<unknown>, { ts: number; what: string }>();
  private nextId = 1;

  constructor(private readonly loop: EventLoop) {}

  private now(): number {
    return Math.round(this.loop.time() * 1e6);
  }

  private idOf(task: Task<unknown>): number {
    let id = this.ids.get(task);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(task, id);
      this.events.push({ name: "thread_name", ph: "M", ts: 0, pid: 1, tid: id, args: { name: task.getName() } });
    }
    return id;
  }

  /** A task was created (LoopInstrument hook). */
  taskCreated(task: Task<unknown>): void {
    const tid = this.idOf(task);
    const ts = this.now();
    this.events.push({ name: "created", ph: "i", s: "t", ts, pid: 1, tid });
    this.waitStart.set(task, { ts, what: "first step" });
  }

  /** A task step began (LoopInstrument hook). */
  stepStarted(task: Task<unknown>): void {
    const tid = this.idOf(task);
    const ts = this.now();
    const waiting = this.waitStart.get(task);
    if (waiting !== undefined) {
      this.events.push({ name: `wait: ${waiting.what}`, cat: "wait", ph: "X", ts: waiting.ts, dur: ts - waiting.ts, pid: 1, tid });
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
    this.events.push({ name: "step", cat: "step", ph: "X", ts: started, dur: Math.max(1, ts - started), pid: 1, tid });
    if (!task.done()) this.waitStart.set(task, { ts, what: describeWait(task.getWaitingOn()) });
  }

  /** A task finished (LoopInstrument hook). */
  taskDone(task: Task<unknown>): void {
    const outcome = task.cancelled() ? "cancelled" : task.exception() !== null ? "failed" : "done";
    this.events.push({ name: outcome, ph: "i", s: "t", ts: this.now(), pid: 1, tid: this.idOf(task) });
  }

  /** The trace so far, in Trace Event Format. */
  toJSON(): TraceFile {
    return { traceEvents: this.events, displayTimeUnit: "ms" };
  }
}

addRunSetup((loop, options) => {
  const path = options.trace ?? process.env["ASYNCIO_TS_TRACE"];
  if (path === undefined || path === "") return;
  const tracer = new TaskTracer(loop);
  loop.instrument = tracer;
  return () => writeFileSync(path, JSON.stringify(tracer.toJSON()));
});
