import assert from "node:assert/strict";
import { test } from "node:test";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { CancelledError, ContextVar, Runner, RuntimeError, allTasks, createTask, currentTask, fromPromise, getRunningLoop, run, sleep, type Coro, type Task } from "../src/index.js";
import { collectGarbage, runCapturing, testHost } from "./support.js";

test("run resolves with main's result", async () => {
  assert.equal(await run(function* () {
    yield* sleep(0);
    return "result";
  }), "result");
});

test("run accepts a coroutine object as well as a generator function", async () => {
  function* main(): Coro<number> {
    return 3;
  }
  assert.equal(await run(main()), 3);
});

test("run rejects with main's exception, the very same object with its stack", async () => {
  const error = new Error("original");
  await assert.rejects(
    run(function* (): Coro<void> {
      yield* sleep(0);
      throw error;
    }),
    (e: unknown) => e === error && typeof (e as Error).stack === "string",
  );
});

test("run of something that is not a coroutine is a TypeError", () => {
  assert.throws(() => run((() => 42) as unknown as () => Coro<number>), TypeError);
});

test("run cancels tasks still alive when main returns, and their finally blocks run", async () => {
  const trail: string[] = [];
  await run(
    function* () {
      createTask(
        (function* (): Coro<void> {
          try {
            yield* sleep(3600);
          } catch (e) {
            trail.push(e instanceof CancelledError ? "cancelled" : "other");
            throw e;
          } finally {
            trail.push("finally");
          }
        })(),
      );
      yield* sleep(0);
      return "main done";
    },
    { clock: "virtual" },
  );
  assert.deepEqual(trail, ["cancelled", "finally"]);
});

test("a leftover task that fails while being cancelled at shutdown is reported", async () => {
  const outcome = await runCapturing(function* () {
    createTask(
      (function* (): Coro<void> {
        try {
          yield* sleep(3600);
        } finally {
          // eslint-disable-next-line no-unsafe-finally -- the failure under test
          throw new Error("cleanup failed");
        }
      })(),
    );
    yield* sleep(0);
  });
  assert.equal(outcome.reports.length, 1);
  assert.match(outcome.reports[0]!.message, /unhandled exception during asyncio.run\(\) shutdown/);
});

test("run from inside a coroutine is a RuntimeError", async () => {
  const error = await run(function* () {
    try {
      void run(function* () {
        return 1;
      });
    } catch (e) {
      return e;
    }
    return null;
  });
  assert.ok(error instanceof RuntimeError);
});

test("the loop is closed after run", async () => {
  let loop: ReturnType<typeof getRunningLoop> | null = null;
  await run(function* () {
    loop = getRunningLoop();
  });
  assert.equal(loop!.isClosed(), true);
});

test("two runs may follow each other, each with a fresh loop", async () => {
  const loops: unknown[] = [];
  for (let i = 0; i < 2; i++) {
    await run(function* () {
      loops.push(getRunningLoop());
    });
  }
  assert.notEqual(loops[0], loops[1]);
});

test(
  "a failed task nobody looks at is reported as never retrieved when collected",
  { skip: testHost === "deno" ? "Deno runs FinalizationRegistry callbacks later than a forced collection and a few host turns" : false },
  async () => {
  const outcome = await runCapturing(function* () {
    (function spawnAndForget() {
      createTask(
        (function* (): Coro<void> {
          throw new Error("lost");
        })(),
      );
    })();
    yield* sleep(0);
    yield* sleep(0);
    yield* waitForGarbageCollection();
  });
  const report = outcome.reports.find((r) => /Task exception was never retrieved/.test(r.message));
  assert.ok(report, "expected a never-retrieved report");
  assert.equal((report.exception as Error).message, "lost");
});

test("a failed task whose exception was read is not reported", async () => {
  const outcome = await runCapturing(function* () {
    const task: Task<void> = createTask(
      (function* (): Coro<void> {
        throw new Error("seen");
      })(),
    );
    yield* sleep(0);
    assert.equal(task.exception()?.message, "seen");
    yield* waitForGarbageCollection();
  });
  assert.deepEqual(outcome.reports, []);
});

function* waitForGarbageCollection(): Coro<void> {
  // The forgotten task is unreachable now: collect it and let its finalizer run.
  yield* fromPromise(collectGarbage());
  yield* sleep(0);
}

test("allTasks is empty after run", async () => {
  let loop: ReturnType<typeof getRunningLoop> | null = null;
  await run(function* () {
    loop = getRunningLoop();
    createTask(sleep(100));
  });
  assert.equal(allTasks(loop!).size, 0);
});

test("a Runner runs three mains one after another on one loop", async () => {
  const runner = new Runner({ clock: "virtual" });
  const loops: unknown[] = [];
  for (const value of [1, 2, 3]) {
    const got = await runner.run(function* () {
      loops.push(getRunningLoop());
      yield* sleep(10);
      return value * 10;
    });
    assert.equal(got, value * 10);
  }
  assert.equal(new Set(loops).size, 1);
  assert.equal(loops[0], runner.getLoop());
  await runner.close();
  assert.throws(() => runner.getLoop(), RuntimeError);
});

test("the run calls of a Runner share its context, so a ContextVar set in one is seen by the next", async () => {
  const user = new ContextVar<string>("user", { default: "nobody" });
  await using runner = new Runner({ clock: "virtual" });
  await runner.run(function* () {
    user.set("alice");
    yield* sleep(0);
  });
  const seen = await runner.run(function* () {
    yield* sleep(0);
    return user.get();
  });
  assert.equal(seen, "alice");
  assert.equal(user.get(), "nobody");
});

test("closing a Runner cancels the tasks its runs left behind", async () => {
  const trail: string[] = [];
  const runner = new Runner({ clock: "virtual" });
  await runner.run(function* () {
    createTask((function* (): Coro<void> {
      try {
        yield* sleep(3600);
      } finally {
        trail.push("leftover cancelled");
      }
    })());
    yield* sleep(0);
  });
  assert.deepEqual(trail, []);
  await runner.close();
  assert.deepEqual(trail, ["leftover cancelled"]);
  await runner.close();
  await assert.rejects(runner.run(sleep(0)), RuntimeError);
});

test("a Runner refuses a second run while one is in progress", async () => {
  await using runner = new Runner({ clock: "virtual" });
  const first = runner.run(function* () {
    yield* sleep(1);
  });
  await assert.rejects(runner.run(sleep(0)), RuntimeError);
  await first;
});

test("a Runner's options are checked", () => {
  assert.throws(() => new Runner({ handleSignals: "yes" as never }), TypeError);
  assert.throws(() => new Runner(null as never), TypeError);
});

test("Runner.run from inside a coroutine is a RuntimeError", async () => {
  await using runner = new Runner({ clock: "virtual" });
  let attempt: Promise<void> | null = null;
  await runCapturing(function* () {
    attempt = runner.run(sleep(0));
    attempt.catch(() => undefined);
    yield* sleep(0);
  });
  await assert.rejects(attempt!, (e: unknown) => e instanceof RuntimeError && /cannot be called from a running event loop/.test(e.message));
});

test("Runner.run of something that is not a coroutine is a TypeError naming what it got", async () => {
  await using runner = new Runner({ clock: "virtual" });
  await assert.rejects(runner.run((() => null) as unknown as () => Coro<void>), (e: unknown) => e instanceof TypeError && /got null$/.test(e.message));
  await assert.rejects(runner.run(7 as unknown as Coro<void>), (e: unknown) => e instanceof TypeError && /got number$/.test(e.message));
});

test("run of a function returning null is a TypeError naming null", () => {
  assert.throws(() => run((() => null) as unknown as () => Coro<void>), (e: unknown) => e instanceof TypeError && /got null$/.test(e.message));
});

test("Runner.close while a run is in progress is a RuntimeError", async () => {
  const runner = new Runner({ clock: "virtual" });
  let closing: Promise<void> | null = null;
  await runner.run(function* () {
    closing = runner.close();
    closing.catch(() => undefined);
    yield* sleep(0);
  });
  await assert.rejects(closing!, (e: unknown) => e instanceof RuntimeError && /while a run\(\) is in progress/.test(e.message));
  await runner.close();
});

test("a Runner passes debug, shuffle and seed to its loop", async () => {
  await using runner = new Runner({ clock: "virtual", debug: true, shuffle: true, seed: 7 });
  assert.equal(runner.getLoop().scheduleSeed, 7);
  assert.equal(runner.getLoop().getDebug(), true);
});

test("with handleSignals false, a run does not listen for SIGINT", async () => {
  const before = process.listenerCount("SIGINT");
  const during = await run(
    function* () {
      yield* sleep(0);
      return process.listenerCount("SIGINT");
    },
    { clock: "virtual", handleSignals: false },
  );
  assert.equal(during, before);
});

test("a run steps aside from Ctrl-C when the program has a SIGINT listener of its own", async () => {
  const own = (): void => undefined;
  process.on("SIGINT", own);
  try {
    const during = await run(
      function* () {
        yield* sleep(0);
        return process.listeners("SIGINT");
      },
      { clock: "virtual" },
    );
    assert.deepEqual(during, [own]);
  } finally {
    process.removeListener("SIGINT", own);
  }
});

test("a run in a worker thread does not listen for SIGINT", async () => {
  // Loader hooks are per thread: the worker registers tsx itself before loading the TypeScript fixture.
  const fixture = new URL("./fixtures/run-in-worker.ts", import.meta.url).href;
  const worker = new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(fixture)}); })`, { eval: true });
  try {
    const [seen] = (await once(worker, "message")) as [{ before: number; during: number }];
    assert.equal(seen.during, seen.before);
  } finally {
    await worker.terminate();
  }
});

test("a Ctrl-C while the program handles SIGINT on the loop goes to its handler and does not cancel main", async () => {
  const got = await run(
    function* () {
      const loop = getRunningLoop();
      const seen: string[] = [];
      loop.addSignalHandler("SIGINT", () => seen.push("handled by the program"));
      process.kill(process.pid, "SIGINT");
      for (let i = 0; i < 100 && seen.length === 0; i++) {
        yield* fromPromise(new Promise((resolve) => setImmediate(resolve)));
      }
      loop.removeSignalHandler("SIGINT");
      return { seen, cancelling: currentTask()!.cancelling() };
    },
    { clock: "virtual" },
  );
  assert.deepEqual(got, { seen: ["handled by the program"], cancelling: 0 });
});

test("twenty runs at once share one beforeExit listener, removed when they end", async () => {
  const before = process.listenerCount("beforeExit");
  let most = 0;
  await Promise.all(
    Array.from({ length: 20 }, () =>
      run(
        function* () {
          yield* sleep(1);
          most = Math.max(most, process.listenerCount("beforeExit"));
        },
        { clock: "virtual" },
      ),
    ),
  );
  assert.equal(most, before + 1);
  assert.equal(process.listenerCount("beforeExit"), before);
});

// ------------------------------------------------ never silent (child processes)

const neverSilent = fileURLToPath(new URL("./fixtures/never-silent.ts", import.meta.url));

interface Ending {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the never-silent fixture in `mode`; sends `signal` once stdout shows "ready", if given. */
function runFixture(mode: string, signal?: NodeJS.Signals): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", neverSilent, mode], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ASYNCIO_TS_DEBUG: "" } });
    let stdout = "";
    let stderr = "";
    let signalled = signal === undefined;
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      if (!signalled && stdout.includes("ready")) {
        signalled = true;
        child.kill(signal);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

test("run reports a background task's unread failure on stderr when it ends, outside debug mode", async () => {
  const ending = await runFixture("lost-error");
  assert.equal(ending.code, 0, ending.stderr);
  assert.match(ending.stdout, /run ended/);
  assert.match(ending.stderr, /^Task exception was never retrieved\n/);
  assert.match(ending.stderr, /name="bg"/);
  assert.match(ending.stderr, /Error: background failure\n\s+at failing/);
});

test("a Runner's close reports a task's unread failure through the loop's exception handler", async () => {
  const runner = new Runner({ clock: "virtual" });
  const reports: string[] = [];
  runner.getLoop().setExceptionHandler((_loop, context) => reports.push(`${context.message}: ${(context.exception as Error).message} (${(context.task as Task<unknown>).getName()})`));
  await runner.run(function* () {
    createTask(
      (function* (): Coro<void> {
        throw new Error("lost between runs");
      })(),
      { name: "forgotten" },
    );
    yield* sleep(1);
  });
  assert.deepEqual(reports, []);
  await runner.close();
  assert.deepEqual(reports, ["Task exception was never retrieved: lost between runs (forgotten)"]);
});

test("a deadlocked main is cancelled, its finally runs, and run rejects with DeadlockError showing the await graph", async () => {
  const ending = await runFixture("deadlock");
  assert.equal(ending.code, 0, ending.stderr);
  assert.match(ending.stdout, /ready\nmain finally ran\nrejected with DeadlockError\n/);
  assert.match(ending.stdout, /nothing left in the process can wake a task/);
  assert.match(ending.stdout, /\* Task "Task-1" \[pending\]\n {2}└─ Task "waiter" \[pending\]/);
});

test("an uncaught DeadlockError ends the program with status 1 and its message, not a silent status 13", async () => {
  const ending = await runFixture("deadlock-uncaught");
  assert.equal(ending.code, 1);
  assert.match(ending.stdout, /main finally ran/);
  assert.match(ending.stderr, /DeadlockError: deadlock: the main task "Task-1" is waiting/);
});

test("when the deadlocked main's finally blocks again, run stops waiting and rejects with DeadlockError", async () => {
  const ending = await runFixture("deadlock-blocking-finally");
  assert.equal(ending.code, 0, ending.stderr);
  assert.match(ending.stdout, /main finally ran\nrejected with DeadlockError\n/);
});

test("Runner.run rejects a deadlocked main with DeadlockError and the runner still closes", async () => {
  const ending = await runFixture("runner-deadlock");
  assert.equal(ending.code, 0, ending.stderr);
  assert.match(ending.stdout, /main finally ran\nrejected with DeadlockError\n[^]*runner closed/);
});

test("a task whose cleanup waits for ever when run() ends is reported and the run still ends", async () => {
  const ending = await runFixture("stuck-cleanup");
  assert.equal(ending.code, 0, ending.stderr);
  assert.match(ending.stdout, /run ended/);
  assert.match(ending.stderr, /a task was still pending when the loop closed: its cleanup waits on something nothing can wake/);
  assert.match(ending.stderr, /DeadlockError: deadlock: the tasks being cancelled are waiting[^]*\n\* Task "stuck" \[pending\]/);
});

test(
  "a main waiting for a SIGTERM it handles with addSignalHandler is kept alive, not a deadlock, until the signal",
  { skip: process.platform === "win32" ? "no SIGTERM delivery on Windows" : false },
  async () => {
    const ending = await runFixture("sigterm-waiter", "SIGTERM");
    assert.equal(ending.code, 0, ending.stderr);
    assert.match(ending.stdout, /ready\nstopped by SIGTERM\n/);
  },
);
