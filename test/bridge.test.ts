import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, RuntimeError, TimeoutError, createTask, currentTask, fromPromise, getRunningLoop, run, sleep, timeout, type Coro } from "../src/index.js";
import { runVirtual, hostTurn } from "./support.js";

test("fromPromise resolves with the promise's value", async () => {
  assert.equal(await runVirtual(function* () {
    return yield* fromPromise(Promise.resolve(7));
  }), 7);
});

test("a rejected promise becomes the future's exception, the same object", async () => {
  const error = new Error("rejected");
  const seen = await runVirtual(function* () {
    try {
      yield* fromPromise(Promise.reject(error));
    } catch (e) {
      return e;
    }
    return null;
  });
  assert.equal(seen, error);
});

test("a rejection with a non-error value keeps that value", async () => {
  const seen = await runVirtual(function* () {
    try {
      yield* fromPromise(Promise.reject("plain string"));
    } catch (e) {
      return e;
    }
    return null;
  });
  assert.equal(seen, "plain string");
});

test("the factory form gets a signal that aborts when the future is cancelled", async () => {
  await runVirtual(function* () {
    let signal: AbortSignal | null = null;
    const future = fromPromise((s) => {
      signal = s;
      return new Promise<never>(() => undefined);
    });
    assert.equal(signal!.aborted, false);
    future.cancel("enough");
    assert.equal(signal!.aborted, true);
    assert.ok(signal!.reason instanceof CancelledError);
  });
});

test("cancelling a task awaiting fromPromise aborts the signal and cancels the task", async () => {
  await runVirtual(function* () {
    let signal: AbortSignal | null = null;
    const task = createTask(
      (function* (): Coro<void> {
        yield* fromPromise((s) => {
          signal = s;
          return new Promise<void>(() => undefined);
        });
      })(),
    );
    yield* sleep(0);
    task.cancel();
    yield* sleep(0);
    assert.equal(signal!.aborted, true);
    assert.equal(task.cancelled(), true);
  });
});

test("a factory that throws gives a failed future", async () => {
  const seen = await runVirtual(function* () {
    try {
      yield* fromPromise(() => {
        throw new Error("factory broke");
      });
    } catch (e) {
      return (e as Error).message;
    }
    return null;
  });
  assert.equal(seen, "factory broke");
});

test("fromPromise of a non-promise is a TypeError", async () => {
  await runVirtual(function* () {
    assert.throws(() => fromPromise(42 as unknown as Promise<number>), TypeError);
  });
});

test("native async code can await a task", async () => {
  const result = await run(function* () {
    const task = createTask(sleep(0.01, "from task"));
    const viaAwait = (async () => `native saw: ${await task}`)();
    return yield* fromPromise(viaAwait);
  });
  assert.equal(result, "native saw: from task");
});

test("a promise settling after the loop closed is ignored without error", async () => {
  let resolveLater: (v: number) => void = () => undefined;
  await run(function* () {
    void fromPromise(new Promise<number>((resolve) => (resolveLater = resolve)));
    yield* sleep(0);
  });
  resolveLater(1);
  await hostTurn();
});

test("virtual time does not jump while a bridged promise is outstanding", async () => {
  const times = await runVirtual(function* () {
    const loop = getRunningLoop();
    const timer = createTask(sleep(5));
    const value = yield* fromPromise(hostTurn().then(hostTurn).then(() => "io"));
    const at = loop.time();
    yield* timer;
    return [value, at, loop.time()];
  });
  assert.deepEqual(times, ["io", 0, 5]);
});

test("a promise rejecting with a CancelledError cancels the bridged future: the awaiting code catches that CancelledError", async () => {
  await runVirtual(function* () {
    const reason = new CancelledError("aborted upstream");
    const future = fromPromise(Promise.reject(reason));
    let caught: unknown = null;
    try {
      yield* future;
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof CancelledError);
    assert.equal(caught, reason);
    assert.equal(future.cancelled(), true);
  });
});

test("a promise rejecting with another task's aborted signal reason reaches the awaiting task as a CancelledError", async () => {
  await runVirtual(function* () {
    const owner = createTask(sleep(100));
    const signal = owner.signal;
    const waiter = createTask(
      (function* (): Coro<string> {
        try {
          yield* fromPromise(new Promise<void>((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason))));
        } catch (error) {
          return error instanceof CancelledError ? "CancelledError" : "other";
        }
        return "resolved";
      })(),
    );
    yield* sleep(0);
    owner.cancel();
    assert.equal(yield* waiter, "CancelledError");
  });
});

// A fetch-like operation: answers after `ms` real milliseconds, or rejects with the signal's reason once it is aborted.
function fetchLike(signal: AbortSignal, ms: number): Promise<string> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => resolve("body"), ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

test("a task signal reused after a caught timeout fails the retry with a RuntimeError naming the fix, not a cancellation", async () => {
  const seen = await run(function* () {
    const signal = currentTask()!.signal; // read once, before the timeout
    try {
      yield* timeout(0.01, () => fromPromise(fetchLike(signal, 10_000)));
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
    }
    try {
      yield* fromPromise(fetchLike(signal, 1)); // the retry, with the same (aborted) signal
    } catch (error) {
      return error;
    }
    return null;
  });
  assert.ok(seen instanceof RuntimeError, `expected a RuntimeError, got ${String(seen)}`);
  assert.match(seen.message, /task\.signal from an earlier cancellation/);
  assert.match(seen.message, /inside the block you retry/);
  assert.match(seen.message, /fromPromise\(\(signal\) => fetch\(url, \{ signal \}\)\)/);
  assert.ok(seen.cause instanceof CancelledError);
});

test("after a caught timeout the factory form and a fresh task.signal both succeed on retry", async () => {
  const results = await run(function* () {
    try {
      yield* timeout(0.01, () => fromPromise((signal) => fetchLike(signal, 10_000)));
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
    }
    return [yield* fromPromise((signal) => fetchLike(signal, 1)), yield* fromPromise(fetchLike(currentTask()!.signal, 1))];
  });
  assert.deepEqual(results, ["body", "body"]);
});

test("a task signal aborted by a cancellation still in progress cancels the bridged future", async () => {
  const seen = await run(function* () {
    const task = currentTask()!;
    const signal = task.signal;
    task.cancel("stop");
    try {
      yield* fromPromise(fetchLike(signal, 10_000));
    } catch (error) {
      task.uncancel();
      return error;
    }
    return null;
  });
  assert.ok(seen instanceof CancelledError);
});

test("fromPromise of a factory that returns no promise is a future failed with a TypeError", async () => {
  const message = await runVirtual(function* () {
    const future = fromPromise((() => 5) as unknown as () => Promise<number>);
    try {
      yield* future;
    } catch (error) {
      assert.ok(error instanceof TypeError);
      return error.message;
    }
    return null;
  });
  assert.equal(message, "fromPromise(): the factory returned number, not a promise");
});

test("fromPromise of a factory that returns null names null", async () => {
  const message = await runVirtual(function* () {
    try {
      yield* fromPromise((() => null) as unknown as () => Promise<number>);
    } catch (error) {
      return (error as Error).message;
    }
    return null;
  });
  assert.equal(message, "fromPromise(): the factory returned null, not a promise");
});

test("a promise rejected with undefined fails the future with an Error saying so", async () => {
  const message = await runVirtual(function* () {
    try {
      yield* fromPromise(Promise.reject(undefined));
    } catch (error) {
      assert.ok(error instanceof Error);
      return error.message;
    }
    return null;
  });
  assert.equal(message, "promise rejected with undefined");
});
