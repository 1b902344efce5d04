/**
 * The pool mechanics (PoolExecutor) driven through scripted workers: each
 * worker is a handle whose messages and exit the test delivers by hand, so
 * orderings that real threads and processes make only by chance (a second
 * initializer failing, a stale reply, a channel refusing a message) are exact.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { BrokenThreadPool, run, sleep, type Future } from "../src/index.js";
import { ExecutorFuture, PoolExecutor, type WorkerEvents, type WorkerHandle } from "../src/executors/pool.js";
import type { FromWorker, ToWorker } from "../src/executors/protocol.js";
import { runVirtual } from "./support.js";

/** A worker the test plays: what the pool sent it, and hooks to answer. */
class ScriptedWorker {
  readonly sent: ToWorker[] = [];
  terminated = false;
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
      setActive: () => {},
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
