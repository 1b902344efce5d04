/**
 * DistributedExecutor against a real redis-server and real `asyncio-ts
 * worker` processes: round trips, map, buffersize, cancellation, shutdown,
 * attempts, and two workers sharing a queue.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import { BrokenExecutorError, CancelledError, RuntimeError, fromPromise, getRunningLoop, run, sleep, type Coro } from "../src/index.js";
import { DistributedExecutor, parseRedisUrl } from "../src/distributed/index.js";
import { redisSkip, startRedis, startWorker, type RedisServer, type WorkerProcess } from "./redis-server.js";

const tasks = new URL("./fixtures/distributed-tasks.ts", import.meta.url);
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
    const counts = await observer.getJobCounts("waiting", "active", "delayed", "prioritized", "paused", "completed", "failed", "waiting-children");
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };
  const executor = (options: Partial<ConstructorParameters<typeof DistributedExecutor>[0]> = {}): DistributedExecutor =>
    new DistributedExecutor({ connection: redis.url, queue, ...options });

  before(async () => {
    redis = await startRedis();
    workers = await Promise.all([startWorker(redis.url, queue, tasks, ["--concurrency", "2"]), startWorker(redis.url, queue, tasks, ["--concurrency", "2"])]);
    observer = new Queue(queue, { connection: { path: redis.path } });
    scratch = mkdtempSync(join(tmpdir(), "asyncio-ts-distributed-"));
  });

  after(async () => {
    await observer?.close();
    await Promise.all(workers.map((w) => w.kill()));
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
});
