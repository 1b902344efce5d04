import assert from "node:assert/strict";
import { test } from "node:test";
import { Barrier, BrokenBarrierError, createTask, sleep, type Coro } from "../src/index.js";
import { runVirtual } from "./support.js";

function* arrive(barrier: Barrier, delay: number): Coro<number> {
  yield* sleep(delay);
  return yield* barrier.wait();
}

test("all parties pass together and get distinct arrival indexes", async () => {
  const indexes = await runVirtual(function* () {
    const barrier = new Barrier(3);
    const tasks = [createTask(arrive(barrier, 1)), createTask(arrive(barrier, 2)), createTask(arrive(barrier, 3))];
    yield* sleep(2.5);
    assert.equal(barrier.nWaiting, 2);
    assert.equal(tasks.some((t) => t.done()), false);
    const results: number[] = [];
    for (const t of tasks) results.push(yield* t);
    return results;
  });
  assert.deepEqual(indexes, [0, 1, 2]);
});

test("a barrier can be used for several rounds", async () => {
  await runVirtual(function* () {
    const barrier = new Barrier(2);
    for (let round = 0; round < 3; round++) {
      const a = createTask(barrier.wait());
      const b = createTask(barrier.wait());
      assert.deepEqual([yield* a, yield* b].sort(), [0, 1]);
    }
  });
});

test("abort breaks the barrier for current and later waiters", async () => {
  await runVirtual(function* () {
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
});

test("reset makes current waiters raise BrokenBarrierError and the barrier usable again", async () => {
  await runVirtual(function* () {
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
});

test("parties below one is a RangeError", () => {
  assert.throws(() => new Barrier(0), RangeError);
  assert.equal(new Barrier(4).parties, 4);
});
