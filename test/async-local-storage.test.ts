import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { test } from "node:test";
import {
  createTask,
  fromPromise,
  gather,
  sleep,
  taskGroup,
  toThread,
  waitFor,
  type Coro,
} from "../src/index.js";
import { runVirtual } from "./support.js";

// An OpenTelemetry-style context: one storage holding an immutable span object.
const spans = new AsyncLocalStorage<{ span: string }>();

function current(): string {
  return spans.getStore()?.span ?? "none";
}

test("a task created inside als.run sees that store, whichever task stepped first", async () => {
  const seen = await runVirtual(function* () {
    function* report(): Coro<string> {
      yield* sleep(0);
      return current();
    }
    const a = spans.run({ span: "a" }, () => createTask(report()));
    const b = spans.run({ span: "b" }, () => createTask(report()));
    return [yield* a, yield* b, current()];
  });
  assert.deepEqual(seen, ["a", "b", "none"]);
});

test("the store of a task survives sleep, gather, TaskGroup, waitFor, fromPromise and an executor call", async () => {
  const seen = await runVirtual(function* () {
    function* request(name: string): Coro<string[]> {
      const log: string[] = [];
      yield* sleep(1);
      log.push(current());
      yield* gather(sleep(1), sleep(2));
      log.push(current());
      yield* taskGroup(function* (tg) {
        tg.createTask(sleep(1));
      });
      log.push(current());
      yield* waitFor(sleep(1), 10);
      log.push(current());
      yield* fromPromise(new Promise((resolve) => setImmediate(resolve)));
      log.push(current());
      yield* toThread((x: number) => x * 2, 21);
      log.push(current());
      assert.ok(log.every((span) => span === name), `${name}: ${log.join(",")}`);
      return log;
    }
    const first = spans.run({ span: "first" }, () => createTask(request("first")));
    const second = spans.run({ span: "second" }, () => createTask(request("second")));
    return [...(yield* first), ...(yield* second)];
  });
  assert.equal(seen.length, 12);
});

test("children of a task inherit its store; an enterWith inside a task stays in that task", async () => {
  const seen = await runVirtual(function* () {
    function* child(): Coro<string> {
      yield* sleep(0);
      return current();
    }
    function* parent(): Coro<string[]> {
      spans.enterWith({ span: "parent-entered" });
      yield* sleep(1);
      const inherited = yield* createTask(child());
      return [inherited, current()];
    }
    const sibling = createTask((function* () {
      yield* sleep(2);
      return current();
    })());
    const result = yield* spans.run({ span: "outer" }, () => createTask(parent()));
    return [...result, yield* sibling];
  });
  assert.deepEqual(seen, ["parent-entered", "parent-entered", "none"]);
});
