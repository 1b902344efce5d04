import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, TimeoutError, createTask, currentTask, getRunningLoop, sleep, waitFor, type Coro } from "../src/index.js";
import { after, runVirtual } from "./support.js";

test("waitFor returns the result when it arrives in time", async () => {
  assert.equal(await runVirtual(() => waitFor(after(1, "ok"), 2)), "ok");
});

test("waitFor throws TimeoutError at the deadline", async () => {
  const outcome = await runVirtual(function* () {
    try {
      yield* waitFor(after(10, "late"), 1);
    } catch (e) {
      return [(e as Error).name, getRunningLoop().time()];
    }
    return null;
  });
  assert.deepEqual(outcome, ["TimeoutError", 1]);
});

test("the TimeoutError's cause is the CancelledError", async () => {
  const error = await runVirtual(function* () {
    try {
      yield* waitFor(after(10, "late"), 1);
    } catch (e) {
      return e as Error;
    }
    return null;
  });
  assert.ok(error instanceof TimeoutError);
  assert.ok(error.cause instanceof CancelledError);
});

test("on timeout a task is cancelled and waited for until it has finished cancelling", async () => {
  const trail = await runVirtual(function* () {
    const seen: string[] = [];
    const inner = createTask(
      (function* (): Coro<void> {
        try {
          yield* sleep(10);
        } finally {
          yield* sleep(2); // slow cleanup
          seen.push(`cleanup done at ${getRunningLoop().time()}`);
        }
      })(),
    );
    try {
      yield* waitFor(inner, 1);
    } catch (e) {
      seen.push(`${(e as Error).name} at ${getRunningLoop().time()}`);
    }
    seen.push(`inner cancelled: ${inner.cancelled()}`);
    return seen;
  });
  assert.deepEqual(trail, ["cleanup done at 3", "TimeoutError at 3", "inner cancelled: true"]);
});

test("a coroutine passed to waitFor runs inline in the calling task", async () => {
  await runVirtual(function* () {
    const caller = currentTask();
    const seen = yield* waitFor(
      (function* (): Coro<unknown> {
        yield* sleep(0);
        return currentTask();
      })(),
      5,
    );
    assert.equal(seen, caller);
  });
});

test("waitFor with null waits without limit", async () => {
  assert.equal(await runVirtual(() => waitFor(after(3600, "eventually"), null)), "eventually");
});

test("waitFor with timeout 0 returns a done future's result", async () => {
  await runVirtual(function* () {
    const f = getRunningLoop().createFuture<number>();
    f.setResult(9);
    assert.equal(yield* waitFor(f, 0), 9);
  });
});

test("waitFor with timeout 0 never starts a coroutine and throws TimeoutError", async () => {
  const outcome = await runVirtual(function* () {
    let started = false;
    try {
      yield* waitFor(
        (function* (): Coro<void> {
          started = true;
        })(),
        0,
      );
    } catch (e) {
      return { name: (e as Error).name, started };
    }
    return null;
  });
  assert.deepEqual(outcome, { name: "TimeoutError", started: false });
});

test("a negative timeout behaves like 0", async () => {
  const name = await runVirtual(function* () {
    try {
      yield* waitFor(createTask(after(1, 1)), -1);
    } catch (e) {
      return (e as Error).name;
    }
    return null;
  });
  assert.equal(name, "TimeoutError");
});

test("work that swallows the cancellation and returns a value makes waitFor return it", async () => {
  assert.equal(await runVirtual(function* () {
    const stubborn = createTask(
      (function* (): Coro<string> {
        try {
          yield* sleep(10);
        } catch {
          return "value despite timeout";
        }
        return "finished";
      })(),
    );
    return yield* waitFor(stubborn, 1);
  }), "value despite timeout");
});

test("an exception raised while being cancelled propagates instead of TimeoutError", async () => {
  const message = await runVirtual(function* () {
    try {
      yield* waitFor(
        (function* (): Coro<void> {
          try {
            yield* sleep(10);
          } catch {
            throw new Error("cleanup failed");
          }
        })(),
        1,
      );
    } catch (e) {
      return (e as Error).message;
    }
    return null;
  });
  assert.equal(message, "cleanup failed");
});

test("a result arriving in the same iteration as the timeout is not lost", async () => {
  assert.equal(await runVirtual(function* () {
    const loop = getRunningLoop();
    const future = loop.createFuture<string>();
    // The result is set by a timer due at the same instant as waitFor's, registered first.
    loop.callLater(1, () => future.setResult("just in time"));
    return yield* waitFor(future, 1);
  }), "just in time");
});

test("cancelling the caller of waitFor cancels the inner work and stays a CancelledError", async () => {
  await runVirtual(function* () {
    const inner = createTask(after(10, "x"));
    const caller = createTask(waitFor(inner, 5));
    yield* sleep(1);
    caller.cancel();
    yield* sleep(0);
    yield* sleep(0);
    yield* sleep(0);
    assert.equal(inner.cancelled(), true);
    assert.equal(caller.cancelled(), true);
  });
});

test("waitFor with a non-number timeout is a TypeError", async () => {
  await runVirtual(function* () {
    try {
      yield* waitFor(after(1, 1), "1" as unknown as number);
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof TypeError);
    }
  });
});

test("finally blocks of the inner coroutine run on timeout", async () => {
  assert.equal(await runVirtual(function* () {
    let cleaned = false;
    try {
      yield* waitFor(
        (function* (): Coro<void> {
          try {
            yield* sleep(10);
          } finally {
            cleaned = true;
          }
        })(),
        1,
      );
    } catch {
      // TimeoutError
    }
    return cleaned;
  }), true);
});

test("waitFor with a zero timeout raises the error a task fails with while being cancelled", async () => {
  await runVirtual(function* () {
    const task = createTask(
      (function* (): Coro<void> {
        try {
          yield* sleep(10);
        } catch {
          throw new Error("cleanup failed");
        }
      })(),
    );
    yield* sleep(0);
    try {
      yield* waitFor(task, 0);
      assert.fail("no error");
    } catch (error) {
      assert.ok(!(error instanceof TimeoutError));
      assert.equal((error as Error).message, "cleanup failed");
    }
  });
});
