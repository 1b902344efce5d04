/**
 * The pool mechanics shared by `ThreadPoolExecutor` and
 * `ProcessPoolExecutor` (Python's `concurrent.futures` executors).
 *
 * Invariants: a worker runs one job at a time; `queue` holds jobs not yet
 * sent to a worker, in submission order; at most `maxWorkers` workers exist,
 * made lazily as work arrives. A worker that dies without being asked to
 * breaks the pool: its job and every queued job fail with the broken-pool
 * error, and `submit` refuses new work. Cancelling a queued job removes it;
 * cancelling a running job terminates its worker, which is replaced so the
 * pool keeps its size.
 */
import type * as os from "node:os";
import { lazyBuiltin } from "../host.js";
import { inspectCustom } from "../repr.js";
import type { Coro } from "../coroutines.js";
import { Deque } from "../deque.js";
import { BrokenExecutorError, RuntimeError } from "../errors.js";
import { type EventLoop } from "../events.js";
import { type Executor, type ExecutorFunction } from "../executor.js";
import { getRunningLoop } from "../running-loop.js";
import { Future } from "../futures.js";
import { toFunctionRef } from "./function-ref.js";
import { ShutdownFuture } from "./shutdown-future.js";
import { fromRemoteError, type FromWorker, type ToWorker, type WireFunction } from "./protocol.js";
import { integerArg } from "../arguments.js";
import { aiterSymbol, type AsyncIterableSource, type AsyncSource } from "../iteration.js";

const osApi = lazyBuiltin<typeof os>("node:os", "Executors");

/** Options of both executors. */
export interface ExecutorOptions {
  /** How many workers at most (default: the machine's available parallelism). */
  maxWorkers?: number;
  /** Runs once in each new worker, before its first job. */
  initializer?: ExecutorFunction<never[], unknown>;
  /** Arguments for `initializer`. */
  initargs?: unknown[];
  /** Replace a worker after it ran this many jobs (default: never). */
  maxTasksPerChild?: number | null;
}

/** The options of `map` and `mapIter`. */
export interface MapOptions {
  /** Items sent to a worker per message (default 1). */
  chunksize?: number;
  /** Chunks submitted at most ahead of the results taken: `items` is then pulled lazily (Python 3.14). */
  buffersize?: number;
}

/**
 * The results of a `map`, in order: chunks are submitted as `items` is
 * pulled, at most `buffersize` ahead of the chunk whose results are being
 * handed out (all of them at once when `null`).
 */
class MapStream<R> implements AsyncSource<R> {
  // Invariant: the chunks submitted and not yet handed out, in item order.
  private readonly inFlight = new Deque<Future<unknown[]>>();
  // Results of the head chunk not yet handed out.
  private ready: unknown[] = [];
  private readIndex = 0;
  private itemsDone = false;
  private closed = false;

  constructor(
    private readonly items: Iterator<unknown>,
    private readonly chunksize: number,
    private readonly buffersize: number | null,
    private readonly submitChunk: (chunk: unknown[]) => Future<unknown[]>,
  ) {}

  *next(): Coro<IteratorResult<R, undefined>> {
    for (;;) {
      if (this.readIndex < this.ready.length) return { done: false, value: this.ready[this.readIndex++] as R };
      if (this.closed) return { done: true, value: undefined };
      try {
        this.fill();
        const head = this.inFlight.shift();
        if (head === undefined) {
          this.closed = true;
          return { done: true, value: undefined };
        }
        this.ready = yield* head;
        this.readIndex = 0;
      } catch (error) {
        this.cancelInFlight();
        throw error;
      }
    }
  }

  *return(): Coro<void> {
    this.cancelInFlight();
  }

  private fill(): void {
    while (!this.itemsDone && (this.buffersize === null || this.inFlight.length < this.buffersize)) {
      const chunk: unknown[] = [];
      while (chunk.length < this.chunksize) {
        const step = this.items.next();
        if (step.done === true) {
          this.itemsDone = true;
          break;
        }
        chunk.push(step.value);
      }
      if (chunk.length > 0) this.inFlight.push(this.submitChunk(chunk));
    }
  }

  private cancelInFlight(): void {
    this.closed = true;
    this.ready = [];
    this.readIndex = 0;
    for (let future = this.inFlight.shift(); future !== undefined; future = this.inFlight.shift()) {
      // A chunk that already failed behind the one being raised: nobody will read its error.
      if (!future.cancel() && !future.cancelled()) future.exception();
    }
    if (!this.itemsDone) {
      this.itemsDone = true;
      this.items.return?.();
    }
  }
}

/** Internal (not exported by the package): One worker, as the pool sees it. */
export interface WorkerHandle {
  /** Sends a message; throws synchronously if it cannot be serialised. */
  send(message: ToWorker): void;
  /** Stops the worker; its exit then counts as requested. */
  terminate(): void;
  /** Whether the worker keeps the process alive. */
  setActive(active: boolean): void;
  /** Sends `signal` to the worker without asking it to stop (its exit then breaks the pool); process workers only. */
  signal?(signal: NodeJS.Signals): void;
}

/** Internal (not exported by the package): What a worker reports to its pool. */
export interface WorkerEvents {
  message(message: FromWorker): void;
  exit(description: string): void;
}

interface Job {
  id: number;
  fn: WireFunction;
  message: ToWorker;
  future: ExecutorFuture<unknown>;
  worker: PoolWorker | null;
  loop: EventLoop;
}

interface PoolWorker {
  handle: WorkerHandle;
  ready: boolean;
  job: Job | null;
  tasksRun: number;
  // Set when the pool itself ends the worker (shutdown, recycling, cancellation).
  // Invariant: once set, the handle stays active (keeps the process alive)
  // until the worker's exit is seen, whatever message it still sends:
  // shutdown() waits for that exit.
  retiring: boolean;
}

/**
 * The future `submit` returns: cancelling it removes a queued job or stops a
 * running one.
 *
 * After its loop has closed, the future still settles, with the job's own
 * outcome (Python's `concurrent.futures.Future` does the same): its result,
 * the worker's error, or cancelled when the pool drops the job
 * (`shutdown({ cancelFutures: true })`) or someone cancels it. Native code
 * that `await`s it then gets that outcome directly, since the closed loop
 * cannot run callbacks any more; tasks of the closed loop stay suspended, as
 * every task of a closed loop does (`Future`'s closed-loop rule).
 */
export class ExecutorFuture<T> extends Future<T> {
  /** @internal */ onCancel: (() => void) | null = null;

  override cancel(message?: unknown): boolean {
    const cancelled = super.cancel(message);
    if (cancelled) {
      const onCancel = this.onCancel;
      this.onCancel = null;
      onCancel?.();
    }
    return cancelled;
  }
}


function describeCloneFailure(args: readonly unknown[], error: unknown): TypeError {
  const detail = String((error as Error).message ?? error);
  for (let i = 0; i < args.length; i++) {
    try {
      structuredClone(args[i]);
    } catch {
      return new TypeError(`argument ${i} (${typeof args[i]}) cannot be sent to a worker: ${detail}`);
    }
  }
  return new TypeError(`the job cannot be sent to a worker: ${detail}`);
}

export abstract class PoolExecutor implements Executor {
  /** The most workers this pool runs at once. */
  readonly maxWorkers: number;
  private readonly initializer: WireFunction | null;
  private readonly initargs: unknown[];
  private readonly maxTasksPerChild: number | null;
  private readonly queue = new Deque<Job>();
  private readonly workers = new Set<PoolWorker>();
  private nextJobId = 0;
  private brokenError: BrokenExecutorError | null = null;
  private shutdownStarted = false;
  private idleWaiters: Array<() => void> = [];

  constructor(options: ExecutorOptions = {}) {
    // Arguments first: a bad one is a TypeError/RangeError on every host, before the host is asked for its CPUs.
    if (options.maxWorkers !== undefined) integerArg(options.maxWorkers, `${new.target.name}(): maxWorkers`, { min: 1 });
    const maxTasks = options.maxTasksPerChild ?? null;
    if (maxTasks !== null) integerArg(maxTasks, `${new.target.name}(): maxTasksPerChild`, { min: 1 });
    const maxWorkers = options.maxWorkers ?? Math.max(1, osApi.availableParallelism());
    this.maxWorkers = maxWorkers;
    this.initializer = options.initializer === undefined ? null : toFunctionRef(options.initializer);
    this.initargs = options.initargs ?? [];
    this.maxTasksPerChild = maxTasks;
  }

  /** @internal Starts one worker that reports to `events`. */
  protected abstract spawn(events: WorkerEvents): WorkerHandle;
  /** @internal The broken-pool error of this kind of pool. */
  protected abstract brokenPool(message: string): BrokenExecutorError;

  /**
   * Runs `fn(...args)` in a worker; returns a future of its result (on the
   * running loop, also awaitable from native code). `RuntimeError` after
   * `shutdown()`; the broken-pool error once a worker has died.
   */
  submit<R, A extends unknown[] = unknown[]>(fn: ExecutorFunction<A, R>, ...args: A): Future<R> {
    const ref = toFunctionRef(fn as ExecutorFunction<never[], unknown>);
    const id = this.nextJobId++;
    return this.enqueue<R>(ref, { type: "run", id, fn: ref, args }, args);
  }

  /**
   * Runs `fn(item)` for every item, `chunksize` items per message, and
   * returns the results in order. The first failure is raised; the chunks
   * not yet finished are then cancelled. With `buffersize` (Python 3.14),
   * `items` is pulled lazily: at most that many chunks are submitted ahead of
   * the ones whose results were collected.
   */
  *map<T, R>(fn: ExecutorFunction<[T], R>, items: Iterable<T>, options: MapOptions = {}): Coro<R[]> {
    const stream = this.mapStream<T, R>(fn, items, options, null, "map()");
    const results: R[] = [];
    try {
      for (let step = yield* stream.next(); step.done !== true; step = yield* stream.next()) results.push(step.value);
    } finally {
      yield* stream.return();
    }
    return results;
  }

  /**
   * Runs `fn(item)` for every item and hands the results out in order as an
   * async source, for `forEach` (Python 3.14's `map(..., buffersize=)` as an
   * iterator). At most `buffersize` chunks (default: twice `maxWorkers`) are
   * submitted ahead of the results taken, so an endless `items` works in
   * bounded memory. The first failure is raised from the source; leaving the
   * loop early cancels the chunks in flight.
   *
   * @example
   * yield* forEach(pool.mapIter(hash, endlessUrls(), { buffersize: 8 }), function* (digest) {
   *   yield* results.put(digest); // a bounded Queue: the pool waits for the consumer
   * });
   */
  mapIter<T, R>(fn: ExecutorFunction<[T], R>, items: Iterable<T>, options: MapOptions = {}): AsyncIterableSource<R> & AsyncSource<R> {
    const stream = this.mapStream<T, R>(fn, items, options, 2 * this.maxWorkers, "mapIter()");
    return Object.assign(stream, { [aiterSymbol]: () => stream });
  }

  private mapStream<T, R>(fn: ExecutorFunction<[T], R>, items: Iterable<T>, options: MapOptions, defaultBuffer: number | null, where: string): MapStream<R> {
    const chunksize = integerArg(options.chunksize ?? 1, `${where}: chunksize`, { min: 1 });
    const buffersize = options.buffersize === undefined ? defaultBuffer : integerArg(options.buffersize, `${where}: buffersize`, { min: 1 });
    const ref = toFunctionRef(fn as ExecutorFunction<never[], unknown>);
    const submitChunk = (chunk: unknown[]): Future<unknown[]> => this.enqueue<unknown[]>(ref, { type: "map", id: this.nextJobId++, fn: ref, items: chunk }, chunk);
    return new MapStream<R>(items[Symbol.iterator]() as Iterator<unknown>, chunksize, buffersize, submitChunk);
  }

  /**
   * Stops accepting work. With `cancelFutures`, queued jobs are cancelled.
   * With `wait` (default), resolves when running jobs are done and the
   * workers have exited; otherwise idle workers stop now, busy ones after
   * their job. The returned future works both ways: `yield* pool.shutdown()`
   * in a coroutine, `await pool.shutdown()` in native code.
   */
  shutdown(options: { wait?: boolean; cancelFutures?: boolean } = {}): ShutdownFuture {
    this.shutdownStarted = true;
    if (options.cancelFutures === true) {
      for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) this.cancelQueued(job);
    }
    this.stopIdleWorkers();
    return new ShutdownFuture(options.wait === false ? Promise.resolve() : this.whenIdle());
  }

  /** `await using pool = new ProcessPoolExecutor()`: shuts down and waits. */
  [Symbol.asyncDispose](): Promise<void> {
    return Promise.resolve(this.shutdown({ wait: true }));
  }

  /** Workers, queued jobs, and state. */
  statistics(): { workers: number; busy: number; queued: number; broken: boolean; shutdown: boolean } {
    let busy = 0;
    for (const worker of this.workers) if (worker.job !== null) busy++;
    return { workers: this.workers.size, busy, queued: this.queue.length, broken: this.brokenError !== null, shutdown: this.shutdownStarted };
  }

  /**
   * @internal Shuts the pool down (queued jobs cancelled) and sends `signal`
   * to every worker still running a job: their exit breaks the pool, so
   * their futures fail with the broken-pool error (Python 3.14's
   * `terminate_workers`/`kill_workers`).
   */
  protected signalWorkers(signal: NodeJS.Signals): void {
    void this.shutdown({ wait: false, cancelFutures: true });
    for (const worker of this.workers) {
      if (worker.retiring) continue;
      worker.handle.setActive(true);
      worker.handle.signal?.(signal);
    }
  }

  // ---------------------------------------------------------------- internals

  private enqueue<R>(ref: WireFunction, message: ToWorker, payload: readonly unknown[]): Future<R> {
    if (this.brokenError !== null) throw this.brokenPool(this.brokenError.message);
    if (this.shutdownStarted) throw new RuntimeError("cannot schedule new futures after shutdown");
    const loop = getRunningLoop();
    const future = new ExecutorFuture<unknown>(loop);
    const job: Job = { id: (message as { id: number }).id, fn: ref, message, future, worker: null, loop };
    try {
      structuredClone(message);
    } catch (error) {
      future.setException(describeCloneFailure(payload, error));
      return future as unknown as Future<R>;
    }
    const hold = loop.holdTime();
    future.addDoneCallback(() => hold.release());
    future.onCancel = () => {
      const worker = job.worker;
      if (worker === null) this.queue.remove(job);
      else this.stopRunning(job, worker);
    };
    this.queue.push(job);
    this.dispatch();
    return future as unknown as Future<R>;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let idle: PoolWorker | null = null;
      for (const worker of this.workers) {
        if (worker.ready && worker.job === null && !worker.retiring) {
          idle = worker;
          break;
        }
      }
      if (idle === null) {
        if (this.workers.size < this.maxWorkers) this.startWorker();
        return;
      }
      const job = this.queue.shift()!;
      job.worker = idle;
      idle.job = job;
      idle.handle.setActive(true);
      try {
        idle.handle.send(job.message);
      } catch (error) {
        idle.job = null;
        job.worker = null;
        this.settle(job, describeCloneFailure([], error), false);
      }
    }
  }

  private startWorker(): void {
    const worker: PoolWorker = { handle: null as unknown as WorkerHandle, ready: false, job: null, tasksRun: 0, retiring: false };
    this.workers.add(worker);
    worker.handle = this.spawn({
      message: (message) => this.onMessage(worker, message),
      exit: (description) => this.onExit(worker, description),
    });
    worker.handle.send({ type: "init", initializer: this.initializer, initargs: this.initargs });
  }

  private onMessage(worker: PoolWorker, message: FromWorker): void {
    if (message.type === "ready") {
      worker.ready = true;
      this.idle(worker);
      this.dispatch();
      this.afterWork();
      return;
    }
    if (message.type === "init-failed") {
      this.breakPool(`A worker initializer failed, the pool is not usable anymore: ${message.error.name}: ${message.error.message}`);
      return;
    }
    const job = worker.job;
    if (job === null || job.id !== message.id) return;
    worker.job = null;
    job.worker = null;
    worker.tasksRun++;
    if (message.ok) this.settle(job, message.value, true);
    else this.settle(job, fromRemoteError(message.error), false);
    if (this.maxTasksPerChild !== null && worker.tasksRun >= this.maxTasksPerChild) this.retire(worker);
    else this.idle(worker);
    this.dispatch();
    this.afterWork();
  }

  private onExit(worker: PoolWorker, description: string): void {
    this.workers.delete(worker);
    if (worker.retiring) {
      this.dispatch();
      this.afterWork();
      return;
    }
    const message = `A worker in the pool terminated abruptly (${description}) while the future was running or pending.`;
    const job = worker.job;
    worker.job = null;
    if (job !== null) this.settle(job, this.brokenPool(message), false);
    this.breakPool(message);
  }

  private breakPool(message: string): void {
    if (this.brokenError !== null) return;
    this.brokenError = this.brokenPool(message);
    for (const worker of this.workers) {
      const job = worker.job;
      worker.job = null;
      if (job !== null) this.settle(job, this.brokenPool(message), false);
      this.retire(worker);
    }
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) this.settle(job, this.brokenPool(message), false);
    this.afterWork();
  }

  private stopRunning(job: Job, worker: PoolWorker): void {
    worker.job = null;
    job.worker = null;
    // The worker is busy with work nobody wants: end it; a replacement starts if work is queued.
    this.retire(worker);
    this.dispatch();
  }

  // A worker with nothing to do lets the process exit, unless it is retiring
  // (its ready message may come after shutdown() told it to stop).
  private idle(worker: PoolWorker): void {
    if (!worker.retiring) worker.handle.setActive(false);
  }

  private retire(worker: PoolWorker): void {
    if (worker.retiring) return;
    worker.retiring = true;
    // Keep the process alive until the worker's exit is seen, or shutdown() could never resolve.
    worker.handle.setActive(true);
    worker.handle.terminate();
  }

  private cancelQueued(job: Job): void {
    job.future.onCancel = null;
    job.future.cancel();
  }

  private settle(job: Job, outcome: unknown, ok: boolean): void {
    const future = job.future;
    future.onCancel = null;
    // A closed loop does not stop the future from settling: see ExecutorFuture.
    if (future.done()) return;
    if (ok) future.setResult(outcome);
    else future.setException(outcome);
  }

  private stopIdleWorkers(): void {
    if (!this.shutdownStarted) return;
    if (this.queue.length > 0) return;
    for (const worker of this.workers) if (worker.job === null) this.retire(worker);
  }

  private afterWork(): void {
    this.stopIdleWorkers();
    if (this.workers.size === 0 && this.queue.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private whenIdle(): Promise<void> {
    if (this.workers.size === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  [inspectCustom](): string {
    const s = this.statistics();
    return `<${this.constructor.name} workers=${s.workers}/${this.maxWorkers} busy=${s.busy} queued=${s.queued}${s.broken ? " broken" : ""}${s.shutdown ? " shutdown" : ""}>`;
  }
}
