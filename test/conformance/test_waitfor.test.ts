/**
 * Conformance with CPython 3.13's Lib/test/test_asyncio/test_waitfor.py.
 * `time.monotonic()` is the loop's (virtual) time here.
 */
import assert from "node:assert/strict";
import { CancelledError, TimeoutError, createTask, getRunningLoop, shield, sleep, wait, waitFor, type Coro } from "../../src/index.js";
import { cases, raises } from "./helpers.js";

const EPSILON = 0.0001;

/** A task body that runs for TASK_TIMEOUT seconds, ignoring cancel requests. */
class SlowTask {
  static readonly TASK_TIMEOUT = 0.2;
  exited = false;

  *run(): Coro<void> {
    const loop = getRunningLoop();
    const exitAt = loop.time() + SlowTask.TASK_TIMEOUT;
    for (;;) {
      const toSleep = exitAt - loop.time();
      if (toSleep <= 0) break;
      try {
        yield* sleep(toSleep);
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
      }
    }
    this.exited = true;
  }
}

{
  const waitForCase = cases("test_waitfor", "AsyncioWaitForTest");

  waitForCase("test_asyncio_wait_for_cancelled", function* () {
    const t = new SlowTask();
    const waitForTask = createTask(waitFor(t.run(), SlowTask.TASK_TIMEOUT * 2));
    yield* sleep(0);
    waitForTask.cancel();
    yield* wait([waitForTask]);
    assert.ok(t.exited);
  });

  waitForCase("test_asyncio_wait_for_timeout", function* () {
    const t = new SlowTask();
    try {
      yield* waitFor(t.run(), SlowTask.TASK_TIMEOUT / 2);
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
    }
    assert.ok(t.exited);
  });

  waitForCase("test_wait_for_timeout_less_then_0_or_0_future_done", function* () {
    const fut = getRunningLoop().createFuture<string>();
    fut.setResult("done");
    assert.equal(yield* waitFor(fut, 0), "done");
    assert.ok(fut.done());
  });

  waitForCase("test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started", function* () {
    let fooStarted = false;
    function* foo(): Coro<void> {
      fooStarted = true;
    }
    yield* raises(TimeoutError, waitFor(foo(), 0));
    assert.equal(fooStarted, false);
  });

  waitForCase("test_wait_for_timeout_less_then_0_or_0", function* () {
    const loop = getRunningLoop();
    for (const timeoutValue of [0, -1]) {
      let fooRunning: boolean | null = null;
      const started = loop.createFuture<null>();
      const fut = createTask(
        (function* (): Coro<string> {
          fooRunning = true;
          started.setResult(null);
          try {
            yield* sleep(10);
          } finally {
            fooRunning = false;
          }
          return "done";
        })(),
      );
      yield* started;
      yield* raises(TimeoutError, waitFor(fut, timeoutValue));
      assert.ok(fut.done());
      assert.ok(fut.cancelled());
      assert.equal(fooRunning, false);
    }
  });

  waitForCase("test_wait_for", function* () {
    let fooRunning: boolean | null = null;
    const fut = createTask(
      (function* (): Coro<string> {
        fooRunning = true;
        try {
          yield* sleep(300);
        } finally {
          fooRunning = false;
        }
        return "done";
      })(),
    );
    yield* raises(TimeoutError, waitFor(fut, 0.1));
    assert.ok(fut.done());
    assert.ok(fut.cancelled());
    assert.equal(fooRunning, false);
  });

  waitForCase("test_wait_for_blocking", function* () {
    function* coro(): Coro<string> {
      return "done";
    }
    assert.equal(yield* waitFor(coro(), null), "done");
  });

  waitForCase("test_wait_for_race_condition", function* () {
    const loop = getRunningLoop();
    const fut = loop.createFuture<string>();
    const task = waitFor(fut, 0.2);
    loop.callSoon(() => fut.setResult("ok"));
    assert.equal(yield* task, "ok");
  });

  waitForCase("test_wait_for_cancellation_race_condition", function* () {
    function* inner(): Coro<number> {
      yield* raises(CancelledError, sleep(1));
      return 1;
    }
    assert.equal(yield* waitFor(inner(), 0.01), 1);
  });

  waitForCase("test_wait_for_waits_for_task_cancellation", function* () {
    let taskDone = false;
    const innerTask = createTask(
      (function* (): Coro<void> {
        try {
          yield* sleep(10);
        } catch (error) {
          if (error instanceof CancelledError) yield* sleep(EPSILON);
          throw error;
        } finally {
          taskDone = true;
        }
      })(),
    );
    const error = yield* raises(TimeoutError, waitFor(innerTask, EPSILON));
    assert.ok(taskDone);
    // Python chains the CancelledError as __context__; here it is the cause.
    assert.ok(error.cause instanceof CancelledError);
  });

  waitForCase("test_wait_for_waits_for_task_cancellation_w_timeout_0", function* () {
    let taskDone = false;
    function* foo(): Coro<void> {
      const innerTask = createTask(
        (function* (): Coro<void> {
          try {
            yield* sleep(10);
          } catch (error) {
            if (error instanceof CancelledError) yield* sleep(EPSILON);
            throw error;
          } finally {
            taskDone = true;
          }
        })(),
      );
      yield* sleep(EPSILON);
      yield* waitFor(innerTask, 0);
    }
    const error = yield* raises(TimeoutError, foo());
    assert.ok(taskDone);
    assert.ok(error.cause instanceof CancelledError);
  });

  waitForCase("test_wait_for_reraises_exception_during_cancellation", function* () {
    class FooException extends Error {}
    function* foo(): Coro<void> {
      const innerTask = createTask(
        (function* (): Coro<void> {
          try {
            yield* sleep(0.2);
          } finally {
            // eslint-disable-next-line no-unsafe-finally -- the case is an error raised during cancellation
            throw new FooException();
          }
        })(),
      );
      yield* waitFor(innerTask, EPSILON);
    }
    yield* raises(FooException, foo());
  });

  function* cancelWaitFor(timeoutValue: number | null): Coro<void> {
    const loop = getRunningLoop();
    const task = createTask(
      (function* (): Coro<void> {
        yield* loop.createFuture<void>();
      })(),
    );
    const waiting = createTask(waitFor(task, timeoutValue));
    loop.callSoon(() => waiting.cancel());
    yield* raises(CancelledError, waiting);
    assert.ok(task.cancelled());
  }

  waitForCase("test_cancel_blocking_wait_for", () => cancelWaitFor(null));
  waitForCase("test_cancel_wait_for", () => cancelWaitFor(60.0));

  waitForCase("test_wait_for_cancel_suppressed", function* () {
    function* return42(): Coro<number> {
      try {
        yield* sleep(10);
      } catch (error) {
        if (error instanceof CancelledError) return 42;
        throw error;
      }
      return 0;
    }
    assert.equal(yield* waitFor(return42(), 0.1), 42);
  });

  waitForCase("test_wait_for_issue86296", function* () {
    const innerTask = createTask(
      (function* (): Coro<string> {
        return "done";
      })(),
    );
    let reachedEnd = false;
    const task = createTask(
      (function* (): Coro<void> {
        yield* waitFor(innerTask, 100);
        yield* sleep(1);
        reachedEnd = true;
      })(),
    );
    assert.equal(task.done(), false);
    yield* sleep(0);
    task.cancel();
    yield* raises(CancelledError, task);
    assert.ok(innerTask.done());
    assert.equal(yield* innerTask, "done");
    assert.equal(reachedEnd, false);
  });
}

{
  const shieldCase = cases("test_waitfor", "WaitForShieldTests");

  function* coro(delay: number): Coro<string> {
    yield* sleep(delay);
    return "done";
  }

  shieldCase("test_zero_timeout", function* () {
    const task = createTask(coro(0.01));
    const shielded = shield(task);
    yield* raises(TimeoutError, waitFor(shielded, 0));
    assert.equal(task.done(), false);
    assert.equal(task.cancelled(), false);
    assert.ok(shielded.cancelled());
    yield* sleep(0.1);
    assert.ok(task.done());
  });

  shieldCase("test_none_timeout", function* () {
    const task = createTask(coro(0.1));
    yield* waitFor(shield(task), null);
    assert.ok(task.done());
    assert.equal(yield* task, "done");
  });

  shieldCase("test_shielded_timeout", function* () {
    const task = createTask(coro(0.1));
    yield* raises(TimeoutError, waitFor(shield(task), 0.01));
    assert.equal(task.done(), false);
    assert.equal(task.cancelled(), false);
    assert.equal(yield* task, "done");
  });
}
