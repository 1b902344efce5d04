import assert from "node:assert/strict";
import { test } from "node:test";
import { createTask, getRunningLoop, run, sleep, type Coro } from "../src/index.js";
import { asyncTest, coroutineTest } from "../src/testing/index.js";

test("sleep(86400) on the virtual clock returns at once with time advanced by a day", async () => {
  const started = performance.now();
  await coroutineTest(function* () {
    const loop = getRunningLoop();
    const start = loop.time();
    yield* sleep(86400);
    assert.equal(loop.time() - start, 86400);
  })();
  assert.ok(performance.now() - started < 5000);
});

asyncTest("sleepers wake in deadline order on the virtual clock", function* () {
  const seen: number[] = [];
  const sleeper = function* (d: number): Coro<void> {
    yield* sleep(d);
    seen.push(d);
  };
  const tasks = [5, 1, 3600, 2].map((d) => createTask(sleeper(d)));
  for (const t of tasks) yield* t;
  assert.deepEqual(seen, [1, 2, 5, 3600]);
});

asyncTest("sleep returns its result argument", function* () {
  assert.equal(yield* sleep(1, "value"), "value");
  assert.equal(yield* sleep(0, "zero"), "zero");
});

asyncTest("sleep(0) lets every other ready task run exactly once", function* () {
  const seen: string[] = [];
  const other = function* (name: string): Coro<void> {
    seen.push(`${name}1`);
    yield* sleep(0);
    seen.push(`${name}2`);
  };
  const a = createTask(other("a"));
  const b = createTask(other("b"));
  yield* sleep(0);
  seen.push("main");
  yield* sleep(0);
  yield* sleep(0);
  assert.deepEqual(seen, ["a1", "b1", "main", "a2", "b2"]);
  yield* a;
  yield* b;
});

test("sleep with NaN is a RangeError and with a non-number a TypeError", () => {
  assert.throws(() => sleep(Number.NaN), RangeError);
  assert.throws(() => sleep("1" as unknown as number), TypeError);
});

asyncTest("a negative delay behaves like sleep(0)", function* () {
  yield* sleep(-5);
  assert.equal(getRunningLoop().time(), 0);
});

test("a sleep created outside the loop runs on the loop that drives it", async () => {
  const nap = sleep(2, "late bound");
  assert.equal(await run(nap, { clock: "virtual" }), "late bound");
});

asyncTest("a cancelled sleep leaves no timer behind", function* () {
  const loop = getRunningLoop();
  const task = createTask(sleep(1000));
  yield* sleep(0);
  task.cancel();
  yield* sleep(0);
  assert.equal(task.cancelled(), true);
  // Nothing else is scheduled: the loop goes idle with no timer to jump to.
  assert.equal(loop.time(), 0);
});

asyncTest("sleep(Infinity) waits until cancelled", function* () {
  const task = createTask(sleep(Infinity));
  yield* sleep(100);
  assert.equal(task.done(), false);
  task.cancel();
  yield* sleep(0);
  assert.equal(task.cancelled(), true);
});

asyncTest(
  "on the real clock sleep waits at least its delay",
  function* () {
    const loop = getRunningLoop();
    const start = loop.time();
    yield* sleep(0.02);
    const elapsed = loop.time() - start;
    assert.ok(elapsed >= 0.019, `slept only ${elapsed}`);
  },
  { clock: "real" },
);

asyncTest("a sleep driven again after it finished is done with no value, like a finished generator", function* () {
  const nap = sleep(1, "slept");
  assert.equal(yield* nap, "slept");
  assert.deepEqual(nap.next(), { value: undefined, done: true });
});

test("return() on a sleep(0) that has not yielded finishes it with the given value", () => {
  const nap = sleep(0, "unused");
  assert.deepEqual(nap.return("closed"), { value: "closed", done: true });
  assert.deepEqual(nap.next(), { value: "unused", done: true });
});

test("short sleeps on the real clock never return before their delay, by loop.time()", async () => {
  const early = await run(function* () {
    const loop = getRunningLoop();
    const early: number[] = [];
    for (let i = 0; i < 100; i++) {
      const start = loop.time();
      yield* sleep(0.001);
      // Against the deadline itself (now - start may round to 0.000999…9 when now is exactly the deadline).
      const now = loop.time();
      if (now < start + 0.001) early.push(now - start);
    }
    return early;
  });
  assert.deepEqual(early, []);
});

test("callLater on the real clock never runs its callback before the delay, by loop.time()", async () => {
  const early = await run(function* () {
    const loop = getRunningLoop();
    const early: number[] = [];
    for (let i = 0; i < 50; i++) {
      const start = loop.time();
      const fired = loop.createFuture<number>();
      loop.callLater(0.001, () => fired.setResult(loop.time()));
      const firedAt = yield* fired;
      if (firedAt < start + 0.001) early.push(firedAt - start);
    }
    return early;
  });
  assert.deepEqual(early, []);
});

test("sleeping for what is left until a deadline reaches it on the virtual clock, without spinning short of it", async () => {
  const naps = await run(
    function* () {
      const loop = getRunningLoop();
      yield* sleep(1);
      // 0.05 steps from 1 to 3 add up to a hair short of 3: the last nap is a few 1e-16 s long.
      const deadline = loop.time() + 2;
      let naps = 0;
      while (loop.time() < deadline && naps < 1000) {
        naps++;
        yield* sleep(Math.min(0.05, deadline - loop.time()));
      }
      return naps;
    },
    { clock: "virtual" },
  );
  assert.ok(naps <= 41, `${naps} naps`);
});

test("in debug mode several tasks may each run a sleep(0) of their own", async () => {
  const order = await run(
    function* () {
      const seen: string[] = [];
      const one = createTask(sleep(0));
      const two = createTask(sleep(0));
      const three = createTask(sleep(0, "three"));
      seen.push(String(yield* one), String(yield* two), String(yield* three));
      return seen;
    },
    { debug: true, clock: "virtual" },
  );
  assert.deepEqual(order, ["undefined", "undefined", "three"]);
});

asyncTest("sleep(0) inside nested coroutines gives one turn and returns undefined at every level", function* () {
  const turns: string[] = [];
  function* inner(): Coro<void> {
    return yield* sleep(0);
  }
  function* outer(): Coro<void> {
    return yield* inner();
  }
  const other = createTask((function* (): Coro<void> {
    turns.push("other");
  })());
  turns.push("before");
  assert.equal(yield* outer(), undefined);
  turns.push("after");
  yield* other;
  assert.deepEqual(turns, ["before", "other", "after"]);
});
