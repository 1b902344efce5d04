// hosts: node-only — worker threads and child processes run the submitted functions.
// The pool mechanics of src/executors/pool.ts: Python 3.14's lazy map
// (buffersize) and mapIter on both local pools, then PoolExecutor driven
// through scripted workers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { BrokenThreadPool, ProcessPoolExecutor, ThreadPoolExecutor, forEach, run, sleep, type Coro, type Future } from "../src/index.js";
import { ExecutorFuture, PoolExecutor, type WorkerEvents, type WorkerHandle } from "../src/executors/pool.js";
import type { FromWorker, ToWorker } from "../src/executors/protocol.js";
import { runCapturing, runVirtual } from "./support.js";

type Pool = ThreadPoolExecutor | ProcessPoolExecutor;
const kinds: Array<[string, (maxWorkers: number) => Pool]> = [
  ["ThreadPoolExecutor", (maxWorkers) => new ThreadPoolExecutor({ maxWorkers })],
  ["ProcessPoolExecutor", (maxWorkers) => new ProcessPoolExecutor({ maxWorkers })],
];

/** Runs `body` with a pool that is always shut down; fails on loop reports or errors. */
async function withPool<T>(pool: Pool, body: (pool: Pool) => Coro<T>): Promise<T> {
  try {
    const outcome = await runCapturing(() => body(pool), { clock: "real" });
    if ("error" in outcome) throw outcome.error;
    assert.deepEqual(outcome.reports.map((r) => r.message), []);
    return outcome.value as T;
  } finally {
    await pool.shutdown({ wait: true, cancelFutures: true });
  }
}

/** Items 0, 1, 2, … (endless unless `count`), recording how many jobs were in the pool at each pull. */
function* counted(pool: Pool, record: number[], count = Infinity): Generator<number> {
  for (let i = 0; i < count; i++) {
    const { busy, queued } = pool.statistics();
    record.push(busy + queued);
    yield i;
  }
}

for (const [kind, make] of kinds) {
  test(`${kind}: map with buffersize pulls items lazily, never more chunks in the pool than buffersize`, async () => {
    const inPool: number[] = [];
    const eager: number[] = [];
    const results = await withPool(make(2), function* (pool) {
      const lazy = yield* pool.map((x: number) => x * 2, counted(pool, inPool, 12), { buffersize: 2 });
      yield* pool.map((x: number) => x * 2, counted(pool, eager, 12));
      return lazy;
    });
    assert.deepEqual(results, Array.from({ length: 12 }, (_, i) => i * 2));
    assert.ok(Math.max(...inPool) <= 2, `in the pool at a pull: ${inPool}`);
    // Without buffersize every item is submitted before the first result.
    assert.deepEqual(eager, Array.from({ length: 12 }, (_, i) => i));
  });

  test(`${kind}: map with buffersize and chunksize returns every result in order`, async () => {
    const results = await withPool(make(2), (pool) => pool.map((x: number) => x + 1, [1, 2, 3, 4, 5, 6, 7], { chunksize: 3, buffersize: 1 }));
    assert.deepEqual(results, [2, 3, 4, 5, 6, 7, 8]);
  });

  test(`${kind}: mapIter streams the results of an endless iterable in order, in bounded look-ahead`, async () => {
    const inPool: number[] = [];
    const taken = await withPool(make(2), function* (pool) {
      const taken: number[] = [];
      yield* forEach(pool.mapIter((x: number) => x * x, counted(pool, inPool), { buffersize: 3 }), (square) => {
        taken.push(square);
        return taken.length < 20;
      });
      return taken;
    });
    assert.deepEqual(taken, Array.from({ length: 20 }, (_, i) => i * i));
    assert.ok(inPool.length <= 20 + 3, `${inPool.length} items pulled for 20 results`);
    assert.ok(Math.max(...inPool) <= 3, `in the pool at a pull: ${inPool}`);
  });

  test(`${kind}: mapIter raises a job's failure from the source and cancels what is in flight`, async () => {
    const outcome = await withPool(make(1), function* (pool) {
      const taken: number[] = [];
      try {
        yield* forEach(
          pool.mapIter((x: number) => {
            if (x === 3) throw new Error(`bad item ${x}`);
            return x;
          }, [0, 1, 2, 3, 4, 5, 6]),
          (x) => {
            taken.push(x);
          },
        );
      } catch (error) {
        return { taken, message: (error as Error).message, queued: pool.statistics().queued };
      }
      return null;
    });
    assert.deepEqual(outcome, { taken: [0, 1, 2], message: "bad item 3", queued: 0 });
  });

  test(`${kind}: a finished mapIter source stays finished, and a second failing chunk is not reported as never retrieved`, async () => {
    const outcome = await withPool(make(2), function* (pool) {
      const source = pool.mapIter((x: number) => x, [1]);
      const steps = [yield* source.next(), yield* source.next(), yield* source.next()];
      let message = "";
      try {
        yield* pool.map((x: number) => {
          throw new Error(`bad ${x}`);
        }, [1, 2]);
      } catch (error) {
        message = (error as Error).message;
      }
      return { steps, message };
    });
    assert.deepEqual(outcome, { steps: [{ done: false, value: 1 }, { done: true, value: undefined }, { done: true, value: undefined }], message: "bad 1" });
  });

  test(`${kind}: a bad buffersize is a RangeError`, async () => {
    await withPool(make(1), function* (pool) {
      assert.throws(() => pool.mapIter((x: number) => x, [1], { buffersize: 0 }), RangeError);
      yield* pool.map((x: number) => x, []);
    });
  });
}

// --- PoolExecutor's mechanics, with scripted workers -----------------------
// The pool mechanics (PoolExecutor) driven through scripted workers: each
// worker is a handle whose messages and exit the test delivers by hand, so
// orderings that real threads and processes make only by chance (a second
// initializer failing, a stale reply, a channel refusing a message) are exact.

/** A worker the test plays: what the pool sent it, and hooks to answer. */
class ScriptedWorker {
  readonly sent: ToWorker[] = [];
  terminated = false;
  /** Whether the pool keeps the process alive for this worker (its last `setActive`). */
  active = true;
  /** Thrown by the next `send` of a job (not of the init message), then cleared. */
  refuseNextJob: unknown = undefined;
  readonly handle: WorkerHandle;

  constructor(private readonly events: WorkerEvents) {
    this.handle = {
      send: (message) => {
        if (message.type !== "init" && this.refuseNextJob !== undefined) {
          const error = this.refuseNextJob;
          this.refuseNextJob = undefined;
          throw error;
        }
        this.sent.push(message);
      },
      terminate: () => {
        this.terminated = true;
      },
      setActive: (active) => {
        this.active = active;
      },
    };
  }

  reply(message: FromWorker): void {
    this.events.message(message);
  }

  ready(): void {
    this.reply({ type: "ready" });
  }

  /** The id of the last job sent to this worker. */
  lastJobId(): number {
    const last = this.sent.at(-1);
    assert.ok(last !== undefined && last.type !== "init", "no job was sent to this worker");
    return last.id;
  }

  finish(value: unknown, id = this.lastJobId()): void {
    this.reply({ type: "done", id, ok: true, value });
  }

  exit(description: string): void {
    this.events.exit(description);
  }
}

class ScriptedPool extends PoolExecutor {
  readonly started: ScriptedWorker[] = [];

  protected spawn(events: WorkerEvents): WorkerHandle {
    const worker = new ScriptedWorker(events);
    this.started.push(worker);
    return worker.handle;
  }

  protected brokenPool(message: string): BrokenThreadPool {
    return new BrokenThreadPool(message);
  }

  worker(index: number): ScriptedWorker {
    const worker = this.started[index];
    assert.ok(worker !== undefined, `worker ${index} was not started`);
    return worker;
  }

  /** Ends every worker the pool asked to stop, as a real one would. */
  exitTerminated(): void {
    for (const worker of this.started) if (worker.terminated) worker.exit("terminated");
  }
}

function exceptionOf(future: Future<unknown>): unknown {
  assert.equal(future.done(), true, "the future is still pending");
  return future.exception();
}

test("a done message whose id is not the job the worker runs is ignored", async () => {
  const pool = new ScriptedPool({ maxWorkers: 1 });
  const value = await runVirtual(function* () {
    const future = pool.submit((x: number) => x, 1);
    const worker = pool.worker(0);
    worker.ready();
    worker.finish("stale", worker.lastJobId() + 100);
    assert.equal(future.done(), false);
    worker.finish("right");
    return yield* future;
  });
  assert.equal(value, "right");
  void pool.shutdown({ wait: false });
  pool.exitTerminated();
});

test("a worker told to stop keeps the process alive until its exit, even when its ready message comes after", async () => {
  const pool = new ScriptedPool({ maxWorkers: 2 });
  await runVirtual(function* () {
    const first = pool.submit((x: number) => x, 1);
    const second = pool.submit((x: number) => x, 2);
    pool.worker(0).ready();
    pool.worker(0).finish(1);
    pool.worker(0).finish(2);
    assert.deepEqual([first.result(), second.result()], [1, 2]);
  });
  const shutdown = pool.shutdown();
  const late = pool.worker(1);
  assert.equal(late.terminated, true, "the worker that never became ready is stopped too");
  late.ready();
  assert.equal(late.active, true, "its late ready message does not let the process exit before its exit is seen");
  pool.exitTerminated();
  await shutdown;
});

test("a reply that comes after its job was cancelled is ignored", async () => {
  const pool = new ScriptedPool({ maxWorkers: 1 });
  await runVirtual(function* () {
    const future = pool.submit((x: number) => x, 1);
    const worker = pool.worker(0);
    worker.ready();
    const id = worker.lastJobId();
    future.cancel();
    assert.equal(worker.terminated, true, "the busy worker is stopped");
    worker.finish("too late", id);
    assert.equal(future.cancelled(), true);
    worker.exit("terminated");
    assert.equal(pool.statistics().broken, false);
  });
});

test("an initializer failing in one worker fails the job another worker is running", async () => {
  const pool = new ScriptedPool({ maxWorkers: 2, initializer: () => undefined });
  await runVirtual(function* () {
    const running = pool.submit((x: number) => x, 1);
    pool.worker(0).ready();
    const queued = pool.submit((x: number) => x, 2);
    pool.worker(1).reply({ type: "init-failed", error: { name: "Error", message: "no config", stack: undefined } });
    for (const future of [running, queued]) {
      const error = exceptionOf(future);
      assert.ok(error instanceof BrokenThreadPool);
      assert.match(error.message, /A worker initializer failed, the pool is not usable anymore: Error: no config/);
    }
    assert.equal(pool.worker(0).terminated, true);
  });
  pool.exitTerminated();
});

test("a second initializer failure keeps the first as the reason the pool broke", async () => {
  const pool = new ScriptedPool({ maxWorkers: 2, initializer: () => undefined });
  await runVirtual(function* () {
    const first = pool.submit((x: number) => x, 1);
    pool.submit((x: number) => x, 2).cancel();
    const second = pool.submit((x: number) => x, 3);
    assert.equal(pool.started.length, 2);
    pool.worker(0).reply({ type: "init-failed", error: { name: "Error", message: "first", stack: undefined } });
    pool.worker(1).reply({ type: "init-failed", error: { name: "Error", message: "second", stack: undefined } });
    assert.match((exceptionOf(first) as Error).message, /: Error: first$/);
    assert.match((exceptionOf(second) as Error).message, /: Error: first$/);
    assert.throws(() => pool.submit((x: number) => x, 4), (error: Error) => error instanceof BrokenThreadPool && /: Error: first$/.test(error.message));
  });
  pool.exitTerminated();
});

test("a result set on the future by hand wins, and the worker's later reply is dropped", async () => {
  const pool = new ScriptedPool({ maxWorkers: 1 });
  const value = await runVirtual(function* () {
    const future = pool.submit((x: number) => String(x), 1);
    const worker = pool.worker(0);
    worker.ready();
    future.setResult("by hand");
    worker.finish("from the worker");
    assert.equal(pool.statistics().busy, 0, "the worker is free again");
    return yield* future;
  });
  assert.equal(value, "by hand");
  void pool.shutdown({ wait: false });
  pool.exitTerminated();
});

test("a job the worker's channel refuses fails with a TypeError, and the next job runs", async () => {
  const pool = new ScriptedPool({ maxWorkers: 1 });
  const value = await runVirtual(function* () {
    const refused = pool.submit((x: number) => x, 1);
    pool.worker(0).refuseNextJob = "channel closed";
    pool.worker(0).ready();
    const error = exceptionOf(refused);
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, "the job cannot be sent to a worker: channel closed");
    const next = pool.submit((x: number) => x, 2);
    pool.worker(0).finish("next");
    return yield* next;
  });
  assert.equal(value, "next");
  void pool.shutdown({ wait: false });
  pool.exitTerminated();
});

test("a pool shows its workers, busy workers, queue and state when inspected", async () => {
  const pool = new ScriptedPool({ maxWorkers: 1, initializer: () => undefined });
  assert.equal(inspect(pool), "<ScriptedPool workers=0/1 busy=0 queued=0>");
  await runVirtual(function* () {
    const jobs = [pool.submit((x: number) => x, 1), pool.submit((x: number) => x, 2)];
    pool.worker(0).ready();
    assert.equal(inspect(pool), "<ScriptedPool workers=1/1 busy=1 queued=1>");
    pool.worker(0).exit("exit code 1");
    assert.equal(inspect(pool), "<ScriptedPool workers=0/1 busy=0 queued=0 broken>");
    // Both jobs fail with the broken pool (read here, so neither is reported as lost).
    for (const job of jobs) assert.equal(job.exception()?.name, "BrokenThreadPool");
  });
  void pool.shutdown({ wait: false });
  assert.equal(inspect(pool), "<ScriptedPool workers=0/1 busy=0 queued=0 broken shutdown>");
});

test("native awaits of a pending executor future all get its result", async () => {
  const pool = new ScriptedPool({ maxWorkers: 1 });
  const values = await runVirtual(function* () {
    const future = pool.submit((x: number) => String(x), 1) as unknown as ExecutorFuture<string>;
    const first = future.then((value) => `first ${value}`);
    const second = future.then((value) => `second ${value}`);
    pool.worker(0).ready();
    pool.worker(0).finish("done");
    yield* sleep(0);
    return Promise.all([first, second]);
  });
  assert.deepEqual(values, ["first done", "second done"]);
  void pool.shutdown({ wait: false });
  pool.exitTerminated();
});

test("a job that finishes after its loop closed still settles the native await of its future", async () => {
  const pool = new ScriptedPool({ maxWorkers: 1 });
  let native: Promise<unknown> | null = null;
  let future: Future<unknown> | null = null;
  await run(function* () {
    future = pool.submit((x: number) => x, 1);
    native = (future as ExecutorFuture<unknown>).then((value) => `got ${String(value)}`);
    pool.worker(0).ready();
  });
  pool.worker(0).finish("late");
  assert.equal(await native, "got late");
  assert.equal(await (future as unknown as Promise<unknown>), "late", "awaited once done, with no loop running");
  void pool.shutdown({ wait: false });
  pool.exitTerminated();
});

test("a native await of an executor future that is already done is delivered through the running loop", async () => {
  const pool = new ScriptedPool({ maxWorkers: 1 });
  await runVirtual(function* () {
    const future = pool.submit((x: number) => String(x), 1) as unknown as ExecutorFuture<string>;
    pool.worker(0).ready();
    pool.worker(0).finish("done");
    let delivered: string | null = null;
    void future.then((value) => (delivered = value));
    yield* sleep(0);
    assert.equal(delivered, null, "not before the loop's next turn");
    yield* sleep(0);
    assert.equal(delivered, "done");
  });
  void pool.shutdown({ wait: false });
  pool.exitTerminated();
});
