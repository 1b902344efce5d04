import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, ExceptionGroup, TimeoutError, createTask, getRunningLoop, retry, sleep, timeout, type Coro } from "../src/index.js";
import { collectGarbage, runCapturing, runVirtual } from "./support.js";

// A function that fails `failures` times, recording the loop time of each call.
function flaky(failures: number, calls: number[], work = 0): () => Coro<string> {
  return function* () {
    calls.push(getRunningLoop().time());
    if (work > 0) yield* sleep(work);
    if (calls.length <= failures) throw new Error(`failure ${calls.length}`);
    return `ok after ${calls.length}`;
  };
}

test("retry returns the first success, calling again at once by default", async () => {
  const calls: number[] = [];
  assert.equal(await runVirtual(() => retry(flaky(2, calls))), "ok after 3");
  assert.deepEqual(calls, [0, 0, 0]);
});

test("the waits grow as delay * backoff ** (n - 1), capped at maxDelay, exactly on the virtual clock", async () => {
  const calls: number[] = [];
  await runVirtual(() => retry(flaky(5, calls), { attempts: 6, delay: 0.5, backoff: 2, maxDelay: 3 }));
  // Waits 0.5, 1, 2, 3 (capped), 3.
  assert.deepEqual(calls, [0, 0.5, 1.5, 3.5, 6.5, 9.5]);
});

test("a constant delay is the default backoff, and time spent in the call adds to the wait", async () => {
  const calls: number[] = [];
  await runVirtual(() => retry(flaky(2, calls, 1), { delay: 2 }));
  assert.deepEqual(calls, [0, 3, 6]);
});

test("jitter adds a uniform [0, jitter) to each wait", async () => {
  const calls: number[] = [];
  await runVirtual(() => retry(flaky(9, calls), { attempts: 10, delay: 1, jitter: 0.5 }));
  for (let i = 1; i < calls.length; i++) {
    const wait = calls[i]! - calls[i - 1]!;
    assert.ok(wait >= 1 && wait < 1.5, `wait ${wait}`);
  }
});

test("the last error propagates with the earlier ones in an ExceptionGroup as its cause", async () => {
  const calls: number[] = [];
  const outcome = await runCapturing(() => retry(flaky(10, calls), { attempts: 3, delay: 1 }));
  assert.ok(outcome.error instanceof Error);
  assert.equal(outcome.error.message, "failure 3");
  const cause = outcome.error.cause;
  assert.ok(cause instanceof ExceptionGroup);
  assert.deepEqual(cause.exceptions.map((e) => e.message), ["failure 1", "failure 2"]);
  assert.deepEqual(calls, [0, 1, 2]);
});

test("an error retryOn refuses ends the retry at once, with the earlier errors as its cause", async () => {
  let calls = 0;
  const outcome = await runCapturing(() =>
    retry(
      function* (): Coro<never> {
        calls++;
        yield* sleep(0);
        throw calls === 1 ? new Error("transient") : new TypeError("fatal");
      },
      { attempts: 5, retryOn: (e) => !(e instanceof TypeError) },
    ),
  );
  assert.ok(outcome.error instanceof TypeError);
  assert.equal(calls, 2);
  assert.deepEqual((outcome.error.cause as ExceptionGroup).exceptions.map((e) => e.message), ["transient"]);
});

test("a single failed call propagates its error untouched", async () => {
  const original = new Error("once", { cause: "kept" });
  const outcome = await runCapturing(() =>
    retry(function* (): Coro<never> {
      yield* sleep(0);
      throw original;
    }, { attempts: 1 }),
  );
  assert.equal(outcome.error, original);
  assert.equal(original.cause, "kept");
});

test("a CancelledError is never retried, and cancelling the retry stops it during a wait", async () => {
  await runVirtual(function* () {
    let calls = 0;
    const refused = createTask(retry(function* (): Coro<never> {
      calls++;
      yield* sleep(0);
      throw new CancelledError("from inside");
    }));
    try {
      yield* refused;
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    assert.equal(calls, 1);

    const calls2: number[] = [];
    const waiting = createTask(retry(flaky(10, calls2), { attempts: 10, delay: 5 }));
    yield* sleep(7);
    waiting.cancel();
    try {
      yield* waiting;
      assert.fail("not cancelled");
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    assert.deepEqual(calls2, [0, 5]);
  });
});

test("timeout bounds the whole retry with a TimeoutError carrying the errors so far", async () => {
  const calls: number[] = [];
  const outcome = await runCapturing(function* () {
    try {
      return yield* retry(flaky(10, calls, 1), { attempts: Infinity, delay: 1, backoff: 2, timeout: 10 });
    } finally {
      assert.equal(getRunningLoop().time(), 10);
    }
  });
  // Calls at 0 (fails at 1), 2 (fails at 3), 5 (fails at 6); the wait of 4 s is cut at 10.
  assert.deepEqual(calls, [0, 2, 5]);
  assert.ok(outcome.error instanceof TimeoutError);
  assert.match(outcome.error.message, /timed out after 10 s and 3 failed attempts/);
  assert.deepEqual((outcome.error.cause as ExceptionGroup).exceptions.map((e) => e.message), ["failure 1", "failure 2", "failure 3"]);
});

test("a TimeoutError raised by the function itself is an ordinary, retried failure", async () => {
  let calls = 0;
  const result = await runVirtual(() =>
    retry(function* (): Coro<string> {
      calls++;
      if (calls < 3) yield* timeout(1, () => sleep(5));
      return `done at ${getRunningLoop().time()}`;
    }, { timeout: 100 }),
  );
  assert.equal(result, "done at 2");
  assert.equal(calls, 3);
});

test("retry validates its arguments, naming each", () => {
  const fn = function* (): Coro<void> {};
  const cases: [object, RegExp, typeof TypeError | typeof RangeError][] = [
    [{ attempts: 0 }, /attempts/, RangeError],
    [{ attempts: 1.5 }, /attempts/, RangeError],
    [{ attempts: "3" }, /attempts/, TypeError],
    [{ delay: -1 }, /delay/, RangeError],
    [{ backoff: 0.5 }, /backoff/, RangeError],
    [{ maxDelay: -1 }, /maxDelay/, RangeError],
    [{ jitter: Infinity }, /jitter/, RangeError],
    [{ retryOn: 1 }, /retryOn/, TypeError],
    [{ timeout: -1 }, /timeout/, RangeError],
  ];
  for (const [options, name, ErrorClass] of cases) {
    assert.throws(() => retry(fn, options as never).next(), (e: unknown) => e instanceof ErrorClass && name.test((e as Error).message), JSON.stringify(options));
  }
  assert.throws(() => retry(1 as never).next(), (e: unknown) => e instanceof TypeError && /fn/.test((e as Error).message));
});

test("a deadline after one failed attempt says so in the singular", async () => {
  const calls: number[] = [];
  const outcome = await runCapturing(() => retry(flaky(10, calls, 1), { attempts: Infinity, delay: 1, timeout: 3 }));
  assert.deepEqual(calls, [0, 2]);
  assert.ok(outcome.error instanceof TimeoutError);
  assert.equal(outcome.error.message, "retry() timed out after 3 s and 1 failed attempt");
  assert.equal((outcome.error.cause as ExceptionGroup).message, "1 attempt failed before the deadline");
});

test("a deadline during the first attempt keeps the cancellation as the TimeoutError's cause", async () => {
  const outcome = await runCapturing(() =>
    retry(function* (): Coro<string> {
      yield* sleep(10);
      return "too late";
    }, { timeout: 2 }),
  );
  assert.ok(outcome.error instanceof TimeoutError);
  assert.equal(outcome.error.message, "retry() timed out after 2 s and 0 failed attempts");
  assert.ok(outcome.error.cause instanceof CancelledError);
});

test("with a timeout, running out of attempts before the deadline raises the last error", async () => {
  const calls: number[] = [];
  const outcome = await runCapturing(() => retry(flaky(10, calls), { attempts: 2, timeout: 100 }));
  assert.equal(calls.length, 2);
  assert.equal((outcome.error as Error).message, "failure 2");
});

test("many failed attempts keep only the last 16 errors, the cause saying how many were dropped", async () => {
  let firstError = new WeakRef<Error>(new Error("placeholder"));
  let calls = 0;
  const outcome = await runCapturing(() =>
    retry(function* (): Coro<never> {
      calls++;
      yield* sleep(0);
      const error = new Error(`failure ${calls}`);
      if (calls === 1) firstError = new WeakRef(error);
      throw error;
    }, { attempts: 10_000, delay: 1 }),
  );
  assert.equal(calls, 10_000);
  assert.equal((outcome.error as Error).message, "failure 10000");
  const cause = (outcome.error as Error).cause;
  assert.ok(cause instanceof ExceptionGroup);
  assert.equal(cause.exceptions.length, 16);
  assert.deepEqual(cause.exceptions.map((e) => e.message), Array.from({ length: 16 }, (_, i) => `failure ${9984 + i}`));
  assert.equal(cause.message, "9999 earlier attempts failed (the last 16 kept, 9983 earlier errors dropped)");
  await collectGarbage();
  assert.equal(firstError.deref(), undefined, "the first error is still retained");
});

test("with a timeout, the TimeoutError's cause keeps the last 16 errors and counts the dropped ones", async () => {
  const calls: number[] = [];
  const outcome = await runCapturing(() => retry(flaky(Infinity, calls), { attempts: Infinity, delay: 1, timeout: 99.5 }));
  assert.equal(calls.length, 100);
  assert.ok(outcome.error instanceof TimeoutError);
  assert.equal(outcome.error.message, "retry() timed out after 99.5 s and 100 failed attempts");
  const cause = outcome.error.cause as ExceptionGroup;
  assert.equal(cause.exceptions.length, 16);
  assert.equal(cause.exceptions[15]!.message, "failure 100");
  assert.equal(cause.message, "100 attempts failed before the deadline (the last 16 kept, 84 earlier errors dropped)");
});

test("a frozen final error propagates unchanged", async () => {
  const frozen = Object.freeze(new Error("frozen"));
  let calls = 0;
  const outcome = await runCapturing(() =>
    retry(function* (): Coro<never> {
      calls++;
      yield* sleep(0);
      throw calls < 3 ? new Error(`failure ${calls}`) : frozen;
    }),
  );
  assert.equal(outcome.error, frozen);
  assert.equal(frozen.cause, undefined);
});

test("an fn returning a promise is a TypeError naming fromPromise, not retried", async () => {
  let calls = 0;
  const outcome = await runCapturing(() =>
    retry((async () => {
      calls++;
      throw new Error("rejected");
    }) as never, { attempts: 5 }),
  );
  assert.equal(calls, 1);
  assert.ok(outcome.error instanceof TypeError);
  assert.match(outcome.error.message, /returned a promise.*fromPromise/);
  assert.deepEqual(outcome.reports, []);
});

test("an fn returning neither a coroutine nor a promise is a TypeError saying what it returned", async () => {
  const outcome = await runCapturing(() => retry((() => 42) as never));
  assert.ok(outcome.error instanceof TypeError);
  assert.match(outcome.error.message, /retry\(\): fn returned 42, not a coroutine/);
});

test("a single dropped error is counted in the singular", async () => {
  const calls: number[] = [];
  const outcome = await runCapturing(() => retry(flaky(Infinity, calls), { attempts: 18 }));
  const cause = (outcome.error as Error).cause as ExceptionGroup;
  assert.equal(cause.message, "17 earlier attempts failed (the last 16 kept, 1 earlier error dropped)");
});
