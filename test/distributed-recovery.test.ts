/**
 * DistributedExecutor when things die: a worker SIGKILLed mid-job (another
 * worker runs the job again), Redis killed mid-run (pending futures fail,
 * new work reconnects), and a worker asked to stop with SIGTERM (it drains).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { BrokenExecutorError, fromPromise, run, sleep, waitFor, type Coro, type Future } from "../src/index.js";
import { DistributedExecutor } from "../src/distributed/index.js";
import { redisSkip, startRedis, startWorker, type RedisServer, type WorkerProcess } from "./redis-server.js";

const tasks = new URL("./fixtures/distributed-tasks.ts", import.meta.url);
const busySubmitter = new URL("./fixtures/busy-submitter.ts", import.meta.url).pathname;
const ref = (name: string): { module: URL; name: string } => ({ module: tasks, name });

/** Whether `pid` is a live process (a zombie no one reaped yet counts as ended). */
function processRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** The future's outcome, or a failure of the test after `seconds` instead of a hang. */
function* outcome<T>(future: Future<T>, seconds: number): Coro<{ value: T } | { error: unknown; seconds: number }> {
  const started = Date.now();
  try {
    return { value: yield* waitFor(future, seconds) };
  } catch (error) {
    return { error, seconds: (Date.now() - started) / 1000 };
  }
}
type Who = { worker: number; child: number };

function* until(condition: () => boolean | Promise<boolean>, seconds: number, what: string): Coro<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(yield* fromPromise(Promise.resolve(condition())))) {
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

  test("a reply is not lost when this submitter's loop is blocked while another submitter's jobs overflow the trimmed event stream", async () => {
    const pool = new DistributedExecutor({ connection: redis.url, queue });
    const marker = join(scratch, "busy.json");
    const got = await run(function* () {
      yield* pool.submit(ref("square"), 1);
      const future = pool.submit<Who, [number, string]>(ref("holdAndTell"), 0.3, marker);
      yield* until(() => existsSync(marker), 15, "the job to start");
      // This loop stands still while the job ends and 300 more run through the queue.
      execFileSync(process.execPath, ["--import", "tsx", busySubmitter, redis.url, queue, "300"], { stdio: ["ignore", "ignore", "inherit"], timeout: 60_000 });
      return yield* outcome(future, 10);
    });
    await pool.shutdown();
    assert.ok("value" in got, `the job's future did not settle: ${String((got as { error: unknown }).error)}`);
    assert.equal(typeof got.value.worker, "number");
  });

  test("a job whose worker is SIGKILLed mid-job leaves no pool process of it running, and completes on another worker within 15 s", async () => {
    const pool = new DistributedExecutor({ connection: redis.url, queue });
    const marker = join(scratch, "killed.json");
    const { first, result, seconds } = await run(function* () {
      const future = pool.submit<Who, [number, string]>(ref("holdAndTell"), 1.5, marker);
      yield* until(() => existsSync(marker), 15, "the job to start");
      const first = JSON.parse(readFileSync(marker, "utf8")) as Who;
      const victim = workers.find((w) => w.pid === first.worker)!;
      const killedAt = Date.now();
      yield* fromPromise(victim.kill());
      yield* until(() => !processRunning(first.child), 2, "the killed worker's pool process to stop");
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

  test("Redis restarted empty within connectionTimeout fails the running job's future with BrokenExecutorError naming its function", async () => {
    const pool = new DistributedExecutor({ connection: redis.url, queue, connectionTimeout: 5 });
    const marker = join(scratch, "emptied.json");
    const got = await run(function* () {
      const future = pool.submit<Who, [number, string]>(ref("holdAndTell"), 3, marker);
      yield* until(() => existsSync(marker), 15, "the job to start");
      yield* fromPromise(redis.kill());
      yield* sleep(0.5);
      yield* fromPromise(redis.restart());
      return yield* outcome(future, 15);
    });
    await pool.shutdown();
    assert.ok("error" in got, "the job of a forgotten Redis came back with a result");
    assert.ok(got.error instanceof BrokenExecutorError, String(got.error));
    assert.match(got.error.message, /Redis at unix:\/\/.* restarted without its data \(its run_id changed\): job [0-9a-f-]{36} \(holdAndTell\) is lost/);
    assert.ok(got.seconds < 10, `failed after ${got.seconds} s (connectionTimeout 5 s + 5 s at most)`);
  });

  test("Redis frozen (SIGSTOP) longer than connectionTimeout fails the pending future at about connectionTimeout, and shutdown returns", async () => {
    const pool = new DistributedExecutor({ connection: redis.url, queue, connectionTimeout: 1.5 });
    const marker = join(scratch, "frozen.json");
    try {
      const { got, shutdownSeconds } = await run(function* () {
        const future = pool.submit<Who, [number, string]>(ref("holdAndTell"), 4, marker);
        yield* until(() => existsSync(marker), 15, "the job to start");
        redis.pause();
        const got = yield* outcome(future, 10);
        const closing = Date.now();
        yield* waitFor(pool.shutdown(), 5);
        return { got, shutdownSeconds: (Date.now() - closing) / 1000 };
      });
      assert.ok("error" in got, "a result came from a frozen Redis");
      assert.ok(got.error instanceof BrokenExecutorError, String(got.error));
      assert.match(got.error.message, /could not be reached for 1\.5 s: job [0-9a-f-]{36} \(holdAndTell\) is lost to this executor/);
      assert.ok(got.seconds >= 1.4 && got.seconds < 3.5, `failed after ${got.seconds} s`);
      assert.ok(shutdownSeconds < 2.5, `shutdown took ${shutdownSeconds} s`);
    } finally {
      redis.resume();
    }
  });

  test("cancelling a queued job's future while Redis is down cancels it, and shutdown returns after connectionTimeout", async () => {
    const pool = new DistributedExecutor({ connection: redis.url, queue: "recovery-unserved", connectionTimeout: 1 });
    const client = new Redis({ path: redis.path });
    const { cancelled, shutdownSeconds } = await run(function* () {
      const future = pool.submit(ref("square"), 3);
      // No worker serves this queue: the job waits there.
      yield* until(async () => (await client.llen("bull:recovery-unserved:wait")) === 1, 10, "the job to be queued");
      client.disconnect();
      yield* fromPromise(redis.kill());
      future.cancel();
      const closing = Date.now();
      yield* waitFor(pool.shutdown(), 5);
      return { cancelled: future.cancelled(), shutdownSeconds: (Date.now() - closing) / 1000 };
    });
    await redis.restart();
    assert.equal(cancelled, true);
    assert.ok(shutdownSeconds < 3, `shutdown took ${shutdownSeconds} s`);
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

  test("a worker sent a second SIGTERM while it drains stops its running job and exits with status 1", async () => {
    const drainQueue = "recovery-second-signal";
    const worker = await startWorker(redis.url, drainQueue, tasks);
    const pool = new DistributedExecutor({ connection: redis.url, queue: drainQueue });
    const marker = join(scratch, "second-signal.json");
    try {
      const seconds = await run(function* () {
        const job = pool.submit<Who, [number, string]>(ref("holdAndTell"), 60, marker);
        yield* until(() => existsSync(marker), 15, "the job to start");
        worker.child.kill("SIGTERM");
        yield* until(() => worker.errorOutput().includes("draining"), 10, "the worker to drain");
        const signalled = Date.now();
        worker.child.kill("SIGTERM");
        try {
          yield* until(() => worker.child.exitCode !== null || worker.child.signalCode !== null, 15, "the worker to exit after a second SIGTERM");
        } catch (error) {
          throw new Error(`${(error as Error).message}; its stderr: ${worker.errorOutput()}`, { cause: error });
        }
        job.cancel(); // the job is the test's to drop: its worker is gone
        return (Date.now() - signalled) / 1000;
      });
      assert.deepEqual(await worker.exit, { code: 1, signal: null });
      assert.ok(seconds < 10, `exited ${seconds} s after the second signal`);
    } finally {
      await pool.shutdown({ cancelFutures: true });
    }
  });
});
