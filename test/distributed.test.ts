/**
 * DistributedExecutor against a real redis-server and real `asyncio-ts
 * worker` processes: round trips, map, buffersize, cancellation, shutdown,
 * attempts, and two workers sharing a queue.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { Queue, QueueEvents, Worker as BullWorker } from "bullmq";
import { Redis } from "ioredis";
import { BrokenExecutorError, CancelledError, Future, ProcessPoolExecutor, RuntimeError, createTask, fromPromise, getRunningLoop, run, sleep, waitFor, type Coro } from "../src/index.js";
import { DistributedExecutor, parseRedisUrl, serveJobs, type Serializer, type WorkerOptions } from "../src/distributed/index.js";
import { describeConnection, toConnectionOptions } from "../src/distributed/connection.js";
import { cancelKey, encode, fromRemoteError, messageOf, toRemoteError, v8Serializer, type JobData } from "../src/distributed/protocol.js";
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
    // A job whose reply was delivered stays active for the moment BullMQ takes to finish it, so each of the
    // two may still be counted while its successor is submitted (a CI run under load saw 4).
    assert.ok(most >= 1 && most <= 4, `at most 2 jobs at once (and each of them finishing), saw ${most}`);
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

// --- edge cases ------------------------------------------------------------
// DistributedExecutor and serveJobs at their edges: argument checks and
// descriptions that need no Redis, then a real redis-server with the worker
// running in this process (so the jobs it takes, refuses or fails are exact).

const tasksPath = fileURLToPath(tasks);

/** The error `body` fails with (or fails the test). */
function* failure(body: () => Coro<unknown> | Future<unknown>): Coro<Error> {
  try {
    yield* body();
  } catch (error) {
    assert.ok(error instanceof Error, String(error));
    return error;
  }
  return assert.fail("expected a failure");
}

// ------------------------------------------------------------------ no Redis

test("parseRedisUrl reads credentials, a unix socket's ?db, rediss:// as TLS, and no host as 127.0.0.1", () => {
  assert.deepEqual(parseRedisUrl("redis://us%40er:p%3Ass@cache:7000/3"), { username: "us@er", password: "p:ss", host: "cache", port: 7000, db: 3 });
  assert.deepEqual(parseRedisUrl("unix:///run/redis.sock?db=4"), { path: "/run/redis.sock", db: 4 });
  assert.deepEqual(parseRedisUrl("rediss://secure"), { host: "secure", port: 6379, tls: {} });
  assert.deepEqual(parseRedisUrl("redis:///2"), { host: "127.0.0.1", port: 6379, db: 2 });
});

test("parseRedisUrl refuses text that is not a URL", () => {
  assert.throws(() => parseRedisUrl("cache 6379"), /^TypeError: not a Redis URL: "cache 6379"/);
});

test("a connection given as options is copied, and named by its address", () => {
  const given = { host: "10.0.0.5", port: 7000, db: 1 };
  const copy = toConnectionOptions(given);
  assert.deepEqual(copy, given);
  assert.notEqual(copy, given);
  assert.equal(describeConnection(copy), "redis://10.0.0.5:7000/1");
  assert.equal(describeConnection({}), "redis://127.0.0.1:6379");
  assert.equal(describeConnection({ path: "/run/redis.sock" }), "unix:///run/redis.sock");
});

test("a DistributedExecutor refuses a bad queue name or connection timeout", () => {
  for (const queue of ["", "a:b", 7 as unknown as string]) {
    assert.throws(() => new DistributedExecutor({ connection: "redis://h", queue }), /^TypeError: queue must be a non-empty name without ':'/);
  }
  for (const connectionTimeout of [0, -1, Number.NaN, "5" as unknown as number]) {
    assert.throws(() => new DistributedExecutor({ connection: "redis://h", queue: "q", connectionTimeout }), /^RangeError: connectionTimeout must be a number of seconds > 0/);
  }
});

test("submit refuses what is not a { module, name } reference", async () => {
  const executor = new DistributedExecutor({ connection: "redis://127.0.0.1:1", queue: "never" });
  await run(function* () {
    for (const fn of [null, 42, { module: tasks }, { module: 7, name: "square" }]) {
      assert.throws(() => executor.submit(fn as never), /^TypeError: a DistributedExecutor runs \{ module: path \| URL, name: exportName \}/);
    }
  });
  await executor.shutdown();
});

test("map refuses a chunksize or a buffersize below 1", async () => {
  const executor = new DistributedExecutor({ connection: "redis://127.0.0.1:1", queue: "never" });
  await run(function* () {
    const fn = { module: tasks, name: "square" };
    assert.match((yield* failure(() => executor.map(fn, [1], { chunksize: 0 }))).message, /^chunksize must be >= 1$/);
    assert.match((yield* failure(() => executor.map(fn, [1], { buffersize: 1.5 }))).message, /^buffersize must be >= 1$/);
  });
  await executor.shutdown();
});

test("arguments or items that cannot be serialised fail the future with a TypeError, before any connection", async () => {
  const executor = new DistributedExecutor({ connection: "redis://127.0.0.1:1", queue: "never" });
  await run(function* () {
    const fn = { module: tasks, name: "echo" };
    const submitted = yield* failure(() => executor.submit(fn, () => 1));
    assert.ok(submitted instanceof TypeError);
    assert.match(submitted.message, /^the arguments cannot be serialised for a worker: /);
    const mapped = yield* failure(() => executor.map(fn, [Symbol("item")]));
    assert.match(mapped.message, /^the items cannot be serialised for a worker: /);
    assert.equal(executor.statistics().connected, false, "no connection was opened");
  });
  await executor.shutdown();
});

test("an executor shows its queue, address, pending jobs and state when inspected", async () => {
  const executor = new DistributedExecutor({ connection: { path: "/nonexistent/redis.sock" }, queue: "shown" });
  assert.equal(inspect(executor), "<DistributedExecutor queue=shown unix:///nonexistent/redis.sock pending=0 disconnected>");
  await executor.shutdown({ wait: false });
  assert.equal(inspect(executor), "<DistributedExecutor queue=shown unix:///nonexistent/redis.sock pending=0 disconnected shutdown>");
});

test("await using shuts an executor down", async () => {
  let executor: DistributedExecutor;
  {
    await using scoped = new DistributedExecutor({ connection: "redis://127.0.0.1:1", queue: "scoped" });
    executor = scoped;
  }
  assert.equal(executor.statistics().shutdown, true);
});

test("an error's name, message, stack and code survive the trip; a thrown non-Error becomes an Error", () => {
  const original = Object.assign(new RangeError("too far"), { code: "E_FAR" });
  const rebuilt = fromRemoteError(toRemoteError(original));
  assert.equal(rebuilt.name, "RangeError");
  assert.equal(rebuilt.message, "too far");
  assert.equal(rebuilt.stack, original.stack);
  assert.equal((rebuilt as Error & { code?: string }).code, "E_FAR");
  assert.deepEqual(toRemoteError("a string"), { name: "Error", message: "non-error thrown: a string", stack: undefined });
});

test("a thrown value without a message is named by the value itself", async () => {
  assert.equal(messageOf(new RangeError("out")), "out");
  assert.equal(messageOf("plain text"), "plain text");
  const refusing: Serializer = {
    serialize() {
      throw "refused by the serializer";
    },
    deserialize: () => undefined,
  };
  const executor = new DistributedExecutor({ connection: "redis://127.0.0.1:1", queue: "never", serializer: refusing });
  const error = await run(function* () {
    return yield* failure(() => executor.submit({ module: tasks, name: "square" }, 2));
  });
  await executor.shutdown();
  assert.equal(error.message, "the arguments cannot be serialised for a worker: refused by the serializer");
});

/** A TCP server on 127.0.0.1 that accepts connections and never answers (a black-hole Redis). */
async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

test("a server that accepts connections but never answers fails the job after connectionTimeout, naming no cause", async () => {
  const silent = await startSilentServer();
  const port = silent.port;
  const executor = new DistributedExecutor({ connection: `redis://127.0.0.1:${port}`, queue: "silent", connectionTimeout: 0.3 });
  try {
    const error = await run(function* () {
      return yield* failure(() => executor.submit({ module: tasks, name: "square" }, 2));
    }, { clock: "real" });
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /could not be reached for 0\.3 s: job \S+ \(square\) is lost to this executor$/);
  } finally {
    await executor.shutdown();
    await silent.close();
  }
});

// ------------------------------------------------------ asyncio-ts worker, bad Redis

const cliMain = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const withoutRedisPackages = fileURLToPath(new URL("./fixtures/without-redis-packages.mjs", import.meta.url));

interface WorkerEnd {
  code: number | null;
  stderr: string;
  /** Seconds from the start (or from the SIGTERM, when one was sent) to the exit. */
  seconds: number;
}

/**
 * Runs `asyncio-ts worker --connection-timeout 1` against `url`; SIGTERMs it
 * once it says it is connecting, if asked. Its time is counted from that line.
 */
function workerCli(url: string, options: { sigterm?: boolean; preload?: string[] } = {}): Promise<WorkerEnd> {
  const args = [...(options.preload ?? []), "--import", "tsx", cliMain, "worker", "--redis", url, "--queue", "q", "--module", tasksPath, "--progress", "0", "--connection-timeout", options.sigterm === true ? "60" : "1"];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  // From the moment it waits for Redis: the start of node and tsx is not what is measured.
  let started = Date.now();
  let waiting = false;
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (!waiting && stdout.includes(" connecting to ")) {
      waiting = true;
      started = Date.now();
      if (options.sigterm === true) child.kill("SIGTERM");
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(guard);
      resolve({ code, stderr, seconds: (Date.now() - started) / 1000 });
    }),
  );
}

/** The one line a worker printed on stderr. */
function oneLine(end: WorkerEnd): string {
  const lines = end.stderr.split("\n").filter((line) => line !== "");
  assert.equal(lines.length, 1, `one line, got: ${end.stderr}`);
  return lines[0]!;
}

test("asyncio-ts worker on a refused port exits 1 within connectionTimeout + 5 s, saying so in one line", async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  const end = await workerCli(`redis://127.0.0.1:${port}`);
  assert.equal(end.code, 1);
  assert.match(oneLine(end), new RegExp(`^asyncio-ts worker: cannot reach Redis at redis://127\\.0\\.0\\.1:${port} within 1 s: .*ECONNREFUSED`));
  assert.ok(end.seconds < 6, `exited after ${end.seconds} s`);
});

test("asyncio-ts worker on a missing socket exits 1 within connectionTimeout + 5 s, saying so in one line", async () => {
  const end = await workerCli("unix:///nonexistent/asyncio-ts/redis.sock");
  assert.equal(end.code, 1);
  assert.match(oneLine(end), /^asyncio-ts worker: cannot reach Redis at unix:\/\/\/nonexistent\/asyncio-ts\/redis\.sock within 1 s: connect ENOENT/);
  assert.ok(end.seconds < 6, `exited after ${end.seconds} s`);
});

test("asyncio-ts worker on a server that never answers exits 1 within connectionTimeout + 5 s, saying so in one line", async () => {
  const silent = await startSilentServer();
  const port = silent.port;
  try {
    const end = await workerCli(`redis://127.0.0.1:${port}`);
    assert.equal(end.code, 1);
    assert.match(oneLine(end), /^asyncio-ts worker: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ within 1 s: no answer$/);
    assert.ok(end.seconds < 6, `exited after ${end.seconds} s`);
  } finally {
    await silent.close();
  }
});

test("asyncio-ts worker with a URL that is not a Redis URL exits 2 (a usage error) at once, naming it in one line", async () => {
  const end = await workerCli("cache 6379");
  assert.equal(end.code, 2);
  assert.match(oneLine(end), /not a Redis URL: "cache 6379"/);
});

test("asyncio-ts worker sent SIGTERM while it waits for Redis exits within 2 s", async () => {
  const end = await workerCli("unix:///nonexistent/asyncio-ts/redis.sock", { sigterm: true });
  assert.equal(end.code, 0);
  assert.ok(end.seconds < 2, `exited ${end.seconds} s after SIGTERM`);
});

test("without bullmq installed, asyncio-ts worker exits 1 with one line naming npm install bullmq ioredis", async () => {
  const end = await workerCli("unix:///nonexistent/asyncio-ts/redis.sock", { preload: ["--import", withoutRedisPackages] });
  assert.equal(end.code, 1);
  assert.match(oneLine(end), /^asyncio-ts worker: asyncio-ts\/distributed needs the packages bullmq and ioredis, and bullmq is not installed: run `npm install bullmq ioredis`$/);
});

test("without bullmq installed, asyncio-ts/distributed still loads and a submit fails with an error naming npm install bullmq ioredis", async () => {
  const script = fileURLToPath(new URL("./fixtures/submit-without-redis-packages.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", withoutRedisPackages, "--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 0);
  assert.equal(stdout, "Error: asyncio-ts/distributed needs the packages bullmq and ioredis, and bullmq is not installed: run `npm install bullmq ioredis`\n");
});

// --------------------------------------------------- Redis, worker in this process

describe("serveJobs in this process, with a redis-server", { skip: redisSkip }, () => {
  let redis: RedisServer;
  let queues = 0;

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    await redis?.stop();
  });

  interface Served {
    executor: DistributedExecutor;
    queue: string;
    log: string[];
  }

  /**
   * Runs `body` with an executor and a worker (serveJobs, as a task of the
   * same loop) on a fresh queue; stops both after.
   */
  async function served<T>(body: (s: Served) => Coro<T>, worker: Partial<WorkerOptions> = {}, executorOptions: Partial<ConstructorParameters<typeof DistributedExecutor>[0]> = {}): Promise<T> {
    const queue = `edges-${++queues}`;
    const executor = new DistributedExecutor({ connection: redis.url, queue, ...executorOptions });
    const log: string[] = [];
    return run(function* () {
      const stop = new Future<void>(getRunningLoop());
      const serving = createTask(
        serveJobs({ connection: redis.url, queue, modules: [tasks], concurrency: 1, processes: 1, progressInterval: 0, lockDuration: 1000, stalledInterval: 500, log: (line) => log.push(line), stop, ...worker }),
      );
      try {
        yield* until(() => log.some((line) => line.includes(" serving ")) || serving.done(), 20, "the worker to serve");
        return yield* body({ executor, queue, log });
      } finally {
        if (!stop.done()) stop.setResult(undefined);
        yield* executor.shutdown({ cancelFutures: true });
        if (!serving.done()) yield* serving;
      }
    }, { clock: "real" });
  }

  /** Adds a job by hand (as BullMQ, not the executor) and waits for its end; returns the failure reason, or null. */
  function* rawJob(queue: string, data: unknown, options: { jobId?: string; attempts?: number } = { attempts: 1 }): Coro<string | null> {
    const connection = { path: redis.path };
    const raw = new Queue(queue, { connection });
    const events = new QueueEvents(queue, { connection, lastEventId: "0-0" });
    try {
      yield* fromPromise(events.waitUntilReady());
      const job = yield* fromPromise(raw.add("raw", data, options));
      try {
        yield* fromPromise(job.waitUntilFinished(events, 20_000));
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    } finally {
      yield* fromPromise(Promise.all([events.close(), raw.close()]));
    }
  }

  test("a job runs where a module of the same file name is served, whatever path named it", async () => {
    const values = await served(
      function* ({ executor }) {
        return [
          yield* executor.submit({ module: "/elsewhere/checkout/distributed-tasks.ts", name: "square" }, 3),
          yield* executor.submit({ module: relative(process.cwd(), tasksPath), name: "square" }, 4),
          yield* executor.submit({ module: tasks.href, name: "square" }, 5),
        ];
      },
      { modules: [relative(process.cwd(), tasksPath)] },
    );
    assert.deepEqual(values, [9, 16, 25]);
  });

  test("modules given to serveJobs as an absolute path or a URL string are served", async () => {
    const values = await served(
      function* ({ executor }) {
        return yield* executor.submit({ module: tasksPath, name: "square" }, 6);
      },
      { modules: ["file:///elsewhere/other.ts", "https://example.com/lib/other.js", tasksPath] },
    );
    assert.equal(values, 36);
  });

  test("asyncio-ts worker naming a database Redis does not have exits 1 within connectionTimeout + 5 s, saying so in one line", async () => {
    const end = await workerCli(`${redis.url}?db=99`);
    assert.equal(end.code, 1);
    assert.match(oneLine(end), /^asyncio-ts worker: Redis at unix:\/\/.*\?db=99 has no database 99: ERR DB index is out of range$/);
    assert.ok(end.seconds < 6, `exited after ${end.seconds} s`);
  });

  test("a submit to a database Redis does not have fails with BrokenExecutorError naming it", async () => {
    const executor = new DistributedExecutor({ connection: `${redis.url}?db=99`, queue: "nodb" });
    try {
      const error = await run(function* () {
        return yield* failure(() => executor.submit({ module: tasks, name: "square" }, 2));
      }, { clock: "real" });
      assert.ok(error instanceof BrokenExecutorError, String(error));
      assert.match(error.message, /^Redis at unix:\/\/.*\?db=99 has no database 99: ERR DB index is out of range$/);
    } finally {
      await executor.shutdown();
    }
  });

  test("an error from Redis while reading replies does not stop the reader: the reply arrives once the error is gone", async () => {
    const queue = `edges-${++queues}`;
    const executor = new DistributedExecutor({ connection: redis.url, queue });
    const raw = new Queue(queue, { connection: { path: redis.path } });
    const client = new Redis({ path: redis.path });
    try {
      const value = await run(function* () {
        const future = executor.submit({ module: tasks, name: "square" }, 5);
        yield* until(async () => (await raw.getWaitingCount()) === 1, 10, "the job to be queued");
        const [job] = yield* fromPromise(raw.getWaiting());
        const replies = (job!.data as JobData).reply!;
        // Not a list: every read of the reader fails (WRONGTYPE) until it is deleted.
        yield* fromPromise(client.set(replies, "not a list"));
        // Longer than one blocking read (0.5 s): the next read meets the error.
        yield* sleep(0.8);
        yield* fromPromise(client.del(replies));
        const stop = new Future<void>(getRunningLoop());
        const serving = createTask(serveJobs({ connection: redis.url, queue, modules: [tasks], concurrency: 1, processes: 1, progressInterval: 0, log: () => undefined, stop }));
        try {
          return yield* waitFor(future, 10);
        } finally {
          stop.setResult(undefined);
          yield* serving;
        }
      }, { clock: "real" });
      assert.equal(value, 25);
    } finally {
      await executor.shutdown();
      await raw.close();
      await client.quit();
    }
  });

  test("a worker with no module to serve is refused", async () => {
    await assert.rejects(
      run(function* () {
        yield* serveJobs({ connection: redis.url, queue: "none", modules: [] });
      }),
      /^TypeError: a worker needs at least one module to serve/,
    );
  });

  test("a job for a module the worker does not serve fails with BrokenExecutorError naming it, once", async () => {
    const error = await served(function* ({ executor }) {
      return yield* failure(() => executor.submit({ module: "/srv/jobs/unknown.ts", name: "square" }, 2));
    });
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /\(square from \/srv\/jobs\/unknown\.ts\) failed after at most 3 attempts: this worker does not serve \/srv\/jobs\/unknown\.ts \(it serves file:\/\//);
  });

  test("map sends each chunk as one job to the worker's pool", async () => {
    const values = await served(function* ({ executor }) {
      return yield* executor.map({ module: tasks, name: "square" }, [1, 2, 3, 4, 5], { chunksize: 2 });
    });
    assert.deepEqual(values, [1, 4, 9, 16, 25]);
  });

  test("a worker refuses a job that is not an asyncio-ts job", async () => {
    const reason = await served(function* ({ queue }) {
      return yield* rawJob(queue, { task: "something else" });
    });
    assert.equal(reason, "not an asyncio-ts job");
  });

  test("a job added without attempts (BullMQ's default, 0) runs once", async () => {
    const reason = await served(function* ({ queue }) {
      const data: JobData = { v: 1, kind: "run", fn: { module: tasksPath, url: tasks.href, name: "square" }, payload: encode(v8Serializer, [3]) };
      return yield* rawJob(queue, data, {});
    });
    assert.equal(reason, null);
  });

  test("a job marked cancelled before the worker took it is cancelled, not run to its end", async () => {
    const reason = await served(function* ({ queue }) {
      const jobId = "marked-in-advance";
      const client = new Redis({ path: redis.path });
      try {
        yield* fromPromise(client.set(cancelKey("bull", queue, jobId), "1", "EX", 60));
      } finally {
        yield* fromPromise(client.quit());
      }
      const data: JobData = { v: 1, kind: "run", fn: { module: tasksPath, url: tasks.href, name: "slowSquare" }, payload: encode(v8Serializer, [2, 5000]) };
      return yield* rawJob(queue, data, { jobId, attempts: 1 });
    });
    assert.equal(reason, "cancelled");
  });

  test("a result the serializer cannot encode comes back as a TypeError", async () => {
    const json: Serializer = {
      serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
      deserialize: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
    };
    const error = await served(
      function* ({ executor }) {
        return yield* failure(() => executor.submit({ module: tasks, name: "huge" }));
      },
      { serializer: json },
      { serializer: json },
    );
    assert.equal(error.name, "TypeError");
    assert.match(error.message, /^the result cannot be serialised: .*BigInt/);
  });

  test("a job whose process dies fails after its one attempt, and a fresh pool runs the next job", async () => {
    const [error, next] = await served(
      function* ({ executor }) {
        const died = yield* failure(() => executor.submit({ module: tasks, name: "crash" }));
        return [died, yield* executor.submit({ module: tasks, name: "square" }, 7)] as const;
      },
      {},
      { jobOptions: { attempts: undefined } },
    );
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /failed after at most 1 attempt: the job's process died: /);
    assert.equal(next, 49);
  });

  test("a worker logs a progress line every progressInterval seconds", async () => {
    const log = await served(
      function* ({ executor, log }) {
        yield* executor.submit({ module: tasks, name: "square" }, 2);
        yield* until(() => log.some((line) => / 1 completed, 0 failed, 0 running, [\d.]+ jobs\/s$/.test(line)), 10, "a progress line");
        return log;
      },
      { progressInterval: 0.05 },
    );
    assert.match(log[0]!, /^worker \d+ connecting to edges-\d+@unix:\/\/.* \(at most 5 s\)$/);
    assert.match(log[1]!, /^worker \d+ serving edges-\d+@unix:\/\/.*: concurrency 1, 1 processes, modules file:\/\//);
  });

  test("without a stop future, a worker serves until its task is cancelled", async () => {
    const queue = `edges-${++queues}`;
    const log: string[] = [];
    const outcome = await run(function* () {
      // Every option left to its default but the log.
      const serving = createTask(serveJobs({ connection: redis.url, queue, modules: [tasks], log: (line) => log.push(line) }));
      yield* until(() => log.some((line) => line.includes(" serving ")), 20, "the worker to serve");
      serving.cancel();
      try {
        yield* serving;
        return "finished";
      } catch (error) {
        return error instanceof CancelledError ? "cancelled" : String(error);
      }
    }, { clock: "real" });
    assert.equal(outcome, "cancelled");
  });

  test("a job Redis will not take fails with BrokenExecutorError saying it could not be queued", async () => {
    const error = await served(
      function* ({ executor }) {
        return yield* failure(() => executor.submit({ module: tasks, name: "square" }, 2));
      },
      {},
      { jobOptions: { sizeLimit: 1 } },
    );
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /^job \S+ \(square\) could not be queued on unix:\/\/.*: The size of job square exceeds the limit 1 bytes/);
  });

  test("cancelling a job that could not be queued only cancels its future", async () => {
    const cancelled = await served(
      function* ({ executor }) {
        const future = executor.submit({ module: tasks, name: "square" }, 2);
        future.cancel();
        yield* until(() => executor.statistics().pending === 0, 10, "the job to be given up");
        return future.cancelled();
      },
      {},
      { jobOptions: { sizeLimit: 1 } },
    );
    assert.equal(cancelled, true);
  });

  test("a job taken again after its worker stalled, beyond its attempts, fails instead of running again", async () => {
    const queue = `edges-${++queues}`;
    const connection = { path: redis.path };
    const raw = new Queue(queue, { connection });
    const events = new QueueEvents(queue, { connection, lastEventId: "0-0" });
    let took!: () => void;
    const taken = new Promise<void>((resolve) => (took = resolve));
    // Takes the job and then dies (closed by force): its lock expires unrenewed.
    // (Its stalledInterval also spaces the stalled checks of every worker of the queue.)
    const doomed = new BullWorker(queue, () => {
      took();
      return new Promise<never>(() => {});
    }, { connection, lockDuration: 500, stalledInterval: 300 });
    try {
      await events.waitUntilReady();
      const data: JobData = { v: 1, kind: "run", fn: { module: tasksPath, url: tasks.href, name: "square" }, payload: encode(v8Serializer, [2]) };
      const job = await raw.add("stalls", data, { attempts: 1 });
      await taken;
      await doomed.close(true);
      const reason = await run(function* () {
        const stop = new Future<void>(getRunningLoop());
        const serving = createTask(serveJobs({ connection: redis.url, queue, modules: [tasks], concurrency: 1, processes: 1, progressInterval: 0, lockDuration: 1000, stalledInterval: 300, log: () => undefined, stop }));
        try {
          yield* fromPromise(job.waitUntilFinished(events, 20_000));
          return null;
        } catch (error) {
          return (error as Error).message;
        } finally {
          stop.setResult(undefined);
          yield* serving;
        }
      }, { clock: "real" });
      assert.equal(reason, "started 2 times, more than its 1 attempts: the workers running it died or stalled");
    } finally {
      await Promise.all([events.close(), raw.close()]);
    }
  });

  test("a job completed by a worker that is not asyncio-ts's fails with BrokenExecutorError, as it sent no reply", async () => {
    const queue = `edges-${++queues}`;
    const connection = { path: redis.path };
    const rogue = new BullWorker(queue, async (job) => (job.data.fn.name === "number" ? 42 : "not base64 of anything"), { connection });
    const executor = new DistributedExecutor({ connection: redis.url, queue });
    try {
      const messages = await run(function* () {
        const number = yield* failure(() => executor.submit({ module: tasks, name: "number" }));
        const garbage = yield* failure(() => executor.submit({ module: tasks, name: "garbage" }));
        assert.equal(inspect(executor).includes("disconnected"), false, "connected while jobs run");
        return [number, garbage].map((error) => (error instanceof BrokenExecutorError ? error.message : `not broken: ${String(error)}`));
      }, { clock: "real" });
      assert.match(messages[0]!, /\(number\) ended without a reply from an asyncio-ts worker/);
      assert.match(messages[1]!, /\(garbage\) ended without a reply from an asyncio-ts worker/);
    } finally {
      await executor.shutdown();
      await rogue.close();
    }
  });

  test("a reply the executor's serializer cannot read fails the job with BrokenExecutorError", async () => {
    const json: Serializer = {
      serialize: (value) => new TextEncoder().encode(JSON.stringify(value)),
      deserialize: (bytes) => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
    };
    const error = await served(function* ({ executor }) {
      return yield* failure(() => executor.submit({ module: tasks, name: "square" }, 3));
    }, { serializer: json });
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /\(square\) returned a result that cannot be read: /);
  });
});
