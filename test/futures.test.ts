import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, EventLoop, Future, InvalidStateError, createTask, ensureFuture, getRunningLoop, sleep, type Coro, type ExceptionContext } from "../src/index.js";
import { collectGarbage, hostTurn, runCapturing, runVirtual, testHost } from "./support.js";

function* withFuture<T>(body: (future: Future<number>) => Coro<T>): Coro<T> {
  return yield* body(getRunningLoop().createFuture<number>());
}

test("a new future is neither done nor cancelled", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      assert.equal(future.done(), false);
      assert.equal(future.cancelled(), false);
    }),
  );
});

test("result() of a pending future throws InvalidStateError", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      assert.throws(() => future.result(), InvalidStateError);
      assert.throws(() => future.exception(), InvalidStateError);
    }),
  );
});

test("setResult finishes the future with that value", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      future.setResult(42);
      assert.equal(future.done(), true);
      assert.equal(future.result(), 42);
      assert.equal(future.exception(), null);
    }),
  );
});

test("a finished future refuses a second setResult, setException and cancel", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      future.setResult(1);
      assert.throws(() => future.setResult(2), InvalidStateError);
      assert.throws(() => future.setException(new Error("x")), InvalidStateError);
      assert.equal(future.cancel(), false);
      assert.equal(future.result(), 1);
    }),
  );
});

test("result() of a failed future throws the very exception object that was set", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      const error = new Error("boom");
      future.setException(error);
      assert.throws(
        () => future.result(),
        (e: unknown) => e === error,
      );
      assert.equal(future.exception(), error);
    }),
  );
});

test("setException with an error class stores an instance of it", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      future.setException(RangeError);
      assert.ok(future.exception() instanceof RangeError);
    }),
  );
});

test("setException refuses a CancelledError and undefined", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      assert.throws(() => future.setException(new CancelledError()), TypeError);
      assert.throws(() => future.setException(undefined), TypeError);
      assert.equal(future.done(), false);
    }),
  );
});

test("cancel() makes a pending future cancelled and returns true once", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      assert.equal(future.cancel(), true);
      assert.equal(future.cancelled(), true);
      assert.equal(future.done(), true);
      assert.equal(future.cancel(), false);
      assert.throws(() => future.result(), CancelledError);
      assert.throws(() => future.exception(), CancelledError);
      assert.throws(() => future.setResult(1), InvalidStateError);
    }),
  );
});

test("the cancel message reaches whoever awaits the future", async () => {
  const message = await runVirtual(() =>
    withFuture(function* (future) {
      future.cancel("my message");
      try {
        yield* future;
        return "not cancelled";
      } catch (error) {
        assert.ok(error instanceof CancelledError);
        return error.message;
      }
    }),
  );
  assert.equal(message, "my message");
});

test("done callbacks never run synchronously and run in registration order", async () => {
  const order = await runVirtual(() =>
    withFuture(function* (future) {
      const calls: string[] = [];
      future.addDoneCallback(() => calls.push("a"));
      future.addDoneCallback(() => calls.push("b"));
      future.setResult(1);
      calls.push("after setResult");
      yield* sleep(0);
      return calls;
    }),
  );
  assert.deepEqual(order, ["after setResult", "a", "b"]);
});

test("a callback added to a done future runs at the next iteration", async () => {
  const calls = await runVirtual(() =>
    withFuture(function* (future) {
      const seen: unknown[] = [];
      future.setResult(7);
      future.addDoneCallback((f) => seen.push(f.result()));
      assert.deepEqual(seen, []);
      yield* sleep(0);
      return seen;
    }),
  );
  assert.deepEqual(calls, [7]);
});

test("removeDoneCallback removes every registration and returns the count", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      const calls: string[] = [];
      const a = (): void => void calls.push("a");
      const b = (): void => void calls.push("b");
      future.addDoneCallback(a);
      future.addDoneCallback(b);
      future.addDoneCallback(a);
      assert.equal(future.removeDoneCallback(a), 2);
      assert.equal(future.removeDoneCallback(a), 0);
      future.setResult(1);
      yield* sleep(0);
      assert.deepEqual(calls, ["b"]);
    }),
  );
});

test("a callback that removes another during dispatch causes no error", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      const calls: string[] = [];
      const second = (): void => void calls.push("second");
      future.addDoneCallback(() => {
        calls.push("first");
        future.removeDoneCallback(second);
      });
      future.addDoneCallback(second);
      future.setResult(1);
      yield* sleep(0);
      // Callbacks were snapshotted at completion: both ran.
      assert.deepEqual(calls, ["first", "second"]);
    }),
  );
});

test("awaiting a done future returns at once without suspending", async () => {
  await runVirtual(() =>
    withFuture(function* (future) {
      future.setResult(42);
      const loop = getRunningLoop();
      let otherRan = false;
      loop.callSoon(() => (otherRan = true));
      assert.equal(yield* future, 42);
      assert.equal(yield* future, 42);
      assert.equal(otherRan, false);
    }),
  );
});

test("a future is thenable: native async code can await it", async () => {
  const value = await runVirtual(function* () {
    const loop = getRunningLoop();
    const future = loop.createFuture<number>();
    loop.callLater(1, () => future.setResult(5));
    const viaThen = (async () => (await future) * 2)();
    return yield* sleep(2, viaThen);
  });
  assert.equal(await value, 10);
});

test("awaiting a failed future from native code rejects with its exception", async () => {
  const error = new Error("nope");
  const settled = await runVirtual(function* () {
    const future = getRunningLoop().createFuture<number>();
    future.setException(error);
    const promise = Promise.resolve(future).then(
      () => "resolved",
      (e: unknown) => e,
    );
    yield* sleep(0);
    yield* sleep(0);
    return promise;
  });
  assert.equal(await settled, error);
});

test("new Future() outside a running loop throws RuntimeError", () => {
  assert.throws(() => new Future(), { name: "RuntimeError" });
});

test("getLoop() returns the loop the future belongs to", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    assert.equal(new Future().getLoop(), loop);
  });
});

test("an error thrown by a done callback is reported and the loop keeps going", async () => {
  const outcome = await runCapturing(() =>
    withFuture(function* (future) {
      future.addDoneCallback(() => {
        throw new Error("callback failed");
      });
      future.setResult(1);
      yield* sleep(0);
      return "still running";
    }),
  );
  assert.equal(outcome.value, "still running");
  assert.equal(outcome.reports.length, 1);
  assert.match(outcome.reports[0]!.message, /Exception in callback/);
  assert.equal((outcome.reports[0]!.exception as Error).message, "callback failed");
});

test("ensureFuture of a promise bridges it to a future", async () => {
  const value = await runVirtual(function* () {
    const future = ensureFuture(Promise.resolve("bridged"));
    assert.ok(future instanceof Future);
    return yield* future;
  });
  assert.equal(value, "bridged");
});

test("ensureFuture of a future with another loop given is a RangeError", async () => {
  const other = new EventLoop();
  try {
    await runVirtual(function* () {
      const future = getRunningLoop().createFuture<number>();
      assert.equal(ensureFuture(future, getRunningLoop()), future);
      assert.throws(() => ensureFuture(future, other), RangeError);
    });
  } finally {
    other.close();
  }
});

test("ensureFuture of a value that is not awaitable is a TypeError naming it", async () => {
  await runVirtual(function* () {
    assert.throws(() => ensureFuture(7 as unknown as Promise<number>), /got 7/);
  });
});

test("a future's repr shows it pending, with its waiters, cancelled, failed or finished", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const pending = loop.createFuture<number>();
    assert.equal(inspect(pending), "<Future pending>");
    pending.addDoneCallback(() => undefined);
    assert.equal(inspect(pending), "<Future pending waiters:1>");
    pending.addDoneCallback(() => undefined);
    assert.equal(inspect(pending), "<Future pending waiters:2>");
    pending.cancel();
    assert.equal(inspect(pending), "<Future cancelled>");
    const failed = loop.createFuture<number>();
    failed.setException(new Error("broke\nsecond line"));
    assert.equal(inspect(failed), "<Future finished exception=Error: broke>");
    failed.exception();
    const finished = loop.createFuture<number>();
    finished.setResult(42);
    assert.equal(inspect(finished), "<Future finished result=42>");
    yield* sleep(0);
  });
});

test("addDoneCallback of something that is not a function is a TypeError", async () => {
  await runVirtual(function* () {
    const future = getRunningLoop().createFuture<number>();
    assert.throws(() => future.addDoneCallback("cb" as unknown as () => void), (e: unknown) => e instanceof TypeError && /got string/.test(e.message));
  });
});

test("removeDoneCallback of a callback that was never added returns 0 and keeps the others", async () => {
  await runVirtual(function* () {
    const future = getRunningLoop().createFuture<number>();
    let ran = 0;
    assert.equal(future.removeDoneCallback(() => undefined), 0);
    future.addDoneCallback(() => ran++);
    assert.equal(future.removeDoneCallback(() => undefined), 0);
    const removed = (): void => {
      ran += 100;
    };
    future.addDoneCallback(removed);
    assert.equal(future.removeDoneCallback(removed), 1);
    future.setResult(1);
    yield* sleep(0);
    assert.equal(ran, 1);
  });
});

test("removing every registration of the only callback leaves none to run", async () => {
  await runVirtual(function* () {
    const future = getRunningLoop().createFuture<number>();
    let ran = 0;
    const callback = (): void => {
      ran++;
    };
    future.addDoneCallback(callback);
    future.addDoneCallback(callback);
    assert.equal(future.removeDoneCallback(callback), 2);
    future.setResult(1);
    const single = getRunningLoop().createFuture<number>();
    single.addDoneCallback(callback);
    assert.equal(single.removeDoneCallback(callback), 1);
    single.setResult(1);
    yield* sleep(0);
    assert.equal(ran, 0);
  });
});

test("awaiting a done future from native code after its loop stopped settles at once", async () => {
  const loop = new EventLoop();
  try {
    const future = loop.createFuture<string>();
    future.setResult("kept");
    assert.equal(await future, "kept");
    const failed = loop.createFuture<string>();
    failed.setException(new Error("kept failure"));
    await assert.rejects(Promise.resolve(failed), /kept failure/);
  } finally {
    loop.close();
  }
});

test(
  "a failed task nobody read is reported with its name, and in debug mode where it was created, when collected",
  { skip: testHost === "deno" ? "Deno runs FinalizationRegistry callbacks later than a forced collection and a few host turns" : false },
  async () => {
  const reports: ExceptionContext[] = [];
  const loop = new EventLoop({ clock: "virtual", debug: true });
  loop.setExceptionHandler((_loop, context) => reports.push(context));
  try {
    await loop.runUntilComplete(
      (function* (): Coro<void> {
        createTask(
          (function* (): Coro<void> {
            throw new Error("nobody reads this");
          })(),
          { name: "forgotten" },
        );
        yield* sleep(0);
        yield* sleep(0);
      })(),
    );
    const forgotten = (): ExceptionContext[] => reports.filter((report) => report["taskName"] === "forgotten");
    for (let i = 0; i < 5 && forgotten().length === 0; i++) {
      await collectGarbage();
      await loop.runUntilComplete(sleep(0));
    }
    assert.equal(forgotten().length, 1);
  } finally {
    loop.close();
  }
  const [report] = reports.filter((r) => r["taskName"] === "forgotten");
  assert.equal(report!.message, "Task exception was never retrieved");
  assert.equal((report!.exception as Error).message, "nobody reads this");
  assert.match(String(report!["sourceTraceback"]), /task created here/);
});

test("a future that fails after its loop closed, collected unread, is logged to stderr", async () => {
  const loop = new EventLoop();
  (() => {
    const future = loop.createFuture<number>();
    loop.close();
    future.setException(new Error("logged after close"));
  })();
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  // Other tests' unread failures may be collected now too: look for this one.
  const ours = (): string[] => lines.filter((line) => line.includes("logged after close"));
  try {
    for (let i = 0; i < 5 && ours().length === 0; i++) await collectGarbage();
  } finally {
    console.error = original;
  }
  assert.equal(ours().length, 1);
  assert.match(ours()[0]!, /^Future exception was never retrieved\n/);
});

test("a Future made without a loop outside a running loop is a RuntimeError", () => {
  assert.throws(() => new Future(), (e: unknown) => e instanceof Error && e.name === "RuntimeError" && e.message === "no running event loop");
});

// A loop on the virtual clock whose exception handler records every report.
function recordingLoop(options: { debug?: boolean } = {}): { loop: EventLoop; reports: ExceptionContext[] } {
  const reports: ExceptionContext[] = [];
  const loop = new EventLoop({ clock: "virtual", debug: options.debug ?? false });
  loop.setExceptionHandler((_loop, context) => reports.push(context));
  return { loop, reports };
}

function* failing(message: string): Coro<never> {
  yield* sleep(0);
  throw new Error(message);
}

test("a failed task nobody retrieves is reported when its loop closes, with the task, outside debug mode", async () => {
  const { loop, reports } = recordingLoop();
  let task: Future<never> | null = null;
  await loop.runUntilComplete(
    (function* (): Coro<void> {
      task = createTask(failing("lost in the background"), { name: "bg" });
      yield* sleep(1);
    })(),
  );
  assert.equal(reports.length, 0);
  loop.close();
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.message, "Task exception was never retrieved");
  assert.equal((reports[0]!.exception as Error).message, "lost in the background");
  assert.equal(reports[0]!.task, task);
});

test("a plain future failed and unread is reported at its loop's close as a Future", async () => {
  const { loop, reports } = recordingLoop();
  const future = loop.createFuture<number>();
  future.setException(new RangeError("unread"));
  loop.close();
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.message, "Future exception was never retrieved");
  assert.equal(reports[0]!.future, future);
  assert.ok(reports[0]!.exception instanceof RangeError);
});

test("an exception retrieved before the loop closes is not reported", async () => {
  const { loop, reports } = recordingLoop();
  const read = loop.createFuture<number>();
  read.setException(new Error("read with exception()"));
  assert.ok(read.exception() instanceof Error);
  const awaited = loop.createFuture<number>();
  awaited.setException(new Error("read with result()"));
  assert.throws(() => awaited.result(), /read with result/);
  loop.close();
  assert.deepEqual(reports, []);
});

test("the default handler writes a lost task's name and the error's stack to stderr at the close", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  await loop.runUntilComplete(
    (function* (): Coro<void> {
      createTask(failing("written at close"), { name: "bg-writer" });
      yield* sleep(1);
    })(),
  );
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    loop.close();
  } finally {
    console.error = original;
  }
  const ours = lines.filter((line) => line.includes("written at close"));
  assert.equal(ours.length, 1);
  assert.match(ours[0]!, /^Task exception was never retrieved\n/);
  assert.match(ours[0]!, /bg-writer/);
  assert.match(ours[0]!, /Error: written at close\n\s+at /);
});

test(
  "a failure reported when it was collected is not reported again at the close",
  { skip: testHost === "deno" ? "Deno runs FinalizationRegistry callbacks later than a forced collection and a few host turns" : false },
  async () => {
    const { loop, reports } = recordingLoop();
    (() => {
      loop.createFuture<number>().setException(new Error("collected first"));
    })();
    const ours = (): ExceptionContext[] => reports.filter((r) => (r.exception as Error).message === "collected first");
    for (let i = 0; i < 5 && ours().length === 0; i++) await collectGarbage();
    assert.equal(ours().length, 1);
    loop.close();
    assert.equal(ours().length, 1);
  },
);

// --- the closed-loop rule --------------------------------------------------------

test("a native await of a future settled after its loop closed resolves with its outcome", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  const future = loop.createFuture<number>();
  // then() now, while the future is pending (Promise.resolve would call it a microtask later).
  const awaited = future.then((value) => value);
  loop.close();
  future.setResult(7);
  assert.equal(await awaited, 7);
});

test("a native await of a future failed after its loop closed rejects with its exception", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  const future = loop.createFuture<number>();
  const awaited = future.then(
    () => "fulfilled",
    (error: unknown) => (error as Error).message,
  );
  loop.close();
  future.setException(new Error("late failure"));
  assert.equal(await awaited, "late failure");
});

test("settling a future after its loop closed drops its done-callbacks instead of throwing", async () => {
  const loop = new EventLoop({ clock: "virtual" });
  const future = loop.createFuture<number>();
  const calls: number[] = [];
  future.addDoneCallback((done) => calls.push(done.result()));
  loop.close();
  future.setResult(1);
  await hostTurn();
  assert.deepEqual(calls, []);
  assert.equal(future.result(), 1);
});
