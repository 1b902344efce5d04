/**
 * The worker side of `DistributedExecutor`: takes jobs from a BullMQ queue
 * and runs each in a local `ProcessPoolExecutor`, so this process's loop
 * only moves jobs and renews their locks, and a CPU-bound job never stalls
 * it (a stalled lock would hand the job to another worker).
 *
 * A job names its function as `{ module, name }`; a worker runs only exports
 * of the modules it was started with (`modules`), matched by resolved URL,
 * else by file name without extension (the same module checked out at
 * another path on another machine).
 */
import { availableParallelism } from "node:os";
import { basename, extname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Coro } from "../coroutines.js";
import { BrokenExecutorError, CancelledError } from "../errors.js";
import { getRunningLoop } from "../running-loop.js";
import { Future } from "../futures.js";
import { fromPromise } from "../bridge.js";
import { ProcessPoolExecutor } from "../executors/process-pool.js";
import { DISCONNECT_TIMEOUT_MS, describeConnection, retryUntil, toConnectionOptions, type RedisConnectionOptions } from "./connection.js";
import { loadRedisLibraries } from "./dependencies.js";
import {
  DEFAULT_PREFIX,
  DELIVER_SCRIPT,
  REPLY_TTL_MS,
  cancelChannel,
  cancelKey,
  decode,
  encodeReplyFrame,
  isReplyListKey,
  jobKey,
  messageOf,
  toRemoteError,
  v8Serializer,
  type JobData,
  type JobOutcome,
  type JobReply,
  type Serializer,
} from "./protocol.js";

/** Options of `serveJobs` (the `asyncio-ts worker` command). */
export interface WorkerOptions {
  connection: string | RedisConnectionOptions;
  queue: string;
  /** The modules whose exports this worker runs. */
  modules: Array<string | URL>;
  /** Jobs run at once (default: available parallelism). */
  concurrency?: number;
  /** Processes of the local pool (default: `concurrency`). */
  processes?: number;
  serializer?: Serializer;
  /** Milliseconds a job's lock lasts without renewal (default 4000); a dead worker's job is taken over after it. */
  lockDuration?: number;
  /** Milliseconds between checks for stalled jobs (default 3000). */
  stalledInterval?: number;
  /** Seconds between progress lines (default 10; 0: none). */
  progressInterval?: number;
  /** Where progress lines go (default: stdout). */
  log?: (line: string) => void;
  prefix?: string;
  /** Seconds to wait for Redis to answer at start before giving up with an error (default 5). */
  connectionTimeout?: number;
  /** Resolves when the worker should drain and stop (e.g. on SIGTERM). */
  stop?: Future<void>;
}

/** What a worker did, returned when it stops. */
export interface WorkerSummary {
  completed: number;
  failed: number;
}

interface ServedModule {
  url: string;
  stem: string;
}

function stemOf(pathOrUrl: string): string {
  const name = basename(pathOrUrl.startsWith("file:") ? new URL(pathOrUrl).pathname : pathOrUrl);
  return name.slice(0, name.length - extname(name).length);
}

function toServedModule(module: string | URL): ServedModule {
  let url: string;
  if (module instanceof URL) url = module.href;
  else if (/^[a-z][a-z0-9+.-]*:/i.test(module)) url = module;
  else url = pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
  return { url, stem: stemOf(url) };
}

/**
 * Waits until Redis answers, for at most `timeoutMs` or until `stop`
 * resolves: "ready", "stopped", or throws an `Error` naming the problem (no
 * answer, a refused or missing socket, no such database).
 */
function awaitRedis(control: Redis, where: string, db: number | undefined, timeoutMs: number, stop: Promise<void>): Promise<"ready" | "stopped"> {
  let lastError: Error | null = null;
  const onError = (error: Error): void => {
    lastError = error;
  };
  control.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = lastError as Error | null;
      reject(new Error(`cannot reach Redis at ${where} within ${timeoutMs / 1000} s: ${error !== null ? error.message : "no answer"}`));
    }, timeoutMs);
  });
  const answered = control.ping().then(() => {
    // ioredis reports a failed SELECT as an error event, then goes on in database 0.
    const error = lastError as Error | null;
    if (error !== null && /DB index is out of range/.test(error.message)) throw new Error(`Redis at ${where} has no database ${String(db)}: ${error.message}`);
    return "ready" as const;
  });
  return Promise.race([answered, timedOut, stop.then(() => "stopped" as const)]).finally(() => {
    clearTimeout(timer);
    control.off("error", onError);
  });
}

/**
 * Runs jobs of `queue` until `options.stop` resolves or the task is
 * cancelled; then drains (running jobs finish, no new ones are taken) and
 * returns what it did. A job whose local process dies fails that attempt
 * (BullMQ retries it up to its `attempts`); an error thrown by the function is
 * the job's result, sent back to the submitter, not a failed attempt. When
 * Redis does not answer within `connectionTimeout` at start (refused, missing
 * socket, silent, no such database), throws an `Error` naming the problem.
 */
export function* serveJobs(options: WorkerOptions): Coro<WorkerSummary> {
  const loop = getRunningLoop();
  const connection = toConnectionOptions(options.connection);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const serializer = options.serializer ?? v8Serializer;
  const concurrency = options.concurrency ?? Math.max(1, availableParallelism());
  const processes = options.processes ?? concurrency;
  const served = options.modules.map(toServedModule);
  if (served.length === 0) throw new TypeError("a worker needs at least one module to serve");
  const connectionTimeout = options.connectionTimeout ?? 5;
  if (typeof connectionTimeout !== "number" || !(connectionTimeout > 0)) throw new RangeError("connectionTimeout must be a number of seconds > 0");
  const where = describeConnection(connection);
  const log = options.log ?? ((line: string) => process.stdout.write(line + "\n"));
  const { bullmq, ioredis } = yield* fromPromise(loadRedisLibraries());
  const { Worker: BullWorker, UnrecoverableError } = bullmq;
  const counts = { completed: 0, failed: 0, running: 0 };
  const stopped = new Promise<void>((resolve) => {
    if (options.stop === undefined) return;
    if (options.stop.done()) resolve();
    else options.stop.addDoneCallback(() => resolve());
  });

  let closing = false;
  const retryStrategy = retryUntil(() => closing);
  const control = new ioredis.Redis({ ...connection, maxRetriesPerRequest: null, retryStrategy, disconnectTimeout: DISCONNECT_TIMEOUT_MS });
  control.on("error", () => undefined);
  log(`worker ${process.pid} connecting to ${options.queue}@${where} (at most ${connectionTimeout} s)`);
  let state: "ready" | "stopped";
  const connecting = loop.holdTime();
  try {
    state = yield* fromPromise(awaitRedis(control, where, connection.db, connectionTimeout * 1000, stopped));
  } catch (error) {
    closing = true;
    control.disconnect();
    throw error;
  } finally {
    connecting.release();
  }
  if (state === "stopped") {
    closing = true;
    control.disconnect();
    return { completed: 0, failed: 0 };
  }

  let pool = new ProcessPoolExecutor({ maxWorkers: processes });
  const subscriber = new ioredis.Redis({ ...connection, maxRetriesPerRequest: null, retryStrategy, disconnectTimeout: DISCONNECT_TIMEOUT_MS });
  subscriber.on("error", () => undefined);

  const findModule = (data: JobData): ServedModule => {
    const exact = served.find((m) => m.url === data.fn.url);
    if (exact !== undefined) return exact;
    const stem = stemOf(data.fn.url);
    const byName = served.find((m) => m.stem === stem);
    if (byName !== undefined) return byName;
    throw new UnrecoverableError(`this worker does not serve ${data.fn.module} (it serves ${served.map((m) => m.url).join(", ")})`);
  };

  const runInPool = function* (data: JobData, url: string, values: unknown[]): Coro<unknown> {
    const ref = { module: new URL(url), name: data.fn.name };
    if (data.kind === "run") return yield* pool.submit(ref, ...values);
    return yield* pool.map(ref, values, { chunksize: Math.max(1, values.length) });
  };

  /** Pushes the job's reply to its submitter's list, if the job is still in Redis. */
  const deliver = async (job: Job<JobData, null>, reply: JobReply): Promise<void> => {
    const list = job.data.reply;
    if (typeof list !== "string" || !isReplyListKey(prefix, options.queue, list)) return;
    let frame: Buffer;
    try {
      frame = encodeReplyFrame(serializer, job.id!, reply);
    } catch (error) {
      const unsendable: JobOutcome = { ok: false, error: toRemoteError(new TypeError(`the result cannot be serialised: ${messageOf(error)}`)) };
      frame = encodeReplyFrame(serializer, job.id!, unsendable);
    }
    await control.eval(DELIVER_SCRIPT, 2, jobKey(prefix, options.queue, job.id!), list, frame, String(REPLY_TTL_MS));
  };

  const runJob = async (job: Job<JobData, null>, signal?: AbortSignal): Promise<JobOutcome> => {
    const data = job.data;
    // BullMQ's Job defaults attempts to 0, which means one attempt, as does 1.
    const attempts = Math.max(1, job.opts.attempts!);
    if (job.attemptsStarted > attempts) {
      throw new UnrecoverableError(`started ${job.attemptsStarted} times, more than its ${attempts} attempts: the workers running it died or stalled`);
    }
    const module = findModule(data);
    const values = decode(serializer, data.payload) as unknown[];
    const runningPool = pool;
    const task = loop.createTask(runInPool(data, module.url, values), { name: `job ${job.id}` });
    const onAbort = (): void => {
      task.cancel();
    };
    signal?.addEventListener("abort", onAbort);
    // A cancellation published before this worker took the job left a mark;
    // checked while the job already runs, so the check costs no latency.
    void control.exists(cancelKey(prefix, options.queue, job.id!)).then(
      (marked) => marked === 1 && onAbort(),
      () => undefined,
    );
    counts.running++;
    try {
      return { ok: true, value: await task };
    } catch (error) {
      if (error instanceof CancelledError) throw new UnrecoverableError("cancelled");
      if (error instanceof BrokenExecutorError) {
        // The job's process died: this attempt failed; a fresh pool serves the next jobs.
        if (pool === runningPool) {
          pool = new ProcessPoolExecutor({ maxWorkers: processes });
          void runningPool.shutdown({ wait: false });
        }
        throw new Error(`the job's process died: ${error.message}`, { cause: error });
      }
      return { ok: false, error: toRemoteError(error) };
    } finally {
      counts.running--;
      signal?.removeEventListener("abort", onAbort);
    }
  };

  const processJob = async (job: Job<JobData, null>, _token?: string, signal?: AbortSignal): Promise<null> => {
    const data = job.data;
    if (data === null || typeof data !== "object" || data.v !== 1) throw new UnrecoverableError("not an asyncio-ts job");
    let outcome: JobOutcome;
    try {
      outcome = await runJob(job, signal);
    } catch (error) {
      // The last failed attempt tells the submitter before BullMQ fails the job.
      const attempts = Math.max(1, job.opts.attempts ?? 0);
      if (error instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts) await deliver(job, { ok: false, failed: messageOf(error) }).catch(() => undefined);
      throw error;
    }
    // Delivered before BullMQ marks the job completed: see protocol.ts.
    await deliver(job, outcome);
    return null;
  };

  const worker = new BullWorker<JobData, null>(options.queue, processJob, {
    connection: { ...connection, maxRetriesPerRequest: null },
    prefix,
    concurrency,
    lockDuration: options.lockDuration ?? 4000,
    stalledInterval: options.stalledInterval ?? 3000,
    // Attempts are counted by the worker that takes the job again (attemptsStarted), not by stalls.
    maxStalledCount: Number.MAX_SAFE_INTEGER,
    autorun: false,
  });
  worker.on("error", () => undefined);
  worker.on("completed", () => counts.completed++);
  worker.on("failed", () => counts.failed++);

  const channel = cancelChannel(prefix, options.queue);
  subscriber.on("message", (_channel: string, jobId: string) => {
    worker.cancelJob(jobId, "cancelled by its submitter");
  });

  const started = Date.now();
  let lastCompleted = 0;
  let lastTime = started;
  const progressMs = (options.progressInterval ?? 10) * 1000;
  const progress =
    progressMs > 0
      ? setInterval(() => {
          const now = Date.now();
          const rate = ((counts.completed - lastCompleted) * 1000) / Math.max(1, now - lastTime);
          lastCompleted = counts.completed;
          lastTime = now;
          log(`worker ${process.pid} ${options.queue}@${where}: ${counts.completed} completed, ${counts.failed} failed, ${counts.running} running, ${rate.toFixed(1)} jobs/s`);
        }, progressMs)
      : null;
  progress?.unref();

  // Drain: BullMQ's close waits for the running jobs and takes no new ones.
  // Cancelled (a second signal), before or during the drain: stop the running
  // jobs' processes instead of waiting for them; BullMQ runs those jobs again
  // on another worker. Returns a cancellation that arrived during the drain.
  function* stopServing(force: boolean): Coro<CancelledError | null> {
    let cancellation: CancelledError | null = null;
    if (!force) {
      try {
        yield* fromPromise(worker.close());
        yield* fromPromise(pool.shutdown({ wait: true }));
        return null;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        cancellation = error;
      }
    }
    pool.terminateWorkers();
    yield* fromPromise(worker.close(true));
    yield* fromPromise(pool.shutdown({ wait: true }));
    return cancellation;
  }

  let cancelled = false;
  const hold = loop.holdTime();
  try {
    yield* fromPromise(subscriber.subscribe(channel));
    void worker.run().catch(() => undefined);
    yield* fromPromise(worker.waitUntilReady());
    log(`worker ${process.pid} serving ${options.queue}@${where}: concurrency ${concurrency}, ${processes} processes, modules ${served.map((m) => m.url).join(", ")}`);
    if (options.stop !== undefined) yield* options.stop;
    else yield* new Future<void>(loop);
  } catch (error) {
    if (error instanceof CancelledError) cancelled = true;
    throw error;
  } finally {
    hold.release();
    if (progress !== null) clearInterval(progress);
    const drainCancellation = yield* stopServing(cancelled);
    closing = true;
    yield* fromPromise(Promise.allSettled([control.quit(), subscriber.quit()]));
    // eslint-disable-next-line no-unsafe-finally -- a cancellation that arrived during the drain goes on after the cleanup
    if (drainCancellation !== null) throw drainCancellation;
  }
  return { completed: counts.completed, failed: counts.failed };
}
