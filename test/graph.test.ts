import assert from "node:assert/strict";
import { test } from "node:test";
import { EventLoop, Queue, captureCallGraph, createTask, currentTask, formatCallGraph, gather, getRunningLoop, printCallGraph, sleep, taskGroup, waitFor, type Coro, type Task, wait } from "../src/index.js";
import { after, inHostBundle, runCapturing, runVirtual } from "./support.js";

test("the graph of a task blocked in gather shows the gather and its children", async () => {
  const text = await runVirtual(function* () {
    const worker = createTask(
      (function* (): Coro<unknown> {
        return yield* gather(after(5, "a"), after(10, "b"));
      })(),
      { name: "worker" },
    );
    yield* sleep(1);
    const graph = captureCallGraph(worker)!;
    assert.equal(graph.kind, "task");
    assert.equal(graph.awaits[0]!.kind, "gather");
    assert.equal(graph.awaits[0]!.awaits.length, 2);
    assert.deepEqual(graph.awaits[0]!.awaits.map((child) => child.awaits[0]?.deadline), [5, 10]);
    const rendered = formatCallGraph(graph, { now: getRunningLoop().time() });
    worker.cancel();
    yield* wait([worker]);
    assert.equal(worker.cancelled(), true);
    return rendered;
  });
  assert.match(text, /^\* Task "worker" \[pending\]\n {2}└─ gather of 2 \[pending\]\n {4}├─ Task "Task-\d+" \[pending\]\n {6}└─ sleep until 5\.000 \(in 4\.000 s\)/);
});

test("the graph shows who awaits a task", async () => {
  const text = await runVirtual(function* () {
    const inner = createTask(sleep(10), { name: "inner" });
    const outer = createTask(
      (function* (): Coro<void> {
        yield* inner;
      })(),
      { name: "outer" },
    );
    yield* sleep(1);
    const rendered = formatCallGraph(captureCallGraph(inner)!);
    outer.cancel();
    yield* wait([outer]);
    return rendered;
  });
  assert.match(text, /^\* Task "inner" \[pending\]\n {2}└─ sleep until 10\.000\nawaited by:\n {2}Task "outer" \[pending\]$/);
});

test("the graph of a task in waitFor shows the awaited task under its deadline", async () => {
  await runVirtual(function* () {
    const slow = createTask(sleep(100), { name: "slow" });
    const caller = createTask(waitFor(slow, 50), { name: "caller" });
    yield* sleep(1);
    const graph = captureCallGraph(caller)!;
    assert.equal(graph.awaits[0]!.kind, "task");
    assert.equal(graph.awaits[0]!.name, "slow");
    caller.cancel();
    yield* wait([caller]);
  });
});

test("the graph of a task in a TaskGroup and of one blocked on Queue.get", async () => {
  await runVirtual(function* () {
    const queue = new Queue<number>();
    const consumer = createTask(queue.get(), { name: "consumer" });
    const group = createTask(
      taskGroup(function* (tg) {
        tg.createTask(sleep(30), { name: "child" });
      }),
      { name: "group-owner" },
    );
    yield* sleep(1);
    const consumerGraph = captureCallGraph(consumer)!;
    assert.equal(consumerGraph.awaits[0]!.kind, "queue");
    assert.match(formatCallGraph(consumerGraph), /Task "consumer" \[pending\]\n {2}└─ waiting in Queue\.get\(\)/);
    const groupGraph = captureCallGraph(group)!;
    assert.equal(groupGraph.awaits[0]!.kind, "taskgroup");
    assert.match(formatCallGraph(groupGraph), /Task "group-owner" \[pending\]\n {2}└─ task group of 1 \[pending\]\n {4}└─ Task "child" \[pending\]\n {6}└─ sleep until 30\.000/);
    consumer.cancel();
    group.cancel();
    yield* wait([consumer, group]);
  });
});

test("captureCallGraph with no argument describes the current task", async () => {
  await runVirtual(function* () {
    assert.equal(captureCallGraph()!.kind, "task");
  });
});

test("debug mode warns when a cancelled task swallows its CancelledError", async () => {
  const outcome = await runCapturing(
    function* () {
      const swallower = createTask(
        (function* (): Coro<string> {
          try {
            yield* sleep(10);
          } catch {
            // swallowed without uncancel()
          }
          return "done anyway";
        })(),
        { name: "swallower" },
      );
      yield* sleep(1);
      swallower.cancel();
      yield* swallower;
    },
    { debug: true },
  );
  assert.equal(outcome.reports.length, 1);
  assert.match(outcome.reports[0]!.message, /Task "swallower" was cancelled but finished normally/);
});

test("no warning when the task uncancels, or when debug mode is off", async () => {
  for (const debug of [true, false]) {
    const outcome = await runCapturing(
      function* () {
        const task = createTask(
          (function* (): Coro<void> {
            try {
              yield* sleep(10);
            } catch {
              if (debug) assert.equal(currentTask()!.uncancel(), 0);
            }
          })(),
        );
        yield* sleep(1);
        task.cancel();
        yield* task;
      },
      { debug },
    );
    assert.deepEqual(outcome.reports, []);
  }
});

test("debug mode reports a pending task that was destroyed, with where it was created", async () => {
  const { collectGarbage } = await import("./support.js");
  const { fromPromise } = await import("../src/index.js");
  const outcome = await runCapturing(
    function* () {
      (function forget(): void {
        // Waits on a future nobody else holds: once this frame is gone, so is the task.
        const orphan = getRunningLoop().createFuture<void>();
        createTask(
          (function* (): Coro<void> {
            yield* orphan;
          })(),
          { name: "forgotten" },
        );
      })();
      yield* sleep(0);
      yield* sleep(0);
      // Collected at the first full collection on V8; Bun's collector scans the stack conservatively
      // and may keep it through one, so a few rounds until the report comes.
      const loop = getRunningLoop();
      const capture = loop.getExceptionHandler();
      let reported = false;
      loop.setExceptionHandler((l, context) => {
        if (context.message === "Task was destroyed but it is pending!") reported = true;
        if (capture !== null) capture(l, context);
      });
      for (let round = 0; round < 5 && !reported; round++) {
        yield* fromPromise(collectGarbage());
        yield* sleep(0);
      }
      loop.setExceptionHandler(capture);
    },
    { debug: true },
  );
  const report = outcome.reports.find((r) => r.message === "Task was destroyed but it is pending!");
  assert.ok(report, JSON.stringify(outcome.reports.map((r) => r.message)));
  assert.equal(report.taskName, "forgotten");
  assert.match(String(report.sourceTraceback), /task created here/);
});

test("the graph of a finished task and of a cancelled task shows their state", async () => {
  const [finished, cancelled] = await runVirtual(function* () {
    const done = createTask(sleep(1), { name: "done" });
    const stopped = createTask(sleep(10), { name: "stopped" });
    yield* done;
    stopped.cancel();
    yield* sleep(0);
    return [formatCallGraph(captureCallGraph(done)!), formatCallGraph(captureCallGraph(stopped)!)];
  });
  assert.equal(finished, '* Task "done" [finished]');
  assert.equal(cancelled, '* Task "stopped" [cancelled]');
});

test("in debug mode a task's node says where it was created", { skip: inHostBundle ? "in a bundle every frame is the bundle's file, so the library's own frames cannot be told apart by module" : false }, async () => {
  const outcome = await runCapturing(
    function* () {
      const worker = createTask(sleep(10), { name: "worker" });
      yield* sleep(1);
      const text = formatCallGraph(captureCallGraph(worker)!);
      worker.cancel();
      return text;
    },
    { debug: true },
  );
  assert.match(outcome.value as string, /^\* Task "worker" \[pending\] created at .*graph\.test\.ts:\d+:\d+/);
});

test("captureCallGraph outside a task, in a plain callback, is null", async () => {
  const graph = await runVirtual(function* () {
    const loop = getRunningLoop();
    const seen = loop.createFuture<unknown>();
    loop.callSoon(() => seen.setResult(captureCallGraph()));
    return yield* seen;
  });
  assert.equal(graph, null);
});

test("the awaited-by chain stops 65 levels above the task", async () => {
  const depth = await runVirtual(function* () {
    const bottom = createTask(sleep(10), { name: "bottom" });
    let top = bottom;
    for (let i = 0; i < 80; i++) {
      const below = top;
      top = createTask((function* (): Coro<void> { yield* below; })(), { name: `level-${i}` });
    }
    yield* sleep(1);
    let node = captureCallGraph(bottom)!;
    let levels = 0;
    while (node.awaitedBy.length > 0) {
      node = node.awaitedBy[0]!;
      levels++;
    }
    top.cancel();
    yield* wait([top]);
    return levels;
  });
  assert.equal(depth, 65);
});

test("two tasks awaiting each other each appear once in the awaited-by chain", async () => {
  // A deadlock that cancellation cannot undo (cancelling one cancels the other,
  // back and forth, as in CPython): run it on a loop of its own, closed without
  // cancelling anything.
  const loop = new EventLoop({ clock: "virtual" });
  const text = await loop.runUntilComplete(
    (function* (): Coro<string> {
      const tasks: Task<void>[] = [];
      const awaitOther = function* (other: number): Coro<void> {
        yield* sleep(0);
        yield* tasks[other]!;
      };
      tasks.push(createTask(awaitOther(1), { name: "a" }), createTask(awaitOther(0), { name: "b" }));
      yield* sleep(1);
      return formatCallGraph(captureCallGraph(tasks[0])!);
    })(),
  );
  loop.close();
  assert.equal(text, '* Task "a" [pending]\n  └─ Task "b" [pending]\n    └─ Task "a" [pending]\nawaited by:\n  Task "b" [pending]');
});

test("a task awaiting a plain future shows it as a Future node", async () => {
  const text = await runVirtual(function* () {
    const future = getRunningLoop().createFuture<void>();
    const waiter = createTask((function* (): Coro<void> { yield* future; })(), { name: "waiter" });
    yield* sleep(1);
    const rendered = formatCallGraph(captureCallGraph(waiter)!);
    future.setResult(undefined);
    yield* waiter;
    return rendered;
  });
  assert.equal(text, '* Task "waiter" [pending]\n  └─ Future [pending]');
});

test("printCallGraph writes the formatted graph of a task, with the time left to its sleeps, to the given file", async () => {
  const written = await runVirtual(function* () {
    const chunks: string[] = [];
    const worker = createTask(sleep(10), { name: "sleeper" });
    yield* sleep(4);
    printCallGraph(worker, { file: { write: (text: string) => chunks.push(text) } });
    worker.cancel();
    yield* wait([worker]);
    return chunks;
  });
  assert.deepEqual(written, ['* Task "sleeper" [pending]\n  └─ sleep until 10.000 (in 6.000 s)\n']);
});

test("printCallGraph without a future prints the current task's graph", async () => {
  const written = await runVirtual(function* () {
    const chunks: string[] = [];
    currentTask()!.setName("main");
    printCallGraph(undefined, { file: { write: (text: string) => chunks.push(text) } });
    yield* sleep(0);
    return chunks.join("");
  });
  assert.match(written, /^\* Task "main" \[pending\]\n$/);
});
