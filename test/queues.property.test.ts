/**
 * Random producer/consumer programs on a bounded Queue, with random sleeps
 * and cancellations, on the virtual clock: no item is lost or duplicated,
 * a cancelled put inserts nothing, and join returns exactly when the count
 * of unfinished items reaches zero. Rerun a failure with FC_SEED=<seed>.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CancelScope, CancelledError, Queue, QueueShutDown, cancelScope, createTask, getRunningLoop, moveOnAfter, sleep, type Coro, type Task } from "../src/index.js";
import { cancelAll, runVirtual, testEnv } from "./support.js";

const RUNS = Number(testEnv("FC_RUNS") ?? 1000);
const seedOption = testEnv("FC_SEED") !== undefined ? { seed: Number(testEnv("FC_SEED")) } : {};

const duration = fc.constantFrom(0, 0, 0.5, 1);
const program = fc.record({
  maxsize: fc.constantFrom(0, 1, 1, 2, 3),
  producers: fc.array(fc.array(duration, { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 4 }),
  consumers: fc.array(fc.array(duration, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
  cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.5, 1, 2), ticks: fc.nat(3), target: fc.nat(6) }), { maxLength: 5 }),
});

// The run is quiescent: a getter blocked beside an item (or a putter beside
// free room) would be a lost wake-up. Then the queue shuts down and every
// task ends, cancelled or shut out at worst.
function* endQuiescent(queue: Queue<number>, tasks: readonly Task<unknown>[]): Coro<void> {
  const stats = queue.statistics();
  assert.ok(!(stats.size > 0 && stats.getters > 0), `${stats.size} items left while ${stats.getters} getters wait`);
  assert.ok(!(!queue.full() && stats.putters > 0), `room left while ${stats.putters} putters wait`);
  queue.shutdown();
  for (const t of tasks) {
    try {
      yield* t;
    } catch (e) {
      if (!(e instanceof CancelledError) && !(e instanceof QueueShutDown)) throw e;
    }
  }
}

// Every item put was got exactly once or is still in the queue; returns those left.
function assertAccounted(queue: Queue<number>, put: readonly number[], got: readonly number[]): number[] {
  const remaining: number[] = [];
  while (!queue.empty()) remaining.push(queue.getNowait());
  const accounted = [...got, ...remaining].sort((a, b) => a - b);
  assert.deepEqual(accounted, [...put].sort((a, b) => a - b), `put ${put} got ${got} left ${remaining}`);
  return remaining;
}

test("Queue: every item put is got exactly once or still in the queue, and a cancelled put inserts nothing", async () => {
  await fc.assert(
    fc.asyncProperty(program, async (p) => {
      const queue = new Queue<number>(p.maxsize);
      const put: number[] = [];
      const got: number[] = [];
      await runVirtual(function* () {
        let nextItem = 0;
        const tasks: Task<void>[] = [];
        for (const delays of p.producers) {
          tasks.push(
            createTask(
              (function* (): Coro<void> {
                for (const d of delays) {
                  yield* sleep(d);
                  const item = nextItem++;
                  yield* queue.put(item);
                  put.push(item);
                }
              })(),
            ),
          );
        }
        for (const delays of p.consumers) {
          tasks.push(
            createTask(
              (function* (): Coro<void> {
                for (const d of delays) {
                  yield* sleep(d);
                  got.push(yield* queue.get());
                }
              })(),
            ),
          );
        }
        for (const c of p.cancels) {
          createTask(
            (function* (): Coro<void> {
              yield* sleep(c.at);
              for (let i = 0; i < c.ticks; i++) yield* sleep(0);
              tasks[c.target % tasks.length]!.cancel();
            })(),
          );
        }
        // Consumers may wait forever for items never produced: end the run after a while.
        yield* sleep(20);
        yield* endQuiescent(queue, tasks);
      });
      const remaining = assertAccounted(queue, put, got);
      if (p.maxsize > 0) assert.ok(remaining.length <= p.maxsize);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});

test("Queue under cancel scopes: a get or put cut short by its scope's deadline or cancel() loses and invents no item", async () => {
  const scoped = fc.record({
    maxsize: fc.constantFrom(0, 1, 1, 2, 3),
    producers: fc.array(fc.array(fc.record({ delay: duration, limit: fc.constantFrom(null, 0, 0.5, 1) }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
    consumers: fc.array(fc.array(fc.record({ delay: duration, limit: fc.constantFrom(null, 0, 0.5, 1) }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
    cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.5, 1, 2), ticks: fc.nat(3), target: fc.nat(6) }), { maxLength: 5 }),
  });
  await fc.assert(
    fc.asyncProperty(scoped, async (p) => {
      const queue = new Queue<number>(p.maxsize);
      const put: number[] = [];
      const got: number[] = [];
      await runVirtual(function* () {
        let nextItem = 0;
        const scopes: Array<CancelScope | null> = [];
        const tasks: Task<void>[] = [];
        const inScope = <T>(index: number, limit: number | null, body: () => Coro<T>): Coro<T | undefined> =>
          limit === null
            ? cancelScope(function* (scope) {
                scopes[index] = scope;
                return yield* body();
              })
            : moveOnAfter(limit, function* (scope) {
                scopes[index] = scope;
                return yield* body();
              });
        for (const steps of p.producers) {
          const index = tasks.length;
          tasks.push(
            createTask(
              (function* (): Coro<void> {
                for (const step of steps) {
                  yield* sleep(step.delay);
                  const item = nextItem++;
                  const done = yield* inScope(index, step.limit, function* () {
                    yield* queue.put(item);
                    return true;
                  });
                  if (done === true) put.push(item);
                }
              })(),
            ),
          );
        }
        for (const steps of p.consumers) {
          const index = tasks.length;
          tasks.push(
            createTask(
              (function* (): Coro<void> {
                for (const step of steps) {
                  yield* sleep(step.delay);
                  const item = yield* inScope(index, step.limit, () => queue.get());
                  if (item !== undefined) got.push(item);
                }
              })(),
            ),
          );
        }
        for (const c of p.cancels) {
          createTask(
            (function* (): Coro<void> {
              yield* sleep(c.at);
              for (let i = 0; i < c.ticks; i++) yield* sleep(0);
              scopes[c.target % tasks.length]?.cancel();
            })(),
          );
        }
        yield* sleep(20);
        yield* endQuiescent(queue, tasks);
      });
      assertAccounted(queue, put, got);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});

test("Queue: join returns exactly when the count of unfinished items reaches zero", async () => {
  const work = fc.record({
    items: fc.array(fc.record({ putAt: fc.constantFrom(0, 0.5, 1), workFor: fc.constantFrom(0, 0.5, 1, 2) }), { minLength: 1, maxLength: 8 }),
    workers: fc.integer({ min: 1, max: 3 }),
  });
  await fc.assert(
    fc.asyncProperty(work, async (w) => {
      await runVirtual(function* () {
        const queue = new Queue<number>();
        const loop = getRunningLoop();
        let unfinished = 0;
        let lastZeroAt = -1;
        // Put everything at time 0 first so that join has work to wait for.
        for (const item of w.items) {
          queue.putNowait(item.workFor);
          unfinished++;
        }
        const workers = Array.from({ length: w.workers }, () =>
          createTask(
            (function* (): Coro<void> {
              for (;;) {
                const workFor = yield* queue.get();
                yield* sleep(workFor);
                unfinished--;
                if (unfinished === 0) lastZeroAt = loop.time();
                queue.taskDone();
              }
            })(),
          ),
        );
        yield* queue.join();
        assert.equal(unfinished, 0, "join returned with unfinished items");
        assert.equal(queue.statistics().unfinishedTasks, 0);
        assert.equal(loop.time(), lastZeroAt, "join returned later than the count reached zero");
        yield* cancelAll(workers);
      });
    }),
    { numRuns: RUNS, ...seedOption },
  );
});
