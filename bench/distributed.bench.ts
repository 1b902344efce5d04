/**
 * Distributed executor (issue 19), against a redis-server this run starts on
 * a Unix socket: (1) a trivial job's median round trip and jobs/s through
 * `DistributedExecutor` + `asyncio-ts worker` vs a plain BullMQ queue and
 * worker in the same run; (2) the MapReduce word count of a generated corpus,
 * sequential vs `ProcessPoolExecutor(2)` vs `DistributedExecutor` with 2
 * local workers. Without redis-server it says so and exits 0 (CI=true: 1).
 * Corpus size: BENCH_CORPUS_MB (default 50; the figure is 200).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Queue, QueueEvents } from "bullmq";
import { ProcessPoolExecutor, run, type Coro } from "../src/index.js";
import { DistributedExecutor } from "../src/distributed/index.js";
import { generateCorpus } from "../examples/mapreduce-tasks.js";
import { startLocalWorkers, stopLocalWorkers, wordCount, wordCountSequential } from "../examples/07-mapreduce.js";
import { redisSkip, startRedis, startWorker } from "../test/redis-server.js";
import { measure, report, size, smoke, type Measurement } from "./harness.js";

if (redisSkip !== false) {
  console.log(`skipped: ${redisSkip}`);
  process.exit(0);
}

const ROUND_TRIPS = size(300, 20);
const BURST = size(2000, 50);
const CONCURRENCY = 8;
const CORPUS_MB = smoke ? 2 : Number(process.env["BENCH_CORPUS_MB"] ?? 50);

const redis = await startRedis();
const connection = { path: redis.path };
const tasks = new URL("../test/fixtures/distributed-tasks.ts", import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), "asyncio-ts-bench-"));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function startRawWorker(queue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", new URL("./distributed-raw-worker.ts", import.meta.url).pathname, redis.path, queue, String(CONCURRENCY)], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => child.stdout!.setEncoding("utf8").on("data", (s: string) => s.includes("ready") && resolve()));
  return child;
}

try {
  // ---- (1) trivial job: raw BullMQ vs DistributedExecutor
  const rawQueue = new Queue("bench-raw", { connection });
  // The way a BullMQ user awaits results: QueueEvents' "completed" (job.waitUntilFinished
  // cannot be used with removeOnComplete: a job gone before it looks is never seen finishing).
  const rawEvents = new QueueEvents("bench-raw", { connection, lastEventId: "0-0" });
  const waiting = new Map<string, () => void>();
  rawEvents.on("completed", ({ jobId }) => {
    waiting.get(jobId)?.();
    waiting.delete(jobId);
  });
  await rawEvents.waitUntilReady();
  const rawWorker = await startRawWorker("bench-raw");
  let rawLatencies: number[] = [];
  let nextId = 0;
  const rawOne = async (i: number): Promise<void> => {
    const jobId = `raw-${nextId++}`;
    const done = new Promise<void>((resolve) => waiting.set(jobId, resolve));
    await rawQueue.add("inc", { x: i }, { jobId, removeOnComplete: true, removeOnFail: true });
    await done;
  };
  const rawSequential = await measure(`raw BullMQ, ${ROUND_TRIPS} sequential`, ROUND_TRIPS, async () => {
    rawLatencies = [];
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const t = performance.now();
      await rawOne(i);
      rawLatencies.push(performance.now() - t);
    }
  });
  const rawBurst = await measure(`raw BullMQ, ${BURST} at once`, BURST, () => Promise.all(Array.from({ length: BURST }, (_, i) => rawOne(i))));
  rawWorker.kill("SIGTERM");
  await Promise.all([rawQueue.close(), rawEvents.close()]);

  const worker = await startWorker(redis.url, "bench-ours", tasks, ["--concurrency", String(CONCURRENCY), "--processes", "2"]);
  const executor = new DistributedExecutor({ connection: redis.url, queue: "bench-ours" });
  const increment = { module: tasks, name: "increment" };
  let ourLatencies: number[] = [];
  const ourSequential = await measure(`DistributedExecutor, ${ROUND_TRIPS} sequential`, ROUND_TRIPS, () =>
    run(function* (): Coro<void> {
      ourLatencies = [];
      for (let i = 0; i < ROUND_TRIPS; i++) {
        const t = performance.now();
        yield* executor.submit(increment, i);
        ourLatencies.push(performance.now() - t);
      }
    }),
  );
  const ourBurst = await measure(`DistributedExecutor, ${BURST} at once`, BURST, () =>
    run(function* (): Coro<void> {
      const futures = Array.from({ length: BURST }, (_, i) => executor.submit(increment, i));
      for (const f of futures) yield* f;
    }),
  );
  await executor.shutdown();
  await worker.kill();
  report("trivial job, one at a time (round trip)", rawSequential, [ourSequential]);
  console.log(`  median round trip: raw BullMQ ${median(rawLatencies).toFixed(2)} ms, DistributedExecutor ${median(ourLatencies).toFixed(2)} ms (${(median(ourLatencies) / median(rawLatencies)).toFixed(2)}x; target <= 1.2x)`);
  report(`trivial job, ${BURST} in flight (worker concurrency ${CONCURRENCY})`, rawBurst, [ourBurst]);
  console.log(`  jobs/s: raw BullMQ ${(BURST / rawBurst.median).toFixed(0)}, DistributedExecutor ${(BURST / ourBurst.median).toFixed(0)} (${(rawBurst.median / ourBurst.median).toFixed(2)}x of raw)`);

  // ---- (2) MapReduce word count
  const started = performance.now();
  const files = generateCorpus(join(scratch, "corpus"), { megabytes: CORPUS_MB });
  console.log(`\ncorpus: ${CORPUS_MB} MB in ${files.length} files, generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const sequential = await measure("sequential (main thread)", files.length, () => wordCountSequential(files));
  const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
  const pooled = await measure("ProcessPoolExecutor(2)", files.length, () => run(() => wordCount(pool, files)));
  await pool.shutdown();
  const workers = await startLocalWorkers(redis.url, "bench-wordcount", 2);
  const distributed = new DistributedExecutor({ connection: redis.url, queue: "bench-wordcount" });
  const spread: Measurement = await measure("DistributedExecutor, 2 local workers", files.length, () => run(() => wordCount(distributed, files)));
  await distributed.shutdown();
  await stopLocalWorkers(workers);
  report(`word count of ${CORPUS_MB} MB (2 cores)`, sequential, [pooled, spread]);
  console.log(`  speed-up over sequential: ProcessPoolExecutor ${(sequential.median / pooled.median).toFixed(2)}x, DistributedExecutor ${(sequential.median / spread.median).toFixed(2)}x`);
} finally {
  await redis.stop();
  rmSync(scratch, { recursive: true, force: true });
}
