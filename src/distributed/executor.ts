/**
 * `DistributedExecutor`: the executor interface of the pools (`submit`,
 * `map`, `shutdown`), with the jobs on a BullMQ queue in Redis and run by
 * `asyncio-ts worker` processes on any machine (what `dask.distributed`'s
 * client is to code written for `concurrent.futures`).
 *
 * Invariants: `pending` holds every job this executor submitted whose end it
 * has not seen yet (completed, failed or removed), whether or not its future
 * is done (a cancelled running job stays until its worker stopped it);
 * a future settles exactly once, from the job's end, from a cancellation, or
 * from the connection watchdog. Results arrive through `QueueEvents`, which
 * reads the queue's event stream from its start, so no completion is missed
 * between connecting and the first read.
 */
import { randomUUID } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { Queue, QueueEvents, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";
import type { Coro } from "../coroutines.js";
import { BrokenExecutorError, RuntimeError } from "../errors.js";
import { type EventLoop, type Executor, type ExecutorFunction } from "../events.js";
import { getRunningLoop } from "../running-loop.js";
import type { Future } from "../futures.js";
import { ExecutorFuture } from "../executors/pool.js";
import { ShutdownFuture } from "../executors/shutdown-future.js";
import { describeConnection, toConnectionOptions, type RedisConnectionOptions } from "./connection.js";
import {
  CANCEL_MARK_TTL,
  DEFAULT_PREFIX,
  cancelChannel,
  cancelKey,
  decode,
  encode,
  fromRemoteError,
  messageOf,
  v8Serializer,
  type JobData,
  type JobFunction,
  type JobOutcome,
  type Serializer,
} from "./protocol.js";

/** The BullMQ job options a `DistributedExecutor` passes on (the job id is its own). */
export type DistributedJobOptions = Omit<JobsOptions, "jobId" | "parent">;

/** Options of `DistributedExecutor`. */
export interface DistributedExecutorOptions {
  /** ioredis options (`{ host, port }`, `{ path }`) or a URL: `redis://host:port[/db]`, `unix:///path.sock`. */
  connection: string | RedisConnectionOptions;
  /** The BullMQ queue name; workers started with `--queue` of the same name run the jobs. */
  queue: string;
  /** BullMQ job options; defaults `{ attempts: 3, removeOnComplete: true, removeOnFail: true }`. */
  jobOptions?: DistributedJobOptions;
  /** How arguments and results become bytes (default: `node:v8`); workers must use the same. */
  serializer?: Serializer;
  /** Seconds Redis may be unreachable before pending futures fail with `BrokenExecutorError` (default 5). */
  connectionTimeout?: number;
  /** BullMQ key prefix (default `"bull"`). */
  prefix?: string;
}

/** `map` options: items per job, and how many jobs may be queued or running at once. */
export interface DistributedMapOptions {
  chunksize?: number;
  buffersize?: number;
}

interface PendingJob {
  id: string;
  fn: JobFunction;
  future: ExecutorFuture<unknown>;
  loop: EventLoop;
  // When the job was submitted (ms), for the connection watchdog.
  submittedAt: number;
  // Settles once the job is in Redis (or could not be put there).
  added: Promise<boolean>;
  // Resolves when the job's end was seen (completed, failed, removed) or it was given up.
  gone: Promise<void>;
  markGone: () => void;
}

const DEFAULT_JOB_OPTIONS: DistributedJobOptions = { attempts: 3, removeOnComplete: true, removeOnFail: true };
// How long a cancelled running job may take to be stopped before shutdown stops waiting for it.
const CANCEL_WAIT_MS = 10_000;
const WATCHDOG_MS = 100;

function toJobFunction(fn: unknown): JobFunction {
  if (typeof fn === "function") {
    throw new TypeError("a DistributedExecutor sends functions only as { module, name } (function source never travels over a network)");
  }
  if (typeof fn === "object" && fn !== null) {
    const { module, name } = fn as { module?: unknown; name?: unknown };
    if (typeof name === "string" && (typeof module === "string" || module instanceof URL)) {
      let url: string;
      if (module instanceof URL) url = module.href;
      else if (/^[a-z][a-z0-9+.-]*:/i.test(module)) url = module;
      else url = pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
      return { module: module instanceof URL ? module.href : module, url, name };
    }
  }
  throw new TypeError("a DistributedExecutor runs { module: path | URL, name: exportName }");
}

/**
 * Runs functions on `asyncio-ts worker` processes through a BullMQ queue.
 * Delivery is at-least-once: a job whose worker dies runs again elsewhere, up
 * to `attempts`; then its future fails with `BrokenExecutorError` naming the
 * job. An error thrown by the function itself re-raises in the caller (name,
 * message, stack) and is not retried.
 *
 * @example
 * const executor = new DistributedExecutor({ connection: "redis://10.0.0.5:6379", queue: "wordcount" });
 * const counts = yield* loop.runInExecutor(executor, { module: "./tasks.js", name: "countWords" }, path);
 * yield* executor.shutdown();
 */
export class DistributedExecutor implements Executor {
  /** The queue's name. */
  readonly queueName: string;
  private readonly connectionOptions: RedisConnectionOptions;
  private readonly jobOptions: DistributedJobOptions;
  private readonly serializer: Serializer;
  private readonly connectionTimeoutMs: number;
  private readonly prefix: string;
  private readonly pending = new Map<string, PendingJob>();
  private queue: Queue | null = null;
  private events: QueueEvents | null = null;
  private control: Redis | null = null;
  private ready: Promise<void> | null = null;
  // Whether the connections ever became ready (a never-connected set is thrown away on timeout).
  private everReady = false;
  // Since when (ms) Redis has been unreachable, or null while connected.
  private disconnectedSince: number | null = null;
  private lastConnectionError: unknown = null;
  private watchdog: NodeJS.Timeout | null = null;
  private shutdownStarted = false;
  private closed: Promise<void> | null = null;

  constructor(options: DistributedExecutorOptions) {
    if (typeof options.queue !== "string" || options.queue === "" || options.queue.includes(":")) throw new TypeError("queue must be a non-empty name without ':'");
    const timeout = options.connectionTimeout ?? 5;
    if (typeof timeout !== "number" || !(timeout > 0)) throw new RangeError("connectionTimeout must be a number of seconds > 0");
    this.queueName = options.queue;
    this.connectionOptions = toConnectionOptions(options.connection);
    this.jobOptions = { ...DEFAULT_JOB_OPTIONS, ...options.jobOptions };
    this.serializer = options.serializer ?? v8Serializer;
    this.connectionTimeoutMs = timeout * 1000;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
  }

  /**
   * Queues `fn(...args)` as one job; returns a future of its result (on the
   * running loop). `fn` must be `{ module, name }`. Cancelling the future
   * removes the queued job or stops the running one. `RuntimeError` after
   * `shutdown()`.
   */
  submit<R, A extends unknown[] = unknown[]>(fn: ExecutorFunction<A, R>, ...args: A): Future<R> {
    return this.enqueue<R>(toJobFunction(fn), "run", args);
  }

  /**
   * Runs `fn(item)` for every item, `chunksize` items per job, and returns
   * the results in order. With `buffersize`, at most that many jobs are
   * queued or running at once (items are read lazily). The first failure is
   * raised; the jobs not yet finished are then cancelled.
   */
  *map<T, R>(fn: ExecutorFunction<[T], R>, items: Iterable<T>, options: DistributedMapOptions = {}): Coro<R[]> {
    const chunksize = options.chunksize ?? 1;
    if (!Number.isInteger(chunksize) || chunksize < 1) throw new RangeError("chunksize must be >= 1");
    const buffersize = options.buffersize ?? Infinity;
    if (buffersize !== Infinity && (!Number.isInteger(buffersize) || buffersize < 1)) throw new RangeError("buffersize must be >= 1");
    const ref = toJobFunction(fn);
    const iterator = items[Symbol.iterator]();
    let exhausted = false;
    const nextChunk = (): T[] | null => {
      if (exhausted) return null;
      const chunk: T[] = [];
      while (chunk.length < chunksize) {
        const step = iterator.next();
        if (step.done === true) {
          exhausted = true;
          break;
        }
        chunk.push(step.value);
      }
      return chunk.length > 0 ? chunk : null;
    };
    const inFlight: Future<unknown[]>[] = [];
    const fill = (): void => {
      while (inFlight.length < buffersize) {
        const chunk = nextChunk();
        if (chunk === null) return;
        inFlight.push(this.enqueue<unknown[]>(ref, "map", chunk));
      }
    };
    const results: R[] = [];
    try {
      fill();
      while (inFlight.length > 0) {
        const values = yield* inFlight[0]!;
        void inFlight.shift(); // already awaited above
        for (const value of values) results.push(value as R);
        fill();
      }
    } finally {
      for (const future of inFlight) future.cancel();
    }
    return results;
  }

  /**
   * Stops accepting work. With `cancelFutures`, pending jobs are cancelled
   * (queued ones removed, running ones stopped), so no job of this executor
   * stays in Redis. With `wait` (default), resolves when every job has ended
   * and the connections are closed; otherwise at once (the connections close
   * when the last job ends).
   */
  shutdown(options: { wait?: boolean; cancelFutures?: boolean } = {}): ShutdownFuture {
    this.shutdownStarted = true;
    if (options.cancelFutures === true) {
      for (const job of [...this.pending.values()]) job.future.cancel();
    }
    this.closed ??= this.closeWhenIdle();
    if (options.wait === false) {
      this.closed.catch(() => undefined);
      return new ShutdownFuture(Promise.resolve());
    }
    return new ShutdownFuture(this.closed);
  }

  /** `await using executor = new DistributedExecutor(...)`: shuts down and waits. */
  [Symbol.asyncDispose](): Promise<void> {
    return Promise.resolve(this.shutdown({ wait: true }));
  }

  /** Jobs submitted and not yet ended, and state. */
  statistics(): { pending: number; connected: boolean; shutdown: boolean } {
    return { pending: this.pending.size, connected: this.control !== null && this.disconnectedSince === null, shutdown: this.shutdownStarted };
  }

  [inspect.custom](): string {
    const s = this.statistics();
    return `<DistributedExecutor queue=${this.queueName} ${describeConnection(this.connectionOptions)} pending=${s.pending}${s.connected ? "" : " disconnected"}${s.shutdown ? " shutdown" : ""}>`;
  }

  // ---------------------------------------------------------------- internals

  private enqueue<R>(fn: JobFunction, kind: JobData["kind"], values: unknown[]): Future<R> {
    if (this.shutdownStarted) throw new RuntimeError("cannot schedule new futures after shutdown");
    const loop = getRunningLoop();
    const future = new ExecutorFuture<unknown>(loop);
    let payload: string;
    try {
      payload = encode(this.serializer, values);
    } catch (error) {
      future.setException(new TypeError(`the ${kind === "run" ? "arguments" : "items"} cannot be serialised for a worker: ${messageOf(error)}`));
      return future as unknown as Future<R>;
    }
    this.start();
    const id = randomUUID();
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => (markGone = resolve));
    const data: JobData = { v: 1, kind, fn, payload };
    const job: PendingJob = { id, fn, future, loop, submittedAt: Date.now(), added: Promise.resolve(false), gone, markGone };
    job.added = this.ready!.then(() => this.queue!.add(fn.name, data, { ...this.jobOptions, jobId: id })).then(
      () => true,
      (error: unknown) => {
        this.finish(job, new BrokenExecutorError(`job ${id} (${fn.name}) could not be queued on ${describeConnection(this.connectionOptions)}: ${messageOf(error)}`, { cause: error }));
        return false;
      },
    );
    this.pending.set(id, job);
    const hold = loop.holdTime();
    future.addDoneCallback(() => hold.release());
    future.onCancel = () => this.cancel(job);
    this.armWatchdog();
    return future as unknown as Future<R>;
  }

  /** Opens the connections on first use (and after a shutdown never). */
  private start(): void {
    if (this.control !== null) return;
    const connection = { ...this.connectionOptions };
    const prefix = this.prefix;
    const control = new Redis({ ...connection, maxRetriesPerRequest: null });
    this.control = control;
    this.disconnectedSince = Date.now();
    const lost = (error: unknown): void => {
      this.lastConnectionError = error;
    };
    control.on("error", lost);
    control.on("ready", () => {
      this.disconnectedSince = null;
    });
    control.on("close", () => {
      this.disconnectedSince ??= Date.now();
      this.armWatchdog();
    });
    // BullMQ's objects are made once Redis answered: one made while Redis is
    // unreachable cannot be closed until it connects (its close() waits).
    const ready = new Promise<void>((resolve) => control.once("ready", resolve)).then(async () => {
      if (this.control !== control) return;
      const queue = new Queue(this.queueName, { connection, prefix });
      // From the stream's start: a job may end before a read from "$" would begin.
      const events = new QueueEvents(this.queueName, { connection, prefix, lastEventId: "0-0" });
      this.queue = queue;
      this.events = events;
      queue.on("error", lost);
      events.on("error", lost);
      events.on("completed", ({ jobId, returnvalue }) => this.onCompleted(jobId, returnvalue));
      events.on("failed", ({ jobId, failedReason }) => this.onFailed(jobId, failedReason));
      events.on("removed", ({ jobId }) => this.onRemoved(jobId));
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      if (this.ready === ready) this.everReady = true;
    });
    this.ready = ready;
    ready.catch(() => undefined);
  }

  private onCompleted(jobId: string, returnvalue: unknown): void {
    const job = this.pending.get(jobId);
    if (job === undefined) return;
    let outcome: JobOutcome;
    try {
      if (typeof returnvalue !== "string") throw new TypeError(`not an asyncio-ts worker's result: ${typeof returnvalue}`);
      outcome = decode(this.serializer, returnvalue) as JobOutcome;
    } catch (error) {
      this.finish(job, new BrokenExecutorError(`job ${jobId} (${job.fn.name}) returned a result that cannot be read: ${messageOf(error)}`, { cause: error }));
      return;
    }
    this.finish(job, outcome.ok ? { value: outcome.value } : fromRemoteError(outcome.error));
  }

  private onFailed(jobId: string, failedReason: string): void {
    const job = this.pending.get(jobId);
    if (job === undefined) return;
    // No attempts, or 0 (BullMQ's default), means one attempt.
    const attempts = Math.max(1, this.jobOptions.attempts ?? 1);
    this.finish(job, new BrokenExecutorError(`job ${jobId} (${job.fn.name} from ${job.fn.module}) failed after at most ${attempts} attempt${attempts === 1 ? "" : "s"}: ${failedReason}`));
  }

  private onRemoved(jobId: string): void {
    const job = this.pending.get(jobId);
    if (job === undefined) return;
    // Ours after a cancellation (the future is already cancelled), or someone else's removal.
    this.finish(job, new BrokenExecutorError(`job ${jobId} (${job.fn.name}) was removed from the queue before it ended`));
  }

  /** Settles the job's future (unless already done) and forgets the job. */
  private finish(job: PendingJob, outcome: { value: unknown } | Error): void {
    if (this.pending.get(job.id) === job) this.pending.delete(job.id);
    if (this.pending.size === 0) this.disarmWatchdog();
    job.markGone();
    if (!job.future.done()) {
      if (outcome instanceof Error) job.future.setException(outcome);
      else job.future.setResult(outcome.value);
    }
  }

  /**
   * A cancelled future: mark the job cancelled (a worker checks the mark
   * when it takes the job), remove it if still queued, otherwise tell the
   * workers to stop it. The job stays pending until its end is seen. Called
   * once per job: an ExecutorFuture runs its onCancel only on its first cancel.
   */
  private cancel(job: PendingJob): void {
    const key = cancelKey(this.prefix, this.queueName, job.id);
    void (async () => {
      if (!(await job.added)) return;
      const control = this.control!;
      await control.set(key, "1", "EX", CANCEL_MARK_TTL);
      const removed = await this.queue!.remove(job.id);
      if (removed === 1) {
        await control.del(key);
        this.finish(job, new Error("cancelled"));
        return;
      }
      await control.publish(cancelChannel(this.prefix, this.queueName), job.id);
      const timer = setTimeout(() => this.finish(job, new Error("cancelled")), CANCEL_WAIT_MS);
      await job.gone;
      clearTimeout(timer);
      await control.del(key);
    })().catch((error: unknown) => {
      this.lastConnectionError = error;
      this.finish(job, new Error("cancelled"));
    });
  }

  /** While jobs are pending and Redis is away, fails the ones that waited longer than `connectionTimeout`. */
  private armWatchdog(): void {
    if (this.watchdog !== null || this.pending.size === 0) return;
    // Disarmed by finish() when the last pending job ends.
    this.watchdog = setInterval(() => {
      const since = this.disconnectedSince;
      if (since === null) return;
      const now = Date.now();
      for (const job of [...this.pending.values()]) {
        if (now - Math.max(since, job.submittedAt) < this.connectionTimeoutMs) continue;
        const cause = this.lastConnectionError;
        this.finish(
          job,
          new BrokenExecutorError(
            `Redis at ${describeConnection(this.connectionOptions)} could not be reached for ${this.connectionTimeoutMs / 1000} s: job ${job.id} (${job.fn.name}) is lost to this executor${cause instanceof Error ? ` (${cause.message})` : ""}`,
            { cause },
          ),
        );
      }
      // Connections that never came up are dropped (with the commands they
      // hold), so the next submit starts afresh instead of queueing behind them.
      if (!this.everReady && this.pending.size === 0) this.dropConnections();
    }, WATCHDOG_MS);
    this.watchdog.unref();
  }

  private disarmWatchdog(): void {
    if (this.watchdog === null) return;
    clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private dropConnections(): void {
    const control = this.control;
    this.control = this.ready = null;
    this.disconnectedSince = null;
    control?.disconnect();
  }

  private async closeWhenIdle(): Promise<void> {
    // No submit can add a job now; one await covers every pending job.
    await Promise.all([...this.pending.values()].map((job) => job.gone));
    this.disarmWatchdog();
    const queue = this.queue;
    const events = this.events;
    const control = this.control;
    if (control === null) return;
    if (queue === null) control.disconnect();
    else await Promise.allSettled([queue.close(), events!.close(), control.quit().catch(() => control.disconnect())]);
  }
}
