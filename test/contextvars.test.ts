import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import {
  Context,
  ContextVar,
  LookupError,
  RuntimeError,
  Token,
  copyContext,
  createTask,
  getRunningLoop,
  gather,
  sleep,
  type Coro,
} from "../src/index.js";
import { runVirtual } from "./support.js";

test("get returns the default until a value is set, and LookupError without one", async () => {
  const withDefault = new ContextVar("withDefault", { default: 7 });
  const bare = new ContextVar<number>("bare");
  await runVirtual(function* () {
    assert.equal(withDefault.get(), 7);
    assert.equal(bare.get("fallback"), "fallback");
    assert.throws(() => bare.get(), LookupError);
    bare.set(1);
    assert.equal(bare.get(), 1);
  });
});

test("a value set inside a task is never seen by its parent or its siblings", async () => {
  const request = new ContextVar<string>("request", { default: "none" });
  const seen = await runVirtual(function* () {
    function* handler(id: string): Coro<string> {
      request.set(id);
      yield* sleep(1);
      return request.get();
    }
    const results = yield* gather(handler("a"), handler("b"), handler("c"));
    return [...results, request.get()];
  });
  assert.deepEqual(seen, ["a", "b", "c", "none"]);
});

test("a task copies the context at creation: later sets of the parent are not seen", async () => {
  const phase = new ContextVar<string>("phase");
  const seen = await runVirtual(function* () {
    phase.set("before");
    const early = createTask((function* () {
      yield* sleep(1);
      return phase.get();
    })());
    phase.set("after");
    const late = createTask((function* () {
      return phase.get();
    })());
    return [yield* early, yield* late];
  });
  assert.deepEqual(seen, ["before", "after"]);
});

test("reset puts back the previous value, or removes it when there was none", async () => {
  const level = new ContextVar<number>("level");
  await runVirtual(function* () {
    const first = level.set(1);
    assert.equal(first.oldValue, Token.MISSING);
    const second = level.set(2);
    assert.equal(second.oldValue, 1);
    level.reset(second);
    assert.equal(level.get(), 1);
    level.reset(first);
    assert.equal(level.get(null), null);
  });
});

test("reset refuses a used token, a token of another variable and one from another context", async () => {
  const a = new ContextVar<number>("a");
  const b = new ContextVar<number>("b");
  await runVirtual(function* () {
    const token = a.set(1);
    a.reset(token);
    assert.throws(() => a.reset(token), RangeError);
    const other = b.set(2);
    assert.throws(() => a.reset(other as never), RangeError);
    const inner = copyContext().run(() => a.set(3));
    assert.throws(() => a.reset(inner), /different Context/);
    assert.throws(() => a.reset({} as never), TypeError);
  });
});

test("a token is disposable: using a set resets the variable when the scope ends", async () => {
  const user = new ContextVar<string>("user", { default: "nobody" });
  const seen = await runVirtual(function* () {
    const inside: string[] = [];
    {
      using _outer = user.set("alice");
      inside.push(user.get());
      {
        using _inner = user.set("bob");
        inside.push(user.get());
        yield* sleep(1);
      }
      inside.push(user.get());
    }
    inside.push(user.get());
    return inside;
  });
  assert.deepEqual(seen, ["alice", "bob", "alice", "nobody"]);
});

test("disposing a token that reset already used throws as a second reset does", async () => {
  const level = new ContextVar<number>("level");
  await runVirtual(function* () {
    const token = level.set(1);
    level.reset(token);
    assert.throws(() => token[Symbol.dispose](), /already been used/);
  });
});

test("callSoon, callLater and callAt callbacks run in a copy of the context current when they were scheduled", async () => {
  const user = new ContextVar<string>("user", { default: "nobody" });
  const seen = await runVirtual(function* () {
    const loop = getRunningLoop();
    const log: string[] = [];
    user.set("main");
    loop.callSoon(() => {
      log.push(`soon:${user.get()}`);
      user.set("set-by-callback"); // lands in the callback's own copy
    });
    loop.callSoon(() => log.push(`next:${user.get()}`));
    loop.callLater(1, () => log.push(`later:${user.get()}`));
    loop.callAt(loop.time() + 2, () => log.push(`at:${user.get()}`));
    user.set("changed after scheduling");
    yield* sleep(3);
    log.push(`main:${user.get()}`);
    return log;
  });
  assert.deepEqual(seen, ["soon:main", "next:main", "later:main", "at:main", "main:changed after scheduling"]);
  assert.equal(user.get(), "nobody");
});

test("a task given a context runs in it, so its sets land there", async () => {
  const user = new ContextVar<string>("user");
  await runVirtual(function* () {
    const context = copyContext();
    yield* createTask(
      (function* () {
        user.set("alice");
      })(),
      { context },
    );
    assert.equal(context.get(user), "alice");
    assert.equal(user.get("nobody"), "nobody");
  });
});

test("Context.run makes its sets land in the context and cannot be entered twice", async () => {
  const counter = new ContextVar<number>("counter", { default: 0 });
  const context = new Context();
  context.run(() => counter.set(counter.get() + 1));
  context.run(() => counter.set(counter.get() + 1));
  assert.equal(context.get(counter), 2);
  assert.equal(counter.get(), 0);
  assert.throws(() => context.run(() => context.run(() => 0)), RuntimeError);
  assert.throws(() => context.run("nope" as never), TypeError);
});

test("a context is a read-only mapping of its variables", () => {
  const x = new ContextVar<number>("x");
  const context = new Context();
  context.run(() => x.set(5));
  assert.equal(context.size, 1);
  assert.ok(context.has(x));
  assert.deepEqual([...context.keys()], [x]);
  assert.deepEqual([...context.values()], [5]);
  assert.deepEqual([...context], [[x, 5]]);
  assert.equal(context.get(new ContextVar("y"), "d"), "d");
  assert.throws(() => context.get("x" as never), TypeError);
});

test("a copied context is independent of the original", () => {
  const x = new ContextVar<number>("x");
  const original = new Context();
  original.run(() => x.set(1));
  const copy = original.copy();
  copy.run(() => x.set(2));
  assert.equal(original.get(x), 1);
  assert.equal(copy.get(x), 2);
});

test("createTask refuses a context that is not a Context", async () => {
  await runVirtual(function* () {
    assert.throws(() => createTask(sleep(0), { context: {} as never }), TypeError);
  });
});

test("ContextVar refuses a name that is not a string", () => {
  assert.throws(() => new ContextVar(5 as never), TypeError);
});

test("ContextVar options that are not an object are a TypeError", () => {
  assert.throws(() => new ContextVar("bad", 5 as unknown as { default?: number }), TypeError);
  assert.throws(() => new ContextVar("bad", null as unknown as { default?: number }), TypeError);
});

test("a ContextVar shows its name, and its default when it has one", () => {
  assert.equal(inspect(new ContextVar("plain")), '<ContextVar name="plain">');
  assert.equal(inspect(new ContextVar("counted", { default: 3 })), '<ContextVar name="counted" default=3>');
});
