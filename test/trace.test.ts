/**
 * The run timeline: the Trace Event Format file's structure, the HTML
 * rendering, and (when Debian's chromium is installed) a screenshot of it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { createTask, gather, getRunningLoop, renderTimeline, run, sleep, TaskTracer, type Coro, type TraceFile } from "../src/index.js";
import { traceEventJSON } from "../src/debug/trace.js";
import { TraceFileWriter } from "../src/debug/trace-file.js";
import { captureStderr } from "./node-support.js";

function* fetchData(url: string): Coro<string> {
  yield* sleep(1);
  return url;
}

function* lesson(): Coro<void> {
  yield* fetchData("url1");
  yield* fetchData("url2");
  yield* gather(fetchData("url1"), fetchData("url2"), fetchData("url3"));
  const doomed = createTask(sleep(10), { name: "doomed" });
  yield* sleep(0.5);
  doomed.cancel();
  yield* sleep(0);
}

async function traced(): Promise<{ dir: string; file: string; trace: TraceFile }> {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-trace-"));
  const file = join(dir, "run.json");
  await run(lesson, { clock: "virtual", trace: file });
  return { dir, file, trace: JSON.parse(readFileSync(file, "utf8")) as TraceFile };
}

test("a traced run writes one track per task with steps, waits and outcomes", async () => {
  const { dir, trace } = await traced();
  try {
    const names = trace.traceEvents.filter((e) => e.ph === "M").map((e) => e.args?.["name"]);
    assert.ok(names.includes("doomed"));
    // main, three gather children, doomed, and run()'s own executor shutdown
    assert.equal(names.length, 6);
    assert.ok(names.includes("shutdown default executor"));
    const steps = trace.traceEvents.filter((e) => e.cat === "step");
    assert.ok(steps.every((e) => typeof e.dur === "number" && e.dur >= 1));
    const waits = trace.traceEvents.filter((e) => e.cat === "wait").map((e) => e.name);
    assert.ok(waits.includes("wait: sleep until 1.000"));
    assert.ok(waits.includes("wait: gather of 3"));
    const outcomes = trace.traceEvents.filter((e) => e.ph === "i").map((e) => e.name);
    assert.ok(outcomes.includes("created") && outcomes.includes("done") && outcomes.includes("cancelled"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the trace shows sequential fetches taking 2 s and the gather 1 s, in virtual time", async () => {
  const { dir, trace } = await traced();
  try {
    const gatherWait = trace.traceEvents.find((e) => e.name === "wait: gather of 3")!;
    assert.equal(gatherWait.ts, 2e6);
    assert.equal(gatherWait.dur, 1e6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the HTML timeline is self-contained and has a track per task", async () => {
  const { dir, trace } = await traced();
  try {
    const html = renderTimeline(trace);
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
    assert.equal((html.match(/class="track"/g) ?? []).length, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

test("headless Chromium renders the timeline to a screenshot", { skip: chromium === undefined ? "chromium is not installed (.ci/run installs Debian's chromium)" : false }, async () => {
  const { dir, trace } = await traced();
  try {
    const page = join(dir, "timeline.html");
    writeFileSync(page, renderTimeline(trace));
    const shot = join(dir, "timeline.png");
    const result = spawnSync(
      chromium!,
      ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--user-data-dir=${join(dir, "profile")}`, `--screenshot=${shot}`, "--window-size=1200,400", `file://${page}`],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.ok(existsSync(shot), result.stderr);
    assert.ok(statSync(shot).size > 1000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function* spawnMany(n: number): Coro<number> {
  let sum = 0;
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: 100 }, () => createTask(sleep(0)));
    for (const task of batch) {
      yield* task;
      sum += 1;
    }
  }
  return sum;
}

function sandbox(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-trace-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("the events are streamed to the file while the run goes on, not held until its end", async (t) => {
  const file = join(sandbox(t), "run.json");
  let sizeDuring = 0;
  const result = await run(
    function* () {
      yield* spawnMany(5000);
      sizeDuring = statSync(file).size;
      return yield* spawnMany(100);
    },
    { clock: "virtual", trace: file },
  );
  assert.equal(result, 100);
  // 5,000 tasks make about 1.5 MB of events; all but the last chunk are on disk already.
  assert.ok(sizeDuring > 1_000_000, `only ${sizeDuring} bytes written during the run`);
  const trace = JSON.parse(readFileSync(file, "utf8")) as TraceFile;
  assert.equal(trace.traceEvents.filter((e) => e.ph === "M").length, 5100 + 2);
});

test("a trace file that cannot be opened is one warning, and run() returns main's result", async (t) => {
  const file = join(sandbox(t), "no-such-dir", "run.json");
  const stderr = captureStderr(t);
  const result = await run(() => spawnMany(200), { clock: "virtual", trace: file });
  assert.equal(result, 200);
  assert.match(stderr(), /^asyncio-ts: trace .*no-such-dir\/run\.json: ENOENT.*; tracing stopped, the run goes on\n$/);
});

test("a full disk is one warning, and run() returns main's result", { skip: existsSync("/dev/full") ? false : "no /dev/full here" }, async (t) => {
  const stderr = captureStderr(t);
  const result = await run(() => spawnMany(2000), { clock: "virtual", trace: "/dev/full" });
  assert.equal(result, 2000);
  assert.match(stderr(), /^asyncio-ts: trace \/dev\/full: ENOSPC.*; tracing stopped, the run goes on\n$/);
});

test("a checkpoint makes the file valid JSON at once, and the events after it continue the same file", async (t) => {
  const file = join(sandbox(t), "run.json");
  const writer = new TraceFileWriter(file);
  const event = (i: number): string => traceEventJSON({ name: `e${i}`, ph: "i", s: "t", ts: i, pid: 1, tid: 1 });
  for (let i = 0; i < 3000; i++) writer.append(event(i));
  writer.checkpoint();
  assert.equal((JSON.parse(readFileSync(file, "utf8")) as TraceFile).traceEvents.length, 3000);
  for (let i = 3000; i < 3010; i++) writer.append(event(i));
  writer.close();
  await writer.closed();
  const trace = JSON.parse(readFileSync(file, "utf8")) as TraceFile;
  assert.deepEqual(
    trace.traceEvents.map((e) => e.name),
    Array.from({ length: 3010 }, (_, i) => `e${i}`),
  );
});

test("a TaskTracer without an output keeps its events for toJSON(), with one it keeps none", async () => {
  let kept: TraceFile | undefined;
  const seen: string[] = [];
  await run(
    function* () {
      const loop = getRunningLoop();
      const tracer = new TaskTracer(loop);
      loop.instrument = tracer;
      yield* createTask(sleep(1), { name: "napper" });
      const streaming = new TaskTracer(loop, { event: (e) => void seen.push(e.name) });
      loop.instrument = streaming;
      yield* createTask(sleep(1), { name: "second" });
      loop.instrument = null;
      assert.deepEqual(streaming.toJSON().traceEvents, []);
      kept = tracer.toJSON();
    },
    { clock: "virtual" },
  );
  assert.ok(kept!.traceEvents.some((e) => e.name === "thread_name" && e.args?.["name"] === "napper"));
  assert.ok(seen.includes("thread_name") && seen.includes("done"));
});

const manyTasks = new URL("./fixtures/many-tasks.ts", import.meta.url).pathname;

function peakRss(args: string[]): Promise<{ result: number; peakRss: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", manyTasks, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  return new Promise((resolve, reject) =>
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as { result: number; peakRss: number }) : reject(new Error(`exit ${code}: ${out}`)))),
  );
}

test("a traced run's peak RSS does not grow with its tasks: 1M tasks within 48 MB of 250k", { timeout: 300_000 }, async () => {
  // The events go to /dev/null: the writer works the same, and the test does not write 400 MB to disk (the bench does).
  // Measured here: 250k traced 144-150 MB, 1M traced 165-166 MB (1M untraced: 103 MB).
  const [quarter, full] = await Promise.all([peakRss(["250000", "/dev/null"]), peakRss(["1000000", "/dev/null"])]);
  assert.equal(full.result, 1_000_000);
  assert.ok(full.peakRss - quarter.peakRss < 48 * 1024 * 1024, `peak RSS ${full.peakRss} for 1M traced tasks vs ${quarter.peakRss} for 250k`);
});

test("traceEventJSON writes every field it is given, as JSON.stringify of the event would", () => {
  const event = { name: 'a "quoted" step', ph: "X" as const, ts: 5, dur: 7, pid: 1, tid: 3, cat: "step", args: { n: 1 } };
  assert.deepEqual(JSON.parse(traceEventJSON(event)), event);
});

test("a traced wait on a plain future is named 'future'", async () => {
  let trace: TraceFile | undefined;
  await run(
    function* () {
      const loop = getRunningLoop();
      const tracer = new TaskTracer(loop);
      loop.instrument = tracer;
      const future = loop.createFuture<void>();
      const waiter = createTask((function* (): Coro<void> { yield* future; })(), { name: "waiter" });
      yield* sleep(1);
      future.setResult(undefined);
      yield* waiter;
      loop.instrument = null;
      trace = tracer.toJSON();
    },
    { clock: "virtual" },
  );
  assert.ok(trace!.traceEvents.some((e) => e.name === "wait: future" && e.dur === 1_000_000), JSON.stringify(trace!.traceEvents));
});

/** The descriptor this process holds open on `file`. */
function fdOf(file: string): number {
  const target = realpathSync(file);
  const fd = readdirSync("/proc/self/fd").find((n) => {
    try {
      return readlinkSync(`/proc/self/fd/${n}`) === target;
    } catch {
      return false;
    }
  });
  assert.ok(fd !== undefined, `no descriptor on ${file}`);
  return Number(fd);
}

test("a trace file that fails mid-run is one warning: tracing stops at once (the loop's instrument is cleared), the run goes on", async (t) => {
  const file = join(sandbox(t), "run.json");
  let cleared = false;
  const stderr = captureStderr(t);
  const result = await run(
    function* () {
      const loop = getRunningLoop();
      const fd = fdOf(file);
      closeSync(fd);
      // The same number again, read-only: every later write of the trace fails (EBADF), and no other file gets them.
      assert.equal(openSync(file, "r"), fd);
      const sum = yield* spawnMany(2000);
      for (let i = 0; i < 10_000 && loop.instrument !== null; i++) yield* sleep(0.001);
      cleared = loop.instrument === null;
      return sum;
    },
    { clock: "virtual", trace: file },
  );
  assert.equal(result, 2000);
  assert.equal(cleared, true);
  assert.match(stderr(), /^asyncio-ts: trace .*run\.json: EBADF.*; tracing stopped, the run goes on\n$/);
});

// --- the file writer at its edges (its descriptor closed under it: EBADF) -------

/** A writer on a fresh file whose descriptor is then closed behind its back, so that every write fails with EBADF. */
function brokenWriter(t: TestContext): { writer: TraceFileWriter; stderr: () => string } {
  const writer = new TraceFileWriter(join(sandbox(t), "run.json"));
  const stderr = captureStderr(t);
  closeSync(writer["fd"]!);
  return { writer, stderr };
}

const bigEvent = (i: number): string => traceEventJSON({ name: `e${i}-${"x".repeat(200)}`, ph: "i", s: "t", ts: i, pid: 1, tid: 1 });

test("background writes that all fail are one warning, and the writer closes once they are done", async (t) => {
  const { writer, stderr } = brokenWriter(t);
  // Enough for two chunks in flight at once: both fail.
  for (let i = 0; i < 700; i++) writer.append(bigEvent(i));
  assert.equal(writer["inFlight"].size, 2);
  await writer.closed();
  assert.equal(writer.ok, false);
  assert.match(stderr(), /^asyncio-ts: trace .*run\.json: EBADF.*; tracing stopped, the run goes on\n$/);
});

test("a checkpoint whose first write fails skips the rest, and later checkpoints and appends do nothing", async (t) => {
  const { writer, stderr } = brokenWriter(t);
  writer.append(bigEvent(0));
  writer.checkpoint();
  assert.equal(writer.ok, false);
  writer.checkpoint();
  writer.append(bigEvent(1));
  writer.close();
  await writer.closed();
  assert.equal(stderr().split("\n").length, 2, stderr());
});

test("after close() the writer ignores appends, and closing again does nothing", async (t) => {
  const file = join(sandbox(t), "run.json");
  const writer = new TraceFileWriter(file);
  writer.append(bigEvent(0));
  writer.close();
  writer.append(bigEvent(1));
  writer.close();
  await writer.closed();
  assert.deepEqual((JSON.parse(readFileSync(file, "utf8")) as TraceFile).traceEvents.map((e) => e.ts), [0]);
});

// --- the timeline at its edges ---------------------------------------------------

test("the timeline names a track by its number when it has no name, and skips events of tracks it never named", () => {
  const html = renderTimeline({
    displayTimeUnit: "ms",
    traceEvents: [
      { name: "thread_name", ph: "M", ts: 0, pid: 1, tid: 7 },
      { name: "step", ph: "X", ts: 0, dur: 10, pid: 1, tid: 7, cat: "step" },
      { name: "step", ph: "X", ts: 0, dur: 10, pid: 1, tid: 8, cat: "step" },
      { name: "done", ph: "i", ts: 10, pid: 1, tid: 8, s: "t" },
    ],
  });
  assert.match(html, /<text class="track"[^>]*>7<\/text>/);
  assert.equal((html.match(/<rect class="step"/g) ?? []).length, 1);
  assert.equal((html.match(/<circle /g) ?? []).length, 0);
});

test("the timeline colours each ending: failed red, cancelled orange, done green, anything else grey", () => {
  const html = renderTimeline({
    displayTimeUnit: "ms",
    traceEvents: [
      { name: "thread_name", ph: "M", ts: 0, pid: 1, tid: 1, args: { name: "t" } },
      ...["failed", "cancelled", "done", "created"].map((name, i) => ({ name, ph: "i" as const, ts: i, pid: 1, tid: 1, s: "t" as const })),
    ],
  });
  assert.deepEqual([...html.matchAll(/<circle [^>]*fill="([^"]+)"><title>(\w+)</g)].map((m) => `${m[2]} ${m[1]}`), ["failed #d33", "cancelled #e90", "done #2a2", "created #888"]);
});
