import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, RuntimeError, Timeout, TimeoutError, createTask, currentTask, getRunningLoop, sleep, timeout, timeoutAt } from "../src/index.js";
import { runVirtual } from "./support.js";

test("a block that finishes in time returns its value", async () => {
  assert.equal(await runVirtual(() => timeout(5, () => sleep(1, "in time"))), "in time");
});

test("a block that overruns is cancelled and raises TimeoutError at the deadline", async () => {
  const outcome = await runVirtual(function* () {
    try {
      yield* timeout(2, () => sleep(10));
    } catch (e) {
      return [e instanceof TimeoutError, getRunningLoop().time()];
    }
    return null;
  });
  assert.deepEqual(outcome, [true, 2]);
});

test("expired() is true after the deadline and when() reports it", async () => {
  await runVirtual(function* () {
    let seen: { when: number | null; expired: boolean } | null = null;
    try {
      yield* timeout(1, function* (cm) {
        try {
          yield* sleep(5);
        } finally {
          seen = { when: cm.when(), expired: cm.expired() };
        }
      });
    } catch {
      // TimeoutError
    }
    assert.deepEqual(seen, { when: 1, expired: true });
  });
});

test("null means no deadline", async () => {
  assert.equal(await runVirtual(() => timeout(null, () => sleep(3600, "no limit"))), "no limit");
});

test("reschedule moves the deadline later", async () => {
  assert.equal(await runVirtual(() =>
    timeout(1, function* (cm) {
      cm.reschedule(getRunningLoop().time() + 10);
      return yield* sleep(5, "extended");
    }),
  ), "extended");
});

test("reschedule(null) removes the deadline", async () => {
  assert.equal(await runVirtual(() =>
    timeout(1, function* (cm) {
      cm.reschedule(null);
      return yield* sleep(5, "unlimited");
    }),
  ), "unlimited");
});

test("a deadline already past fires at the first suspension, not before", async () => {
  const trail = await runVirtual(function* () {
    const seen: string[] = [];
    try {
      yield* timeoutAt(getRunningLoop().time() - 1, function* () {
        seen.push("body started");
        yield* sleep(0);
        seen.push("not reached");
      });
    } catch (e) {
      seen.push((e as Error).name);
    }
    return seen;
  });
  assert.deepEqual(trail, ["body started", "TimeoutError"]);
});

test("a block that never suspends is not affected by a past deadline", async () => {
  assert.equal(await runVirtual(() => timeoutAt(-5, function* () {
    return "no suspension";
  })), "no suspension");
});

test("nested timeouts attribute the TimeoutError to the block whose deadline passed", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    try {
      yield* timeout(2, function* () {
        try {
          yield* timeout(10, () => sleep(5));
        } catch (e) {
          trail.push(`inner saw ${(e as Error).name}`);
          throw e;
        }
      });
    } catch (e) {
      trail.push(`outer raised ${(e as Error).name}`);
    }
    return trail;
  });
  assert.deepEqual(outcome, ["inner saw CancelledError", "outer raised TimeoutError"]);
});

test("an inner timeout that expires is caught by the inner block only", async () => {
  const outcome = await runVirtual(function* () {
    return yield* timeout(10, function* () {
      try {
        yield* timeout(1, () => sleep(5));
      } catch (e) {
        return `inner ${(e as Error).name} at ${getRunningLoop().time()}`;
      }
      return "no timeout";
    });
  });
  assert.equal(outcome, "inner TimeoutError at 1");
});

test("a cancellation from outside stays a CancelledError", async () => {
  await runVirtual(function* () {
    const task = createTask(timeout(10, () => sleep(5)));
    yield* sleep(1);
    task.cancel();
    yield* sleep(0);
    assert.equal(task.cancelled(), true);
  });
});

test("an outside cancellation at the same time as the deadline stays a CancelledError", async () => {
  await runVirtual(function* () {
    const task = createTask(timeout(1, () => sleep(5)));
    getRunningLoop().callLater(1, () => task.cancel());
    yield* sleep(2);
    assert.equal(task.cancelled(), true);
  });
});

test("the task's cancelling() count is back to zero after an expired timeout", async () => {
  assert.equal(await runVirtual(function* () {
    try {
      yield* timeout(1, () => sleep(5));
    } catch {
      // TimeoutError
    }
    return currentTask()!.cancelling();
  }), 0);
});

test("another exception from an expiring block propagates as it is", async () => {
  const message = await runVirtual(function* () {
    try {
      yield* timeout(1, function* () {
        try {
          yield* sleep(5);
        } catch {
          throw new Error("own failure");
        }
      });
    } catch (e) {
      return (e as Error).message;
    }
    return null;
  });
  assert.equal(message, "own failure");
});

test("a block that swallows the timeout's cancellation returns normally", async () => {
  assert.equal(await runVirtual(() =>
    timeout(1, function* () {
      try {
        yield* sleep(5);
      } catch (e) {
        assert.ok(e instanceof CancelledError);
      }
      return "swallowed";
    }),
  ), "swallowed");
});

test("reschedule outside the block is a RuntimeError", async () => {
  await runVirtual(function* () {
    let saved: { reschedule(w: number | null): void } | null = null;
    yield* timeout(5, function* (cm) {
      saved = cm;
    });
    assert.throws(() => saved!.reschedule(3), RuntimeError);
  });
});

test("a Timeout describes itself", async () => {
  await runVirtual(() =>
    timeout(5, function* (cm) {
      assert.match(inspect(cm), /<Timeout \[active\] when=5\.000>/);
    }),
  );
});

test("finally blocks inside a timed-out block run", async () => {
  assert.equal(await runVirtual(function* () {
    let cleaned = false;
    try {
      yield* timeout(1, function* () {
        try {
          yield* sleep(5);
        } finally {
          cleaned = true;
        }
      });
    } catch {
      // TimeoutError
    }
    return cleaned;
  }), true);
});

test("reschedule before the block is entered is a RuntimeError saying so", () => {
  assert.throws(() => new Timeout(5).reschedule(3), (e: unknown) => e instanceof RuntimeError && e.message === "Timeout has not been entered");
});

test("a Timeout entered a second time is a RuntimeError", async () => {
  await runVirtual(function* () {
    const cm = new Timeout(null);
    yield* cm.run(function* () {});
    try {
      yield* cm.run(function* () {});
      assert.fail("no RuntimeError");
    } catch (error) {
      assert.ok(error instanceof RuntimeError);
      assert.equal(error.message, "Timeout has already been entered");
    }
  });
});

test("a Timeout entered outside a task, in a plain callback, is a RuntimeError", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const outcome = loop.createFuture<unknown>();
    loop.callSoon(() => {
      try {
        new Timeout(5).run(function* () {}).next();
        outcome.setResult("entered");
      } catch (error) {
        outcome.setResult(error);
      }
    });
    const error = yield* outcome;
    assert.ok(error instanceof RuntimeError);
    assert.equal(error.message, "Timeout should be used inside a task");
  });
});

test("a Timeout shows no deadline before it is entered, and null inside a block without one", async () => {
  await runVirtual(function* () {
    const cm = new Timeout(null);
    assert.equal(inspect(cm), "<Timeout [created]>");
    yield* cm.run(function* () {
      assert.equal(inspect(cm), "<Timeout [active] when=null>");
    });
    assert.equal(inspect(cm), "<Timeout [finished]>");
  });
});
