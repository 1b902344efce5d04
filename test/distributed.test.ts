/**
 * DistributedExecutor against a real redis-server and real `asyncio-ts
 * worker` processes: round trips, map, buffersize, cancellation, shutdown,
 * attempts, and two workers sharing a queue.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { BrokenExecutorError, CancelledError, ProcessPoolExecutor, RuntimeError, fromPromise, getRunningLoop, run, sleep, type Coro } from "../src/index.js";
import { DistributedExecutor, parseRedisUrl } from "../src/distributed/index.js";
import { generateCorpus, topWords } from "../examples/mapreduce-tasks.js";
import { wordCount, wordCountSequential } from "../examples/07-mapreduce.js";
import { redisSkip, startRedis, startWorker, type RedisServer, type WorkerProcess } from "./redis-server.js";

const tasks = new URL("./fixtures/distributed-tasks.ts", import.meta.url);
const mapreduceTasks = new URL("../examples/mapreduce-tasks.ts", import.meta.url);
const ref = (name: string): { module: URL; name: string } => ({ module: tasks, name });

test("parseRedisUrl reads redis:// host, port and database, and unix:// socket paths", () => {
  assert.deepEqual(parseRedisUrl("redis://10.0.0.5:6380/2"), { host: "10.0.0.5", port: 6380, db: 2 });
  assert.deepEqual(parseRedisUrl("redis://cache"), { host: "cache", port: 6379 });
  assert.deepEqual(parseRedisUrl("unix:///run/redis/redis.sock"), { path: "/run/redis/redis.sock" });
  assert.throws(() => parseRedisUrl("http://x"), TypeError);
  assert.throws(() => parseRedisUrl("unix://relative.sock"), TypeError);
  assert.throws(() => parseRedisUrl("redis://h/zero"), TypeError);
});

test("a DistributedExecutor refuses a function sent by its source", async () => {
  const executor = new DistributedExecutor({ connection: "redis://127.0.0.1:1", queue: "never" });
  await run(function* () {
    assert.throws(() => executor.submit((n: number) => n + 1, 1), /only as \{ module, name \}/);
  });
  await executor.shutdown();
});

test("a submit to a Redis that is not there fails with BrokenExecutorError after connectionTimeout", async () => {
  const executor = new DistributedExecutor({ connection: "unix:///nonexistent/asyncio-ts-redis.sock", queue: "never", connectionTimeout: 0.3 });
  const started = Date.now();
  const error = await run(function* () {
    try {
      yield* executor.submit({ module: tasks, name: "square" }, 2);
      return null;
    } catch (error) {
      return error;
    }
  });
  await executor.shutdown();
  assert.ok(error instanceof BrokenExecutorError, String(error));
  assert.match(error.message, /Redis at unix:\/\/\/nonexistent\/asyncio-ts-redis\.sock could not be reached for 0\.3 s/);
  assert.match(String((error.cause as Error | undefined)?.message), /ENOENT/);
  assert.ok(Date.now() - started < 5000);
});

/** Polls `condition` every 20 ms for up to `seconds`. */
function* until(condition: () => boolean | Promise<boolean>, seconds: number, what: string): Coro<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(yield* fromPromise(Promise.resolve(condition())))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    yield* sleep(0.02);
  }
}

describe("DistributedExecutor with a redis-server and two workers", { skip: redisSkip }, () => {
  let redis: RedisServer;
  let workers: WorkerProcess[] = [];
  let observer: Queue;
  let scratch: string;
  const queue = "tests";

  const jobsInRedis = async (): Promise<number> => {
    const counts = await observer.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed", "waiting-children");
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };
  const executor = (options: Partial<ConstructorParameters<typeof DistributedExecutor>[0]> = {}): DistributedExecutor =>
    new DistributedExecutor({ connection: redis.url, queue, ...options });

  before(async () => {
    redis = await startRedis();
    const extra = ["--concurrency", "2", "--module", mapreduceTasks.pathname];
    workers = await Promise.all([startWorker(redis.url, queue, tasks, extra), startWorker(redis.url, queue, tasks, extra)]);
    observer = new Queue(queue, { connection: { path: redis.path } });
    scratch = mkdtempSync(join(tmpdir(), "asyncio-ts-distributed-"));
  });

  after(async () => {
    await observer?.close();
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  test("a result comes back with its bigint, Map, Set, Date and typed array intact", async () => {
    const value = { n: 2n ** 70n, m: new Map<string, unknown>([["k", new Set([1, 2])]]), d: new Date(0), bytes: new Uint8Array([1, 2, 3]) };
    const pool = executor();
    const got = await run(function* () {
      return yield* getRunningLoop().runInExecutor(pool, ref("echo"), value);
    });
    await pool.shutdown();
    assert.deepEqual(got, value);
    assert.equal(await jobsInRedis(), 0);
  });

  test("an error thrown by the function re-raises with its name, message and stack, and is not retried", async () => {
    const pool = executor();
    const error = await run(function* () {
      try {
        yield* pool.submit(ref("fail"), "out of range");
        return null;
      } catch (error) {
        return error;
      }
    });
    await pool.shutdown();
    assert.ok(error instanceof Error);
    assert.equal(error.name, "RangeError");
    assert.equal(error.message, "out of range");
    assert.match(error.stack ?? "", /distributed-tasks\.ts/);
    assert.equal(await jobsInRedis(), 0);
  });

  test("map returns the results in the order of the items, chunksize items per job", async () => {
    const pool = executor();
    const items = Array.from({ length: 17 }, (_, i) => i);
    const results = await run(function* () {
      return yield* pool.map(ref("square"), items, { chunksize: 4 });
    });
    await pool.shutdown();
    assert.deepEqual(results, items.map((n) => n * n));
  });

  test("map reports the items done as its jobs end, through onProgress", async () => {
    const pool = executor();
    const seen: number[] = [];
    const results = await run(function* () {
      return yield* pool.map(ref("square"), Array.from({ length: 10 }, (_, i) => i), { chunksize: 3, onProgress: (done) => seen.push(done) });
    });
    await pool.shutdown();
    assert.deepEqual(results, Array.from({ length: 10 }, (_, i) => i * i));
    assert.equal(seen.length, 4);
    assert.equal(seen.at(-1), 10);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, "counts only grow");
  });

  test("map with buffersize never has more than that many jobs in Redis whose result is still to come", async () => {
    const pool = executor();
    let most = 0;
    let mostWaiting = 0;
    let done = false;
    const watching = (async () => {
      while (!done) {
        const counts = await observer.getJobCounts("waiting", "active", "delayed", "prioritized");
        most = Math.max(most, Object.values(counts).reduce((a, b) => a + b, 0));
        mostWaiting = Math.max(mostWaiting, counts["waiting"]! + counts["delayed"]! + counts["prioritized"]!);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const results = await run(function* () {
      return yield* pool.map(ref("slowSquare"), [1, 2, 3, 4, 5, 6, 7, 8], { buffersize: 2 });
    });
    done = true;
    await watching;
    await pool.shutdown();
    assert.deepEqual(results, [1, 4, 9, 16, 25, 36, 49, 64]);
    // A job whose reply was delivered stays active for the moment BullMQ takes to finish it: one more at most.
    assert.ok(most >= 1 && most <= 3, `at most 2 jobs at once (and one finishing), saw ${most}`);
    assert.ok(mostWaiting <= 2, `at most 2 jobs waiting, saw ${mostWaiting}`);
  });

  test("two workers share the load: both run jobs of one map", async () => {
    const pool = executor();
    const who = await run(function* () {
      return yield* pool.map<number, { worker: number }>(ref("holdAndTell"), Array.from({ length: 12 }, () => 0.1));
    });
    await pool.shutdown();
    const ran = new Set(who.map((w) => w.worker));
    assert.deepEqual([...ran].sort(), workers.map((w) => w.pid).sort());
  });

  test("a job whose process keeps dying fails with BrokenExecutorError naming the job once its attempts are spent", async () => {
    const pool = executor({ jobOptions: { attempts: 2 } });
    const error = await run(function* () {
      try {
        yield* pool.submit(ref("crash"));
        return null;
      } catch (error) {
        return error;
      }
    });
    await pool.shutdown();
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /job [0-9a-f-]{36} \(crash from .*distributed-tasks\.ts\) failed after at most 2 attempts: the job's process died/);
    assert.equal(await jobsInRedis(), 0);
  });

  test("cancelling the future of a queued job removes it from Redis", async () => {
    // No worker serves this queue, so the job stays queued.
    const pool = new DistributedExecutor({ connection: redis.url, queue: "unserved" });
    const idle = new Queue("unserved", { connection: { path: redis.path } });
    try {
      await run(function* () {
        const future = pool.submit(ref("square"), 3);
        yield* until(async () => (await idle.getWaitingCount()) === 1, 5, "the job to be queued");
        future.cancel();
        yield* until(async () => (await idle.getWaitingCount()) === 0, 2, "the job to be removed");
        assert.throws(() => future.result(), CancelledError);
      });
      await pool.shutdown();
      const counts = await idle.getJobCounts();
      assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 0, JSON.stringify(counts));
    } finally {
      await idle.close();
    }
  });

  test("cancelling the future of a running job terminates its process within 0.05 s (median of 3) and leaves no job", async () => {
    const pool = executor();
    const delays: number[] = [];
    await run(function* () {
      for (let i = 0; i < 3; i++) {
        const marker = join(scratch, `running-${i}.json`);
        const future = pool.submit(ref("holdAndTell"), 60, marker);
        yield* until(() => existsSync(marker), 15, "the job to start");
        const { child } = JSON.parse(readFileSync(marker, "utf8")) as { child: number };
        const cancelledAt = performance.now();
        future.cancel();
        while (alive(child) && performance.now() - cancelledAt < 2000) yield* sleep(0.002);
        delays.push(performance.now() - cancelledAt);
        yield* until(async () => (await jobsInRedis()) === 0, 2, "the job to leave Redis");
      }
    });
    await pool.shutdown();
    delays.sort((a, b) => a - b);
    console.log(`# the job's process ended ${delays.map((d) => d.toFixed(1)).join(", ")} ms after the cancel`);
    assert.ok(delays[2]! < 2000, "every cancelled job's process ended within 2 s");
    assert.ok(delays[1]! < 50, `median ${delays[1]!.toFixed(1)} ms`);
  });

  test("shutdown({ cancelFutures: true }) leaves no job behind in Redis", async () => {
    const pool = executor();
    const futures = await run(function* () {
      const futures = Array.from({ length: 8 }, () => pool.submit(ref("holdAndTell"), 30));
      yield* until(async () => (await observer.getActiveCount()) >= 2, 15, "jobs to start");
      yield* fromPromise(pool.shutdown({ cancelFutures: true }));
      return futures;
    });
    assert.ok(futures.every((f) => f.cancelled()));
    assert.equal(await jobsInRedis(), 0);
    await run(function* () {
      assert.throws(() => pool.submit(ref("square"), 1), RuntimeError);
    });
  });

  test("nothing of a delivered 50 MB result stays in Redis: memory comes back within 5 MB, no reply list, no job, no result in the event stream", async () => {
    const client = new Redis({ path: redis.path });
    const usedMemory = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await client.info("memory"))![1]);
    try {
      const pool = executor();
      const length = await run(function* () {
        yield* pool.submit(ref("square"), 2);
        return (yield* pool.submit<Uint8Array, [number]>(ref("bigResult"), 0)).length;
      });
      assert.equal(length, 0);
      const before = await usedMemory();
      const got = await run(function* () {
        return yield* pool.submit<Uint8Array, [number]>(ref("bigResult"), 50);
      });
      await pool.shutdown();
      assert.equal(got.length, 50 * 1024 * 1024);
      // The reply comes before BullMQ finishes the job (see protocol.ts): it leaves Redis a moment later.
      await run(() => until(async () => (await jobsInRedis()) === 0, 2, "the job to leave Redis"));
      // Redis gives back a client's large query and reply buffers in its cron, within seconds.
      let after = await usedMemory();
      for (let i = 0; i < 50 && after - before >= 5 * 1024 * 1024; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        after = await usedMemory();
      }
      const tag = `used_memory before ${(before / 1e6).toFixed(1)} MB, after ${(after / 1e6).toFixed(1)} MB`;
      console.log(`# ${tag}`);
      assert.ok(after - before < 5 * 1024 * 1024, tag);
      assert.deepEqual(await client.keys(`bull:${queue}:asyncio-ts:replies:*`), []);
      const events = (await client.xrange(`bull:${queue}:events`, "-", "+")) as Array<[string, string[]]>;
      const largest = Math.max(0, ...events.map(([, fields]) => fields.join("").length));
      assert.ok(largest < 1024, `an event of ${largest} characters`);
    } finally {
      await client.quit();
    }
  });

  test("the MapReduce word count gives the same top 20 sequentially, on a local pool and on the workers", async () => {
    const files = generateCorpus(join(scratch, "corpus"), { megabytes: 1, files: 4 });
    const sequential = topWords(wordCountSequential(files));
    const local = new ProcessPoolExecutor({ maxWorkers: 2 });
    const distributed = executor();
    const [pooled, remote] = await run(function* () {
      return [topWords(yield* wordCount(local, files)), topWords(yield* wordCount(distributed, files))];
    });
    await Promise.all([local.shutdown(), distributed.shutdown()]);
    assert.equal(sequential.length, 20);
    assert.deepEqual(pooled, sequential);
    assert.deepEqual(remote, sequential);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
