import assert from "node:assert/strict";
import { test } from "node:test";
import { createServer, connect, type AddressInfo } from "node:net";
import {
  EventLoop,
  RuntimeError,
  VirtualClock,
  createTask,
  fromPromise,
  getEventLoop,
  getRunningLoop,
  run,
  sleep,
  type Coro,
} from "../src/index.js";
import { runCapturing, runVirtual } from "./support.js";

test("callSoon callbacks run in FIFO order with their arguments", async () => {
  const calls = await runVirtual(function* () {
    const loop = getRunningLoop();
    const seen: string[] = [];
    for (const name of ["a", "b", "c"]) loop.callSoon((x: string, y: number) => seen.push(`${x}${y}`), name, 1);
    yield* sleep(0);
    return seen;
  });
  assert.deepEqual(calls, ["a1", "b1", "c1"]);
});

test("a callback scheduled during an iteration runs in the next iteration", async () => {
  const calls = await runVirtual(function* () {
    const loop = getRunningLoop();
    const seen: string[] = [];
    loop.callSoon(() => {
      seen.push("first");
      loop.callSoon(() => seen.push("scheduled by first"));
    });
    loop.callSoon(() => seen.push("second"));
    yield* sleep(0);
    seen.push("task resumed");
    yield* sleep(0);
    return seen;
  });
  assert.deepEqual(calls, ["first", "second", "task resumed", "scheduled by first"]);
});

test("a cancelled handle does not run", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    let ran = false;
    const handle = loop.callSoon(() => (ran = true));
    handle.cancel();
    assert.equal(handle.cancelled(), true);
    yield* sleep(0);
    assert.equal(ran, false);
  });
});

test("timers fire in deadline order", async () => {
  const order = await runVirtual(function* () {
    const loop = getRunningLoop();
    const seen: number[] = [];
    for (const d of [3, 1, 2]) loop.callLater(d, () => seen.push(d));
    yield* sleep(5);
    return seen;
  });
  assert.deepEqual(order, [1, 2, 3]);
});

test("timers with equal deadlines fire first-in first-out", async () => {
  const order = await runVirtual(function* () {
    const loop = getRunningLoop();
    const seen: number[] = [];
    const when = loop.time() + 1;
    for (let i = 0; i < 6; i++) loop.callAt(when, () => seen.push(i));
    yield* sleep(2);
    return seen;
  });
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
});

test("negative delays are allowed and still run in deadline order", async () => {
  const order = await runVirtual(function* () {
    const loop = getRunningLoop();
    const seen: string[] = [];
    loop.callLater(-1, () => seen.push("a"));
    loop.callLater(-2, () => seen.push("b"));
    yield* sleep(0);
    return seen;
  });
  assert.deepEqual(order, ["b", "a"]);
});

test("a cancelled timer does not fire", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    let fired = false;
    const timer = loop.callLater(1, () => (fired = true));
    assert.equal(timer.when(), loop.time() + 1);
    timer.cancel();
    yield* sleep(2);
    assert.equal(fired, false);
  });
});

test("cancelling most of many timers compacts the heap and keeps the rest in order", async () => {
  const order = await runVirtual(function* () {
    const loop = getRunningLoop();
    const seen: number[] = [];
    const timers = [];
    for (let i = 0; i < 1000; i++) timers.push(loop.callLater(1 + i / 1000, () => seen.push(i)));
    for (let i = 0; i < 1000; i++) if (i % 10 !== 0) timers[i]!.cancel();
    yield* sleep(3);
    return seen;
  });
  assert.deepEqual(order, Array.from({ length: 100 }, (_, k) => k * 10));
});

test("callLater with a non-number delay is a TypeError, with NaN a RangeError", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    assert.throws(() => loop.callLater(null as unknown as number, () => undefined), TypeError);
    assert.throws(() => loop.callLater(Number.NaN, () => undefined), RangeError);
  });
});

test("an error in a callback is reported to the exception handler and the loop keeps running", async () => {
  const outcome = await runCapturing(function* () {
    getRunningLoop().callSoon(function failing() {
      throw new Error("oops");
    });
    yield* sleep(1);
    return "alive";
  });
  assert.equal(outcome.value, "alive");
  assert.equal(outcome.reports.length, 1);
  assert.match(outcome.reports[0]!.message, /Exception in callback failing/);
});

test("an error in the exception handler itself does not kill the loop", async () => {
  const original = console.error;
  const logged: unknown[] = [];
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    const value = await run(
      function* () {
        const loop = getRunningLoop();
        loop.setExceptionHandler(() => {
          throw new Error("handler broke");
        });
        loop.callSoon(() => {
          throw new Error("callback broke");
        });
        yield* sleep(1);
        return "alive";
      },
      { clock: "virtual" },
    );
    assert.equal(value, "alive");
    assert.equal(logged.length, 1);
  } finally {
    console.error = original;
  }
});

test("a task spinning on sleep(0) does not starve Node timers, I/O or promise callbacks", async () => {
  const server = createServer((socket) => socket.end("hello"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const seen = await run(function* () {
      const events = new Set<string>();
      setTimeout(() => events.add("timer"), 0);
      setImmediate(() => events.add("immediate"));
      void Promise.resolve().then(() => events.add("promise"));
      const socket = connect(port, "127.0.0.1");
      socket.on("data", () => events.add("socket data"));
      socket.on("close", () => events.add("socket closed"));
      // Bounded so that a starving loop fails instead of hanging.
      for (let i = 0; i < 2_000_000 && events.size < 5; i++) yield* sleep(0);
      socket.destroy();
      return events;
    });
    assert.deepEqual([...seen].sort(), ["immediate", "promise", "socket closed", "socket data", "timer"]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test("getRunningLoop outside a running loop is a RuntimeError", () => {
  assert.throws(() => getRunningLoop(), RuntimeError);
  assert.throws(() => getEventLoop(), RuntimeError);
});

test("getEventLoop inside a coroutine is the running loop", async () => {
  await runVirtual(function* () {
    assert.equal(getEventLoop(), getRunningLoop());
  });
});

test("runUntilComplete returns the result of a coroutine", async () => {
  const loop = new EventLoop({ clock: new VirtualClock() });
  try {
    assert.equal(await loop.runUntilComplete(sleep(10, "ten")), "ten");
    assert.equal(loop.time(), 10);
  } finally {
    loop.close();
  }
});

test("runUntilComplete of a loop that is already running is a RuntimeError", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  try {
    const first = loop.runUntilComplete(sleep(1));
    await assert.rejects(loop.runUntilComplete(sleep(1)), RuntimeError);
    await first;
  } finally {
    loop.close();
  }
});

test("stop() before the future completes is a RuntimeError and leaves the task pending", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  function* main(): Coro<void> {
    for (let i = 0; i < 10; i++) {
      yield* sleep(0.1);
      if (i === 2) getRunningLoop().stop();
    }
  }
  const task = loop.createTask(main());
  await assert.rejects(loop.runUntilComplete(task), /Event loop stopped before Future completed/);
  assert.equal(task.done(), false);
  task.cancel();
  await assert.rejects(loop.runUntilComplete(task), { name: "CancelledError" });
  loop.close();
});

test("a closed loop refuses to schedule or run", async () => {
  const loop = new EventLoop();
  loop.close();
  assert.equal(loop.isClosed(), true);
  assert.throws(() => loop.callSoon(() => undefined), /Event loop is closed/);
  assert.throws(() => loop.callLater(1, () => undefined), /Event loop is closed/);
  await assert.rejects(loop.runUntilComplete(sleep(0)), /Event loop is closed/);
});

test("closing a running loop is a RuntimeError", async () => {
  await runVirtual(function* () {
    assert.throws(() => getRunningLoop().close(), /Cannot close a running event loop/);
  });
});

test("setExceptionHandler rejects non-functions", () => {
  const loop = new EventLoop();
  assert.throws(() => loop.setExceptionHandler(42 as unknown as null), TypeError);
  loop.close();
});

test("debug mode reports a step that blocks the loop longer than slowCallbackDuration", async () => {
  const outcome = await runCapturing(
    function* () {
      const loop = getRunningLoop();
      loop.slowCallbackDuration = 0;
      createTask(
        (function* () {
          yield* sleep(0);
        })(),
        { name: "busy" },
      );
      yield* sleep(0);
      yield* sleep(0);
    },
    { debug: true, clock: "real" },
  );
  assert.ok(outcome.reports.some((r) => /Executing .* took \d+\.\d+ seconds/.test(r.message)));
});

test("isRunning is true only while the loop runs", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  assert.equal(loop.isRunning(), false);
  const seen = await loop.runUntilComplete(
    (function* () {
      return getRunningLoop().isRunning();
    })(),
  );
  assert.equal(seen, true);
  assert.equal(loop.isRunning(), false);
  loop.close();
});

test("external work held open stops virtual time from jumping until it settles", async () => {
  const observed = await runVirtual(function* () {
    const loop = getRunningLoop();
    const sleeper = createTask(sleep(10));
    // A real-world wait of a few Node turns: time must not jump meanwhile.
    yield* fromPromise(new Promise<void>((resolve) => setImmediate(() => setImmediate(() => setImmediate(resolve)))));
    const at = loop.time();
    yield* sleeper;
    return [at, loop.time()];
  });
  assert.deepEqual(observed, [0, 10]);
});

test("a signal handler runs its callback through the loop and is removed at close", async () => {
  const before = process.listenerCount("SIGUSR2");
  const seen = await runVirtual(function* () {
    const loop = getRunningLoop();
    const got: string[] = [];
    loop.addSignalHandler("SIGUSR2", (tag: string) => got.push(tag), "usr2");
    process.kill(process.pid, "SIGUSR2");
    for (let i = 0; i < 100 && got.length === 0; i++) {
      yield* fromPromise(new Promise((resolve) => setImmediate(resolve)));
    }
    return got;
  });
  assert.deepEqual(seen, ["usr2"]);
  assert.equal(process.listenerCount("SIGUSR2"), before);
});

test("removeSignalHandler reports whether a handler was installed", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    assert.equal(loop.removeSignalHandler("SIGUSR2"), false);
    loop.addSignalHandler("SIGUSR2", () => undefined);
    assert.equal(loop.removeSignalHandler("SIGUSR2"), true);
    assert.throws(() => loop.addSignalHandler("NOTASIGNAL" as NodeJS.Signals, () => undefined), RangeError);
  });
});
