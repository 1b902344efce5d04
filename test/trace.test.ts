/**
 * The run timeline: the Trace Event Format file's structure, the HTML
 * rendering, and (when Debian's chromium is installed) a screenshot of it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createTask, gather, renderTimeline, run, sleep, type Coro, type TraceFile } from "../src/index.js";

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
