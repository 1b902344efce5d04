/**
 * Distributed executor (issues 19, 25), against a redis-server this run starts on
 * a Unix socket: (0) 10k tiny jobs through `map` on two workers vs a local
 * `ProcessPoolExecutor(2)`, and one `submit`'s round trip (p50/p99);
 * (1) a trivial job's median round trip and jobs/s through
 * `DistributedExecutor` + `asyncio-ts worker` vs a plain BullMQ queue and
 * worker in the same run; (2) the MapReduce word count of a generated corpus,
 * sequential vs `ProcessPoolExecutor(2)` vs `DistributedExecutor` with 2
 * local workers. Without redis-server it says so and exits 0 (CI=true: 1).
 * Corpus size: BENCH_CORPUS_MB (default 50; the issue's figure is 200).
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
import { report, runs, size, smoke, type Measurement } from "./harness.js";

if (redisSkip !== false) {
  console.log(`skipped: ${redisSkip}`);
  process.exit(0);
}

const MAP_ITEMS = size(10_000, 100);
const MAP_CHUNK = 100;
const ROUND_TRIPS = size(300, 20);
const BURST = size(2000, 50);
const CONCURRENCY = 8;
const CORPUS_MB = smoke ? 2 : Number(process.env["BENCH_CORPUS_MB"] ?? 50);

const redis = await startRedis();
const connection = { path: redis.path };
const tasks = new URL("../test/fixtures/distributed-tasks.ts", import.meta.url);
const scratch = mkdtempSync(join(tmpdir(), "asyncio-ts-bench-"));

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function startRawWorker(queue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", new URL("./distributed-raw-worker.ts", import.meta.url).pathname, redis.path, queue, String(CONCURRENCY)], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => child.stdout!.setEncoding("utf8").on("data", (s: string) => s.includes("ready") && resolve()));
  return child;
}

/**
 * Times each workload `rounds` times, taking turns (a, b, a, b, ...) after a
 * warm-up round, so that the load of a shared machine falls on all alike.
 */
async function interleaved(rounds: number, workloads: Array<{ name: string; items: number; run: () => Promise<unknown> | unknown }>): Promise<Measurement[]> {
  const times = workloads.map(() => [] as number[]);
  for (let round = smoke ? 1 : 0; round <= rounds; round++) {
    for (const [i, w] of workloads.entries()) {
      (globalThis as { gc?: () => void }).gc?.();
      const t = performance.now();
      await w.run();
      if (round > 0) times[i]!.push((performance.now() - t) / 1000);
    }
  }
  return workloads.map((w, i) => {
    const sorted = times[i]!.sort((a, b) => a - b);
    return { name: w.name, items: w.items, median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]! };
  });
}

try {
  // ---- (0) 10k tiny jobs through map: two workers on this machine's Redis vs a local pool of 2
  {
    const items = Array.from({ length: MAP_ITEMS }, (_, i) => i);
    const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
    const mapWorkers = await Promise.all([0, 1].map(() => startWorker(redis.url, "bench-map", tasks, ["--concurrency", "4", "--processes", "1"])));
    const executor = new DistributedExecutor({ connection: redis.url, queue: "bench-map" });
    const increment = { module: tasks, name: "increment" };
    const mapWith = (on: ProcessPoolExecutor | DistributedExecutor, chunksize: number) => () =>
      run(function* (): Coro<void> {
        const results = yield* on.map(increment, items, { chunksize });
        if (results.length !== MAP_ITEMS || results[MAP_ITEMS - 1] !== MAP_ITEMS) throw new Error("wrong results");
      });
    const [localOne, localChunked, remoteChunked, remoteOne] = await interleaved(runs, [
      { name: "ProcessPoolExecutor(2).map, chunksize 1", items: MAP_ITEMS, run: mapWith(pool, 1) },
      { name: `ProcessPoolExecutor(2).map, chunksize ${MAP_CHUNK}`, items: MAP_ITEMS, run: mapWith(pool, MAP_CHUNK) },
      { name: `DistributedExecutor.map, 2 workers, chunksize ${MAP_CHUNK}`, items: MAP_ITEMS, run: mapWith(executor, MAP_CHUNK) },
      { name: "DistributedExecutor.map, 2 workers, chunksize 1", items: MAP_ITEMS, run: mapWith(executor, 1) },
    ]);
    // One submit at a time: the round trip a single job costs.
    const latencies: number[] = [];
    await run(function* (): Coro<void> {
      for (let i = 0; i < ROUND_TRIPS; i++) {
        const t = performance.now();
        yield* executor.submit(increment, i);
        latencies.push(performance.now() - t);
      }
    });
    await Promise.all([pool.shutdown(), executor.shutdown()]);
    await Promise.all(mapWorkers.map((w) => w.stop()));
    report(`${MAP_ITEMS} tiny jobs through map (2 cores)`, localOne!, [localChunked!, remoteChunked!, remoteOne!]);
    const rate = (m: Measurement): number => MAP_ITEMS / m.median;
    console.log(
      `  throughput of DistributedExecutor.map (chunksize ${MAP_CHUNK}): ${(rate(remoteChunked!) / rate(localOne!)).toFixed(2)}x a local ProcessPoolExecutor.map (chunksize 1; goal >= 0.5x), ${(rate(remoteChunked!) / rate(localChunked!)).toFixed(2)}x at the same chunksize; chunksize 1: ${(rate(remoteOne!) / rate(localOne!)).toFixed(2)}x`,
    );
    console.log(`  one submit's round trip: p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms (${ROUND_TRIPS} in a row)`);
  }

  // ---- (1) trivial job: raw BullMQ vs DistributedExecutor, in turns
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
  let nextId = 0;
  const rawOne = async (i: number): Promise<void> => {
    const jobId = `raw-${nextId++}`;
    const done = new Promise<void>((resolve) => waiting.set(jobId, resolve));
    await rawQueue.add("inc", { x: i }, { jobId, removeOnComplete: true, removeOnFail: true });
    await done;
  };
  const worker = await startWorker(redis.url, "bench-ours", tasks, ["--concurrency", String(CONCURRENCY), "--processes", "2"]);
  const executor = new DistributedExecutor({ connection: redis.url, queue: "bench-ours" });
  const increment = { module: tasks, name: "increment" };
  const rawLatencies: number[] = [];
  const ourLatencies: number[] = [];
  const [rawSequential, ourSequential, rawBurst, ourBurst] = await interleaved(runs, [
    {
      name: `raw BullMQ, ${ROUND_TRIPS} sequential`,
      items: ROUND_TRIPS,
      run: async () => {
        for (let i = 0; i < ROUND_TRIPS; i++) {
          const t = performance.now();
          await rawOne(i);
          rawLatencies.push(performance.now() - t);
        }
      },
    },
    {
      name: `DistributedExecutor, ${ROUND_TRIPS} sequential`,
      items: ROUND_TRIPS,
      run: () =>
        run(function* (): Coro<void> {
          for (let i = 0; i < ROUND_TRIPS; i++) {
            const t = performance.now();
            yield* executor.submit(increment, i);
            ourLatencies.push(performance.now() - t);
          }
        }),
    },
    { name: `raw BullMQ, ${BURST} at once`, items: BURST, run: () => Promise.all(Array.from({ length: BURST }, (_, i) => rawOne(i))) },
    {
      name: `DistributedExecutor, ${BURST} at once`,
      items: BURST,
      run: () =>
        run(function* (): Coro<void> {
          const futures = Array.from({ length: BURST }, (_, i) => executor.submit(increment, i));
          for (const f of futures) yield* f;
        }),
    },
  ]);
  rawWorker.kill("SIGTERM");
  await Promise.all([rawQueue.close(), rawEvents.close()]);
  await executor.shutdown();
  await worker.kill();
  report("trivial job, one at a time (round trip)", rawSequential!, [ourSequential!]);
  console.log(`  median round trip: raw BullMQ ${median(rawLatencies).toFixed(2)} ms, DistributedExecutor ${median(ourLatencies).toFixed(2)} ms (${(median(ourLatencies) / median(rawLatencies)).toFixed(2)}x; target <= 1.2x)`);
  report(`trivial job, ${BURST} in flight (worker concurrency ${CONCURRENCY})`, rawBurst!, [ourBurst!]);
  console.log(`  jobs/s: raw BullMQ ${(BURST / rawBurst!.median).toFixed(0)}, DistributedExecutor ${(BURST / ourBurst!.median).toFixed(0)} (${(rawBurst!.median / ourBurst!.median).toFixed(2)}x of raw)`);

  // ---- (2) MapReduce word count
  const started = performance.now();
  const files = generateCorpus(join(scratch, "corpus"), { megabytes: CORPUS_MB });
  console.log(`\ncorpus: ${CORPUS_MB} MB in ${files.length} files, generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
  const workers = await startLocalWorkers(redis.url, "bench-wordcount", 2);
  const distributed = new DistributedExecutor({ connection: redis.url, queue: "bench-wordcount" });
  const [sequential, pooled, spread] = await interleaved(smoke ? 1 : Number(process.env["BENCH_WORDCOUNT_RUNS"] ?? 3), [
    { name: "sequential (main thread)", items: files.length, run: () => wordCountSequential(files) },
    { name: "ProcessPoolExecutor(2)", items: files.length, run: () => run(() => wordCount(pool, files)) },
    { name: "DistributedExecutor, 2 local workers", items: files.length, run: () => run(() => wordCount(distributed, files)) },
  ]);
  await pool.shutdown();
  await distributed.shutdown();
  await stopLocalWorkers(workers);
  report(`word count of ${CORPUS_MB} MB (2 cores)`, sequential!, [pooled!, spread!]);
  console.log(`  speed-up over sequential: ProcessPoolExecutor ${(sequential!.median / pooled!.median).toFixed(2)}x, DistributedExecutor ${(sequential!.median / spread!.median).toFixed(2)}x`);
} finally {
  await redis.stop();
  rmSync(scratch, { recursive: true, force: true });
}
