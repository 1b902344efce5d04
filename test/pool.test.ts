// hosts: node-only — worker threads and child processes run the submitted functions.
// Python 3.14's lazy map (buffersize) and mapIter on both local pools.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProcessPoolExecutor, ThreadPoolExecutor, forEach, type Coro } from "../src/index.js";
import { runCapturing } from "./support.js";

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
