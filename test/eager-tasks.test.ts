// Eager tasks, after CPython 3.13's Lib/test/test_asyncio/test_eager_task_factory.py
// (our own code and cases: each test names the CPython case it follows).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ContextVar,
  EventLoop,
  allTasks,
  copyContext,
  createTask,
  currentTask,
  eagerTaskFactory,
  gather,
  getRunningLoop,
  sleep,
  taskGroup,
  type Coro,
  type Task,
} from "../src/index.js";
import { runVirtual } from "./support.js";

function* withEagerFactory<T>(body: () => Coro<T>): Coro<T> {
  getRunningLoop().setTaskFactory(eagerTaskFactory);
  return yield* body();
}

test("test_eager_task_factory_set: the loop reports the factory it was given", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    assert.equal(loop.getTaskFactory(), null);
    loop.setTaskFactory(eagerTaskFactory);
    assert.equal(loop.getTaskFactory(), eagerTaskFactory);
    loop.setTaskFactory(null);
    assert.equal(loop.getTaskFactory(), null);
    assert.throws(() => loop.setTaskFactory("eager" as never), TypeError);
  });
});

test("test_eager_completion: a coroutine that finishes without suspending gives a task that is already done", async () => {
  await runVirtual(() => withEagerFactory(function* () {
    const task = createTask((function* () {
      return "done at once";
    })());
    assert.ok(task.done());
    assert.equal(task.result(), "done at once");
    assert.equal(yield* task, "done at once");
  }));
});

test("test_eager_start_true: createTask(coro, { eagerStart: true }) runs the first step before createTask returns, without a factory", async () => {
  const events: string[] = [];
  await runVirtual(function* () {
    const task = createTask((function* () {
      events.push("first step");
      yield* sleep(0);
      events.push("second step");
    })(), { eagerStart: true });
    events.push("after createTask");
    assert.equal(task.done(), false);
    yield* task;
  });
  assert.deepEqual(events, ["first step", "after createTask", "second step"]);
});

test("test_current_task: currentTask() is the eager task during its first step, and the creator again after", async () => {
  await runVirtual(() => withEagerFactory(function* () {
    const creator = currentTask();
    let inside: Task<unknown> | null = null;
    const task = createTask((function* () {
      inside = currentTask();
      return 1;
    })());
    assert.equal(inside, task);
    assert.equal(currentTask(), creator);
  }));
});

test("test_all_tasks_with_eager_completion: an eager task is registered during its first step and gone once done", async () => {
  await runVirtual(() => withEagerFactory(function* () {
    let registered = false;
    const task = createTask((function* () {
      registered = allTasks().has(currentTask()!);
      return 0;
    })());
    assert.ok(registered);
    assert.equal(allTasks().has(task), false);
  }));
});

test("test_eager_task_callbacks: done callbacks of an eagerly finished task still run through the loop, not at once", async () => {
  const events: string[] = [];
  await runVirtual(() => withEagerFactory(function* () {
    const task = createTask((function* () {
      return 5;
    })());
    task.addDoneCallback(() => events.push("callback"));
    events.push("added");
    yield* sleep(0);
    events.push("after a turn");
  }));
  assert.deepEqual(events, ["added", "callback", "after a turn"]);
});

test("test_eager_exception: an error in the first step finishes the task with that error", async () => {
  await runVirtual(() => withEagerFactory(function* () {
    const boom = new Error("boom");
    const task = createTask((function* (): Coro<never> {
      throw boom;
    })());
    assert.ok(task.done());
    assert.equal(task.exception(), boom);
  }));
});

test("test_suspended_eager_task: an eager task that suspends carries on as a normal task", async () => {
  const result = await runVirtual(() => withEagerFactory(function* () {
    const task = createTask((function* () {
      yield* sleep(5);
      return "later";
    })(), { name: "sleeper" });
    assert.equal(task.getName(), "sleeper");
    assert.equal(task.done(), false);
    assert.ok(allTasks().has(task));
    return yield* task;
  }));
  assert.equal(result, "later");
});

test("test_cancel_suspended_eager_task: cancelling an eager task waiting after its first step cancels it", async () => {
  await runVirtual(() => withEagerFactory(function* () {
    const task = createTask(sleep(100));
    task.cancel();
    yield* sleep(0);
    assert.ok(task.cancelled());
  }));
});

test("test_context_vars: an eager task runs in a copy of the context, or in the one it is given", async () => {
  const level = new ContextVar<number>("level", { default: 0 });
  await runVirtual(() => withEagerFactory(function* () {
    level.set(1);
    const task = createTask((function* () {
      const seen = level.get();
      level.set(2);
      return seen;
    })());
    assert.equal(task.result(), 1);
    assert.equal(level.get(), 1);
    const context = copyContext();
    createTask((function* () {
      level.set(3);
    })(), { context });
    assert.equal(context.get(level), 3);
  }));
});

test("gather and TaskGroup work with eager tasks, finished or not", async () => {
  const results = await runVirtual(() => withEagerFactory(function* () {
    function* quick(i: number): Coro<number> {
      return i;
    }
    function* slow(i: number): Coro<number> {
      yield* sleep(i);
      return i * 10;
    }
    const gathered = yield* gather(quick(1), slow(2), quick(3));
    const grouped = yield* taskGroup(function* (tg) {
      const a = tg.createTask(quick(4));
      const b = tg.createTask(slow(1));
      yield* sleep(0);
      return [a, b];
    });
    return [...gathered, ...grouped.map((t) => t.result())];
  }));
  assert.deepEqual(results, [1, 20, 3, 4, 10]);
});

test("eagerStart is ignored while the loop is not running: the task starts with the loop", async () => {
  const loop = new EventLoop();
  let started = false;
  const task = loop.createTask((function* () {
    started = true;
  })(), { eagerStart: true });
  assert.equal(started, false);
  await loop.runUntilComplete(task);
  assert.ok(started);
  loop.close();
});
