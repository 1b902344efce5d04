/**
 * AsyncLocalStorage stores entered before asyncio-ts was loaded: the module's
 * tripwire on `run`/`enterWith` cannot see them, so `trackAsyncLocalStorage()`
 * turns store capture on. This file loads the library only after entering
 * stores, so it runs in a process of its own (as every test file does).
 */
import assert from "node:assert/strict";
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { test } from "node:test";

const spans = new AsyncLocalStorage<string>();
// Two callers bound to different stores, made before the library is loaded
// (as a framework's request scopes would be).
const inA = spans.run("a", () => AsyncResource.bind((body: () => void) => body()));
const inB = spans.run("b", () => AsyncResource.bind((body: () => void) => body()));

const { createTask, getRunningLoop, sleep, trackAsyncLocalStorage } = await import("../src/index.js");
const { runVirtual } = await import("./support.js");
type Coro<T> = import("../src/index.js").Coro<T>;
type Task<T> = import("../src/index.js").Task<T>;

function* report(): Coro<string> {
  yield* sleep(1);
  return spans.getStore() ?? "none";
}

test("after trackAsyncLocalStorage, tasks keep stores entered before asyncio-ts was loaded", async () => {
  trackAsyncLocalStorage();
  trackAsyncLocalStorage(); // a second call changes nothing
  const seen = await runVirtual(function* () {
    let a: Task<string> | null = null;
    let b: Task<string> | null = null;
    inA(() => (a = createTask(report())));
    inB(() => (b = createTask(report())));
    return [yield* a!, yield* b!];
  });
  assert.deepEqual(seen, ["a", "b"]);
});

test("an enterWith inside a task, the program's first, stays in that task", async () => {
  const seen = await runVirtual(function* () {
    const entering = createTask(
      (function* (): Coro<string> {
        spans.enterWith("entered");
        return yield* report();
      })(),
    );
    const sibling = createTask(report());
    return [yield* entering, yield* sibling];
  });
  assert.notEqual(seen[1], "entered");
  assert.deepEqual(seen[0], "entered");
});

test("a loop's instrument sees the steps of a task that carries a store", async () => {
  const seen = await runVirtual(function* () {
    const loop = getRunningLoop();
    const steps: string[] = [];
    loop.instrument = {
      taskCreated: () => undefined,
      stepStarted: () => steps.push(`started:${spans.getStore() ?? "none"}`),
      stepEnded: () => steps.push(`ended:${spans.getStore() ?? "none"}`),
      taskDone: () => undefined,
    };
    let value: string;
    try {
      let task: Task<string> | null = null;
      inA(() => (task = createTask(report())));
      value = yield* task!;
    } finally {
      loop.instrument = null;
    }
    return { value, steps: steps.slice(0, 2) };
  });
  assert.equal(seen.value, "a");
  assert.equal(seen.steps.length, 2);
});
