import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  TimeoutError,
  CancelledError,
  asCompleted,
  aiterSymbol,
  createTask,
  getRunningLoop,
  sleep,
  wait,
  type Coro,
  type Future,
  type ReturnWhen,
} from "../src/index.js";
import { after, failsAfter, runVirtual } from "./support.js";

test("wait with ALL_COMPLETED returns when every future is done", async () => {
  const sizes = await runVirtual(function* () {
    const tasks = [createTask(after(1, 1)), createTask(after(3, 3))];
    const [done, pending] = yield* wait(tasks);
    return [done.size, pending.size, getRunningLoop().time()];
  });
  assert.deepEqual(sizes, [2, 0, 3]);
});

test("wait with FIRST_COMPLETED returns after the first completion", async () => {
  const outcome = await runVirtual(function* () {
    const fast = createTask(after(1, "fast"));
    const slow = createTask(after(5, "slow"));
    const [done, pending] = yield* wait([fast, slow], { returnWhen: FIRST_COMPLETED });
    const result = { done: [...done].map((f) => f.result()), pending: pending.has(slow), at: getRunningLoop().time() };
    slow.cancel();
    yield* sleep(0);
    return result;
  });
  assert.deepEqual(outcome, { done: ["fast"], pending: true, at: 1 });
});

test("wait with FIRST_EXCEPTION returns at the first failure", async () => {
  const outcome = await runVirtual(function* () {
    const bad = createTask(failsAfter(2, "x"));
    const slow = createTask(after(5, "slow"));
    const [done] = yield* wait([bad, slow], { returnWhen: FIRST_EXCEPTION });
    const at = getRunningLoop().time();
    slow.cancel();
    yield* sleep(0);
    return { failed: done.has(bad), at };
  });
  assert.deepEqual(outcome, { failed: true, at: 2 });
});

test("wait with FIRST_EXCEPTION and no failure waits for all", async () => {
  assert.equal(await runVirtual(function* () {
    yield* wait([createTask(after(1, 1)), createTask(after(2, 2))], { returnWhen: FIRST_EXCEPTION });
    return getRunningLoop().time();
  }), 2);
});

test("a cancellation does not count as an exception for FIRST_EXCEPTION", async () => {
  assert.equal(await runVirtual(function* () {
    const victim = createTask(after(5, "x"));
    const other = createTask(after(3, "y"));
    getRunningLoop().callLater(1, () => victim.cancel());
    yield* wait([victim, other], { returnWhen: FIRST_EXCEPTION });
    return getRunningLoop().time();
  }), 3);
});

test("wait never throws on timeout and cancels nothing", async () => {
  const outcome = await runVirtual(function* () {
    const slow = createTask(after(10, "slow"));
    const [done, pending] = yield* wait([slow], { timeout: 1 });
    const snapshot = { done: done.size, pending: pending.size, cancelled: slow.cancelled() };
    yield* slow;
    return snapshot;
  });
  assert.deepEqual(outcome, { done: 0, pending: 1, cancelled: false });
});

test("wait refuses a bare coroutine, a single future, coroutines inside and an empty set", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    yield* assertThrows(wait(after(1, 1) as unknown as Future<number>[]), TypeError);
    yield* assertThrows(wait(loop.createFuture() as unknown as Future<number>[]), TypeError);
    yield* assertThrows(wait([after(1, 1) as unknown as Future<number>]), /Passing coroutines is forbidden/);
    yield* assertThrows(wait([]), RangeError);
    yield* assertThrows(wait([loop.createFuture()], { returnWhen: "SOMETIMES" as ReturnWhen }), RangeError);
  });
});

test("wait checks returnWhen before refusing coroutines, as CPython does", async () => {
  await runVirtual(function* () {
    const coro = after(1, 1);
    yield* assertThrows(wait([coro as unknown as Future<number>], { returnWhen: -1 as unknown as ReturnWhen }), RangeError);
    coro.return(1);
  });
});

function* assertThrows(coro: Coro<unknown>, expected: RegExp | (new (...args: never[]) => Error)): Coro<void> {
  try {
    yield* coro;
  } catch (e) {
    if (expected instanceof RegExp) assert.match((e as Error).message, expected);
    else assert.ok(e instanceof expected, `expected ${expected.name}, got ${String(e)}`);
    return;
  }
  assert.fail("expected an error");
}

test("cancelling a task blocked in wait leaves the awaited tasks running", async () => {
  await runVirtual(function* () {
    const inner = createTask(after(5, "inner"));
    const waiter = createTask(
      (function* (): Coro<void> {
        yield* wait([inner]);
      })(),
    );
    yield* sleep(1);
    waiter.cancel();
    yield* sleep(0);
    assert.equal(waiter.cancelled(), true);
    assert.equal(inner.done(), false);
    assert.equal(yield* inner, "inner");
  });
});

test("wait on futures already done still yields to the loop once", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const done = loop.createFuture<number>();
    done.setResult(1);
    let ran = false;
    loop.callSoon(() => (ran = true));
    const [finished] = yield* wait([done]);
    assert.equal(finished.size, 1);
    assert.equal(ran, true);
  });
});

test("duplicate futures in wait collapse to one", async () => {
  await runVirtual(function* () {
    const t = createTask(after(1, 1));
    const [done] = yield* wait([t, t, t]);
    assert.equal(done.size, 1);
  });
});

test("the constants are their own names", () => {
  assert.deepEqual([FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED], ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"]);
});

// --- asCompleted ---------------------------------------------------------------

test("asCompleted yields results in completion order", async () => {
  assert.deepEqual(await runVirtual(function* () {
    const results: string[] = [];
    for (const next of asCompleted([after(3, "c"), after(1, "a"), after(2, "b")])) results.push(yield* next);
    return results;
  }), ["a", "b", "c"]);
});

test("asCompleted delivers an exception at its completion position", async () => {
  assert.deepEqual(await runVirtual(function* () {
    const seen: string[] = [];
    for (const next of asCompleted<string>([after(2, "late"), failsAfter(1, "early failure")])) {
      try {
        seen.push(yield* next);
      } catch (e) {
        seen.push(`error: ${(e as Error).message}`);
      }
    }
    return seen;
  }), ["error: early failure", "late"]);
});

test("asCompleted throws TimeoutError for what is left at the deadline and cancels nothing", async () => {
  const outcome = await runVirtual(function* () {
    const slow = createTask(after(10, "slow"));
    const seen: string[] = [];
    for (const next of asCompleted([after(1, "fast"), slow], { timeout: 5 })) {
      try {
        seen.push(yield* next);
      } catch (e) {
        seen.push(e instanceof TimeoutError ? "timeout" : "other");
      }
    }
    const cancelled = slow.cancelled();
    slow.cancel();
    yield* sleep(0);
    return { seen, at: getRunningLoop().time(), cancelled };
  });
  assert.deepEqual(outcome, { seen: ["fast", "timeout"], at: 5, cancelled: false });
});

test("asCompleted of a single awaitable (not in a list) is a TypeError", async () => {
  await runVirtual(function* () {
    assert.throws(() => asCompleted(after(1, 1) as unknown as Coro<number>[]), TypeError);
  });
});

test("asCompleted handles futures that are done already", async () => {
  assert.deepEqual(await runVirtual(function* () {
    const f = getRunningLoop().createFuture<string>();
    f.setResult("ready");
    const results: string[] = [];
    for (const next of asCompleted([after(1, "later"), f])) results.push(yield* next);
    return results;
  }), ["ready", "later"]);
});

test("wait of something that is not iterable, or of plain values, is a TypeError", async () => {
  await runVirtual(function* () {
    for (const bad of [null, 5]) {
      try {
        yield* wait(bad as unknown as Future<unknown>[]);
        assert.fail("no TypeError");
      } catch (error) {
        assert.ok(error instanceof TypeError);
        assert.equal(error.message, "wait() expects an iterable of futures");
      }
    }
    try {
      yield* wait([5] as unknown as Future<unknown>[]);
      assert.fail("no TypeError");
    } catch (error) {
      assert.ok(error instanceof TypeError);
      assert.equal(error.message, "wait() expects futures or tasks, got number");
    }
  });
});

test("asCompleted counts an awaitable given twice once", async () => {
  await runVirtual(function* () {
    const task = createTask(after(1, "once"));
    const slots = [...asCompleted([task, task])];
    assert.equal(slots.length, 1);
    assert.equal(yield* slots[0]!, "once");
  });
});

test("a future from asCompleted given a done callback and then awaited takes one completion", async () => {
  await runVirtual(function* () {
    const [first, second] = [...asCompleted([after(1, "a"), after(2, "b")])];
    let called = 0;
    first!.addDoneCallback(() => called++);
    assert.equal(yield* first!, "a");
    assert.equal(yield* second!, "b");
    yield* sleep(0);
    assert.equal(called, 1);
  });
});

test("a future from asCompleted cancelled by its holder is skipped: the next one waiting takes the completion", async () => {
  await runVirtual(function* () {
    const [first, second] = [...asCompleted([after(1, "a"), after(2, "b")])];
    const errors: unknown[] = [];
    getRunningLoop().setExceptionHandler((_loop, context) => errors.push(context.exception));
    first!.addDoneCallback(() => {});
    second!.addDoneCallback(() => {});
    first!.cancel();
    assert.equal(yield* second!, "a");
    assert.deepEqual(errors, []);
    // The task asCompleted made of after(2, "b") runs on; let it finish.
    yield* sleep(1);
  });
});

test("a future from asCompleted first awaited after the deadline raises TimeoutError", async () => {
  await runVirtual(function* () {
    const never = getRunningLoop().createFuture<string>();
    const [slot] = [...asCompleted([never], { timeout: 1 })];
    yield* sleep(2);
    try {
      yield* slot!;
      assert.fail("no TimeoutError");
    } catch (error) {
      assert.ok(error instanceof TimeoutError);
    }
    assert.equal(never.done(), false);
  });
});

test("an input that completes in the very instant of the deadline is not delivered", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const input = loop.createFuture<string>();
    loop.callLater(1, () => input.setResult("on the deadline")); // fires just before the deadline's own timer
    const [slot] = [...asCompleted([input], { timeout: 1 })];
    try {
      yield* slot!;
      assert.fail("no TimeoutError");
    } catch (error) {
      assert.ok(error instanceof TimeoutError);
    }
    assert.equal(input.result(), "on the deadline");
  });
});

test("asCompleted drops its deadline once every input completed", async () => {
  await runVirtual(function* () {
    for (const next of asCompleted([after(1, "a")], { timeout: 100 })) yield* next;
    assert.equal(getRunningLoop().nextTimerDeadline(), undefined);
  });
});

test("the async form of asCompleted hands out inputs done already, then ends", async () => {
  await runVirtual(function* () {
    const done = getRunningLoop().createFuture<string>();
    done.setResult("ready");
    const source = asCompleted([done])[aiterSymbol]();
    assert.deepEqual(yield* source.next(), { done: false, value: done });
    assert.deepEqual(yield* source.next(), { done: true, value: undefined });
  });
});

test("the async form of asCompleted asked after the deadline raises TimeoutError", async () => {
  await runVirtual(function* () {
    const never = getRunningLoop().createFuture<string>();
    const source = asCompleted([never], { timeout: 1 })[aiterSymbol]();
    yield* sleep(2);
    try {
      yield* source.next();
      assert.fail("no TimeoutError");
    } catch (error) {
      assert.ok(error instanceof TimeoutError);
    }
  });
});

test("a taker of the async form cancelled just after it was handed an input gives that input back", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const input = loop.createFuture<string>();
    const source = asCompleted([input])[aiterSymbol]();
    const taker = createTask(source.next());
    yield* sleep(0); // the taker waits
    // Registered after asCompleted's own callback: runs right after the input was handed to the taker.
    input.addDoneCallback(() => taker.cancel());
    input.setResult("handed over");
    try {
      yield* taker;
      assert.fail("the taker was not cancelled");
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    assert.deepEqual(yield* source.next(), { done: false, value: input });
  });
});

test("the async form of asCompleted keeps inputs that completed before anyone asked, in order", async () => {
  await runVirtual(function* () {
    const first = createTask(after(1, "first"));
    const second = createTask(after(2, "second"));
    const source = asCompleted([second, first])[aiterSymbol]();
    yield* sleep(3);
    assert.deepEqual(yield* source.next(), { done: false, value: first });
    assert.deepEqual(yield* source.next(), { done: false, value: second });
  });
});
