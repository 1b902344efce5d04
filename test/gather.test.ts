import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, createTask, gather, getRunningLoop, sleep, type Coro } from "../src/index.js";
import { after, failsAfter, runVirtual } from "./support.js";

test("gather returns results in argument order, not completion order", async () => {
  assert.deepEqual(await runVirtual(function* () {
    return yield* gather(after(3, "a"), after(1, "b"), after(2, "c"));
  }), ["a", "b", "c"]);
});

test("gather runs its children concurrently", async () => {
  assert.equal(await runVirtual(function* () {
    yield* gather(after(1, 1), after(1, 2), after(1, 3));
    return getRunningLoop().time();
  }), 1);
});

test("gather of nothing resolves to an empty list", async () => {
  assert.deepEqual(await runVirtual(function* () {
    return yield* gather();
  }), []);
});

test("the same coroutine passed twice runs once and its result is repeated", async () => {
  const outcome = await runVirtual(function* () {
    let runs = 0;
    const coro = (function* (): Coro<string> {
      runs++;
      yield* sleep(1);
      return "once";
    })();
    const results = yield* gather(coro, coro);
    return { results, runs };
  });
  assert.deepEqual(outcome, { results: ["once", "once"], runs: 1 });
});

test("arguments passed several times, coroutines and futures, each run once and fill every place they were given", async () => {
  const outcome = await runVirtual(function* () {
    const runs: string[] = [];
    function* child(name: string): Coro<string> {
      runs.push(name);
      yield* sleep(1);
      return name;
    }
    const a = child("a");
    const b = child("b");
    const future = getRunningLoop().createFuture<string>();
    getRunningLoop().callLater(1, () => future.setResult("f"));
    const results = yield* gather(a, b, future, a, child("c"), future, b);
    return { results, runs };
  });
  assert.deepEqual(outcome, { results: ["a", "b", "f", "a", "c", "f", "b"], runs: ["a", "b", "c"] });
});

test("gather accepts tasks, futures and coroutines together", async () => {
  assert.deepEqual(await runVirtual(function* () {
    const loop = getRunningLoop();
    const future = loop.createFuture<number>();
    loop.callLater(1, () => future.setResult(1));
    return yield* gather(createTask(after(1, "task")), future, after(1, "coro"));
  }), ["task", 1, "coro"]);
});

test("the first exception propagates while the other children keep running", async () => {
  const outcome = await runVirtual(function* () {
    const slow = createTask(after(5, "slow"));
    let error: unknown = null;
    try {
      yield* gather(failsAfter(1, "first"), slow, failsAfter(2, "second"));
    } catch (e) {
      error = e;
    }
    const at = getRunningLoop().time();
    const slowResult = yield* slow;
    return { message: (error as Error).message, at, slowResult };
  });
  assert.deepEqual(outcome, { message: "first", at: 1, slowResult: "slow" });
});

test("returnExceptions puts errors in place of results", async () => {
  const results = await runVirtual(function* () {
    return yield* gather(after(1, "ok"), failsAfter(1, "bad"), { returnExceptions: true });
  });
  assert.equal(results[0], "ok");
  assert.ok(results[1] instanceof Error);
  assert.equal((results[1] as Error).message, "bad");
});

test("a child cancelled from outside makes gather fail with CancelledError", async () => {
  const error = await runVirtual(function* () {
    const child = createTask(after(5, "x"));
    const waiter = createTask(
      (function* (): Coro<unknown> {
        return yield* gather(child, after(1, "y"));
      })(),
    );
    yield* sleep(0);
    child.cancel();
    try {
      yield* waiter;
    } catch (e) {
      // gather leaves its other child running, as Python's does: let it finish.
      yield* sleep(1);
      return e;
    }
    return null;
  });
  assert.ok(error instanceof CancelledError);
});

test("with returnExceptions a child cancelled from outside is returned as a CancelledError in place", async () => {
  const results = await runVirtual(function* () {
    const child = createTask(after(5, "x"));
    const gathering = gather(child, after(1, "y"), { returnExceptions: true });
    yield* sleep(0);
    child.cancel("outside");
    return yield* gathering;
  });
  assert.ok(results[0] instanceof CancelledError);
  assert.equal((results[0] as CancelledError).message, "outside");
  assert.equal(results[1], "y");
});

test("cancelling the gather future cancels every child", async () => {
  await runVirtual(function* () {
    const a = createTask(after(5, "a"));
    const b = createTask(after(5, "b"));
    const gathering = gather(a, b);
    yield* sleep(0);
    assert.equal(gathering.cancel(), true);
    try {
      yield* gathering;
      assert.fail("no CancelledError");
    } catch (e) {
      assert.ok(e instanceof CancelledError);
    }
    assert.equal(a.cancelled(), true);
    assert.equal(b.cancelled(), true);
  });
});

test("cancelling a task awaiting gather cancels the children and the task", async () => {
  await runVirtual(function* () {
    const a = createTask(after(5, "a"));
    const b = createTask(after(5, "b"));
    const waiter = createTask(
      (function* (): Coro<unknown> {
        return yield* gather(a, b);
      })(),
    );
    yield* sleep(1);
    waiter.cancel();
    yield* sleep(0);
    yield* sleep(0);
    yield* sleep(0);
    assert.equal(a.cancelled(), true);
    assert.equal(b.cancelled(), true);
    assert.equal(waiter.cancelled(), true);
  });
});

test("cancelling a finished gather returns false and cancels nothing", async () => {
  await runVirtual(function* () {
    const gathering = gather(after(1, 1));
    yield* gathering;
    assert.equal(gathering.cancel(), false);
  });
});

test("a child that swallows the gather's cancellation still ends the gather cancelled", async () => {
  await runVirtual(function* () {
    const stubborn = createTask(
      (function* (): Coro<string> {
        try {
          yield* sleep(5);
        } catch {
          return "ignored the cancel";
        }
        return "finished";
      })(),
    );
    const gathering = gather(stubborn);
    yield* sleep(0);
    gathering.cancel();
    try {
      yield* gathering;
      assert.fail("expected CancelledError");
    } catch (e) {
      assert.ok(e instanceof CancelledError);
    }
    assert.equal(stubborn.result(), "ignored the cancel");
  });
});

test("a later failure after the first one is not reported as never retrieved", async () => {
  await runVirtual(function* () {
    try {
      yield* gather(failsAfter(1, "one"), failsAfter(2, "two"));
    } catch {
      // expected
    }
    yield* sleep(3);
  });
});

test("gather of children that are all done already is done at once", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const f = loop.createFuture<number>();
    f.setResult(3);
    const gathering = gather(f);
    assert.equal(gathering.done(), true);
    assert.deepEqual(gathering.result(), [3]);
  });
});

test("gather of a plain value is a TypeError", async () => {
  await runVirtual(function* () {
    assert.throws(() => gather(42 as unknown as Coro<number>), TypeError);
  });
});

test("finally blocks of every child run when a gather is cancelled", async () => {
  const cleaned = await runVirtual(function* () {
    const trail: string[] = [];
    const child = function* (name: string): Coro<void> {
      try {
        yield* sleep(10);
      } finally {
        trail.push(name);
      }
    };
    const gathering = gather(child("a"), child("b"));
    yield* sleep(1);
    gathering.cancel();
    yield* sleep(0);
    yield* sleep(0);
    // The gather ends with the children's CancelledError (read here, so it is not reported as lost).
    assert.ok(gathering.exception() instanceof CancelledError);
    return trail.sort();
  });
  assert.deepEqual(cleaned, ["a", "b"]);
});

test("a gather's repr shows its state and how many children it has", async () => {
  await runVirtual(function* () {
    const all = gather(after(1, "a"), after(2, "b"));
    assert.match(inspect(all), /^<GatheringFuture pending.* children=2>$/);
    yield* all;
    assert.equal(inspect(all), "<GatheringFuture finished result=[ 'a', 'b' ] children=2>");
  });
});

test("a cancelled gather whose last child swallowed the cancellation is cancelled all the same", async () => {
  await runVirtual(function* () {
    const stubborn = createTask(
      (function* (): Coro<string> {
        try {
          yield* sleep(10);
        } catch {
          yield* sleep(1); // swallows the cancellation and finishes later
        }
        return "finished anyway";
      })(),
    );
    const quick = createTask(sleep(10));
    const all = gather(quick, stubborn, { returnExceptions: true });
    yield* sleep(0);
    assert.equal(all.cancel(), true);
    try {
      yield* all;
      assert.fail("no CancelledError");
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    assert.equal(quick.cancelled(), true);
    assert.equal(stubborn.result(), "finished anyway");
  });
});
