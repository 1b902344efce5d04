import assert from "node:assert/strict";
import { test } from "node:test";
import { CancelledError, createTask, getRunningLoop, shield, sleep, type Coro } from "../src/index.js";
import { after, runVirtual } from "./support.js";

test("shield passes the inner result through", async () => {
  assert.equal(await runVirtual(() => shield(after(1, "through")) as unknown as Coro<string>), "through");
});

test("cancelling the task awaiting a shield does not cancel the inner work", async () => {
  await runVirtual(function* () {
    const inner = createTask(after(2, "kept"));
    const outer = createTask(
      (function* (): Coro<string> {
        return yield* shield(inner);
      })(),
    );
    yield* sleep(1);
    outer.cancel();
    yield* sleep(0);
    assert.equal(outer.cancelled(), true);
    assert.equal(yield* inner, "kept");
  });
});

test("cancelling the shield future itself leaves the inner running", async () => {
  await runVirtual(function* () {
    const inner = createTask(after(2, "kept"));
    const guard = shield(inner);
    guard.cancel();
    assert.equal(guard.cancelled(), true);
    assert.equal(yield* inner, "kept");
  });
});

test("if the inner is cancelled by other means the shield is cancelled too", async () => {
  await runVirtual(function* () {
    const inner = createTask(after(5, "x"));
    const guard = shield(inner);
    yield* sleep(1);
    inner.cancel();
    try {
      yield* guard;
      assert.fail("no CancelledError");
    } catch (e) {
      assert.ok(e instanceof CancelledError);
    }
    assert.equal(guard.cancelled(), true);
  });
});

test("an inner exception reaches the shield's awaiter", async () => {
  const message = await runVirtual(function* () {
    try {
      yield* shield(
        (function* (): Coro<void> {
          yield* sleep(1);
          throw new Error("inner failed");
        })(),
      );
    } catch (e) {
      return (e as Error).message;
    }
    return null;
  });
  assert.equal(message, "inner failed");
});

test("shield of a done future returns that future", async () => {
  await runVirtual(function* () {
    const f = getRunningLoop().createFuture<number>();
    f.setResult(1);
    assert.equal(shield(f), f);
  });
});

test("shield of a function shields the awaitable it returns", async () => {
  const value = await runVirtual(function* () {
    return yield* shield(() => after(1, "made by the function"));
  });
  assert.equal(value, "made by the function");
});

test("an inner failure in the same iteration as the shield's cancellation counts as retrieved", async () => {
  await runVirtual(function* () {
    const inner = getRunningLoop().createFuture<string>();
    const guard = shield(inner);
    guard.cancel();
    inner.setException(new Error("lost behind the shield"));
    assert.equal(inner.exceptionUnretrieved(), true);
    yield* sleep(0);
    assert.equal(guard.cancelled(), true);
    assert.equal(inner.exceptionUnretrieved(), false); // nobody can read it through the shield: not reported as lost
  });
});

test("an inner that is cancelled after the shield's awaiter was cancelled stays cancelled", async () => {
  await runVirtual(function* () {
    const inner = createTask(after(5, "never"));
    const guard = shield(inner);
    guard.cancel();
    inner.cancel();
    yield* sleep(0);
    assert.equal(inner.cancelled(), true);
    assert.equal(guard.cancelled(), true);
  });
});
