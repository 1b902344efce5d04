import assert from "node:assert/strict";
import { test } from "node:test";
import { Barrier, BrokenBarrierError, createTask, sleep, type Coro } from "../src/index.js";
import { asyncTest, exploreSchedules } from "../src/testing/index.js";

function* arrive(barrier: Barrier, delay: number): Coro<number> {
  yield* sleep(delay);
  return yield* barrier.wait();
}

asyncTest("all parties pass together and get distinct arrival indexes", function* () {
  const barrier = new Barrier(3);
  const tasks = [createTask(arrive(barrier, 1)), createTask(arrive(barrier, 2)), createTask(arrive(barrier, 3))];
  yield* sleep(2.5);
  assert.equal(barrier.nWaiting, 2);
  assert.equal(tasks.some((t) => t.done()), false);
  const results: number[] = [];
  for (const t of tasks) results.push(yield* t);
  assert.deepEqual(results, [0, 1, 2]);
});

function* severalRounds(): Coro<void> {
  const barrier = new Barrier(2);
  for (let round = 0; round < 3; round++) {
    const a = createTask(barrier.wait());
    const b = createTask(barrier.wait());
    assert.deepEqual([yield* a, yield* b].sort(), [0, 1]);
  }
}

asyncTest("a barrier can be used for several rounds", severalRounds);

test("a barrier can be used for several rounds whatever order the ready tasks run in", async () => {
  const { failingSeed, error } = await exploreSchedules(severalRounds, { runs: 50, seed: 1 });
  if (failingSeed !== null) throw error;
});

asyncTest("abort breaks the barrier for current and later waiters", function* () {
  const barrier = new Barrier(3);
  const waiter = createTask(barrier.wait());
  yield* sleep(0);
  barrier.abort();
  yield* sleep(0);
  assert.ok(waiter.exception() instanceof BrokenBarrierError);
  assert.equal(barrier.broken, true);
  try {
    yield* barrier.wait();
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof BrokenBarrierError);
  }
});

asyncTest("reset makes current waiters raise BrokenBarrierError and the barrier usable again", function* () {
  const barrier = new Barrier(2);
  const waiter = createTask(barrier.wait());
  yield* sleep(0);
  barrier.reset();
  yield* sleep(1);
  assert.ok(waiter.exception() instanceof BrokenBarrierError);
  assert.equal(barrier.broken, false);
  const a = createTask(barrier.wait());
  const b = createTask(barrier.wait());
  assert.deepEqual([yield* a, yield* b].sort(), [0, 1]);
});

test("parties below one is a RangeError", () => {
  assert.throws(() => new Barrier(0), RangeError);
  assert.equal(new Barrier(4).parties, 4);
});
