import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, Condition, Event, EventLoop, Lock, RuntimeError, createTask, getRunningLoop, sleep, type Coro } from "../src/index.js";
import { runVirtual } from "./support.js";

// --- Lock -----------------------------------------------------------------

test("a free lock is acquired at once", async () => {
  await runVirtual(function* () {
    const lock = new Lock();
    assert.equal(yield* lock.acquire(), true);
    assert.equal(lock.locked(), true);
    lock.release();
    assert.equal(lock.locked(), false);
  });
});

test("releasing an unlocked lock is a RuntimeError", () => {
  assert.throws(() => new Lock().release(), RuntimeError);
});

test("waiters acquire the lock in FIFO order", async () => {
  assert.deepEqual(await runVirtual(function* () {
    const lock = new Lock();
    const order: number[] = [];
    yield* lock.acquire();
    const tasks = [0, 1, 2, 3].map((i) =>
      createTask(
        lock.hold(function* () {
          order.push(i);
          yield* sleep(0);
        }),
      ),
    );
    yield* sleep(0);
    lock.release();
    for (const t of tasks) yield* t;
    return order;
  }), [0, 1, 2, 3]);
});

test("hold releases the lock when the body throws", async () => {
  await runVirtual(function* () {
    const lock = new Lock();
    try {
      yield* lock.hold(function* () {
        throw new Error("inside");
      });
    } catch {
      // expected
    }
    assert.equal(lock.locked(), false);
  });
});

test("hold calls a subclass's own acquire and release, as async with does", async () => {
  await runVirtual(function* () {
    const calls: string[] = [];
    class CountingLock extends Lock {
      override *acquire(): Coro<true> {
        calls.push("acquire");
        return yield* super.acquire();
      }
      override release(): void {
        calls.push("release");
        super.release();
      }
    }
    class ReleaseCountingLock extends Lock {
      override release(): void {
        calls.push("release only");
        super.release();
      }
    }
    assert.equal(yield* new CountingLock().hold(() => sleep(0, 5)), 5);
    yield* new ReleaseCountingLock().hold(() => sleep(0));
    assert.deepEqual(calls, ["acquire", "release", "release only"]);
  });
});

test("a waiter cancelled in the same tick it is woken hands the lock to the next waiter", async () => {
  await runVirtual(function* () {
    const lock = new Lock();
    yield* lock.acquire();
    const first = createTask(lock.acquire());
    const second = createTask(lock.acquire());
    yield* sleep(0);
    lock.release(); // wakes `first`...
    first.cancel(); // ...which is cancelled before it resumes
    yield* sleep(0);
    yield* sleep(0);
    assert.equal(first.cancelled(), true);
    assert.equal(second.done(), true);
    assert.equal(lock.locked(), true);
    lock.release();
  });
});

test("a waiter cancelled while waiting does not block the others", async () => {
  await runVirtual(function* () {
    const lock = new Lock();
    yield* lock.acquire();
    const first = createTask(lock.acquire());
    const second = createTask(lock.acquire());
    yield* sleep(0);
    first.cancel();
    yield* sleep(0);
    lock.release();
    yield* sleep(0);
    assert.equal(second.done(), true);
    assert.equal(lock.statistics().waiters, 0);
    lock.release();
  });
});

test("a lock describes itself with its waiters", async () => {
  await runVirtual(function* () {
    const lock = new Lock();
    assert.equal(inspect(lock), "<Lock [unlocked]>");
    yield* lock.acquire();
    const waiter = createTask(lock.acquire());
    yield* sleep(0);
    assert.equal(inspect(lock), "<Lock [locked, waiters:1]>");
    waiter.cancel();
    yield* sleep(0);
    lock.release();
  });
});

test("a lock made outside run can be used inside, and in a later run", async () => {
  const lock = new Lock();
  for (let round = 0; round < 2; round++) {
    await runVirtual(function* () {
      yield* lock.acquire();
      const waiter = createTask(lock.acquire());
      yield* sleep(0);
      lock.release();
      yield* waiter;
      lock.release();
    });
  }
});

// --- Event ----------------------------------------------------------------

test("an event wakes every waiter when set", async () => {
  assert.equal(await runVirtual(function* () {
    const event = new Event();
    const waiters = [createTask(event.wait()), createTask(event.wait())];
    yield* sleep(1);
    assert.equal(waiters.some((w) => w.done()), false);
    event.set();
    for (const w of waiters) assert.equal(yield* w, true);
    return event.isSet();
  }), true);
});

test("waiting on a set event returns at once, and clear makes waits block again", async () => {
  await runVirtual(function* () {
    const event = new Event();
    event.set();
    assert.equal(yield* event.wait(), true);
    event.clear();
    assert.equal(event.isSet(), false);
    const waiter = createTask(event.wait());
    yield* sleep(1);
    assert.equal(waiter.done(), false);
    event.set();
    yield* waiter;
  });
});

test("a cancelled event waiter leaves no trace", async () => {
  await runVirtual(function* () {
    const event = new Event();
    const waiter = createTask(event.wait());
    yield* sleep(0);
    waiter.cancel();
    yield* sleep(0);
    assert.equal(event.statistics().waiters, 0);
  });
});

// --- Condition --------------------------------------------------------------

test("notify wakes one waiter, which holds the lock when it resumes", async () => {
  await runVirtual(function* () {
    const cond = new Condition();
    const woken: number[] = [];
    const waiter = (i: number): Coro<void> =>
      cond.hold(function* () {
        yield* cond.wait();
        assert.equal(cond.locked(), true);
        woken.push(i);
      });
    const tasks = [createTask(waiter(1)), createTask(waiter(2))];
    yield* sleep(0);
    yield* cond.hold(function* () {
      cond.notify();
    });
    yield* sleep(1);
    assert.deepEqual(woken, [1]);
    yield* cond.hold(function* () {
      cond.notifyAll();
    });
    for (const t of tasks) yield* t;
    assert.deepEqual(woken, [1, 2]);
  });
});

test("wait and notify without the lock are RuntimeErrors", async () => {
  await runVirtual(function* () {
    const cond = new Condition();
    assert.throws(() => cond.notify(), RuntimeError);
    try {
      yield* cond.wait();
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof RuntimeError);
    }
  });
});

test("waitFor returns once the predicate holds", async () => {
  assert.equal(await runVirtual(function* () {
    const cond = new Condition();
    let items = 0;
    const consumer = createTask(cond.hold(() => cond.waitFor(() => items >= 2 && items)));
    for (let i = 0; i < 2; i++) {
      yield* sleep(1);
      yield* cond.hold(function* () {
        items++;
        cond.notifyAll();
      });
    }
    return yield* consumer;
  }), 2);
});

test("a condition can share a lock", async () => {
  await runVirtual(function* () {
    const lock = new Lock();
    const cond = new Condition(lock);
    yield* lock.acquire();
    assert.equal(cond.locked(), true);
    cond.release();
    assert.equal(lock.locked(), false);
  });
});

test("a cancelled wait re-acquires the lock before raising", async () => {
  await runVirtual(function* () {
    const cond = new Condition();
    let lockedWhenCancelled: boolean | null = null;
    const waiter = createTask(
      cond.hold(function* () {
        try {
          yield* cond.wait();
        } catch (e) {
          assert.ok(e instanceof CancelledError);
          lockedWhenCancelled = cond.locked();
          throw e;
        }
      }),
    );
    yield* sleep(0);
    yield* cond.acquire(); // hold the lock while the waiter is cancelled
    waiter.cancel();
    yield* sleep(1);
    assert.equal(waiter.done(), false); // it waits to re-acquire
    cond.release();
    yield* sleep(0);
    yield* sleep(0);
    assert.equal(lockedWhenCancelled, true);
    assert.equal(waiter.cancelled(), true);
    assert.equal(cond.locked(), false);
  });
});

test("a waiter notified then cancelled in the same tick passes the notification on", async () => {
  await runVirtual(function* () {
    const cond = new Condition();
    const woken: string[] = [];
    const waiter = (name: string): Coro<void> =>
      cond.hold(function* () {
        yield* cond.wait();
        woken.push(name);
      });
    const first = createTask(waiter("first"));
    const second = createTask(waiter("second"));
    yield* sleep(0);
    yield* cond.hold(function* () {
      cond.notify(1);
    });
    first.cancel();
    yield* sleep(1);
    assert.equal(first.cancelled(), true);
    assert.deepEqual(woken, ["second"]);
    yield* second;
  });
});

test("a Condition refuses something that is not a Lock", () => {
  assert.throws(() => new Condition({} as Lock), TypeError);
});

test("getRunningLoop is not needed to construct primitives", () => {
  assert.doesNotThrow(() => [new Lock(), new Event(), new Condition()]);
  assert.throws(() => getRunningLoop());
});

test("a primitive bound to a loop that is still open refuses another loop", async () => {
  const event = new Event();
  const first = new EventLoop({ clock: "virtual" });
  const second = new EventLoop({ clock: "virtual" });
  try {
    await first.runUntilComplete(
      (function* (): Coro<void> {
        const waiter = createTask(event.wait());
        yield* sleep(0);
        waiter.cancel();
        yield* sleep(0);
      })(),
    );
    await assert.rejects(second.runUntilComplete(event.wait()), (e: unknown) => e instanceof RuntimeError && e.message === "Event is bound to a different event loop");
  } finally {
    first.close();
    second.close();
  }
});
