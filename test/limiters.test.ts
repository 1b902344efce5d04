import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, CapacityLimiter, ExceptionGroup, RateLimiter, RuntimeError, allTasks, createTask, getRunningLoop, sleep, type Coro } from "../src/index.js";
import { runVirtual } from "./support.js";

// ------------------------------------------------------------ CapacityLimiter

test("a capacity limiter lends totalTokens tokens and makes the next borrower wait", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(2);
    const holders = [0, 1, 2].map(() => createTask(limiter.hold(() => sleep(1))));
    yield* sleep(0.5);
    assert.equal(limiter.borrowedTokens, 2);
    assert.equal(limiter.availableTokens, 0);
    assert.equal(limiter.statistics().tasksWaiting, 1);
    for (const holder of holders) yield* holder;
    assert.equal(getRunningLoop().time(), 2);
    assert.equal(limiter.borrowedTokens, 0);
  });
});

test("a capacity limiter serves waiters in FIFO order", async () => {
  const order = await runVirtual(function* () {
    const limiter = new CapacityLimiter(1);
    const order: number[] = [];
    const tasks = [0, 1, 2, 3].map((i) => createTask(limiter.hold(function* () {
      order.push(i);
      yield* sleep(1);
    })));
    for (const t of tasks) yield* t;
    return order;
  });
  assert.deepEqual(order, [0, 1, 2, 3]);
});

test("a task cannot borrow a second token, nor release one it does not hold", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(3);
    yield* limiter.acquire();
    try {
      yield* limiter.acquire();
      assert.fail("second acquire succeeded");
    } catch (error) {
      assert.ok(error instanceof RuntimeError);
      assert.match(error.message, /already holding/);
    }
    limiter.release();
    assert.throws(() => limiter.release(), (e: unknown) => e instanceof RuntimeError && /isn't holding/.test(e.message));
  });
});

test("tokens can be borrowed on behalf of any object and released from another task", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(1);
    const job = { url: "/a" };
    yield* limiter.acquireOnBehalfOf(job);
    assert.deepEqual(limiter.statistics().borrowers, [job]);
    const waiter = createTask(limiter.acquireOnBehalfOf({ url: "/b" }));
    yield* sleep(1);
    assert.equal(waiter.done(), false);
    createTask((function* () {
      limiter.releaseOnBehalfOf(job);
    })());
    yield* waiter;
    assert.equal(limiter.borrowedTokens, 1);
  });
});

test("raising totalTokens wakes as many waiters as the new size allows", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(1);
    yield* limiter.acquireOnBehalfOf({});
    const waiters = [0, 1, 2].map(() => createTask(limiter.acquireOnBehalfOf({})));
    yield* sleep(0);
    limiter.totalTokens = 3;
    yield* sleep(0);
    assert.deepEqual(waiters.map((w) => w.done()), [true, true, false]);
    assert.equal(limiter.borrowedTokens, 3);
    waiters[2]!.cancel();
    yield* sleep(0);
  });
});

test("lowering totalTokens below the borrowed count takes nothing back but makes borrowers wait", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(3);
    const a = {};
    const b = {};
    yield* limiter.acquireOnBehalfOf(a);
    yield* limiter.acquireOnBehalfOf(b);
    limiter.totalTokens = 1;
    assert.equal(limiter.borrowedTokens, 2);
    assert.equal(limiter.availableTokens, 0);
    const c = createTask(limiter.acquireOnBehalfOf({}));
    limiter.releaseOnBehalfOf(a);
    yield* sleep(0);
    assert.equal(c.done(), false);
    limiter.releaseOnBehalfOf(b);
    yield* c;
  });
});

test("a waiter cancelled in the tick it was woken gives its token to the next waiter", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(1);
    const first = {};
    yield* limiter.acquireOnBehalfOf(first);
    const woken = createTask(limiter.acquireOnBehalfOf({}));
    const next = createTask(limiter.acquireOnBehalfOf({}));
    yield* sleep(0);
    limiter.releaseOnBehalfOf(first);
    woken.cancel();
    yield* next;
    assert.equal(woken.cancelled(), true);
    assert.equal(limiter.borrowedTokens, 1);
    assert.equal(getRunningLoop().time(), 0);
  });
});

test("hold gives the token back when the body fails or is cancelled", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(1);
    try {
      yield* limiter.hold(function* (): Coro<void> {
        throw new Error("boom");
      });
    } catch (error) {
      assert.match(String(error), /boom/);
    }
    const held = createTask(limiter.hold(() => sleep(10)));
    yield* sleep(1);
    held.cancel();
    try {
      yield* held;
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    assert.equal(limiter.borrowedTokens, 0);
  });
});

test("an infinite limiter never makes anyone wait", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(Infinity);
    for (let i = 0; i < 100; i++) yield* limiter.acquireOnBehalfOf({});
    assert.equal(limiter.borrowedTokens, 100);
  });
});

test("a capacity limiter validates totalTokens, naming it", () => {
  assert.throws(() => new CapacityLimiter(1.5), (e: unknown) => e instanceof RangeError && /totalTokens/.test(e.message));
  assert.throws(() => new CapacityLimiter("2" as unknown as number), TypeError);
  assert.throws(() => new CapacityLimiter(0), (e: unknown) => e instanceof RangeError && /totalTokens/.test(e.message));
  const limiter = new CapacityLimiter(1);
  assert.throws(() => (limiter.totalTokens = -1), RangeError);
});

test("a capacity limiter describes itself", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(2);
    yield* limiter.acquire();
    assert.equal(inspect(limiter), "<CapacityLimiter [borrowed:1/2]>");
    limiter.release();
  });
});

test("map runs at most totalTokens calls at once and returns the results in order", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(3);
    const loop = getRunningLoop();
    let running = 0;
    let most = 0;
    let mostTasks = 0;
    const results = yield* limiter.map([5, 1, 4, 2, 3, 1, 1], function* (seconds, index) {
      running++;
      most = Math.max(most, running);
      mostTasks = Math.max(mostTasks, allTasks().size);
      yield* sleep(seconds);
      running--;
      return `${index}:${seconds}`;
    });
    assert.deepEqual(results, ["0:5", "1:1", "2:4", "3:2", "4:3", "5:1", "6:1"]);
    assert.equal(most, 3);
    // The main task and at most three calls: no task waits for a token.
    assert.ok(mostTasks <= 4, `${mostTasks} tasks at once`);
    assert.equal(loop.time(), 6);
    assert.equal(limiter.borrowedTokens, 0);
  });
});

test("map's first failure cancels the other calls and raises an ExceptionGroup, leaking no token", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(2);
    const started: number[] = [];
    try {
      yield* limiter.map([0, 1, 2, 3, 4], function* (n) {
        started.push(n);
        yield* sleep(n === 1 ? 1 : 10);
        if (n === 1) throw new Error("item 1 failed");
      });
      assert.fail("map did not fail");
    } catch (error) {
      assert.ok(error instanceof ExceptionGroup);
      assert.deepEqual(error.exceptions.map((e) => e.message), ["item 1 failed"]);
    }
    assert.deepEqual(started, [0, 1]);
    assert.equal(limiter.borrowedTokens, 0);
  });
});

test("cancelling a map cancels its calls and gives every token back", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(2);
    const mapping = createTask(limiter.map([1, 2, 3, 4], (n) => sleep(n)));
    yield* sleep(1.5);
    mapping.cancel();
    try {
      yield* mapping;
      assert.fail("not cancelled");
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    assert.equal(limiter.borrowedTokens, 0);
    assert.equal(allTasks().size, 1);
  });
});

// ---------------------------------------------------------------- RateLimiter

test("a rate limiter lets a burst of maxRate through, then spaces acquisitions timePeriod/maxRate apart", async () => {
  const times = await runVirtual(function* () {
    const limiter = new RateLimiter(4, 1);
    const loop = getRunningLoop();
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      yield* limiter.acquire();
      times.push(loop.time());
    }
    return times;
  });
  assert.deepEqual(times, [0, 0, 0, 0, 0.25, 0.5, 0.75]);
});

test("a rate limiter admits waiters in FIFO order, even a small amount behind a large one", async () => {
  const order = await runVirtual(function* () {
    const limiter = new RateLimiter(10, 10);
    const loop = getRunningLoop();
    yield* limiter.acquire(10);
    const order: string[] = [];
    const big = createTask((function* () {
      yield* limiter.acquire(5);
      order.push(`big@${loop.time()}`);
    })());
    yield* sleep(0);
    const small = createTask((function* () {
      yield* limiter.acquire(1);
      order.push(`small@${loop.time()}`);
    })());
    yield* big;
    yield* small;
    return order;
  });
  assert.deepEqual(order, ["big@5", "small@6"]);
});

test("hasCapacity tells whether acquire would go through at once", async () => {
  await runVirtual(function* () {
    const limiter = new RateLimiter(2, 1);
    assert.equal(limiter.hasCapacity(2), true);
    yield* limiter.acquire(2);
    assert.equal(limiter.hasCapacity(), false);
    yield* sleep(0.5);
    assert.equal(limiter.hasCapacity(), true);
    assert.equal(limiter.hasCapacity(2), false);
  });
});

test("a waiter cancelled after it was admitted gives its share back", async () => {
  await runVirtual(function* () {
    const limiter = new RateLimiter(1, 1);
    const loop = getRunningLoop();
    yield* limiter.acquire();
    const first = createTask(limiter.acquire());
    const second = createTask(limiter.acquire());
    yield* sleep(1);
    // `first` was admitted at t=1 and has not resumed yet.
    first.cancel();
    yield* second;
    assert.equal(first.cancelled(), true);
    assert.equal(loop.time(), 1);
  });
});

test("a cancelled waiter at the head lets the next one be timed for its own amount", async () => {
  await runVirtual(function* () {
    const limiter = new RateLimiter(10, 10);
    const loop = getRunningLoop();
    yield* limiter.acquire(10);
    const big = createTask(limiter.acquire(8));
    const small = createTask(limiter.acquire(1));
    yield* sleep(0.5);
    big.cancel();
    yield* small;
    assert.equal(loop.time(), 1);
  });
});

test("an amount above maxRate is a RangeError, and arguments are checked by name", async () => {
  assert.throws(() => new RateLimiter(0), (e: unknown) => e instanceof RangeError && /maxRate/.test(e.message));
  assert.throws(() => new RateLimiter("1" as unknown as number), (e: unknown) => e instanceof TypeError && /maxRate/.test(e.message));
  assert.throws(() => new RateLimiter(1, -1), (e: unknown) => e instanceof RangeError && /timePeriod/.test(e.message));
  await runVirtual(function* () {
    const limiter = new RateLimiter(3, 1);
    try {
      yield* limiter.acquire(4);
      assert.fail("acquired more than maxRate");
    } catch (error) {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /exceeds maxRate/);
    }
    assert.throws(() => limiter.hasCapacity(0), RangeError);
  });
});

test("a rate limiter describes itself", async () => {
  await runVirtual(function* () {
    const limiter = new RateLimiter(10, 1);
    yield* limiter.acquire(3);
    assert.equal(inspect(limiter), "<RateLimiter [10/1s, level:3]>");
    yield* sleep(0.1);
    assert.equal(limiter.statistics().level, 2);
  });
});

test("acquireOnBehalfOf takes a function as borrower, and refuses a value that is no object", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(1);
    const borrower = (): void => undefined;
    yield* limiter.acquireOnBehalfOf(borrower);
    assert.deepEqual(limiter.statistics().borrowers, [borrower]);
    limiter.releaseOnBehalfOf(borrower);
    for (const bad of [null, 5]) {
      try {
        yield* limiter.acquireOnBehalfOf(bad as never);
        assert.fail("no TypeError");
      } catch (error) {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /borrower must be an object, got /);
      }
    }
  });
});

test("map of something that is not iterable is a TypeError", async () => {
  await runVirtual(function* () {
    try {
      yield* new CapacityLimiter(1).map(null as never, function* () {});
      assert.fail("no TypeError");
    } catch (error) {
      assert.ok(error instanceof TypeError);
      assert.equal(error.message, "CapacityLimiter.map(): items must be iterable, got null");
    }
  });
});

test("acquire outside a task, in a plain callback, is a RuntimeError", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const limiter = new CapacityLimiter(1);
    const outcome = loop.createFuture<unknown>();
    loop.callSoon(() => {
      try {
        limiter.acquire().next();
        outcome.setResult("acquired");
      } catch (error) {
        outcome.setResult(error);
      }
    });
    const error = yield* outcome;
    assert.ok(error instanceof RuntimeError);
    assert.equal(error.message, "CapacityLimiter.acquire() must be called from a task");
  });
});

test("a capacity limiter's repr counts its waiters", async () => {
  await runVirtual(function* () {
    const limiter = new CapacityLimiter(1);
    yield* limiter.acquire();
    const waiter = createTask(limiter.hold(function* () {}));
    yield* sleep(0);
    assert.equal(inspect(limiter), "<CapacityLimiter [borrowed:1/1, waiters:1]>");
    limiter.release();
    yield* waiter;
  });
});

test("hasCapacity is false while a task waits, even for an amount that would fit", async () => {
  await runVirtual(function* () {
    const limiter = new RateLimiter(2, 1);
    yield* limiter.acquire(2);
    const waiter = createTask(limiter.acquire(2));
    yield* sleep(0.5); // one unit leaked: it would fit, but the waiter is first
    assert.equal(limiter.hasCapacity(1), false);
    assert.equal(inspect(limiter), "<RateLimiter [2/1s, level:1, waiters:1]>");
    yield* waiter;
  });
});

test("a rate limiter's hold acquires one unit, then runs the body", async () => {
  const got = await runVirtual(function* () {
    const limiter = new RateLimiter(1, 10);
    const first = yield* limiter.hold(function* () {
      return getRunningLoop().time();
    });
    const second = yield* limiter.hold(function* () {
      return getRunningLoop().time();
    });
    return [first, second];
  });
  assert.deepEqual(got, [0, 10]);
});
