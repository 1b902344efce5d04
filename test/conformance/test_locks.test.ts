/**
 * Conformance with CPython 3.13's Lib/test/test_asyncio/test_locks.py:
 * Lock, Event, Condition, Semaphore, BoundedSemaphore and Barrier, case by case.
 * Python's `async with x:` is `x.hold(...)`; `x._waiters` is `statistics().waiters`.
 */
import assert from "node:assert/strict";
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  Event,
  Lock,
  RuntimeError,
  Semaphore,
  TimeoutError,
  createTask,
  gather,
  getRunningLoop,
  sleep,
  taskGroup,
  timeout,
  wait,
  waitFor,
  type Coro,
  type Future,
  type Task,
} from "../../src/index.js";
import { cases, raises, repr, syncCases } from "./helpers.js";

const NOT_AWAITABLE = "Python's `await lock` TypeError: a primitive is not a Future here, and `yield* lock` is a compile-time type error";
const NO_LOOP_KWARG = "the removed `loop=` keyword argument has no TypeScript counterpart";

// --- LockTests ---------------------------------------------------------------

{
  const lockCase = cases("test_locks", "LockTests");

  lockCase("test_repr", function* () {
    const lock = new Lock();
    assert.ok(repr(lock).endsWith("[unlocked]>"));
    yield* lock.acquire();
    assert.ok(repr(lock).endsWith("[locked]>"));
  });

  lockCase("test_lock", function* () {}, { skip: NOT_AWAITABLE });
  lockCase("test_lock_doesnt_accept_loop_parameter", function* () {}, { skip: NO_LOOP_KWARG });
  lockCase("test_lock_by_with_statement", function* () {}, { skip: NOT_AWAITABLE });

  lockCase("test_acquire", function* () {
    const lock = new Lock();
    const result: number[] = [];
    assert.equal(yield* lock.acquire(), true);
    function* c(n: number): Coro<boolean> {
      if (yield* lock.acquire()) result.push(n);
      return true;
    }
    const t1 = createTask(c(1));
    const t2 = createTask(c(2));
    yield* sleep(0);
    assert.deepEqual(result, []);
    lock.release();
    yield* sleep(0);
    assert.deepEqual(result, [1]);
    yield* sleep(0);
    assert.deepEqual(result, [1]);
    const t3 = createTask(c(3));
    lock.release();
    yield* sleep(0);
    assert.deepEqual(result, [1, 2]);
    lock.release();
    yield* sleep(0);
    assert.deepEqual(result, [1, 2, 3]);
    for (const t of [t1, t2, t3]) {
      assert.ok(t.done());
      assert.equal(t.result(), true);
    }
  });

  lockCase("test_acquire_cancel", function* () {
    const lock = new Lock();
    assert.equal(yield* lock.acquire(), true);
    const task = createTask(lock.acquire());
    getRunningLoop().callSoon(() => task.cancel());
    yield* raises(CancelledError, task);
    assert.equal(lock.statistics().waiters, 0);
  });

  lockCase("test_cancel_race", function* () {
    const lock = new Lock();
    function* lockit(blocker: Future<null> | null): Coro<void> {
      yield* lock.acquire();
      try {
        if (blocker !== null) yield* blocker;
      } finally {
        lock.release();
      }
    }
    const fa = getRunningLoop().createFuture<null>();
    const ta = createTask(lockit(fa));
    yield* sleep(0);
    assert.ok(lock.locked());
    const tb = createTask(lockit(null));
    yield* sleep(0);
    assert.equal(lock.statistics().waiters, 1);
    const tc = createTask(lockit(null));
    yield* sleep(0);
    assert.equal(lock.statistics().waiters, 2);
    fa.setResult(null);
    tb.cancel();
    yield* sleep(0);
    assert.equal(lock.locked(), false);
    assert.ok(ta.done());
    assert.ok(tb.cancelled());
    yield* tc;
  });

  lockCase("test_cancel_release_race", function* () {
    const loop = getRunningLoop();
    const lock = new Lock();
    let lockCount = 0;
    let callCount = 0;
    function* lockit(): Coro<void> {
      callCount++;
      yield* lock.acquire();
      lockCount++;
    }
    yield* lock.acquire();
    const t1 = createTask(lockit());
    const t2 = createTask(lockit());
    const t3 = createTask(lockit());
    yield* sleep(0);
    loop.callSoon(() => {
      t1.cancel();
      lock.release();
    });
    yield* raises(CancelledError, t1);
    assert.equal(lockCount, 1);
    assert.equal(callCount, 3);
    assert.ok(t1.cancelled() && t2.done());
    t3.cancel();
    yield* sleep(0);
    assert.ok(t3.cancelled());
  });

  lockCase("test_finished_waiter_cancelled", function* () {
    const lock = new Lock();
    yield* lock.acquire();
    assert.ok(lock.locked());
    const tb = createTask(lock.acquire());
    yield* sleep(0);
    assert.equal(lock.statistics().waiters, 1);
    const tc = createTask(lock.acquire());
    tb.cancel();
    lock.release();
    yield* sleep(0);
    assert.ok(lock.locked());
    assert.ok(tb.cancelled());
    yield* tc;
  });

  lockCase("test_release_not_acquired", function* () {
    assert.throws(() => new Lock().release(), RuntimeError);
  });

  lockCase("test_release_no_waiters", function* () {
    const lock = new Lock();
    yield* lock.acquire();
    assert.ok(lock.locked());
    lock.release();
    assert.equal(lock.locked(), false);
  });

  lockCase("test_context_manager", function* () {
    const lock = new Lock();
    assert.equal(lock.locked(), false);
    yield* lock.hold(function* () {
      assert.ok(lock.locked());
    });
    assert.equal(lock.locked(), false);
  });
}

// --- EventTests --------------------------------------------------------------

{
  const eventCase = cases("test_locks", "EventTests");

  eventCase("test_repr", function* () {
    const ev = new Event();
    assert.ok(repr(ev).endsWith("[unset]>"));
    ev.set();
    assert.ok(repr(ev).endsWith("[set]>"));
    ev.clear();
    const waiter = createTask(ev.wait());
    yield* sleep(0);
    assert.ok(repr(ev).includes("waiters:1"));
    ev.set();
    yield* waiter;
  });

  eventCase("test_wait", function* () {
    const ev = new Event();
    assert.equal(ev.isSet(), false);
    const result: number[] = [];
    function* c(n: number): Coro<void> {
      if (yield* ev.wait()) result.push(n);
    }
    const t1 = createTask(c(1));
    const t2 = createTask(c(2));
    yield* sleep(0);
    assert.deepEqual(result, []);
    const t3 = createTask(c(3));
    ev.set();
    yield* sleep(0);
    assert.deepEqual(result, [3, 1, 2]);
    for (const t of [t1, t2, t3]) {
      assert.ok(t.done());
      assert.equal(t.result(), undefined);
    }
  });

  eventCase("test_wait_on_set", function* () {
    const ev = new Event();
    ev.set();
    assert.equal(yield* ev.wait(), true);
  });

  eventCase("test_wait_cancel", function* () {
    const ev = new Event();
    const waiting = createTask(ev.wait());
    getRunningLoop().callSoon(() => waiting.cancel());
    yield* raises(CancelledError, waiting);
    assert.equal(ev.statistics().waiters, 0);
  });

  eventCase("test_clear", function* () {
    const ev = new Event();
    assert.equal(ev.isSet(), false);
    ev.set();
    assert.ok(ev.isSet());
    ev.clear();
    assert.equal(ev.isSet(), false);
  });

  eventCase("test_clear_with_waiters", function* () {
    const ev = new Event();
    const result: number[] = [];
    const t = createTask(
      (function* (): Coro<boolean> {
        if (yield* ev.wait()) result.push(1);
        return true;
      })(),
    );
    yield* sleep(0);
    assert.deepEqual(result, []);
    ev.set();
    ev.clear();
    assert.equal(ev.isSet(), false);
    ev.set();
    ev.set();
    assert.equal(ev.statistics().waiters, 1);
    yield* sleep(0);
    assert.deepEqual(result, [1]);
    assert.equal(ev.statistics().waiters, 0);
    assert.ok(t.done());
    assert.equal(t.result(), true);
  });
}

// --- ConditionTests ----------------------------------------------------------

{
  const condCase = cases("test_locks", "ConditionTests");
  const condSync = syncCases("test_locks", "ConditionTests");

  condCase("test_wait", function* () {
    const cond = new Condition();
    const result: number[] = [];
    function* c(n: number): Coro<boolean> {
      yield* cond.acquire();
      if (yield* cond.wait()) result.push(n);
      return true;
    }
    const tasks = [createTask(c(1)), createTask(c(2)), createTask(c(3))];
    yield* sleep(0);
    assert.deepEqual(result, []);
    assert.equal(cond.locked(), false);
    assert.equal(yield* cond.acquire(), true);
    cond.notify();
    yield* sleep(0);
    assert.deepEqual(result, []);
    assert.ok(cond.locked());
    cond.release();
    yield* sleep(0);
    assert.deepEqual(result, [1]);
    assert.ok(cond.locked());
    cond.notify(2);
    yield* sleep(0);
    assert.deepEqual(result, [1]);
    assert.ok(cond.locked());
    cond.release();
    yield* sleep(0);
    assert.deepEqual(result, [1, 2]);
    assert.ok(cond.locked());
    cond.release();
    yield* sleep(0);
    assert.deepEqual(result, [1, 2, 3]);
    assert.ok(cond.locked());
    for (const t of tasks) assert.equal(t.result(), true);
  });

  condCase("test_wait_cancel", function* () {
    const cond = new Condition();
    yield* cond.acquire();
    const waiting = createTask(cond.wait());
    getRunningLoop().callSoon(() => waiting.cancel());
    yield* raises(CancelledError, waiting);
    assert.equal(cond.statistics().waiters, 0);
    assert.ok(cond.locked());
  });

  condCase("test_wait_cancel_contested", function* () {
    const cond = new Condition();
    yield* cond.acquire();
    assert.ok(cond.locked());
    const waitTask = createTask(cond.wait());
    yield* sleep(0);
    assert.equal(cond.locked(), false);
    yield* cond.acquire();
    assert.ok(cond.locked());
    cond.notify();
    getRunningLoop().callSoon(() => waitTask.cancel());
    getRunningLoop().callSoon(() => cond.release());
    try {
      yield* waitTask;
    } catch (error) {
      if (!(error instanceof CancelledError)) throw error;
    }
    assert.ok(cond.locked());
  });

  condCase("test_wait_cancel_after_notify", function* () {
    let waited = false;
    const cond = new Condition();
    const waiter = createTask(
      cond.hold(function* () {
        waited = true;
        yield* cond.wait();
      }),
    );
    yield* sleep(0);
    yield* cond.acquire();
    cond.notify();
    yield* sleep(0);
    waiter.cancel();
    yield* sleep(0);
    cond.release();
    yield* sleep(0);
    assert.ok(waiter.cancelled());
    assert.ok(waited);
  });

  condCase("test_wait_unacquired", function* () {
    yield* raises(RuntimeError, new Condition().wait());
  });

  condCase("test_wait_for", function* () {
    const cond = new Condition();
    let presult = false;
    const result: number[] = [];
    const t = createTask(
      (function* (): Coro<boolean> {
        yield* cond.acquire();
        if (yield* cond.waitFor(() => presult)) {
          result.push(1);
          cond.release();
        }
        return true;
      })(),
    );
    yield* sleep(0);
    assert.deepEqual(result, []);
    yield* cond.acquire();
    cond.notify();
    cond.release();
    yield* sleep(0);
    assert.deepEqual(result, []);
    presult = true;
    yield* cond.acquire();
    cond.notify();
    cond.release();
    yield* sleep(0);
    assert.deepEqual(result, [1]);
    assert.ok(t.done());
    assert.equal(t.result(), true);
  });

  condCase("test_wait_for_unacquired", function* () {
    const cond = new Condition();
    assert.deepEqual(yield* cond.waitFor(() => [1, 2, 3]), [1, 2, 3]);
    yield* raises(RuntimeError, cond.waitFor(() => false));
  });

  condCase("test_notify", function* () {
    const cond = new Condition();
    const result: number[] = [];
    function* c(n: number): Coro<boolean> {
      yield* cond.acquire();
      if (yield* cond.wait()) {
        result.push(n);
        cond.release();
      }
      return true;
    }
    const tasks = [createTask(c(1)), createTask(c(2)), createTask(c(3))];
    yield* sleep(0);
    assert.deepEqual(result, []);
    yield* cond.acquire();
    cond.notify(1);
    cond.release();
    yield* sleep(0);
    assert.deepEqual(result, [1]);
    yield* cond.acquire();
    cond.notify(1);
    cond.notify(2048);
    cond.release();
    yield* sleep(0);
    assert.deepEqual(result, [1, 2, 3]);
    for (const t of tasks) assert.equal(t.result(), true);
  });

  condCase("test_notify_all", function* () {
    const cond = new Condition();
    const result: number[] = [];
    function* c(n: number): Coro<boolean> {
      yield* cond.acquire();
      if (yield* cond.wait()) {
        result.push(n);
        cond.release();
      }
      return true;
    }
    const tasks = [createTask(c(1)), createTask(c(2))];
    yield* sleep(0);
    assert.deepEqual(result, []);
    yield* cond.acquire();
    cond.notifyAll();
    cond.release();
    yield* sleep(0);
    assert.deepEqual(result, [1, 2]);
    for (const t of tasks) assert.equal(t.result(), true);
  });

  condSync("test_notify_unacquired", () => {
    assert.throws(() => new Condition().notify(), RuntimeError);
  });

  condSync("test_notify_all_unacquired", () => {
    assert.throws(() => new Condition().notifyAll(), RuntimeError);
  });

  condCase("test_repr", function* () {
    const cond = new Condition();
    assert.ok(repr(cond).includes("unlocked"));
    // Python appends mocks to `_waiters`; here two tasks really wait.
    const waiters = [createTask(cond.hold(() => cond.wait())), createTask(cond.hold(() => cond.wait()))];
    yield* sleep(0);
    yield* cond.acquire();
    assert.ok(repr(cond).includes("locked"));
    assert.ok(repr(cond).includes("waiters:2"), repr(cond));
    cond.notifyAll();
    cond.release();
    yield* gather(...waiters);
  });

  condCase("test_context_manager", function* () {
    const cond = new Condition();
    assert.equal(cond.locked(), false);
    yield* cond.hold(function* () {
      assert.ok(cond.locked());
    });
    assert.equal(cond.locked(), false);
  });

  condCase("test_explicit_lock", function* () {
    function* f(lock?: Lock, cond?: Condition): Coro<void> {
      const theLock = lock ?? new Lock();
      const theCond = cond ?? new Condition(theLock);
      assert.equal(theLock.locked(), false);
      assert.equal(theCond.locked(), false);
      yield* theCond.hold(function* () {
        assert.ok(theLock.locked());
        assert.ok(theCond.locked());
      });
      assert.equal(theLock.locked(), false);
      assert.equal(theCond.locked(), false);
      yield* theLock.hold(function* () {
        assert.ok(theLock.locked());
        assert.ok(theCond.locked());
      });
      assert.equal(theLock.locked(), false);
      assert.equal(theCond.locked(), false);
    }
    yield* f();
    yield* f(new Lock());
    const lock = new Lock();
    yield* f(lock, new Condition(lock));
  });

  condCase("test_ambiguous_loops", function* () {}, {
    skip: "sets the private `_loop` of a lock to a second, never-run loop; our primitives bind to the running loop and a second loop cannot run inside the first",
  });

  condCase("test_timeout_in_block", function* () {
    const condition = new Condition();
    yield* condition.hold(function* () {
      yield* raises(TimeoutError, waitFor(condition.wait(), 0.5));
    });
  });

  condCase("test_cancelled_error_wakeup", function* () {
    const wake = false;
    let raised: CancelledError | null = null;
    const cond = new Condition();
    const task = createTask(
      cond.hold(function* () {
        raised = yield* raises(CancelledError, cond.waitFor(() => wake));
        throw raised;
      }),
    );
    yield* sleep(0);
    task.cancel("foo");
    const err = yield* raises(CancelledError, task);
    assert.equal(err.cancelMessage, "foo");
    assert.equal(err, raised);
  });

  condCase("test_cancelled_error_re_aquire", function* () {
    let wake = false;
    let raised: CancelledError | null = null;
    const cond = new Condition();
    const task = createTask(
      cond.hold(function* () {
        raised = yield* raises(CancelledError, cond.waitFor(() => wake));
        throw raised;
      }),
    );
    yield* sleep(0);
    yield* cond.acquire();
    wake = true;
    cond.notify();
    yield* sleep(0);
    task.cancel("foo");
    cond.release();
    const err = yield* raises(CancelledError, task);
    assert.equal(err.cancelMessage, "foo");
    assert.equal(err, raised);
  });

  function* consumers(condition: Condition, state: { value: number }): Coro<Task<void>[]> {
    function* consumer(): Coro<void> {
      yield* condition.hold(function* () {
        for (;;) {
          yield* condition.waitFor(() => state.value !== 0);
          if (state.value < 0) return;
          state.value--;
        }
      });
    }
    const c = [createTask(consumer()), createTask(consumer())];
    yield* sleep(0);
    return c;
  }

  function* waitUntilConsumed(condition: Condition, state: { value: number }): Coro<void> {
    try {
      yield* timeout(0.01, () => condition.waitFor(() => state.value === 0));
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
    }
  }

  condCase("test_cancelled_wakeup", function* () {
    const condition = new Condition();
    const state = { value: 0 };
    const c = yield* consumers(condition, state);
    yield* condition.hold(function* () {
      state.value++;
      condition.notify(1);
      c[0]!.cancel();
      yield* waitUntilConsumed(condition, state);
      assert.equal(state.value, 0);
      state.value = -1;
      condition.notifyAll();
    });
    yield* c[1]!;
  });

  condCase("test_cancelled_wakeup_relock", function* () {
    const condition = new Condition();
    const state = { value: 0 };
    const c = yield* consumers(condition, state);
    yield* condition.hold(function* () {
      state.value++;
      condition.notify(1);
      yield* sleep(0);
      c[0]!.cancel();
      yield* waitUntilConsumed(condition, state);
      assert.equal(state.value, 0);
      state.value = -1;
      condition.notifyAll();
    });
    yield* c[1]!;
  });
}

// --- SemaphoreTests ----------------------------------------------------------

{
  const semCase = cases("test_locks", "SemaphoreTests");
  const semSync = syncCases("test_locks", "SemaphoreTests");

  semSync("test_initial_value_zero", () => {
    assert.ok(new Semaphore(0).locked());
  });

  semCase("test_repr", function* () {
    const sem = new Semaphore();
    assert.ok(repr(sem).endsWith("[unlocked, value:1]>"), repr(sem));
    yield* sem.acquire();
    assert.ok(repr(sem).endsWith("[locked]>"), repr(sem));
    assert.ok(!repr(sem).includes("waiters"));
    const waiters = [createTask(sem.acquire()), createTask(sem.acquire())];
    yield* sleep(0);
    assert.ok(repr(sem).includes("waiters:2"), repr(sem));
    for (const w of waiters) w.cancel();
    yield* gather(...waiters, { returnExceptions: true });
  });

  semCase("test_semaphore", function* () {}, { skip: NOT_AWAITABLE });

  semSync("test_semaphore_value", () => {
    assert.throws(() => new Semaphore(-1), RangeError);
  });

  semCase("test_acquire", function* () {
    const sem = new Semaphore(3);
    const result: number[] = [];
    assert.equal(yield* sem.acquire(), true);
    assert.equal(yield* sem.acquire(), true);
    assert.equal(sem.locked(), false);
    function* c(n: number): Coro<boolean> {
      yield* sem.acquire();
      result.push(n);
      return true;
    }
    const t1 = createTask(c(1));
    const t2 = createTask(c(2));
    const t3 = createTask(c(3));
    yield* sleep(0);
    assert.deepEqual(result, [1]);
    assert.ok(sem.locked());
    assert.equal(sem.statistics().waiters, 2);
    assert.equal(sem.statistics().value, 0);
    const t4 = createTask(c(4));
    sem.release();
    sem.release();
    assert.equal(sem.statistics().value, 0);
    yield* sleep(0);
    assert.equal(sem.statistics().value, 0);
    assert.equal(result.length, 3);
    assert.ok(sem.locked());
    assert.equal(sem.statistics().waiters, 1);
    assert.equal(t1.result(), true);
    const race = [t2, t3, t4];
    assert.equal(race.filter((t) => t.done() && t.result()).length, 2);
    sem.release();
    yield* gather(...race);
  });

  semCase("test_acquire_cancel", function* () {
    const sem = new Semaphore();
    yield* sem.acquire();
    const acquiring = createTask(sem.acquire());
    getRunningLoop().callSoon(() => acquiring.cancel());
    yield* raises(CancelledError, acquiring);
    assert.equal(sem.statistics().waiters, 0);
  });

  semCase("test_acquire_cancel_before_awoken", function* () {
    const sem = new Semaphore(0);
    const [t1, t2, t3, t4] = [0, 1, 2, 3].map(() => createTask(sem.acquire())) as [Task<true>, Task<true>, Task<true>, Task<true>];
    yield* sleep(0);
    t1.cancel();
    t2.cancel();
    sem.release();
    yield* sleep(0);
    yield* sleep(0);
    assert.equal([t3, t4].filter((t) => t.done()).length, 1);
    assert.ok(t3.done());
    assert.equal(t4.done(), false);
    t3.cancel();
    t4.cancel();
    yield* sleep(0);
  });

  semCase("test_acquire_hang", function* () {
    const sem = new Semaphore(0);
    const t1 = createTask(sem.acquire());
    const t2 = createTask(sem.acquire());
    yield* sleep(0);
    t1.cancel();
    sem.release();
    yield* sleep(0);
    yield* sleep(0);
    assert.ok(sem.locked());
    assert.ok(t2.done());
  });

  semCase("test_acquire_no_hang", function* () {
    const sem = new Semaphore(1);
    let t2: Task<void> | null = null;
    const t1 = createTask(
      (function* (): Coro<null> {
        yield* sem.hold(() => sleep(0));
        t2!.cancel();
        return null;
      })(),
    );
    t2 = createTask(
      sem.hold(function* () {
        assert.fail("c2 must not get the semaphore");
      }),
    );
    const [r1, r2] = yield* gather(t1, t2, { returnExceptions: true });
    assert.equal(r1, null);
    assert.ok(r2 instanceof CancelledError);
    yield* waitFor(sem.acquire(), 1.0);
  });

  semSync("test_release_not_acquired", () => {
    assert.throws(() => new BoundedSemaphore().release(), RangeError);
  });

  semCase("test_release_no_waiters", function* () {
    const sem = new Semaphore();
    yield* sem.acquire();
    assert.ok(sem.locked());
    sem.release();
    assert.equal(sem.locked(), false);
  });

  semCase("test_acquire_fifo_order", function* () {
    const sem = new Semaphore(1);
    const result: string[] = [];
    function* coro(tag: string): Coro<void> {
      yield* sem.acquire();
      result.push(`${tag}_1`);
      yield* sleep(0.01);
      sem.release();
      yield* sem.acquire();
      result.push(`${tag}_2`);
      yield* sleep(0.01);
      sem.release();
    }
    yield* taskGroup(function* (tg) {
      tg.createTask(coro("c1"));
      tg.createTask(coro("c2"));
      tg.createTask(coro("c3"));
    });
    assert.deepEqual(result, ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]);
  });

  semCase("test_acquire_fifo_order_2", function* () {
    const sem = new Semaphore(1);
    const result: number[] = [];
    const t1 = createTask(
      (function* (): Coro<boolean> {
        yield* sem.acquire();
        result.push(1);
        return true;
      })(),
    );
    const t2 = createTask(
      (function* (): Coro<boolean> {
        yield* sem.acquire();
        result.push(2);
        sem.release();
        yield* sem.acquire();
        result.push(4);
        return true;
      })(),
    );
    const t3 = createTask(
      (function* (): Coro<boolean> {
        yield* sem.acquire();
        result.push(3);
        return true;
      })(),
    );
    yield* sleep(0);
    sem.release();
    sem.release();
    yield* gather(t1, t2, t3);
    assert.deepEqual(result, [1, 2, 3, 4]);
  });

  semCase("test_acquire_fifo_order_3", function* () {
    const sem = new Semaphore(0);
    const result: number[] = [];
    function* c(n: number): Coro<boolean> {
      yield* sem.acquire();
      result.push(n);
      return true;
    }
    const tasks = [createTask(c(1)), createTask(c(2)), createTask(c(3))];
    yield* sleep(0);
    tasks[0]!.cancel();
    yield* sleep(0);
    sem.release();
    sem.release();
    yield* gather(...tasks, { returnExceptions: true });
    assert.deepEqual(result, [2, 3]);
  });

  semCase("test_acquire_fifo_order_4", function* () {
    const sem = new Semaphore(0);
    const result: number[] = [];
    let t4: Task<boolean> | null = null;
    function* c4(): Coro<boolean> {
      result.push(4);
      return true;
    }
    const t1 = createTask(
      (function* (): Coro<boolean> {
        assert.equal(sem.statistics().value, 0);
        yield* sem.acquire();
        assert.equal(sem.statistics().value, 0);
        t4 = createTask(c4());
        result.push(1);
        return true;
      })(),
    );
    const t2 = createTask(
      (function* (): Coro<boolean> {
        sem.release();
        sem.release();
        sem.release();
        assert.equal(sem.statistics().value, 2);
        assert.ok(sem.locked());
        yield* sem.acquire();
        result.push(2);
        return true;
      })(),
    );
    const t3 = createTask(
      (function* (): Coro<boolean> {
        yield* sem.acquire();
        assert.ok(sem.locked());
        result.push(3);
        return true;
      })(),
    );
    yield* sleep(0);
    assert.equal(sem.statistics().value, 2);
    assert.equal(sem.statistics().waiters, 3);
    yield* sleep(0);
    yield* gather(t1, t2, t3, t4!);
    assert.deepEqual(result, [1, 2, 3, 4]);
  });
}

// --- BarrierTests ------------------------------------------------------------

{
  const barrierCase = cases("test_locks", "BarrierTests");
  const N = 5;

  function makeTasks<T>(n: number, coro: () => Coro<T>): Task<T>[] {
    return Array.from({ length: n }, () => createTask(coro()));
  }

  function* gatherTasks<T>(n: number, coro: () => Coro<T>): Coro<T[]> {
    return (yield* gather(...makeTasks(n, coro))) as T[];
  }

  barrierCase("test_barrier", function* () {
    const barrier = new Barrier(N);
    assert.ok(repr(barrier).includes("filling"));
  });

  barrierCase("test_repr", function* () {
    const barrier = new Barrier(N);
    assert.ok(repr(barrier).includes("filling"));
    const waiters: Task<number>[] = [];
    const incr = 2;
    for (let i = 0; i < incr; i++) waiters.push(createTask(barrier.wait()));
    yield* sleep(0);
    assert.ok(repr(barrier).includes(`waiters:${incr}/${N}`), repr(barrier));
    assert.ok(repr(barrier).includes("filling"));
    for (let i = barrier.parties - barrier.nWaiting; i > 0; i--) waiters.push(createTask(barrier.wait()));
    yield* sleep(0);
    assert.ok(repr(barrier).includes("draining"), repr(barrier));
    for (let i = 0; i < incr; i++) waiters.push(createTask(barrier.wait()));
    yield* sleep(0);
    barrier.reset();
    assert.ok(repr(barrier).includes("resetting"), repr(barrier));
    for (let i = 0; i < incr; i++) waiters.push(createTask(barrier.wait()));
    yield* sleep(0);
    barrier.abort();
    assert.ok(repr(barrier).includes("broken"), repr(barrier));
    assert.ok(barrier.broken);
    yield* gather(...waiters, { returnExceptions: true });
  });

  barrierCase("test_barrier_parties", function* () {
    assert.throws(() => new Barrier(0), RangeError);
    assert.throws(() => new Barrier(-4), RangeError);
    assert.ok(new Barrier(N) instanceof Barrier);
  });

  barrierCase("test_context_manager", function* () {
    const n = 3;
    const barrier = new Barrier(n);
    const results: number[] = [];
    yield* gatherTasks(n, function* () {
      results.push(yield* barrier.wait());
    });
    assert.deepEqual(results.sort(), [0, 1, 2]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_filling_one_task", function* () {
    const barrier = new Barrier(1);
    yield* barrier.wait();
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_filling_one_task_twice", function* () {
    const barrier = new Barrier(1);
    const t1 = createTask(barrier.wait());
    yield* sleep(0);
    assert.equal(barrier.nWaiting, 0);
    const t2 = createTask(barrier.wait());
    yield* sleep(0);
    assert.equal(t1.result(), t2.result());
    assert.equal(t1.done(), t2.done());
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_filling_task_by_task", function* () {
    const barrier = new Barrier(3);
    const t1 = createTask(barrier.wait());
    yield* sleep(0);
    assert.equal(barrier.nWaiting, 1);
    assert.ok(repr(barrier).includes("filling"));
    const t2 = createTask(barrier.wait());
    yield* sleep(0);
    assert.equal(barrier.nWaiting, 2);
    assert.ok(repr(barrier).includes("filling"));
    const t3 = createTask(barrier.wait());
    yield* sleep(0);
    yield* wait([t1, t2, t3]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_filling_tasks_wait_twice", function* () {
    const barrier = new Barrier(N);
    const results: boolean[] = [];
    yield* gatherTasks(N, function* () {
      yield* barrier.wait();
      results.push(true);
      yield* barrier.wait();
      results.push(false);
    });
    assert.equal(results.length, N * 2);
    assert.equal(results.filter((r) => r).length, N);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_filling_tasks_check_return_value", function* () {
    const barrier = new Barrier(N);
    const res = yield* gatherTasks(N, function* () {
      yield* barrier.wait();
      return yield* barrier.wait();
    });
    assert.deepEqual(res.sort(), [0, 1, 2, 3, 4]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_draining_state", function* () {
    const barrier = new Barrier(N);
    const results: boolean[] = [];
    yield* gatherTasks(N, function* () {
      yield* barrier.wait();
      results.push(repr(barrier).includes("draining"));
    });
    assert.equal(results.length, N);
    // Python's last task sees "filling" because `async with barrier` leaves
    // the barrier on exit; our `wait()` leaves it before returning, so every
    // task but the last that returns sees "draining".
    assert.equal(results[N - 1], false);
    assert.ok(results.slice(0, N - 1).every((r) => r));
  });

  barrierCase("test_blocking_tasks_while_draining", function* () {
    const rewait = 2;
    const barrier = new Barrier(N);
    const barrierNowaiting = new Barrier(N - rewait);
    let rewaitN = rewait;
    yield* gatherTasks(N, function* () {
      yield* barrier.wait();
      if (rewaitN > 0) {
        rewaitN--;
        yield* barrier.wait();
      } else {
        yield* barrierNowaiting.wait();
        yield* barrier.wait();
      }
    });
  });

  barrierCase("test_filling_tasks_cancel_one", function* () {
    const barrier = new Barrier(3);
    const results: boolean[] = [];
    function* coro(): Coro<void> {
      yield* barrier.wait();
      results.push(true);
    }
    const t1 = createTask(coro());
    yield* sleep(0);
    assert.equal(barrier.nWaiting, 1);
    const t2 = createTask(coro());
    yield* sleep(0);
    assert.equal(barrier.nWaiting, 2);
    t1.cancel();
    yield* sleep(0);
    assert.equal(barrier.nWaiting, 1);
    yield* raises(CancelledError, t1);
    assert.ok(t1.cancelled());
    const t3 = createTask(coro());
    yield* sleep(0);
    assert.equal(barrier.nWaiting, 2);
    const t4 = createTask(coro());
    yield* gather(t2, t3, t4);
    assert.equal(results.length, 3);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_reset_barrier", function* () {
    const barrier = new Barrier(1);
    barrier.reset();
    yield* sleep(0);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_reset_barrier_while_tasks_waiting", function* () {
    const barrier = new Barrier(N);
    const results: boolean[] = [];
    const tasks = makeTasks(N - 1, function* () {
      try {
        yield* barrier.wait();
      } catch (error) {
        if (!(error instanceof BrokenBarrierError)) throw error;
        results.push(true);
      }
    });
    yield* sleep(0);
    getRunningLoop().callSoon(() => barrier.reset());
    yield* gather(...tasks);
    assert.equal(results.length, N - 1);
    assert.equal(barrier.nWaiting, 0);
    assert.ok(!repr(barrier).includes("resetting"));
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_reset_barrier_when_tasks_half_draining", function* () {}, {
    skip: "compares against the private `_count` of tasks inside the barrier, which our Barrier does not expose",
  });

  barrierCase("test_reset_barrier_when_tasks_half_draining_half_blocking", function* () {
    const barrier = new Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const blockingTasks = Math.floor(N / 2);
    let count = 0;
    yield* gatherTasks(N, function* () {
      try {
        yield* barrier.wait();
      } catch (error) {
        if (!(error instanceof BrokenBarrierError)) throw error;
        results1.push(true);
        yield* barrier.wait();
        return;
      }
      count++;
      if (count > blockingTasks) {
        barrier.reset();
        yield* barrier.wait();
      } else {
        try {
          yield* barrier.wait();
        } catch (error) {
          if (!(error instanceof BrokenBarrierError)) throw error;
          results2.push(true);
        }
      }
    });
    assert.deepEqual(results1, Array(blockingTasks).fill(true));
    assert.deepEqual(results2, []);
    assert.equal(barrier.nWaiting, 0);
    assert.ok(!repr(barrier).includes("resetting"));
    assert.equal(barrier.broken, false);
  });

  barrierCase("test_reset_barrier_while_tasks_waiting_and_waiting_again", function* () {
    const barrier = new Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const tasks = makeTasks(N - 1, function* () {
      try {
        yield* barrier.wait();
      } catch (error) {
        if (!(error instanceof BrokenBarrierError)) throw error;
        results1.push(true);
      }
      yield* barrier.wait();
      results2.push(true);
    });
    getRunningLoop().callSoon(() => barrier.reset());
    yield* sleep(0);
    createTask(
      (function* (): Coro<void> {
        yield* barrier.wait();
        results2.push(true);
      })(),
    );
    yield* gather(...tasks);
    assert.equal(barrier.broken, false);
    assert.equal(results1.length, N - 1);
    assert.equal(results2.length, N);
    assert.equal(barrier.nWaiting, 0);
  });

  barrierCase("test_reset_barrier_while_tasks_draining", function* () {
    const barrier = new Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const results3: boolean[] = [];
    let count = 0;
    yield* gatherTasks(N, function* () {
      yield* barrier.wait();
      count++;
      if (count === N) {
        barrier.reset();
        yield* barrier.wait();
      } else {
        try {
          yield* barrier.wait();
          results1.push(true);
        } catch {
          results2.push(true);
        }
      }
      yield* barrier.wait();
      results3.push(true);
    });
    assert.equal(barrier.broken, false);
    assert.equal(results1.length, N - 1);
    assert.equal(results2.length, 0);
    assert.equal(results3.length, N);
    assert.equal(barrier.nWaiting, 0);
  });

  barrierCase("test_abort_barrier", function* () {
    const barrier = new Barrier(1);
    barrier.abort();
    yield* sleep(0);
    assert.equal(barrier.nWaiting, 0);
    assert.ok(barrier.broken);
  });

  barrierCase("test_abort_barrier_when_tasks_half_draining_half_blocking", function* () {
    const barrier = new Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const blockingTasks = Math.floor(N / 2);
    let count = 0;
    yield* gatherTasks(N, function* () {
      try {
        yield* barrier.wait();
      } catch (error) {
        if (!(error instanceof BrokenBarrierError)) throw error;
        results1.push(true);
        return;
      }
      count++;
      if (count > blockingTasks) {
        barrier.abort();
      } else {
        try {
          yield* barrier.wait();
        } catch (error) {
          if (!(error instanceof BrokenBarrierError)) throw error;
          results2.push(true);
        }
      }
    });
    assert.ok(barrier.broken);
    assert.deepEqual(results1, Array(blockingTasks).fill(true));
    assert.deepEqual(results2, Array(N - blockingTasks - 1).fill(true));
    assert.equal(barrier.nWaiting, 0);
    assert.ok(!repr(barrier).includes("resetting"));
  });

  barrierCase("test_abort_barrier_when_exception", function* () {
    const barrier = new Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    class Boom extends Error {}
    yield* gatherTasks(N, function* () {
      try {
        const i = yield* barrier.wait();
        if (i === Math.floor(N / 2)) throw new Boom();
        yield* barrier.wait();
        results1.push(true);
      } catch (error) {
        if (error instanceof BrokenBarrierError) results2.push(true);
        else if (error instanceof Boom) barrier.abort();
        else throw error;
      }
    });
    assert.ok(barrier.broken);
    assert.equal(results1.length, 0);
    assert.equal(results2.length, N - 1);
    assert.equal(barrier.nWaiting, 0);
  });

  barrierCase("test_abort_barrier_when_exception_then_resetting", function* () {
    const barrier1 = new Barrier(N);
    const barrier2 = new Barrier(N);
    const results1: boolean[] = [];
    const results2: boolean[] = [];
    const results3: boolean[] = [];
    class Boom extends Error {}
    yield* gatherTasks(N, function* () {
      try {
        const i = yield* barrier1.wait();
        if (i === Math.floor(N / 2)) throw new Boom();
        yield* barrier1.wait();
        results1.push(true);
      } catch (error) {
        if (error instanceof BrokenBarrierError) results2.push(true);
        else if (error instanceof Boom) barrier1.abort();
        else throw error;
      }
      const i = yield* barrier2.wait();
      if (i === Math.floor(N / 2)) barrier1.reset();
      yield* barrier2.wait();
      yield* barrier1.wait();
      results3.push(true);
    });
    assert.equal(barrier1.broken, false);
    assert.equal(results1.length, 0);
    assert.equal(results2.length, N - 1);
    assert.equal(results3.length, N);
    assert.equal(barrier1.nWaiting, 0);
  });
}
