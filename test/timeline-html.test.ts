/**
 * The HTML timeline at size: a trace file of any size renders in bounded
 * memory, to a page that stays usable (an overview of every task, rows for
 * the tasks that stepped longest, bars merged to pixel resolution).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { renderTimeline, type TraceEvent } from "../src/index.js";
import { maxRows, renderTimelineFile } from "../src/debug/timeline-html.js";
import { writeSyntheticTrace } from "./fixtures/synthetic-trace.js";

const main = new URL("../src/cli/main.ts", import.meta.url).pathname;

function sandbox(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-timeline-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function page(events: TraceEvent[]): string {
  return renderTimeline({ displayTimeUnit: "ms", traceEvents: events });
}

const named = (tid: number, name: string): TraceEvent => ({ name: "thread_name", ph: "M", ts: 0, pid: 1, tid, args: { name } });
const span = (cat: "step" | "wait", ts: number, dur: number, tid: number, name = cat === "step" ? "step" : "wait: future"): TraceEvent => ({ name, cat, ph: "X", ts, dur, pid: 1, tid });
const instant = (name: string, ts: number, tid: number): TraceEvent => ({ name, ph: "i", s: "t", ts, pid: 1, tid });

test("asyncio-ts trace renders a 100k-task trace file (40 MB) with a 48 MB heap: a row for each of the 200 tasks that stepped longest, an overview of all", { timeout: 180_000 }, async (t) => {
  const dir = sandbox(t);
  const trace = join(dir, "100k.json");
  writeSyntheticTrace(trace, 100_000);
  assert.ok(statSync(trace).size > 30_000_000);
  const html = join(dir, "timeline.html");
  // Reading the whole file, or parsing it as one tree, takes several times this heap.
  const child = spawn(process.execPath, ["--max-old-space-size=48", "--import", "tsx", main, "trace", trace, "-o", html], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const code = await new Promise((resolve) => child.on("close", resolve));
  assert.equal(code, 0, output);
  assert.equal(output, `wrote ${html} (500203 events, 100001 tasks, a row for the 200 that spent longest stepping)\n`);
  const text = readFileSync(html, "utf8");
  assert.ok(text.length < 1_000_000, `${text.length} characters of HTML`);
  assert.equal((text.match(/class="track"/g) ?? []).length, maxRows);
  assert.match(text, /100001 tasks, 0\.500 s of loop time; a row for each of the 200 tasks that spent longest stepping, the overview counts all 100001\./);
  assert.match(text, /tasks alive \(max 1001\)/);
});

test("renderTimelineFile reads the trace twice and writes the page, returning what it read", (t) => {
  const dir = sandbox(t);
  const trace = join(dir, "small.json");
  writeSyntheticTrace(trace, 10);
  const result = renderTimelineFile(trace, join(dir, "out.html"), "small");
  assert.deepEqual(result, { events: 55, tasks: 11, rows: 11 });
  assert.match(readFileSync(join(dir, "out.html"), "utf8"), /<title>small<\/title>/);
});

test("with more tasks than rows, the tasks that spent longest stepping get them, in task order", () => {
  const events: TraceEvent[] = [];
  for (let tid = 1; tid <= maxRows + 5; tid++) {
    events.push(named(tid, `t${tid}`), instant("created", tid, tid));
    // The last five tasks step longest; the first five, least.
    events.push(span("step", tid, tid > maxRows ? 1000 : tid > 5 ? 10 : 1, tid), instant("done", tid + 1000, tid));
  }
  const html = page(events);
  const tracks = [...html.matchAll(/class="track"[^>]*>(t\d+)</g)].map((m) => m[1]);
  assert.equal(tracks.length, maxRows);
  assert.deepEqual(tracks.slice(0, 2), ["t6", "t7"]);
  assert.deepEqual(tracks.slice(-2), [`t${maxRows + 4}`, `t${maxRows + 5}`]);
  assert.match(html, new RegExp(`${maxRows + 5} tasks, .* the overview counts all ${maxRows + 5}\\.`));
});

test("a task never done still competes for a row, by the steps it made", () => {
  const events: TraceEvent[] = [];
  for (let tid = 1; tid <= maxRows; tid++) events.push(named(tid, `t${tid}`), span("step", 0, 5, tid), instant("done", 10, tid));
  events.push(named(999, "forever"), span("step", 0, 50, 999));
  assert.match(page(events), /class="track"[^>]*>forever</);
});

test("steps and waits that fall in the same pixels merge into bars whose tooltips count them", () => {
  const events: TraceEvent[] = [named(1, "busy"), named(2, "long")];
  // Task 1: 1000 steps of 1 µs with 1 µs waits between them, all in the first pixel column or two.
  for (let i = 0; i < 1000; i++) events.push(span("wait", 2 * i, 1, 1), span("step", 2 * i + 1, 1, 1));
  // Task 2 sets the time range: a wait of a second.
  events.push(span("wait", 0, 1_000_000, 2, "wait: sleep until 1.000"));
  const html = page(events);
  const steps = [...html.matchAll(/<rect class="step"[^>]*><title>([^<]*)</g)].map((m) => m[1]);
  assert.equal(steps.length, 1);
  assert.equal(steps[0], "1000 steps, 1000 µs in all");
  assert.match(html, /<rect class="wait"[^>]*><title>wait: sleep until 1\.000 \(1\.000 s\)<\/title><\/rect>\n<text [^>]*>sleep until 1\.000<\/text>/);
});

test("a step takes the pixels it shares with a wait, and a wait never covers a step", () => {
  // One second across 920 columns: a column is about 1087 µs.
  const events: TraceEvent[] = [named(1, "a"), span("step", 0, 5000, 1), span("wait", 5000, 100, 1), span("step", 5100, 100, 1), span("wait", 5200, 20_000, 1), span("step", 25_200, 10, 1), span("wait", 25_210, 974_790, 1)];
  const html = page(events);
  const bars = [...html.matchAll(/<rect class="(step|wait)" x="(\d+)"[^>]*width="(\d+)"[^>]*><title>([^<]*)</g)].map((m) => `${m[1]} ${Number(m[2]) - 160}+${m[3]} ${m[4]}`);
  assert.deepEqual(bars, [
    "step 0+5 2 steps, 5100 µs in all",
    "wait 5+18 wait: future (0.020 s)",
    "step 23+1 step (10 µs)",
    "wait 24+896 wait: future (0.975 s)",
  ]);
});

test("the overview counts the tasks alive and the loop's share of time in steps, per column", () => {
  const events: TraceEvent[] = [named(1, "a"), named(2, "b"), instant("created", 0, 1), instant("created", 0, 2), span("step", 0, 500_000, 1), instant("done", 500_000, 1), instant("done", 1_000_000, 2)];
  const html = page(events);
  assert.match(html, /tasks alive \(max 2\)/);
  const tips = [...html.matchAll(/class="overview-bar"[^>]*><title>([^<]*)</g)].map((m) => m[1]);
  assert.deepEqual(tips, ["2 tasks alive", "1 tasks alive", "100% in steps"]);
});

test("waits merged into one bar name the longest in their tooltip; other metadata, a renamed track and a span without a length are taken in stride", () => {
  const events: TraceEvent[] = [
    { name: "process_name", ph: "M", ts: 0, pid: 1, tid: 0, args: { name: "the process" } },
    named(1, "before"),
    named(1, "after"),
    span("wait", 0, 3000, 1, "wait: short"),
    span("wait", 3000, 5000, 1, "wait: longest"),
    span("wait", 8000, 2000, 1, "wait: shorter"),
    { name: "step", cat: "step", ph: "X", ts: 10_000, pid: 1, tid: 1 },
    span("wait", 1000, 1_000_000, 2),
  ];
  const html = page(events);
  assert.match(html, /class="track"[^>]*>after</);
  assert.doesNotMatch(html, /before|the process/);
  assert.match(html, /<title>3 waits; the longest: wait: longest \(0\.005 s\)<\/title>/);
  assert.match(html, /<title>step \(0 µs\)<\/title>/);
});

test("an empty trace renders an empty page", () => {
  assert.match(page([]), /<p class="legend">0 tasks, 0\.000 s of loop time\./);
});
