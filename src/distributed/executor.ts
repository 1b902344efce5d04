/**
 * `DistributedExecutor`: the executor interface of the pools (`submit`,
 * `map`, `shutdown`), with the jobs on a BullMQ queue in Redis and run by
 * `asyncio-ts worker` processes on any machine (what `dask.distributed`'s
 * client is to code written for `concurrent.futures`).
 *
 * Invariants: `pending` holds every job this executor submitted whose end it
 * has not seen yet (a reply, a removal, or its loss), whether or not its
 * future is done (a cancelled running job stays until its worker stopped it);
 * a future settles exactly once: from the job's reply, from a cancellation,
 * from the reconciliation that finds the job ended without a reply, or from
 * the watchdog when Redis stops answering.
 *
 * Replies come through this executor's own list in Redis (see protocol.ts),
 * never through the queue's event stream, which Redis trims and which would
 * keep every result. One reader reads the list and, from time to time, checks
 * the pending jobs against Redis: a job gone or finished with no reply in
 * the list will never get one (a worker pushes before BullMQ finishes the
 * job), so its future fails instead of hanging.
 */
import { randomUUID } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import type { JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Coro } from "../coroutines.js";
import { BrokenExecutorError, RuntimeError } from "../errors.js";
import { type EventLoop } from "../events.js";
import { type Executor, type ExecutorFunction } from "../executor.js";
import { getRunningLoop } from "../running-loop.js";
import type { Future } from "../futures.js";
import { ExecutorFuture } from "../executors/pool.js";
import { ShutdownFuture } from "../executors/shutdown-future.js";
import { DISCONNECT_TIMEOUT_MS, describeConnection, retryUntil, toConnectionOptions, type RedisConnectionOptions } from "./connection.js";
import { loadRedisLibraries } from "./dependencies.js";
import {
  CANCEL_MARK_TTL,
  DEFAULT_PREFIX,
  JOB_STATES_SCRIPT,
  cancelChannel,
  cancelKey,
  encode,
  fromRemoteError,
  jobKey,
  messageOf,
  replyListKey,
  splitReplyFrame,
  v8Serializer,
  type JobData,
  type JobFunction,
  type JobReply,
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
  /** Seconds Redis may be unreachable (or not answer) before pending futures fail with `BrokenExecutorError` (default 5). */
  connectionTimeout?: number;
  /** BullMQ key prefix (default `"bull"`). */
  prefix?: string;
}

/** `map` options: items per job, how many jobs may be queued or running at once, and progress. */
export interface DistributedMapOptions {
  chunksize?: number;
  buffersize?: number;
  /**
   * Called with the number of items done so far each time a job of the map
   * completes (in the order the jobs end, not the order of the items): a
   * progress bar's feed.
   */
  onProgress?: (itemsDone: number) => void;
}

interface PendingJob {
  id: string;
  fn: JobFunction;
  future: ExecutorFuture<unknown>;
  data: JobData;
  // Settles once the job is in Redis (true) or could not be put there (false).
  added: Promise<boolean>;
  settleAdded: (added: boolean) => void;
  // Whether Redis confirmed the job (only such jobs are reconciled).
  inRedis: boolean;
  // The silence epoch and its length when the job was submitted (see `silence`).
  silenceEpoch: number;
  silenceAtSubmit: number;
  // Resolves when the job's end was seen (reply, removal, loss) or it was given up.
  gone: Promise<void>;
  markGone: () => void;
}

const DEFAULT_JOB_OPTIONS: DistributedJobOptions = { attempts: 3, removeOnComplete: true, removeOnFail: true };
// How long a cancelled running job may take to be stopped before shutdown stops waiting for it.
const CANCEL_WAIT_MS = 10_000;
const WATCHDOG_MS = 100;
// Seconds a reader's BLPOP blocks before it looks at the pending jobs again.
const READ_BLOCK_S = 0.5;
// How often the pending jobs are checked against Redis (a lost reply is found within this).
const RECONCILE_MS = 1000;
// Jobs checked per script call, and replies taken per LPOP.
const RECONCILE_BATCH = 500;
const DRAIN_BATCH = 1000;

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

function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.then(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Runs functions on `asyncio-ts worker` processes through a BullMQ queue.
 * Delivery is at-least-once: a job whose worker dies runs again elsewhere, up
 * to `attempts`; then its future fails with `BrokenExecutorError` naming the
 * job. An error thrown by the function itself re-raises in the caller (name,
 * message, stack) and is not retried. Every future settles: with its result,
 * its error, or `BrokenExecutorError` when the job was lost (Redis restarted
 * empty, or stopped answering for `connectionTimeout`).
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
  // This executor's reply list: workers push every reply of its jobs there.
  private readonly replyKey: string;
  private readonly pending = new Map<string, PendingJob>();
  // Jobs submitted since the last flush: added in one round trip (addBulk).
  private addBatch: PendingJob[] = [];
  private queue: Queue | null = null;
  private control: Redis | null = null;
  private reader: Redis | null = null;
  private ready: Promise<void> | null = null;
  // Whether the connections ever became ready (a never-connected set is thrown away on timeout).
  private everReady = false;
  private lastConnectionError: unknown = null;
  // An error that makes this Redis unusable, whatever the retries (no such database).
  private fatalError: Error | null = null;
  // Redis's run_id when first seen; another one later means it restarted, maybe empty.
  private runId: string | null = null;
  private restarted = false;
  private reconcileWanted = false;
  // Milliseconds of this loop's own time that Redis has not answered the
  // outstanding ping (a loop that was itself blocked counts only a tick), and
  // the epoch of that silence, bumped by every answer.
  private silence = 0;
  private silenceEpoch = 0;
  private pingOutstanding = false;
  private lastTick = 0;
  private watchdog: NodeJS.Timeout | null = null;
  // Jobs whose reply came (BullMQ finishes them a moment later): shutdown waits until they left Redis.
  private readonly finishing = new Set<string>();
  // Jobs whose futures the watchdog failed: removed from Redis at shutdown, if it answers then.
  private readonly abandoned: string[] = [];
  private shutdownStarted = false;
  private closed: Promise<void> | null = null;
  // Set once no job is pending after shutdown: the connections then stop retrying.
  private closing = false;

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
    this.replyKey = replyListKey(this.prefix, this.queueName, randomUUID());
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
   * the results in order. The jobs of one step go to Redis in one round
   * trip. With `buffersize`, at most that many jobs are queued or running at
   * once (items are read lazily). `onProgress` hears the count of items done
   * as jobs end. The first failure is raised; the jobs not yet finished are
   * then cancelled.
   */
  *map<T, R>(fn: ExecutorFunction<[T], R>, items: Iterable<T>, options: DistributedMapOptions = {}): Coro<R[]> {
    const chunksize = options.chunksize ?? 1;
    if (!Number.isInteger(chunksize) || chunksize < 1) throw new RangeError("chunksize must be >= 1");
    const buffersize = options.buffersize ?? Infinity;
    if (buffersize !== Infinity && (!Number.isInteger(buffersize) || buffersize < 1)) throw new RangeError("buffersize must be >= 1");
    const onProgress = options.onProgress;
    if (onProgress !== undefined && typeof onProgress !== "function") throw new TypeError("onProgress must be a function");
    const ref = toJobFunction(fn);
    const iterator = items[Symbol.iterator]();
    let exhausted = false;
    let itemsDone = 0;
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
        const future = this.enqueue<unknown[]>(ref, "map", chunk);
        if (onProgress !== undefined) {
          future.addDoneCallback((done) => {
            if (done.cancelled() || done.exception() !== null) return;
            itemsDone += chunk.length;
            onProgress(itemsDone);
          });
        }
        inFlight.push(future);
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
   * when the last job ends). Never waits on a Redis that stopped answering
   * longer than `connectionTimeout`.
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
    return { pending: this.pending.size, connected: this.control !== null && this.control.status === "ready" && this.silence < this.connectionTimeoutMs, shutdown: this.shutdownStarted };
  }

  [inspect.custom](): string {
    const s = this.statistics();
    return `<DistributedExecutor queue=${this.queueName} ${describeConnection(this.connectionOptions)} pending=${s.pending}${s.connected ? "" : " disconnected"}${s.shutdown ? " shutdown" : ""}>`;
  }

  // ---------------------------------------------------------------- submitting

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
    let settleAdded!: (added: boolean) => void;
    const added = new Promise<boolean>((resolve) => (settleAdded = resolve));
    const data: JobData = { v: 1, kind, fn, payload, reply: this.replyKey };
    const job: PendingJob = {
      id,
      fn,
      future,
      data,
      added,
      settleAdded,
      inRedis: false,
      silenceEpoch: this.silenceEpoch,
      silenceAtSubmit: this.silence,
      gone,
      markGone,
    };
    this.pending.set(id, job);
    this.addBatch.push(job);
    if (this.addBatch.length === 1) queueMicrotask(() => this.flushAdds());
    trackOnLoop(loop, future);
    future.onCancel = () => this.cancel(job);
    this.armWatchdog();
    return future as unknown as Future<R>;
  }

  /** Puts the jobs submitted since the last flush into Redis, in one round trip. */
  private flushAdds(): void {
    const batch = this.addBatch;
    this.addBatch = [];
    const ready = this.ready!;
    const added = ready.then(() => {
      const queue = this.queue!;
      if (batch.length === 1) return queue.add(batch[0]!.fn.name, batch[0]!.data, { ...this.jobOptions, jobId: batch[0]!.id }).then(() => undefined);
      return queue.addBulk(batch.map((job) => ({ name: job.fn.name, data: job.data, opts: { ...this.jobOptions, jobId: job.id } }))).then(() => undefined);
    });
    added.then(
      () => {
        for (const job of batch) {
          job.inRedis = true;
          job.settleAdded(true);
        }
      },
      (error: unknown) => {
        for (const job of batch) {
          job.settleAdded(false);
          const failure =
            error === this.fatalError || (error instanceof Error && error.message.includes("npm install"))
              ? (error as Error)
              : new BrokenExecutorError(`job ${job.id} (${job.fn.name}) could not be queued on ${describeConnection(this.connectionOptions)}: ${messageOf(error)}`, { cause: error });
          this.finish(job, failure);
        }
      },
    );
  }

  /** Opens the connections on first use (and after a shutdown never). */
  private start(): void {
    if (this.ready !== null) return;
    const connection = { ...this.connectionOptions };
    const prefix = this.prefix;
    const lost = (error: unknown): void => {
      this.lastConnectionError = error;
      // ioredis reports a failed SELECT and then goes on in database 0.
      if (error instanceof Error && /DB index is out of range/.test(error.message)) {
        this.fatalError = new BrokenExecutorError(`Redis at ${describeConnection(this.connectionOptions)} has no database ${String(this.connectionOptions.db)}: ${error.message}`, { cause: error });
      }
    };
    this.silence = 0;
    this.pingOutstanding = true; // until the first answer, Redis is silent
    const ready: Promise<void> = loadRedisLibraries().then(async ({ bullmq, ioredis }) => {
      if (this.ready !== ready) throw new BrokenExecutorError("the connection was dropped");
      // Our own clients stop retrying once dropped or closed (a retry due would keep the process alive).
      const retryStrategy = retryUntil(() => this.ready !== ready || this.closing);
      const control = new ioredis.Redis({ ...connection, maxRetriesPerRequest: null, retryStrategy, disconnectTimeout: DISCONNECT_TIMEOUT_MS });
      const reader = new ioredis.Redis({ ...connection, maxRetriesPerRequest: null, retryStrategy, disconnectTimeout: DISCONNECT_TIMEOUT_MS });
      this.control = control;
      this.reader = reader;
      control.on("error", lost);
      reader.on("error", lost);
      control.on("ready", () => this.checkRunId(control));
      await control.ping();
      this.answered();
      if (this.fatalError !== null) throw this.fatalError;
      // BullMQ's objects are made once Redis answered: one made while Redis is
      // unreachable cannot be closed until it connects (its close() waits).
      // skipMetasUpdate: the queue's settings (its event stream's length) are its owner's, not reset by every submitter.
      const queue = new bullmq.Queue(this.queueName, { connection, prefix, skipMetasUpdate: true });
      queue.on("error", lost);
      this.queue = queue;
      await queue.waitUntilReady();
      if (this.ready === ready) {
        this.everReady = true;
        void this.readReplies(reader);
      }
    });
    this.ready = ready;
    ready.catch((error: unknown) => {
      this.lastConnectionError ??= error;
      // Missing packages or a bad database: the next submit tries afresh.
      if (this.ready === ready && !this.everReady) this.dropConnections();
    });
    this.armWatchdog();
  }

  // ------------------------------------------------------------------ replies

  /**
   * The one reader of the reply list: takes replies as they come and, every
   * `RECONCILE_MS` (or at once after a Redis restart), checks the pending
   * jobs against Redis. Both on one connection, one after the other, so a
   * reply pushed before a job ended is always read before that job is judged.
   */
  private async readReplies(reader: Redis): Promise<void> {
    let nextReconcile = Date.now() + RECONCILE_MS;
    while (this.reader === reader) {
      try {
        const popped = await reader.blpopBuffer(this.replyKey, READ_BLOCK_S);
        this.answered();
        if (popped !== null) {
          this.onReply(popped[1]);
          await this.drainReplies(reader);
        }
        if (this.reconcileWanted || Date.now() >= nextReconcile) {
          this.reconcileWanted = false;
          nextReconcile = Date.now() + RECONCILE_MS;
          await this.reconcile(reader);
        }
      } catch (error) {
        if (this.reader !== reader) return;
        this.lastConnectionError = error;
        await new Promise((resolve) => setTimeout(resolve, WATCHDOG_MS));
      }
    }
  }

  private async drainReplies(reader: Redis): Promise<void> {
    for (;;) {
      const frames = await reader.lpopBuffer(this.replyKey, DRAIN_BATCH);
      if (frames === null || frames.length === 0) return;
      for (const frame of frames) this.onReply(frame);
      if (frames.length < DRAIN_BATCH) return;
    }
  }

  private onReply(frame: Buffer): void {
    const { jobId, body } = splitReplyFrame(frame);
    const job = this.pending.get(jobId);
    if (job === undefined) return;
    this.finishing.add(jobId);
    let reply: JobReply;
    try {
      reply = this.serializer.deserialize(body) as JobReply;
      if (typeof reply !== "object" || reply === null || typeof reply.ok !== "boolean") throw new TypeError(`not an asyncio-ts worker's reply: ${typeof reply}`);
    } catch (error) {
      this.finish(job, new BrokenExecutorError(`job ${jobId} (${job.fn.name}) returned a result that cannot be read: ${messageOf(error)}`, { cause: error }));
      return;
    }
    if (reply.ok) this.finish(job, { value: reply.value });
    else if ("failed" in reply) {
      // No attempts, or 0 (BullMQ's default), means one attempt.
      const attempts = Math.max(1, this.jobOptions.attempts ?? 1);
      this.finish(job, new BrokenExecutorError(`job ${jobId} (${job.fn.name} from ${job.fn.module}) failed after at most ${attempts} attempt${attempts === 1 ? "" : "s"}: ${reply.failed}`));
    } else this.finish(job, fromRemoteError(reply.error));
  }

  /** Forgets the replied jobs that BullMQ finished; true when none is left running. */
  private async pruneFinishing(client: Redis): Promise<boolean> {
    const ids = [...this.finishing];
    for (let i = 0; i < ids.length; i += RECONCILE_BATCH) {
      const batch = ids.slice(i, i + RECONCILE_BATCH);
      const states = (await client.eval(JOB_STATES_SCRIPT, batch.length, ...batch.map((id) => jobKey(this.prefix, this.queueName, id)))) as number[];
      batch.forEach((id, j) => states[j] !== 1 && this.finishing.delete(id));
    }
    return this.finishing.size === 0;
  }

  /** Fails the pending jobs that Redis no longer has, or has as finished, and whose reply is not in the list. */
  private async reconcile(reader: Redis): Promise<void> {
    await this.pruneFinishing(reader);
    const candidates = [...this.pending.values()].filter((job) => job.inRedis);
    const ended: PendingJob[] = [];
    for (let i = 0; i < candidates.length; i += RECONCILE_BATCH) {
      const batch = candidates.slice(i, i + RECONCILE_BATCH);
      const states = (await reader.eval(JOB_STATES_SCRIPT, batch.length, ...batch.map((job) => jobKey(this.prefix, this.queueName, job.id)))) as number[];
      batch.forEach((job, j) => states[j] !== 1 && ended.push(job));
    }
    if (ended.length === 0) return;
    // Pushed before the job ended, so in the list now if it was ever sent.
    await this.drainReplies(reader);
    const where = describeConnection(this.connectionOptions);
    for (const job of ended) {
      if (this.pending.get(job.id) !== job) continue;
      const reason = this.restarted
        ? `Redis at ${where} restarted without its data (its run_id changed): job ${job.id} (${job.fn.name}) is lost`
        : `job ${job.id} (${job.fn.name}) ended without a reply from an asyncio-ts worker (removed from Redis, or run by another program)`;
      this.finish(job, new BrokenExecutorError(reason));
    }
  }

  /** On every (re)connection: a Redis with another run_id is another Redis, maybe empty. */
  private checkRunId(control: Redis): void {
    control.info("server").then(
      (text) => {
        const runId = /run_id:(\w+)/.exec(text)?.[1] ?? null;
        if (runId === null) return;
        if (this.runId !== null && runId !== this.runId) {
          this.restarted = true;
          this.reconcileWanted = true;
        }
        this.runId = runId;
      },
      () => undefined,
    );
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
      // The mark, the announcement and the removal leave together: a worker
      // running the job stops it at once, one that takes it later sees the
      // mark (set before the announcement: one connection keeps their order),
      // and a job still queued is removed.
      const [, , removed] = await Promise.all([
        control.set(key, "1", "EX", CANCEL_MARK_TTL),
        control.publish(cancelChannel(this.prefix, this.queueName), job.id),
        this.queue!.remove(job.id),
      ]);
      if (removed === 1) {
        await control.del(key);
        this.finish(job, new Error("cancelled"));
        return;
      }
      const timer = setTimeout(() => this.finish(job, new Error("cancelled")), CANCEL_WAIT_MS);
      await job.gone;
      clearTimeout(timer);
      await control.del(key);
    })().catch((error: unknown) => {
      this.lastConnectionError = error;
      this.finish(job, new Error("cancelled"));
    });
  }

  // ------------------------------------------------------------------ watchdog

  private answered(): void {
    this.silence = 0;
    this.silenceEpoch++;
    this.pingOutstanding = false;
  }

  /**
   * While jobs are pending: pings Redis, and fails the jobs that waited for an
   * answer longer than `connectionTimeout` (a closed connection, a refused
   * one, or a Redis that stopped answering, as under SIGSTOP).
   */
  private armWatchdog(): void {
    if (this.watchdog !== null || (this.pending.size === 0 && this.everReady)) return;
    this.lastTick = Date.now();
    // Disarmed by finish() when the last pending job ends.
    this.watchdog = setInterval(() => this.tick(), WATCHDOG_MS);
    this.watchdog.unref();
  }

  private tick(): void {
    if (this.pending.size === 0 && this.everReady) {
      this.disarmWatchdog();
      return;
    }
    const now = Date.now();
    // A loop that was blocked did not wait for Redis all that time: one tick counts at most two.
    const step = Math.min(now - this.lastTick, 2 * WATCHDOG_MS);
    this.lastTick = now;
    if (this.pingOutstanding) this.silence += step;
    else if (this.control !== null && this.everReady) {
      this.pingOutstanding = true;
      this.control.ping().then(
        () => this.answered(),
        () => undefined,
      );
    }
    if (this.silence < this.connectionTimeoutMs) return;
    for (const job of [...this.pending.values()]) {
      const waited = job.silenceEpoch === this.silenceEpoch ? this.silence - job.silenceAtSubmit : this.silence;
      if (waited < this.connectionTimeoutMs) continue;
      const cause = this.fatalError ?? this.lastConnectionError;
      if (job.inRedis) this.abandoned.push(job.id);
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
  }

  private disarmWatchdog(): void {
    if (this.watchdog === null || !this.everReady) return;
    clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private dropConnections(): void {
    const { control, reader, queue } = this;
    this.control = this.reader = this.queue = this.ready = null;
    this.addBatch = [];
    this.silence = 0;
    this.pingOutstanding = false;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    control?.disconnect();
    reader?.disconnect();
    if (queue !== null) void queue.disconnect().catch(() => undefined);
  }

  // ------------------------------------------------------------------ closing

  private async closeWhenIdle(): Promise<void> {
    // No submit can add a job now; one await covers every pending job.
    await Promise.all([...this.pending.values()].map((job) => job.gone));
    this.closing = true;
    const { queue, control, reader } = this;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
    this.reader = null;
    reader?.disconnect();
    if (control === null) return;
    if (queue === null || this.silence >= this.connectionTimeoutMs) {
      // Never connected, or not answering: nothing to tidy that could be reached.
      control.disconnect();
      // BullMQ's disconnect waits for its client's end, which a client still retrying never reaches.
      if (queue !== null) await withTimeout(queue.disconnect().catch(() => undefined), DISCONNECT_TIMEOUT_MS);
      return;
    }
    const tidy = (async () => {
      // A job whose reply came is finished by BullMQ a moment later: none of ours stays behind.
      while (!(await this.pruneFinishing(control))) await new Promise((resolve) => setTimeout(resolve, 10));
      // The jobs the watchdog gave up on may have come back with Redis: stop them.
      for (const id of this.abandoned) {
        await control.set(cancelKey(this.prefix, this.queueName, id), "1", "EX", CANCEL_MARK_TTL);
        await queue.remove(id);
        await control.publish(cancelChannel(this.prefix, this.queueName), id);
      }
      await control.del(this.replyKey);
      await Promise.allSettled([queue.close(), control.quit()]);
    })();
    await withTimeout(tidy.catch(() => undefined), this.connectionTimeoutMs);
    control.disconnect();
    await withTimeout(queue.disconnect().catch(() => undefined), DISCONNECT_TIMEOUT_MS);
  }
}

/** Keeps the loop waiting on the job while its future is pending. */
function trackOnLoop(loop: EventLoop, future: ExecutorFuture<unknown>): void {
  const hold = loop.holdTime();
  future.addDoneCallback(() => hold.release());
}
