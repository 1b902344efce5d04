/**
 * DistributedExecutor when things die: a worker SIGKILLed mid-job (another
 * worker runs the job again), Redis killed mid-run (pending futures fail,
 * new work reconnects), and a worker asked to stop with SIGTERM (it drains).
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BrokenExecutorError, fromPromise, run, sleep, type Coro } from "../src/index.js";
import { DistributedExecutor } from "../src/distributed/index.js";
import { redisSkip, startRedis, startWorker, type RedisServer, type WorkerProcess } from "./redis-server.js";

const tasks = new URL("./fixtures/distributed-tasks.ts", import.meta.url);
const ref = (name: string): { module: URL; name: string } => ({ module: tasks, name });
type Who = { worker: number; child: number };

function* until(condition: () => boolean, seconds: number, what: string): Coro<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    yield* sleep(0.02);
  }
}

describe("DistributedExecutor recovery", { skip: redisSkip }, () => {
  let redis: RedisServer;
  let workers: WorkerProcess[] = [];
  let scratch: string;
  const queue = "recovery";

  before(async () => {
    redis = await startRedis();
    workers = await Promise.all([startWorker(redis.url, queue, tasks), startWorker(redis.url, queue, tasks)]);
    scratch = mkdtempSync(join(tmpdir(), "asyncio-ts-recovery-"));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  test("a job whose worker is SIGKILLed mid-job completes on another worker within 15 s", async () => {
    const pool = new DistributedExecutor({ connection: redis.url, queue });
    const marker = join(scratch, "killed.json");
    const { first, result, seconds } = await run(function* () {
      const future = pool.submit<Who, [number, string]>(ref("holdAndTell"), 1.5, marker);
      yield* until(() => existsSync(marker), 15, "the job to start");
      const first = JSON.parse(readFileSync(marker, "utf8")) as Who;
      const victim = workers.find((w) => w.pid === first.worker)!;
      const killedAt = Date.now();
      yield* fromPromise(victim.kill());
      const result = yield* future;
      return { first, result, seconds: (Date.now() - killedAt) / 1000 };
    });
    await pool.shutdown();
    assert.notEqual(result.worker, first.worker);
    assert.ok(workers.some((w) => w.pid === result.worker));
    assert.ok(seconds < 15, `redelivered after ${seconds} s`);
  });

  test("Redis killed mid-run fails the pending future with BrokenExecutorError after connectionTimeout, and new work reconnects", async () => {
    const pool = new DistributedExecutor({ connection: redis.url, queue, connectionTimeout: 1 });
    const marker = join(scratch, "redis.json");
    const { error, seconds, later } = await run(function* () {
      const future = pool.submit(ref("holdAndTell"), 2, marker);
      yield* until(() => existsSync(marker), 15, "the job to start");
      yield* fromPromise(redis.kill());
      const killedAt = Date.now();
      let error: unknown = null;
      try {
        yield* future;
      } catch (e) {
        error = e;
      }
      const seconds = (Date.now() - killedAt) / 1000;
      yield* fromPromise(redis.restart());
      const later = yield* pool.submit(ref("square"), 12);
      return { error, seconds, later };
    });
    await pool.shutdown();
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /Redis at unix:\/\/.* could not be reached for 1 s: job [0-9a-f-]{36} \(holdAndTell\)/);
    assert.ok(error.cause !== undefined && error.cause !== null, "the connection error is attached as cause");
    assert.ok(seconds >= 0.9 && seconds < 5, `failed after ${seconds} s`);
    assert.equal(later, 144);
  });

  test("a worker sent SIGTERM finishes its running job, then exits with status 0", async () => {
    const pool = new DistributedExecutor({ connection: redis.url, queue });
    const marker = join(scratch, "term.json");
    const live = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const result = await run(function* () {
      const future = pool.submit<Who, [number, string]>(ref("holdAndTell"), 1, marker);
      yield* until(() => existsSync(marker), 15, "the job to start");
      const runner = JSON.parse(readFileSync(marker, "utf8")) as Who;
      for (const w of live) w.child.kill("SIGTERM");
      const result = yield* future;
      assert.equal(result.worker, runner.worker);
      return result;
    });
    await pool.shutdown();
    const exits = await Promise.all(live.map((w) => w.exit));
    assert.deepEqual(exits, live.map(() => ({ code: 0, signal: null })));
    assert.ok(live.some((w) => w.pid === result.worker));
    assert.match(live.find((w) => w.pid === result.worker)!.output(), /stopped: \d+ completed/);
  });
});
