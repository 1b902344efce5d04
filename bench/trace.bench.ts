/**
 * The cost of the debug tooling on the spawn workload: plain, debug mode on,
 * and tracing to a file, in the same run, as ratios to plain. Debug mode off
 * must cost nothing: it is the plain figure. Then the memory of a long traced
 * run (issue 12): the peak RSS of a child process spawning and awaiting 1M
 * tasks (a thousand at a time) traced to a file, against the same child
 * untraced; the trace is streamed, so the two should be close. Last, the
 * peak RSS of rendering that 1M-task trace file to HTML (what `asyncio-ts
 * trace` does; issue 30) against rendering a 10-task one in the same way.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTask, run, type Coro, type RunOptions, type Task } from "../src/index.js";
import { writeSyntheticTrace } from "../test/fixtures/synthetic-trace.js";
import { measure, report, size } from "./harness.js";

const N = size(100_000);
const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-trace-bench-"));

function* trivial(i: number): Coro<number> {
  return i;
}
function spawnAll(options: RunOptions): Promise<void> {
  return run(function* () {
    const tasks = new Array<Task<number>>(N);
    for (let i = 0; i < N; i++) tasks[i] = createTask(trivial(i));
    for (let i = 0; i < N; i++) yield* tasks[i]!;
  }, options);
}

const plain = await measure("spawn, debug off, no trace", N, () => spawnAll({}));
const debug = await measure("spawn, debug mode on", N, () => spawnAll({ debug: true }));
const traced = await measure("spawn, tracing to a file", N, () => spawnAll({ trace: join(dir, "run.json") }));
report(`spawn and await ${N} tasks`, plain, [debug, traced]);

const manyTasks = new URL("../test/fixtures/many-tasks.ts", import.meta.url).pathname;
const M = size(1_000_000);

function peakRss(args: string[]): Promise<{ result: number; peakRss: number; seconds: number }> {
  const start = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", manyTasks, String(M), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  return new Promise((resolve, reject) =>
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`many-tasks exited ${code}: ${out}`));
      resolve({ ...(JSON.parse(out) as { result: number; peakRss: number }), seconds: (performance.now() - start) / 1000 });
    }),
  );
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const file = join(dir, "million.json");
const untracedRun = await peakRss([]);
const tracedRun = await peakRss([file]);
console.log(`\n## peak RSS of a run of ${M} tasks (child process, a thousand tasks at a time)`);
console.log(`  untraced                             ${mb(untracedRun.peakRss).padStart(9)}  ${untracedRun.seconds.toFixed(1)} s  (baseline)`);
console.log(
  `  traced to a file (${mb(statSync(file).size)})`.padEnd(39) +
    `${mb(tracedRun.peakRss).padStart(9)}  ${tracedRun.seconds.toFixed(1)} s  ${(tracedRun.peakRss / untracedRun.peakRss).toFixed(2)}x baseline RSS, +${mb(tracedRun.peakRss - untracedRun.peakRss)}`,
);

const renderTrace = new URL("../test/fixtures/render-trace.ts", import.meta.url).pathname;

function render(trace: string): Promise<{ events: number; tasks: number; peakRss: number; seconds: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", renderTrace, trace, join(dir, "timeline.html")], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  return new Promise((resolve, reject) =>
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as { events: number; tasks: number; peakRss: number; seconds: number }) : reject(new Error(`render-trace exited ${code}: ${out}`)))),
  );
}

const small = join(dir, "small.json");
writeSyntheticTrace(small, 10);
const smallRender = await render(small);
const bigRender = await render(file);
console.log(`\n## peak RSS of rendering a trace to HTML (asyncio-ts trace; child process)`);
console.log(`  ${smallRender.tasks} tasks`.padEnd(39) + `${mb(smallRender.peakRss).padStart(9)}  ${smallRender.seconds.toFixed(1)} s  (baseline)`);
console.log(
  `  ${bigRender.tasks} tasks (${mb(statSync(file).size)}, ${bigRender.events} events)`.padEnd(39) +
    `${mb(bigRender.peakRss).padStart(9)}  ${bigRender.seconds.toFixed(1)} s  +${mb(bigRender.peakRss - smallRender.peakRss)}`,
);
rmSync(dir, { recursive: true, force: true });
