import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { BoundedSemaphore, Semaphore, createTask, sleep, type Coro } from "../src/index.js";
import { runVirtual } from "./support.js";

test("a semaphore lets value tasks in at once and makes the next wait", async () => {
  await runVirtual(function* () {
    const sem = new Semaphore(2);
    yield* sem.acquire();
    yield* sem.acquire();
    assert.equal(sem.locked(), true);
    const third = createTask(sem.acquire());
    yield* sleep(1);
    assert.equal(third.done(), false);
    sem.release();
    yield* third;
  });
});

test("a negative initial value is a RangeError", () => {
  assert.throws(() => new Semaphore(-1), RangeError);
});

test("waiters get permits in FIFO order", async () => {
  assert.deepEqual(await runVirtual(function* () {
    const sem = new Semaphore(1);
    const order: number[] = [];
    yield* sem.acquire();
    const tasks = [0, 1, 2].map((i) => createTask(sem.hold(function* () {
      order.push(i);
      yield* sleep(0);
    })));
    yield* sleep(0);
    sem.release();
    for (const t of tasks) yield* t;
    return order;
  }), [0, 1, 2]);
});

test("a waiter cancelled in the same tick it is woken gives its permit back", async () => {
  await runVirtual(function* () {
    const sem = new Semaphore(1);
    yield* sem.acquire();
    const first = createTask(sem.acquire());
    const second = createTask(sem.acquire());
    yield* sleep(0);
    sem.release();
    first.cancel();
    yield* sleep(1);
    assert.equal(first.cancelled(), true);
    assert.equal(second.done(), true);
    sem.release();
    assert.equal(sem.statistics().value, 1);
  });
});

test("no permit leaks when many waiters are cancelled", async () => {
  await runVirtual(function* () {
    const sem = new Semaphore(2);
    const tasks: ReturnType<typeof createTask>[] = [];
    for (let i = 0; i < 10; i++) tasks.push(createTask(sem.hold(() => sleep(1))));
    yield* sleep(0.5);
    for (let i = 0; i < 10; i += 3) tasks[i]!.cancel();
    yield* sleep(10);
    assert.equal(sem.statistics().value, 2);
    assert.equal(sem.locked(), false);
  });
});

test("a bounded semaphore refuses to go above its initial value", async () => {
  await runVirtual(function* () {
    const sem = new BoundedSemaphore(1);
    assert.throws(() => sem.release(), RangeError);
    yield* sem.acquire();
    sem.release();
    assert.throws(() => sem.release(), /released too many times/);
  });
});

test("hold releases the permit when the body throws", async () => {
  await runVirtual(function* () {
    const sem = new Semaphore(1);
    try {
      yield* sem.hold(function* (): Coro<void> {
        throw new Error("x");
      });
    } catch {
      // expected
    }
    assert.equal(sem.locked(), false);
  });
});

test("a semaphore describes itself", () => {
  assert.equal(inspect(new Semaphore(3)), "<Semaphore [unlocked, value:3]>");
  assert.equal(inspect(new BoundedSemaphore(0)), "<BoundedSemaphore [locked]>");
});
