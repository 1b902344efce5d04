/**
 * Renders a trace as a self-contained HTML page: an overview of the whole
 * run (tasks alive, and how busy the loop was, per pixel column), then one
 * row per task, steps as solid bars, waits as light bars labelled with what
 * they waited for, and a time axis. Inline SVG only: no script, no network.
 *
 * A trace of any size renders in bounded memory and to a bounded page
 * (docs/decisions.md, "Traces of any size"): the events are read twice as
 * a stream (`TraceSource`), once to learn the time range and pick the rows,
 * once to draw. At most `maxRows` tasks get a row — all of them in a small
 * trace, else those that spent longest stepping — and each row is drawn at
 * pixel resolution: the steps and waits that fall in one pixel column merge
 * into one bar (a step wins over a wait), whose tooltip says how many it
 * holds. The overview counts every task.
 */
import type * as fs from "node:fs";
import { lazyBuiltin } from "../host.js";
import type { TraceEvent, TraceFile } from "./trace.js";
import { readTraceEvents } from "./trace-reader.js";

const fsApi = lazyBuiltin<typeof fs>("node:fs", "Writing a timeline");

/** Tasks that get a row of their own; the overview counts the others. */
export const maxRows = 200;

/**
 * The events of a trace, as a function that calls `visit` with each, in
 * order; it is called twice, so it must read its source again each time.
 */
export type TraceSource = (visit: (event: TraceEvent) => void) => void;

const left = 160;
const width = 1100;
const plot = width - left - 20;
const rowHeight = 26;
const chartHeight = 50;
const endings = new Set(["done", "failed", "cancelled"]);

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function trackName(event: TraceEvent): string {
  return String(event.args?.["name"] ?? event.tid);
}

interface TaskTally {
  tid: number;
  name: string;
  stepUs: number;
}

/** The `k` tallies with the most step time (ties: the earlier task), as a min-heap on that order. */
class Heaviest {
  readonly heap: TaskTally[] = [];
  constructor(private readonly k: number) {}

  private lighter(a: TaskTally, b: TaskTally): boolean {
    return a.stepUs < b.stepUs || (a.stepUs === b.stepUs && a.tid > b.tid);
  }

  offer(tally: TaskTally): void {
    const heap = this.heap;
    if (heap.length < this.k) {
      heap.push(tally);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!this.lighter(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
      return;
    }
    if (!this.lighter(heap[0]!, tally)) return;
    heap[0] = tally;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < heap.length && this.lighter(heap[l]!, heap[least]!)) least = l;
      if (r < heap.length && this.lighter(heap[r]!, heap[least]!)) least = r;
      if (least === i) break;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }
}

/** The first pass: the time range, how many tasks, and which get a row. Memory: the tasks alive at once, and `maxRows` tallies. */
class TraceSurvey {
  start = Infinity;
  end = -Infinity;
  tasks = 0;
  private readonly live = new Map<number, TaskTally>();
  private readonly heaviest = new Heaviest(maxRows);

  readonly visit = (event: TraceEvent): void => {
    if (event.ph === "M") {
      if (event.name !== "thread_name") return;
      const tally = this.live.get(event.tid);
      if (tally !== undefined) tally.name = trackName(event);
      else {
        this.tasks++;
        this.live.set(event.tid, { tid: event.tid, name: trackName(event), stepUs: 0 });
      }
      return;
    }
    const last = event.ts + (event.ph === "X" ? (event.dur ?? 0) : 0);
    if (event.ts < this.start) this.start = event.ts;
    if (last > this.end) this.end = last;
    const tally = this.live.get(event.tid);
    if (tally === undefined) return;
    if (event.ph === "X" && event.cat === "step") tally.stepUs += event.dur ?? 0;
    else if (event.ph === "i" && endings.has(event.name)) {
      this.live.delete(event.tid);
      this.heaviest.offer(tally);
    }
  };

  /** The tasks that get a row, in task order. */
  rows(): TaskTally[] {
    for (const tally of this.live.values()) this.heaviest.offer(tally);
    this.live.clear();
    return [...this.heaviest.heap].sort((a, b) => a.tid - b.tid);
  }
}

/** A bar of a row: pixel columns `from`..`to` (inclusive). */
interface Bar {
  kind: "step" | "wait";
  from: number;
  to: number;
  count: number;
  totalUs: number;
  /** The longest span merged into the bar: its name and length. */
  longestName: string;
  longestUs: number;
}

interface Row {
  name: string;
  bars: Bar[];
  /** Instants drawn, one per pixel column and kind. */
  instants: Map<number, string>;
}

/** The second pass: each row's bars at pixel resolution, and the overview's columns. Memory: bounded by rows x pixels. */
class TimelineDrawing {
  /** Tasks created minus tasks ended, per column (summed into the alive count when drawn). */
  readonly aliveDelta = new Float64Array(plot + 1);
  /** Microseconds of steps per column. */
  readonly busyUs = new Float64Array(plot);
  private readonly scale: number;

  constructor(
    readonly start: number,
    readonly span: number,
    readonly rows: Map<number, Row>,
  ) {
    this.scale = plot / span;
  }

  column(ts: number): number {
    return Math.min(plot - 1, Math.max(0, Math.floor((ts - this.start) * this.scale)));
  }

  readonly visit = (event: TraceEvent): void => {
    if (event.ph === "X") this.addSpan(event, event.dur ?? 0);
    else if (event.ph === "i") {
      if (event.name === "created") this.aliveDelta[this.column(event.ts)]! += 1;
      else if (endings.has(event.name)) this.aliveDelta[this.column(event.ts) + 1]! -= 1;
      const row = this.rows.get(event.tid);
      if (row === undefined) return;
      const key = this.column(event.ts) * 4 + (endings.has(event.name) ? ["done", "failed", "cancelled"].indexOf(event.name) + 1 : 0);
      if (!row.instants.has(key)) row.instants.set(key, event.name);
    }
  };

  private addSpan(event: TraceEvent, dur: number): void {
    const from = this.column(event.ts);
    const to = this.column(event.ts + dur);
    if (event.cat === "step") this.addBusy(event.ts, dur, from, to);
    const row = this.rows.get(event.tid);
    if (row === undefined) return;
    this.addBar(row.bars, event.cat === "wait" ? "wait" : "step", from, to, event.name, dur);
  }

  private addBusy(ts: number, dur: number, from: number, to: number): void {
    if (from === to) {
      this.busyUs[from]! += dur;
      return;
    }
    const columnUs = 1 / this.scale;
    for (let c = from; c <= to; c++) {
      const lo = Math.max(ts, this.start + c * columnUs);
      const hi = Math.min(ts + dur, this.start + (c + 1) * columnUs);
      if (hi > lo) this.busyUs[c]! += hi - lo;
    }
  }

  // A task's spans arrive in time order and never overlap, so a new one can
  // only touch the row's last bar: the same kind merges, a step takes the
  // pixels it shares with a wait, a wait never covers a step's pixels.
  private addBar(bars: Bar[], kind: "step" | "wait", from: number, to: number, name: string, dur: number): void {
    let last = bars[bars.length - 1];
    if (last !== undefined && last.to >= from - (last.kind === kind ? 1 : 0)) {
      if (last.kind === kind) {
        merge(last, to, name, dur);
        return;
      }
      if (kind === "wait") {
        if (last.to >= to) return;
        from = last.to + 1;
      } else {
        last.to = from - 1;
        if (last.to < last.from) {
          bars.pop();
          last = bars[bars.length - 1];
          if (last !== undefined && last.kind === "step" && last.to >= from - 1) {
            merge(last, to, name, dur);
            return;
          }
        }
      }
    }
    bars.push({ kind, from, to, count: 1, totalUs: dur, longestName: name, longestUs: dur });
  }
}

function merge(bar: Bar, to: number, name: string, dur: number): void {
  bar.to = Math.max(bar.to, to);
  bar.count++;
  bar.totalUs += dur;
  if (dur > bar.longestUs) {
    bar.longestUs = dur;
    bar.longestName = name;
  }
}

const seconds = (us: number): string => `${(us / 1e6).toFixed(3)} s`;

function barTitle(bar: Bar): string {
  if (bar.kind === "step") return bar.count === 1 ? `step (${bar.totalUs} µs)` : `${bar.count} steps, ${bar.totalUs} µs in all`;
  return bar.count === 1 ? `${bar.longestName} (${seconds(bar.longestUs)})` : `${bar.count} waits; the longest: ${bar.longestName} (${seconds(bar.longestUs)})`;
}

const instantColors: Record<string, string> = { failed: "#d33", cancelled: "#e90", done: "#2a2" };

/**
 * Writes the HTML page for the trace `source` reads, titled `title`, in
 * pieces through `write`; returns how many tasks the trace holds and how
 * many got a row.
 */
export function writeTimeline(source: TraceSource, write: (html: string) => void, title = "asyncio-ts timeline"): { tasks: number; rows: number } {
  const survey = new TraceSurvey();
  source(survey.visit);
  const picked = survey.rows();
  const start = Number.isFinite(survey.start) ? survey.start : 0;
  const span = Math.max(1, (Number.isFinite(survey.end) ? survey.end : 0) - start);
  const rows = new Map<number, Row>(picked.map((tally) => [tally.tid, { name: tally.name, bars: [], instants: new Map() }]));
  const drawing = new TimelineDrawing(start, span, rows);
  source(drawing.visit);

  const x = (column: number): number => left + column;
  const chartsTop = 40;
  const rowsTop = chartsTop + 2 * (chartHeight + 20) + 10;
  const height = rowsTop + rows.size * rowHeight + 40;
  write(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:16px;color:#222}h1{font-size:16px}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}</style>
</head><body>
<h1>${escape(title)}</h1>
<p class="legend">${survey.tasks} tasks, ${seconds(span)} of loop time${survey.tasks > rows.size ? `; a row for each of the ${rows.size} tasks that spent longest stepping, the overview counts all ${survey.tasks}` : ""}.
<span style="background:#2f6fdf"></span>step (the task ran)
<span style="background:#cfe0fb"></span>wait (hover for what it waited on)
<span style="background:#2a2;border-radius:6px"></span>done
<span style="background:#e90;border-radius:6px"></span>cancelled
<span style="background:#d33;border-radius:6px"></span>failed<br>To zoom into a stretch of time, open the same trace file in Perfetto or chrome://tracing.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">\n`);
  const ticks = 10;
  for (let i = 0; i <= ticks; i++) {
    const at = x((plot / ticks) * i);
    write(`<line x1="${at}" y1="${chartsTop - 6}" x2="${at}" y2="${height - 30}" stroke="#eee"/>\n`);
    write(`<text x="${at}" y="${height - 14}" text-anchor="middle">${seconds(start + (span / ticks) * i)}</text>\n`);
  }
  writeOverview(drawing, chartsTop, write);
  let index = 0;
  for (const row of rows.values()) {
    const y = rowsTop + index++ * rowHeight;
    write(`<text class="track" x="${left - 8}" y="${y + 16}" text-anchor="end">${escape(row.name)}</text>\n`);
    write(`<line x1="${left}" y1="${y + rowHeight - 2}" x2="${width - 20}" y2="${y + rowHeight - 2}" stroke="#f3f3f3"/>\n`);
    for (const bar of row.bars) {
      const w = bar.to - bar.from + 1;
      if (bar.kind === "wait") {
        write(`<rect class="wait" x="${x(bar.from)}" y="${y + 6}" width="${w}" height="12" fill="#cfe0fb"><title>${escape(barTitle(bar))}</title></rect>\n`);
        if (w > 60) write(`<text x="${x(bar.from) + 3}" y="${y + 16}" fill="#234">${escape(bar.longestName.replace(/^wait: /, ""))}</text>\n`);
      } else {
        write(`<rect class="step" x="${x(bar.from)}" y="${y + 4}" width="${w}" height="16" fill="#2f6fdf"><title>${escape(barTitle(bar))}</title></rect>\n`);
      }
    }
    for (const [key, name] of row.instants) {
      write(`<circle cx="${x(Math.floor(key / 4)) + 0.5}" cy="${y + 12}" r="3" fill="${instantColors[name] ?? "#888"}"><title>${escape(name)}</title></circle>\n`);
    }
  }
  write("</svg>\n</body></html>\n");
  return { tasks: survey.tasks, rows: rows.size };
}

/** The two charts over the whole run: tasks alive, and the share of each column's time spent in steps. */
function writeOverview(drawing: TimelineDrawing, top: number, write: (html: string) => void): void {
  const alive = new Float64Array(plot);
  let running = 0;
  let most = 1;
  for (let c = 0; c < plot; c++) {
    running = Math.max(0, running + drawing.aliveDelta[c]!);
    alive[c] = running;
    if (running > most) most = running;
  }
  const columnUs = drawing.span / plot;
  const charts: Array<{ label: string; value: (c: number) => number; fill: string; tip: (c: number) => string }> = [
    { label: `tasks alive (max ${most})`, value: (c) => alive[c]! / most, fill: "#8aa8d8", tip: (c) => `${alive[c]} tasks alive` },
    { label: "loop busy in steps", value: (c) => Math.min(1, drawing.busyUs[c]! / columnUs), fill: "#2f6fdf", tip: (c) => `${Math.round(Math.min(1, drawing.busyUs[c]! / columnUs) * 100)}% in steps` },
  ];
  charts.forEach((chart, i) => {
    const y = top + i * (chartHeight + 20);
    write(`<text class="overview" x="${left - 8}" y="${y + chartHeight / 2 + 4}" text-anchor="end">${escape(chart.label)}</text>\n`);
    write(`<rect x="${left}" y="${y}" width="${plot}" height="${chartHeight}" fill="none" stroke="#ddd"/>\n`);
    // One bar per run of columns of the same height (in whole pixels): flat stretches cost one element.
    let from = 0;
    for (let c = 1; c <= plot; c++) {
      const h = Math.round(chart.value(from) * chartHeight);
      if (c < plot && Math.round(chart.value(c) * chartHeight) === h) continue;
      if (h > 0) write(`<rect class="overview-bar" x="${left + from}" y="${y + chartHeight - h}" width="${c - from}" height="${h}" fill="${chart.fill}"><title>${escape(chart.tip(from))}</title></rect>\n`);
      from = c;
    }
  });
}

/** The HTML page for `trace`, titled `title`. */
export function renderTimeline(trace: TraceFile, title = "asyncio-ts timeline"): string {
  const parts: string[] = [];
  writeTimeline((visit) => trace.traceEvents.forEach((event) => visit(event)), (html) => void parts.push(html), title);
  return parts.join("");
}

/**
 * Renders the trace file `input` to the HTML file `output`, both streamed:
 * the trace is read twice in chunks and the page written in pieces, so a
 * trace of any size takes bounded memory. Returns the events and tasks read.
 */
export function renderTimelineFile(input: string, output: string, title = "asyncio-ts timeline"): { events: number; tasks: number; rows: number } {
  let events = 0;
  const fd = fsApi.openSync(output, "w");
  try {
    let pending = "";
    const result = writeTimeline(
      (visit) => void (events = readTraceEvents(input, visit)),
      (html) => {
        pending += html;
        if (pending.length >= 1 << 16) {
          fsApi.writeSync(fd, pending);
          pending = "";
        }
      },
      title,
    );
    fsApi.writeSync(fd, pending);
    return { events, ...result };
  } finally {
    fsApi.closeSync(fd);
  }
}
