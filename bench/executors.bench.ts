/**
 * Executors (issue 6): the chapter's cpu_bound_task(10_000_000) run 8 times
 * on a process pool vs sequentially on the main thread, and the round trip
 * of a trivial task vs raw worker_threads postMessage, in the same run.
 */
import { Worker } from "node:worker_threads";
import { ProcessPoolExecutor, ThreadPoolExecutor, run, type Coro } from "../src/index.js";
import { measure, report, size, smoke } from "./harness.js";

const JOBS = size(8, 2);
const N = smoke ? 100_000 : 10_000_000;
const ROUND_TRIPS = size(10_000, 100);

function cpuBoundTask(n: number): bigint {
  let total = 0n;
  for (let i = 0n; i < BigInt(n); i++) total += i * i;
  return total;
}

const sequential = await measure(`main thread, ${JOBS} x cpu_bound_task(${N})`, JOBS, () => {
  for (let i = 0; i < JOBS; i++) cpuBoundTask(N);
});
const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
const pooled = await measure(`ProcessPoolExecutor(2), ${JOBS} jobs`, JOBS, () =>
  run(function* () {
    const futures = Array.from({ length: JOBS }, () => pool.submit(cpuBoundTask, N));
    for (const f of futures) yield* f;
  }),
);
await pool.shutdown();
report("CPU-bound offload (2 cores)", sequential, [pooled]);
console.log(`  speed-up: ${(sequential.median / pooled.median).toFixed(2)}x (target >= 1.8x)`);

// Round trip of a trivial task, one at a time.
const raw = await measure("raw worker_threads postMessage", ROUND_TRIPS, async () => {
  const worker = new Worker("require('node:worker_threads').parentPort.on('message', (x) => require('node:worker_threads').parentPort.postMessage(x + 1));", { eval: true });
  for (let i = 0; i < ROUND_TRIPS; i++) {
    await new Promise<void>((resolve) => {
      worker.once("message", () => resolve());
      worker.postMessage(i);
    });
  }
  await worker.terminate();
});
const threads = new ThreadPoolExecutor({ maxWorkers: 1 });
const ours = await measure("ThreadPoolExecutor.submit", ROUND_TRIPS, () =>
  run(function* (): Coro<void> {
    for (let i = 0; i < ROUND_TRIPS; i++) yield* threads.submit((x: number) => x + 1, i);
  }),
);
await threads.shutdown();
report(`round trip of a trivial task, ${ROUND_TRIPS} sequential`, raw, [ours]);

