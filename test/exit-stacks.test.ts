import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { AsyncExitStack, CancelledError, ThreadPoolExecutor, createTask, exitStack, fromPromise, sleep, type Coro } from "../src/index.js";
import { hostTurn, inHostBundle, runCapturing, runVirtual } from "./support.js";

test("an exit stack runs its cleanups last pushed first and returns the body's result", async () => {
  const trail: string[] = [];
  const result = await runVirtual(function* () {
    return yield* exitStack(function* (stack) {
      stack.callback(() => {
        trail.push("first pushed");
      });
      stack.callback(function* () {
        yield* sleep(1);
        trail.push("second pushed");
      });
      trail.push("body");
      return 42;
    });
  });
  assert.equal(result, 42);
  assert.deepEqual(trail, ["body", "second pushed", "first pushed"]);
});

test("an exit stack unwinds in LIFO order when the block is cancelled, awaiting each cleanup", async () => {
  const trail: string[] = [];
  await runVirtual(function* () {
    const task = createTask(exitStack(function* (stack) {
      for (const name of ["a", "b", "c"]) {
        stack.callback(function* () {
          yield* sleep(1);
          trail.push(name);
        });
      }
      yield* sleep(3600);
    }));
    yield* sleep(1);
    task.cancel();
    try {
      yield* task;
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
  });
  assert.deepEqual(trail, ["c", "b", "a"]);
});

test("use awaits Symbol.asyncDispose and calls Symbol.dispose on exit", async () => {
  const trail: string[] = [];
  await runVirtual(function* () {
    yield* exitStack(function* (stack) {
      const sync = stack.use({ [Symbol.dispose]: () => void trail.push("sync disposed") });
      const asynchronous = stack.use({
        [Symbol.asyncDispose]: async () => {
          await hostTurn();
          trail.push("async disposed");
        },
      });
      assert.ok(sync && asynchronous);
      yield* sleep(0);
    });
  });
  assert.deepEqual(trail, ["async disposed", "sync disposed"]);
});

test("the last error raised by a cleanup propagates, with the error it replaced as its cause", async () => {
  const outcome = await runCapturing(function* () {
    yield* exitStack(function* (stack) {
      stack.callback(() => {
        throw new Error("cleanup 1");
      });
      stack.callback(() => {
        throw new Error("cleanup 2");
      });
      throw new Error("body");
    });
  });
  const error = outcome.error as Error;
  assert.equal(error.message, "cleanup 1");
  assert.equal((error.cause as Error).message, "cleanup 2");
  assert.equal(((error.cause as Error).cause as Error).message, "body");
});

test("the body's error propagates when every cleanup succeeds", async () => {
  const body = new Error("body");
  const trail: string[] = [];
  const outcome = await runCapturing(function* () {
    yield* exitStack(function* (stack) {
      stack.callback(() => void trail.push("cleaned"));
      throw body;
    });
  });
  assert.equal(outcome.error, body);
  assert.deepEqual(trail, ["cleaned"]);
});

test("popAll moves the cleanups to a new stack, so the block's end leaves them for later", async () => {
  const trail: string[] = [];
  await runVirtual(function* () {
    const kept = yield* exitStack(function* (stack) {
      stack.callback(() => void trail.push("released"));
      return stack.popAll();
    });
    trail.push("block ended");
    yield* kept.aclose();
  });
  assert.deepEqual(trail, ["block ended", "released"]);
});

test("a cleanup may return a promise or a future, which is awaited", async () => {
  const trail: string[] = [];
  await runVirtual(function* (): Coro<void> {
    const stack = new AsyncExitStack();
    stack.callback(() => fromPromise(Promise.resolve().then(() => void trail.push("future"))));
    stack.callback(() => Promise.resolve().then(() => void trail.push("promise")));
    yield* stack.aclose();
    yield* stack.aclose();
  });
  assert.deepEqual(trail, ["promise", "future"]);
});

test("bad arguments are TypeErrors", async () => {
  const stack = new AsyncExitStack();
  assert.throws(() => stack.callback(5 as never), TypeError);
  assert.throws(() => stack.use({} as never), TypeError);
  assert.throws(() => stack.use(null as never), TypeError);
  const outcome = await runCapturing(function* () {
    yield* exitStack("body" as never);
  });
  assert.ok(outcome.error instanceof TypeError);
  const returnedNumber = await runCapturing(function* () {
    yield* exitStack((() => 5) as never);
  });
  assert.ok(returnedNumber.error instanceof TypeError);
});

test("an executor held by an exit stack is shut down when the block ends", { skip: inHostBundle ? "a bundle carries no executor worker entry file" : false }, async () => {
  const outcome = await runCapturing(
    function* () {
      let pool: ThreadPoolExecutor | undefined;
      const doubled = yield* exitStack(function* (stack) {
        pool = stack.use(new ThreadPoolExecutor({ maxWorkers: 1 }));
        return yield* pool.submit((x: number) => x * 2, 21);
      });
      assert.throws(() => pool!.submit((x: number) => x, 1), /shut ?down/i);
      return doubled;
    },
    { clock: "real" },
  );
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, 42);
});

test("use() of a value that is not an object names its type", () => {
  const stack = new AsyncExitStack();
  assert.throws(() => stack.use(5 as never), (e: unknown) => e instanceof TypeError && /got number$/.test(e.message));
  assert.throws(() => stack.use(null as never), (e: unknown) => e instanceof TypeError && /got null$/.test(e.message));
});

test("use() accepts a function that is disposable", async () => {
  const trail: string[] = [];
  await runVirtual(function* () {
    const disposable = Object.assign(() => undefined, { [Symbol.dispose]: () => void trail.push("function disposed") });
    yield* exitStack(function* (stack) {
      assert.equal(stack.use(disposable), disposable);
    });
  });
  assert.deepEqual(trail, ["function disposed"]);
});

test("a cleanup that re-raises the body's error leaves it without itself as its cause", async () => {
  const body = new Error("body");
  const outcome = await runCapturing(function* () {
    yield* exitStack(function* (stack) {
      stack.callback(() => {
        throw body;
      });
      throw body;
    });
  });
  assert.equal(outcome.error, body);
  assert.equal(body.cause, undefined);
});

test("a cleanup raising a non-object, or an error with a cause already, keeps it as raised", async () => {
  const withCause = new Error("has a cause", { cause: "its own" });
  const outcome = await runCapturing(function* () {
    yield* exitStack(function* (stack) {
      stack.callback(() => {
        throw withCause;
      });
      stack.callback(() => {
        throw "a string";
      });
      throw new Error("body");
    });
  });
  assert.equal(outcome.error, withCause);
  assert.equal(withCause.cause, "its own");
});

test("a frozen error raised by a cleanup keeps what it has", async () => {
  const frozen = Object.freeze(new Error("frozen"));
  const outcome = await runCapturing(function* () {
    yield* exitStack(function* (stack) {
      stack.callback(() => {
        throw frozen;
      });
      throw new Error("body");
    });
  });
  assert.equal(outcome.error, frozen);
  assert.equal(frozen.cause, undefined);
});

test("an exit stack's repr counts its cleanups", () => {
  const stack = new AsyncExitStack();
  assert.equal(inspect(stack), "<AsyncExitStack cleanups=0>");
  stack.callback(() => undefined);
  assert.equal(inspect(stack), "<AsyncExitStack cleanups=1>");
});
