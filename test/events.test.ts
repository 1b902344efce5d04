import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { createServer, connect, type AddressInfo } from "node:net";
import {
  CancelledError,
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
  type Executor,
  type Future,
} from "../src/index.js";
import { runCapturing, runVirtual } from "./support.js";
import { forceInvariantChecks } from "../src/events.js";
import { setLoopRunning } from "../src/running-loop.js";

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

/** Runs `loop` until one Node macrotask after its first turn has passed. */
async function afterFirstTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

test("getRunningLoop while two loops run, outside either, says several are running", async () => {
  const a = new EventLoop({ clock: "virtual" });
  const b = new EventLoop({ clock: "virtual" });
  const runs = [a.runForever(), b.runForever()];
  try {
    assert.throws(() => getRunningLoop(), (e: unknown) => e instanceof RuntimeError && /several event loops are running/.test(e.message));
  } finally {
    a.stop();
    b.stop();
    await Promise.all(runs);
    a.close();
    b.close();
  }
});

test("getRunningLoop outside an iteration, while one loop runs, is that loop", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  const running = loop.runForever();
  try {
    assert.equal(getRunningLoop(), loop);
  } finally {
    loop.stop();
    await running;
    loop.close();
  }
});

test("ASYNCIO_TS_DEBUG turns debug mode on for new loops unless it is empty or 0", () => {
  const saved = process.env["ASYNCIO_TS_DEBUG"];
  try {
    const debugWith = (value: string): boolean => {
      process.env["ASYNCIO_TS_DEBUG"] = value;
      const loop = new EventLoop();
      loop.close();
      return loop.getDebug();
    };
    assert.equal(debugWith("1"), true);
    assert.equal(debugWith("0"), false);
    assert.equal(debugWith(""), false);
  } finally {
    if (saved === undefined) delete process.env["ASYNCIO_TS_DEBUG"];
    else process.env["ASYNCIO_TS_DEBUG"] = saved;
  }
});

test("a shuffling loop runs each ready batch in an order its seed reproduces", async () => {
  const orderFor = async (seed: number): Promise<number[]> => {
    const loop = new EventLoop({ clock: "virtual", shuffle: true, seed });
    try {
      assert.equal(loop.scheduleSeed, seed);
      const seen: number[] = [];
      for (let i = 0; i < 8; i++) loop.callSoon(() => seen.push(i));
      loop.callSoon(() => loop.stop());
      await loop.runForever();
      return seen;
    } finally {
      loop.close();
    }
  };
  const first = await orderFor(12345);
  assert.deepEqual(await orderFor(12345), first);
  assert.deepEqual([...first].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.notDeepEqual(first, [0, 1, 2, 3, 4, 5, 6, 7]);
});

test("a loop that does not shuffle has no schedule seed", () => {
  const loop = new EventLoop();
  assert.equal(loop.scheduleSeed, null);
  loop.close();
});

test("callSoon and callAt of something that is not a function are TypeErrors", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    assert.throws(() => loop.callSoon(42 as unknown as () => void), (e: unknown) => e instanceof TypeError && /callSoon\(\) takes a function, got number/.test(e.message));
    assert.throws(() => loop.callAt(1, "x" as unknown as () => void), (e: unknown) => e instanceof TypeError && /callAt\(\) takes a function, got string/.test(e.message));
  });
});

test("runForever of a loop that is already running is a RuntimeError", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  const running = loop.runForever();
  try {
    assert.throws(() => loop.runForever(), (e: unknown) => e instanceof RuntimeError && e.message === "This event loop is already running");
  } finally {
    loop.stop();
    await running;
    loop.close();
  }
});

test("runForever of another loop from inside a coroutine is a RuntimeError", async () => {
  const other = new EventLoop();
  try {
    await runVirtual(function* () {
      assert.throws(() => other.runForever(), /Cannot run the event loop while another loop is running/);
    });
  } finally {
    other.close();
  }
});

test("runUntilComplete of a future of another loop is a RuntimeError", async () => {
  const owner = new EventLoop();
  const loop = new EventLoop();
  try {
    await assert.rejects(loop.runUntilComplete(owner.createFuture<number>()), /The future belongs to a different loop/);
  } finally {
    owner.close();
    loop.close();
  }
});

test("runUntilComplete of something that is not awaitable is a TypeError", async () => {
  const loop = new EventLoop();
  try {
    await assert.rejects(loop.runUntilComplete(42 as unknown as Future<number>), TypeError);
  } finally {
    loop.close();
  }
});

test("runUntilComplete of a future of the loop returns its result", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  try {
    const future = loop.createFuture<string>();
    loop.callLater(1, () => future.setResult("set"));
    assert.equal(await loop.runUntilComplete(future), "set");
  } finally {
    loop.close();
  }
});

test("closing a closed loop does nothing", () => {
  const loop = new EventLoop();
  loop.close();
  loop.close();
  assert.equal(loop.isClosed(), true);
});

/** An executor that records its calls and settles shutdown as told. */
function fakeExecutor(shutdownOutcome: "resolve" | "reject"): Executor & { shutdowns: unknown[] } {
  const shutdowns: unknown[] = [];
  return {
    shutdowns,
    submit(): never {
      throw new Error("not used");
    },
    shutdown(options?: { wait?: boolean }): Promise<void> {
      shutdowns.push(options);
      return shutdownOutcome === "resolve" ? Promise.resolve() : Promise.reject(new Error("shutdown failed"));
    },
  };
}

test("closing a loop shuts its default executor down without waiting, ignoring a failure", async () => {
  const loop = new EventLoop();
  const executor = fakeExecutor("reject");
  loop.setDefaultExecutor(executor);
  loop.close();
  assert.deepEqual(executor.shutdowns, [{ wait: false }]);
  await afterFirstTurn(); // the rejection is handled, not unhandled
});

test("shutdownDefaultExecutor waits for the default executor to shut down", async () => {
  const executor = fakeExecutor("resolve");
  await runVirtual(function* () {
    const loop = getRunningLoop();
    loop.setDefaultExecutor(executor);
    yield* loop.shutdownDefaultExecutor();
    assert.throws(() => loop.runInExecutor(null, () => 1), /Executor shutdown has been called/);
  });
  assert.deepEqual(executor.shutdowns, [{ wait: true }]);
});

test("shutdownDefaultExecutor raises the error its executor's shutdown failed with", async () => {
  const message = await runVirtual(function* () {
    const loop = getRunningLoop();
    loop.setDefaultExecutor(fakeExecutor("reject"));
    try {
      yield* loop.shutdownDefaultExecutor();
    } catch (error) {
      return (error as Error).message;
    }
    return null;
  });
  assert.equal(message, "shutdown failed");
});

test("shutdownDefaultExecutor without a default executor returns at once", async () => {
  await runVirtual(function* () {
    yield* getRunningLoop().shutdownDefaultExecutor();
  });
});

test("addSignalHandler of something that is not a function is a TypeError", async () => {
  await runVirtual(function* () {
    assert.throws(() => getRunningLoop().addSignalHandler("SIGUSR2", 5 as unknown as () => void), TypeError);
    assert.equal(getRunningLoop().hasSignalHandler("SIGUSR2"), false);
  });
});

/** What `console.error` received while `body` ran. */
function capturingStderr(body: () => void): string[] {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    body();
  } finally {
    console.error = original;
  }
  return lines;
}

test("the default exception handler logs the message, every other field, then the exception", () => {
  const loop = new EventLoop();
  const error = new Error("boom");
  const [logged] = capturingStderr(() => loop.defaultExceptionHandler({ message: "It failed", exception: error, task: "T-1", extra: { id: 7 } } as never));
  loop.close();
  assert.equal(logged, `It failed\ntask: T-1\nextra: { id: 7 }\n${error.stack}`);
});

test("the default exception handler has a message of its own and shows a non-Error exception", () => {
  const loop = new EventLoop();
  const [logged] = capturingStderr(() => loop.defaultExceptionHandler({ message: "", exception: "just a string" }));
  loop.close();
  assert.equal(logged, "Unhandled exception in event loop\n'just a string'");
});

test("the default exception handler shows an Error without a stack by its string", () => {
  const loop = new EventLoop();
  const error = new Error("stackless");
  error.stack = undefined;
  const [logged] = capturingStderr(() => loop.defaultExceptionHandler({ message: "m", exception: error }));
  loop.close();
  assert.equal(logged, "m\nError: stackless");
});

test("without a handler installed, an error in a callback is logged by the default handler", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  const lines = await (async () => {
    const captured: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => captured.push(args.join(" "));
    try {
      loop.callSoon(function failing() {
        throw new Error("callback failed");
      });
      loop.callSoon(() => loop.stop());
      await loop.runForever();
    } finally {
      console.error = original;
      loop.close();
    }
    return captured;
  })();
  const ours = lines.filter((line) => line.startsWith("Exception in callback failing\n"));
  assert.equal(ours.length, 1);
  assert.match(ours[0]!, /callback failed/);
});

/** Runs a failing callback and then another on `loop` while console.error throws; whether the second ran. Closes the loop. */
async function laterCallbackRunsWithStderrGone(loop: EventLoop): Promise<boolean> {
  const original = console.error;
  console.error = () => {
    throw new Error("stderr is gone");
  };
  let after = false;
  try {
    loop.callSoon(() => {
      throw new Error("callback failed");
    });
    loop.callSoon(() => (after = true));
    loop.callSoon(() => loop.stop());
    await loop.runForever();
  } finally {
    console.error = original;
    loop.close();
  }
  return after;
}

test("a default handler that cannot log does not take the loop down", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  assert.equal(await laterCallbackRunsWithStderrGone(loop), true);
});

test("an error escaping the loop's own machinery stops runForever with that error", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  const broken = new Error("instrument failed");
  loop.instrument = {
    taskCreated: () => undefined,
    stepStarted: () => {
      throw broken;
    },
    stepEnded: () => undefined,
    taskDone: () => undefined,
  };
  try {
    loop.createTask(sleep(0));
    await assert.rejects(loop.runForever(), (e: unknown) => e === broken);
    assert.equal(loop.isRunning(), false);
  } finally {
    loop.close();
  }
});

test("stopping a real-clock loop that waits for a timer disarms the Node timer", async () => {
  const loop = new EventLoop();
  let fired = false;
  loop.callLater(3600, () => (fired = true));
  const running = loop.runForever();
  await afterFirstTurn(); // the first turn armed a Node timer for the hour
  loop.callSoon(() => undefined); // a turn that finds that Node timer still right
  await afterFirstTurn();
  loop.stop();
  await running;
  loop.close();
  assert.equal(fired, false);
});

test("a virtual-clock loop whose only timer is cancelled before time jumps stays where it is", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  let fired = false;
  const timer = loop.callLater(10, () => (fired = true));
  const running = loop.runForever();
  await afterFirstTurn(); // the first turn scheduled the jump
  timer.cancel();
  await afterFirstTurn(); // the jump found no live timer
  await afterFirstTurn();
  loop.stop();
  await running;
  loop.close();
  assert.equal(fired, false);
  assert.equal(loop.time(), 0);
});

test("a loop's repr shows its state, ready callbacks, timers and debug flag", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  loop.callSoon(() => undefined);
  loop.callLater(5, () => undefined);
  assert.equal(inspect(loop), "<EventLoop idle ready=1 timers=1 debug=false>");
  loop.callSoon(() => {
    assert.match(inspect(loop), /^<EventLoop running /);
    loop.stop();
  });
  await loop.runForever();
  loop.close();
  assert.equal(inspect(loop), "<EventLoop closed ready=0 timers=0 debug=false>");
});

test("an invalid clock option is a TypeError", () => {
  assert.throws(() => new EventLoop({ clock: "sundial" as "real" }), (e: unknown) => e instanceof TypeError && /clock must be "real", "virtual"/.test(e.message));
});

test("cancelling a handle twice is harmless, and a cancelled handle shows as cancelled", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const handle = loop.callSoon(function named() {});
    assert.equal(inspect(handle), "<Handle named>");
    handle.cancel();
    handle.cancel();
    assert.equal(inspect(handle), "<Handle cancelled>");
    const timer = loop.callLater(1, () => undefined);
    timer.cancel();
    timer.cancel();
    assert.equal(timer.cancelled(), true);
    assert.equal(inspect(loop.callSoon(() => undefined)), "<Handle <anonymous>>");
  });
});

test("a shuffling loop without a seed picks one, and a seed that is not an integer is a TypeError", () => {
  const loop = new EventLoop({ shuffle: true });
  loop.close();
  assert.ok(Number.isInteger(loop.scheduleSeed) && loop.scheduleSeed! >= 0 && loop.scheduleSeed! < 2 ** 32);
  assert.throws(() => new EventLoop({ shuffle: true, seed: 1.5 }), (e: unknown) => e instanceof TypeError && /seed must be an integer, got 1.5/.test(e.message));
});

test("a handler that fails while stderr fails too does not take the loop down", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  loop.setExceptionHandler(() => {
    throw new Error("handler failed");
  });
  assert.equal(await laterCallbackRunsWithStderrGone(loop), true);
});

test("getExceptionHandler returns the handler installed, and null for the default", () => {
  const loop = new EventLoop();
  const handler = (): void => undefined;
  assert.equal(loop.getExceptionHandler(), null);
  loop.setExceptionHandler(handler);
  assert.equal(loop.getExceptionHandler(), handler);
  loop.setExceptionHandler(null);
  assert.equal(loop.getExceptionHandler(), null);
  loop.close();
});

test("setDebug turns debug mode on and off", () => {
  const loop = new EventLoop({ debug: false });
  loop.setDebug(true);
  assert.equal(loop.getDebug(), true);
  loop.setDebug(false);
  assert.equal(loop.getDebug(), false);
  loop.close();
});

test("hasSignalHandler is true only while a handler for that signal is installed", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    assert.equal(loop.hasSignalHandler("SIGUSR2"), false);
    loop.addSignalHandler("SIGUSR2", () => undefined);
    assert.equal(loop.hasSignalHandler("SIGUSR2"), true);
    assert.equal(loop.hasSignalHandler("SIGUSR1"), false);
    loop.removeSignalHandler("SIGUSR2");
    assert.equal(loop.hasSignalHandler("SIGUSR2"), false);
  });
});

test("on the virtual clock a deadline within 1e-9 s is due even while the loop is busy, and time moves up to it", async () => {
  const clock = new VirtualClock(0.6);
  const loop = new EventLoop({ clock });
  try {
    const seen = await loop.runUntilComplete(
      (function* (): Coro<{ firedAt: number; spinsBefore: number }> {
        const fired = loop.createFuture<number>();
        let spins = 0;
        let spinsBefore = -1;
        loop.callAt(0.2 + 0.2 + 0.2, () => {
          spinsBefore = spins;
          fired.setResult(loop.time());
        });
        // Busy: virtual time never jumps while something is ready.
        while (!fired.done() && spins < 10) {
          spins++;
          yield* sleep(0);
        }
        return { firedAt: yield* fired, spinsBefore };
      })(),
    );
    // Due at the next iteration (after the spinner's step queued before it), not once the spinner gives up.
    assert.deepEqual(seen, { firedAt: 0.2 + 0.2 + 0.2, spinsBefore: 2 });
  } finally {
    loop.close();
  }
});

// --- invariants that check themselves ------------------------------------------

test("checkInvariants reports a cancelled-timer count that disagrees with the heap", () => {
  const loop = new EventLoop({ clock: "virtual" });
  loop.callLater(1, () => undefined).cancel();
  loop.checkInvariants();
  (loop as unknown as { cancelledTimerCount: number }).cancelledTimerCount = 0;
  assert.throws(() => loop.checkInvariants(), /broken event loop invariant: cancelledTimerCount is 0, the heap holds 1 cancelled timers/);
  (loop as unknown as { cancelledTimerCount: number }).cancelledTimerCount = 1;
  loop.close();
});

test("checkInvariants reports a timer heap out of deadline order", () => {
  const loop = new EventLoop({ clock: "virtual" });
  const early = loop.callLater(1, () => undefined);
  loop.callLater(2, () => undefined);
  early.deadline = 3;
  assert.throws(() => loop.checkInvariants(), /the timer heap is out of \(deadline, sequence\) order/);
  early.deadline = 1;
  loop.close();
});

test("checkInvariants reports a task queued twice in the ready queue", () => {
  const loop = new EventLoop({ clock: "virtual" });
  const task = loop.createTask(sleep(1));
  loop.checkInvariants();
  loop.pushReady(task);
  assert.throws(() => loop.checkInvariants(), /is in the ready queue 2 times/);
  loop.close();
});

test("checkInvariants reports a running loop missing from the running-loop registry", async () => {
  const message = await runVirtual(function* () {
    const loop = getRunningLoop();
    setLoopRunning(loop, false);
    try {
      loop.checkInvariants();
      return "no error";
    } catch (error) {
      return (error as Error).message;
    } finally {
      setLoopRunning(loop, true);
    }
  });
  assert.match(message, /running-loop registry: the loop is running but not registered/);
});

test("a debug-mode loop stops its run with the first invariant an iteration broke", async () => {
  const loop = new EventLoop({ clock: "virtual", debug: true });
  loop.callSoon(() => {
    (loop as unknown as { timeHolds: number }).timeHolds = -1;
  });
  await assert.rejects(loop.runUntilComplete(sleep(1)), /broken event loop invariant: timeHolds is -1/);
  (loop as unknown as { timeHolds: number }).timeHolds = 0;
  loop.close();
});

test("a loop outside debug mode and the test suite never checks its invariants", async () => {
  forceInvariantChecks(false);
  try {
    const loop = new EventLoop({ clock: "virtual", debug: false });
    loop.callSoon(() => {
      (loop as unknown as { timeHolds: number }).timeHolds = -1;
    });
    await loop.runUntilComplete(sleep(1));
    (loop as unknown as { timeHolds: number }).timeHolds = 0;
    loop.close();
  } finally {
    forceInvariantChecks(true);
  }
});

test("closing a loop leaves none of its timers marked as in its heap", () => {
  const loop = new EventLoop({ clock: "virtual", debug: false });
  const kept = loop.callLater(1, () => undefined);
  loop.callLater(2, () => undefined).cancel();
  loop.close();
  assert.equal(kept.inHeap, false);
  kept.cancel();
  loop.checkInvariants();
});

test("a turn that leaves a timer with nothing armed to wake the loop stops the run", async () => {
  const loop = new EventLoop({ clock: "real", debug: true });
  const waitForNextTimer = (loop as unknown as { waitForNextTimer: () => void }).waitForNextTimer;
  (loop as unknown as { waitForNextTimer: () => void }).waitForNextTimer = () => undefined;
  await assert.rejects(loop.runUntilComplete(sleep(0.001)), /nothing is armed to wake the loop for the timer due at/);
  (loop as unknown as { waitForNextTimer: () => void }).waitForNextTimer = waitForNextTimer;
  loop.close();
});

// --- holding virtual time for real work --------------------------------------------

test("a time hold keeps virtual time still until it is released, and a second release does nothing", async () => {
  const [held, after] = await runVirtual(function* () {
    const loop = getRunningLoop();
    const hold = loop.holdTime();
    let held = -1;
    // Two host turns: long enough for an idle loop to have jumped, far below the autojump threshold.
    setImmediate(() =>
      setImmediate(() => {
        held = loop.time();
        hold.release();
        hold.release();
      }),
    );
    yield* sleep(10);
    loop.checkInvariants();
    return [held, loop.time()];
  });
  assert.equal(held, 0);
  assert.equal(after, 10);
});

test("holdTimeFor settles the future with the promise's value", async () => {
  const value = await runVirtual(function* () {
    const loop = getRunningLoop();
    const future = loop.createFuture<number>();
    loop.holdTimeFor(Promise.resolve(5), future);
    return yield* future;
  });
  assert.equal(value, 5);
});

test("holdTimeFor cancels the future when the promise rejects with a CancelledError", async () => {
  const cancelled = await runVirtual(function* () {
    const loop = getRunningLoop();
    const future = loop.createFuture<number>();
    loop.holdTimeFor(Promise.reject(new CancelledError("from the promise")), future);
    try {
      yield* future;
      return false;
    } catch (error) {
      return error instanceof CancelledError && future.cancelled();
    }
  });
  assert.equal(cancelled, true);
});

test("holdTimeFor leaves a future alone once its loop has closed", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  const future = loop.createFuture<number>();
  let settle!: (value: number) => void;
  loop.holdTimeFor(new Promise<number>((resolve) => (settle = resolve)), future);
  loop.close();
  settle(3);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(future.done(), false);
});

// Each field's invariant, broken by hand on an idle loop: checkInvariants names it.
type LoopFields = {
  stopping: boolean;
  timeHolds: number;
  nodeTimerDeadline: number;
  jumpScheduled: boolean;
  timerSequence: number;
  closed: boolean;
  readyQueue: { push(item: unknown): void; shift(): unknown };
  timerHeap: { push(timer: unknown): void; pop(): unknown };
  liveTasks: { delete(task: unknown): boolean; add(task: unknown): void; count: number; entries: unknown[] };
};
const fieldsOf = (loop: EventLoop): LoopFields => loop as unknown as LoopFields;

const brokenInvariants: [string, RegExp, (loop: EventLoop, realLoop: EventLoop) => () => void][] = [
  ["stopping on a loop that is not running", /stopping is set on a loop that is not running/, (loop) => {
    fieldsOf(loop).stopping = true;
    return () => (fieldsOf(loop).stopping = false);
  }],
  ["a Node timer deadline without a Node timer", /nodeTimerDeadline disagrees with nodeTimer/, (loop) => {
    fieldsOf(loop).nodeTimerDeadline = 5;
    return () => (fieldsOf(loop).nodeTimerDeadline = Infinity);
  }],
  ["a time jump pending on a real clock", /a time jump is pending on a real clock/, (_loop, realLoop) => {
    fieldsOf(realLoop).jumpScheduled = true;
    return () => (fieldsOf(realLoop).jumpScheduled = false);
  }],
  ["a timer in the heap twice", /a timer is in the heap twice/, (loop) => {
    const timer = loop.callLater(1, () => undefined) as unknown;
    fieldsOf(loop).timerHeap.push(timer);
    return () => void fieldsOf(loop).timerHeap.pop();
  }],
  ["a timer in the heap with inHeap clear", /a timer in the heap has inHeap clear/, (loop) => {
    const timer = loop.callLater(1, () => undefined) as unknown as { inHeap: boolean };
    timer.inHeap = false;
    return () => (timer.inHeap = true);
  }],
  ["a timer sequence the loop never handed out", /a timer's sequence was not handed out by this loop/, (loop) => {
    loop.callLater(1, () => undefined);
    const saved = fieldsOf(loop).timerSequence;
    fieldsOf(loop).timerSequence = 0;
    return () => (fieldsOf(loop).timerSequence = saved);
  }],
  ["a timer both in the heap and ready", /a timer is both in the heap and in the ready queue/, (loop) => {
    const timer = loop.callLater(1, () => undefined) as unknown;
    fieldsOf(loop).readyQueue.push(timer);
    return () => void fieldsOf(loop).readyQueue.shift();
  }],
  ["a ready TimerHandle with inHeap set", /a ready TimerHandle has inHeap set/, (loop) => {
    const timer = loop.callLater(1, () => undefined);
    const fields = timer as unknown as { inHeap: boolean };
    fieldsOf(loop).timerHeap.pop();
    fieldsOf(loop).readyQueue.push(timer);
    return () => {
      fieldsOf(loop).readyQueue.shift();
      fields.inHeap = false;
    };
  }],
  ["a task of another loop in the ready queue", /is in the ready queue of another loop/, (loop, realLoop) => {
    const task = realLoop.createTask(sleep(1));
    fieldsOf(realLoop).readyQueue.shift();
    fieldsOf(loop).readyQueue.push(task);
    return () => {
      fieldsOf(loop).readyQueue.shift();
      fieldsOf(realLoop).readyQueue.push(task);
    };
  }],
  ["a ready task missing from the live-task list", /is ready but not in the live-task list/, (loop) => {
    const task = loop.createTask(sleep(1));
    fieldsOf(loop).liveTasks.delete(task);
    return () => fieldsOf(loop).liveTasks.add(task);
  }],
  ["a closed loop that still holds a timer", /a closed loop still holds callbacks or timers/, (loop) => {
    loop.callLater(1, () => undefined);
    fieldsOf(loop).closed = true;
    return () => (fieldsOf(loop).closed = false);
  }],
  ["a done task still in the ready queue", /is done but still in the ready queue/, (loop) => {
    const task = loop.createTask(sleep(1)) as unknown as { state: string };
    task.state = "finished";
    return () => (task.state = "pending");
  }],
  ["a live task of another loop", /is in the live-task list of another loop/, (loop, realLoop) => {
    const task = realLoop.createTask(sleep(1));
    fieldsOf(realLoop).liveTasks.delete(task);
    fieldsOf(loop).liveTasks.add(task);
    return () => {
      fieldsOf(loop).liveTasks.delete(task);
      fieldsOf(realLoop).liveTasks.add(task);
    };
  }],
  ["a live-task count that disagrees with its entries", /2 pending members listed, count says 3/, (loop) => {
    loop.createTask(sleep(1));
    loop.createTask(sleep(1));
    fieldsOf(loop).liveTasks.count = 3;
    return () => (fieldsOf(loop).liveTasks.count = 2);
  }],
  ["a pending task listed twice in the live-task set", /a pending member is listed twice/, (loop) => {
    const task = loop.createTask(sleep(1));
    fieldsOf(loop).liveTasks.entries.push(task);
    return () => void fieldsOf(loop).liveTasks.entries.pop();
  }],
];

for (const [what, message, breakIt] of brokenInvariants) {
  test(`checkInvariants reports ${what}`, () => {
    const loop = new EventLoop({ clock: "virtual" });
    const realLoop = new EventLoop({ clock: "real" });
    try {
      loop.checkInvariants();
      realLoop.checkInvariants();
      const repair = breakIt(loop, realLoop);
      assert.throws(() => {
        loop.checkInvariants();
        realLoop.checkInvariants();
      }, message);
      repair();
      loop.checkInvariants();
      realLoop.checkInvariants();
    } finally {
      loop.close();
      realLoop.close();
    }
  });
}
