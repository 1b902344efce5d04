import assert from "node:assert/strict";
import { test } from "node:test";
import { createTask, getRunningLoop, run, sleep, type Coro } from "../src/index.js";
import { runVirtual } from "./support.js";

test("sleep(86400) on the virtual clock returns at once with time advanced by a day", async () => {
  const started = performance.now();
  const elapsed = await runVirtual(function* () {
    const loop = getRunningLoop();
    const start = loop.time();
    yield* sleep(86400);
    return loop.time() - start;
  });
  assert.equal(elapsed, 86400);
  assert.ok(performance.now() - started < 5000);
});

test("sleepers wake in deadline order on the virtual clock", async () => {
  const order = await runVirtual(function* () {
    const seen: number[] = [];
    const sleeper = function* (d: number): Coro<void> {
      yield* sleep(d);
      seen.push(d);
    };
    const tasks = [5, 1, 3600, 2].map((d) => createTask(sleeper(d)));
    for (const t of tasks) yield* t;
    return seen;
  });
  assert.deepEqual(order, [1, 2, 5, 3600]);
});

test("sleep returns its result argument", async () => {
  assert.equal(await runVirtual(() => sleep(1, "value")), "value");
  assert.equal(await runVirtual(() => sleep(0, "zero")), "zero");
});

test("sleep(0) lets every other ready task run exactly once", async () => {
  const trail = await runVirtual(function* () {
    const seen: string[] = [];
    const other = function* (name: string): Coro<void> {
      seen.push(`${name}1`);
      yield* sleep(0);
      seen.push(`${name}2`);
    };
    createTask(other("a"));
    createTask(other("b"));
    yield* sleep(0);
    seen.push("main");
    yield* sleep(0);
    yield* sleep(0);
    return seen;
  });
  assert.deepEqual(trail, ["a1", "b1", "main", "a2", "b2"]);
});

test("sleep with NaN is a RangeError and with a non-number a TypeError", () => {
  assert.throws(() => sleep(Number.NaN), RangeError);
  assert.throws(() => sleep("1" as unknown as number), TypeError);
});

test("a negative delay behaves like sleep(0)", async () => {
  assert.equal(await runVirtual(function* () {
    yield* sleep(-5);
    return getRunningLoop().time();
  }), 0);
});

test("a sleep created outside the loop runs on the loop that drives it", async () => {
  const nap = sleep(2, "late bound");
  assert.equal(await run(nap, { clock: "virtual" }), "late bound");
});

test("a cancelled sleep leaves no timer behind", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const task = createTask(sleep(1000));
    yield* sleep(0);
    task.cancel();
    yield* sleep(0);
    assert.equal(task.cancelled(), true);
    // Nothing else is scheduled: the loop goes idle with no timer to jump to.
    assert.equal(loop.time(), 0);
  });
});

test("sleep(Infinity) waits until cancelled", async () => {
  await runVirtual(function* () {
    const task = createTask(sleep(Infinity));
    yield* sleep(100);
    assert.equal(task.done(), false);
    task.cancel();
    yield* sleep(0);
    assert.equal(task.cancelled(), true);
  });
});

test("on the real clock sleep waits at least its delay", async () => {
  const elapsed = await run(function* () {
    const loop = getRunningLoop();
    const start = loop.time();
    yield* sleep(0.02);
    return loop.time() - start;
  });
  assert.ok(elapsed >= 0.019, `slept only ${elapsed}`);
});
