// hosts: node-only — the pools start worker threads from their entry file, which a host bundle does not carry.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, Future, ShutdownFuture, ThreadPoolExecutor, run } from "../src/index.js";

test("pool.shutdown() is a Future a coroutine waits for with yield*", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const seen = await run(function* () {
    const answer = yield* pool.submit((n: number) => n + 1, 1);
    const stopping = pool.shutdown();
    assert.ok(stopping instanceof Future);
    yield* stopping;
    return [answer, stopping.done(), pool.statistics().workers];
  });
  assert.deepEqual(seen, [2, true, 0]);
});

test("pool.shutdown() is awaitable from native code with no loop running", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  assert.equal(await run(function* () {
    return yield* pool.submit(() => "done");
  }), "done");
  const stopping = pool.shutdown();
  assert.equal(await stopping, undefined);
  assert.equal(pool.statistics().workers, 0);
});

test("pool.shutdown() awaited inside a native async function on a running loop resolves", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await run(function* () {
    yield* pool.submit(() => 1);
    const native = (async () => {
      await pool.shutdown();
      return pool.statistics().workers;
    })();
    return native;
  });
  assert.equal(pool.statistics().workers, 0);
});

test("shutdown({ wait: false }) gives an already-settling future", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await run(function* () {
    yield* pool.shutdown({ wait: false });
  });
  await pool.shutdown();
});

test("a cancelled shutdown future rejects its awaiters with CancelledError, while the shutdown goes on", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  const stopping = pool.shutdown();
  assert.equal(stopping.cancel(), true);
  await assert.rejects(Promise.resolve(stopping), CancelledError);
  assert.equal(pool.statistics().shutdown, true);
});

test("a shutdown whose completion fails fails its future with that error", async () => {
  const failure = new Error("could not stop");
  const seen = await run(function* () {
    const stopping = new ShutdownFuture(Promise.reject(failure));
    try {
      yield* stopping;
    } catch (error) {
      return error;
    }
    return null;
  });
  assert.equal(seen, failure);
});
