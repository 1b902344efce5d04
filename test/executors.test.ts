// hosts: node-only — worker threads and child processes run the submitted functions.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  BrokenProcessPool,
  BrokenThreadPool,
  ProcessPoolExecutor,
  RuntimeError,
  ThreadPoolExecutor,
  createTask,
  fromPromise,
  getRunningLoop,
  sleep,
  toThread,
  type Coro,
  type Future,
} from "../src/index.js";
import { runCapturing } from "./support.js";

const jobs = new URL("./fixtures/jobs.ts", import.meta.url);
type Pool = ThreadPoolExecutor | ProcessPoolExecutor;
const kinds: Array<[string, (options?: ConstructorParameters<typeof ThreadPoolExecutor>[0]) => Pool]> = [
  ["ThreadPoolExecutor", (o) => new ThreadPoolExecutor(o)],
  ["ProcessPoolExecutor", (o) => new ProcessPoolExecutor(o)],
];

/** Runs `body` with a pool that is always shut down; fails on loop reports or errors. */
async function withPool<T>(make: () => Pool, body: (pool: Pool) => Coro<T> | Future<T>): Promise<T> {
  const pool = make();
  try {
    const outcome = await runCapturing(function* () {
      return yield* body(pool);
    }, { clock: "real" });
    if ("error" in outcome) throw outcome.error;
    assert.deepEqual(outcome.reports.map((r) => r.message), []);
    return outcome.value as T;
  } finally {
    await pool.shutdown({ wait: true, cancelFutures: true });
  }
}

/** Waits (polling, bounded) until a worker has started a job: workers start lazily. */
function* untilBusy(pool: Pool): Coro<void> {
  for (let i = 0; i < 500 && pool.statistics().busy === 0; i++) yield* sleep(0.01);
  assert.equal(pool.statistics().busy, 1, "no worker started the job");
}

for (const [kind, make] of kinds) {
  test(`${kind}: a function sent by source returns its result`, async () => {
    assert.equal(await withPool(() => make({ maxWorkers: 1 }), (pool) => pool.submit((a: number, b: number) => a * b, 6, 7)), 42);
  });

  test(`${kind}: a { module, name } function from a .ts module returns its result`, async () => {
    assert.equal(await withPool(() => make({ maxWorkers: 1 }), (pool) => pool.submit({ module: jobs, name: "double" }, 21)), 42);
  });

  test(`${kind}: a worker's exception re-raises with its name, message and stack`, async () => {
    const error = await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      try {
        yield* pool.submit({ module: jobs, name: "fails" }, "broken order");
      } catch (e) {
        return e as Error & { code?: string };
      }
      return null;
    });
    assert.ok(error instanceof Error);
    assert.equal(error.name, "CustomError");
    assert.equal(error.message, "broken order");
    assert.match(error.stack ?? "", /fails .*jobs\.ts/);
    assert.equal(error.code, "E_CUSTOM");
  });

  test(`${kind}: a function that closes over an outer variable fails with an error that says so`, async () => {
    const outer = 41;
    const message = await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      try {
        yield* pool.submit(() => outer + 1);
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    });
    assert.match(message, /closes over outer/);
    assert.match(message, /self-contained/);
  });

  test(`${kind}: map returns results in item order, with chunks`, async () => {
    assert.deepEqual(
      await withPool(() => make({ maxWorkers: 2 }), (pool) => pool.map((x: number) => x * 10, [1, 2, 3, 4, 5, 6, 7], { chunksize: 3 })),
      [10, 20, 30, 40, 50, 60, 70],
    );
  });

  test(`${kind}: an argument that cannot be transferred fails naming the argument`, async () => {
    const message = await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      try {
        yield* pool.submit((a: number, _b: unknown) => a, 1, () => "a function");
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    });
    assert.match(message, /argument 1/);
  });

  test(`${kind}: the initializer runs once in each worker`, async () => {
    const counts = await withPool(
      () => make({ maxWorkers: 1, initializer: { module: jobs, name: "init" } }),
      function* (pool) {
        const seen: number[] = [];
        for (let i = 0; i < 3; i++) seen.push(yield* pool.submit<number>({ module: jobs, name: "initCount" }));
        return seen;
      },
    );
    assert.deepEqual(counts, [1, 1, 1]);
  });

  test(`${kind}: a failing initializer breaks the pool`, async () => {
    const error = await withPool(() => make({ maxWorkers: 1, initializer: () => { throw new Error("init failed"); } }), function* (pool) {
      try {
        yield* pool.submit(() => 1);
      } catch (e) {
        return e;
      }
      return null;
    });
    assert.ok(error instanceof (kind === "ThreadPoolExecutor" ? BrokenThreadPool : BrokenProcessPool));
  });

  test(`${kind}: maxTasksPerChild replaces a worker after that many jobs`, async () => {
    const ids = await withPool(() => make({ maxWorkers: 1, maxTasksPerChild: 2 }), function* (pool) {
      const seen: number[] = [];
      const name = kind === "ThreadPoolExecutor" ? "threadId" : "pid";
      for (let i = 0; i < 4; i++) seen.push(yield* pool.submit<number>({ module: jobs, name }));
      return seen;
    });
    assert.equal(ids[0], ids[1]);
    assert.equal(ids[2], ids[3]);
    assert.notEqual(ids[1], ids[2]);
  });

  test(`${kind}: a worker that dies fails its future with the broken-pool error and the pool refuses new work`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      try {
        yield* pool.submit({ module: jobs, name: "exitWith" }, 3);
        assert.fail("no error");
      } catch (e) {
        assert.ok(e instanceof (kind === "ThreadPoolExecutor" ? BrokenThreadPool : BrokenProcessPool), String(e));
      }
      assert.throws(() => pool.submit(() => 1), kind === "ThreadPoolExecutor" ? BrokenThreadPool : BrokenProcessPool);
    });
  });

  test(`${kind}: cancelling a queued future removes it before it runs`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      const blocker = pool.submit(() => {
        const end = Date.now() + 200;
        while (Date.now() < end) {
          // busy: keeps the only worker occupied
        }
        return "blocker";
      });
      yield* untilBusy(pool);
      const queued = pool.submit(() => "should not run");
      assert.equal(pool.statistics().queued, 1);
      queued.cancel();
      assert.equal(queued.cancelled(), true);
      assert.equal(pool.statistics().queued, 0);
      assert.equal(yield* blocker, "blocker");
    });
  });

  test(`${kind}: cancelling a running future stops its worker and the pool keeps working`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      const endless = pool.submit(() => {
        for (;;) {
          // never returns
        }
      });
      yield* untilBusy(pool);
      endless.cancel();
      assert.equal(endless.cancelled(), true);
      assert.equal(yield* pool.submit(() => "after"), "after");
      assert.equal(pool.statistics().workers, 1, JSON.stringify(pool.statistics()));
    });
  });

  test(`${kind}: shutdown with cancelFutures cancels what is queued and waits for what runs`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      const running = pool.submit(() => {
        const end = Date.now() + 100;
        while (Date.now() < end) {
          // busy
        }
        return "finished";
      });
      yield* untilBusy(pool);
      const queued = pool.submit(() => "queued");
      yield* fromPromise(pool.shutdown({ wait: true, cancelFutures: true }));
      assert.equal(queued.cancelled(), true);
      assert.equal(running.result(), "finished");
      assert.throws(() => pool.submit(() => 1), RuntimeError);
    });
  });

  test(`${kind}: shutdown without cancelFutures runs what is queued`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      const a = pool.submit(() => "a");
      const b = pool.submit(() => "b");
      yield* fromPromise(pool.shutdown());
      assert.deepEqual([a.result(), b.result()], ["a", "b"]);
    });
  });
}

test("the loop keeps running other tasks while a worker is blocked", async () => {
  await withPool(() => new ThreadPoolExecutor({ maxWorkers: 1 }), function* (pool) {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    // The job blocks its thread until the main loop has ticked 5 times.
    const job = pool.submit((shared: Int32Array) => {
      Atomics.wait(shared, 0, 0);
      return Atomics.load(shared, 0);
    }, flag);
    let ticks = 0;
    const ticker = createTask(
      (function* (): Coro<void> {
        while (ticks < 5) {
          yield* sleep(0.001);
          ticks++;
        }
        Atomics.store(flag, 0, ticks);
        Atomics.notify(flag, 0);
      })(),
    );
    assert.equal(yield* job, 5);
    yield* ticker;
  });
});

test("toThread runs on the loop's default executor, which run() shuts down", async () => {
  const outcome = await runCapturing(
    function* () {
      return yield* toThread((s: string) => s.toUpperCase(), "quiet");
    },
    { clock: "real" },
  );
  assert.equal(outcome.value, "QUIET");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === "Worker" || r === "MessagePort").length, 0);
});

test("runInExecutor with null uses the default executor", async () => {
  const outcome = await runCapturing(function* () {
    return yield* getRunningLoop().runInExecutor(null, (n: number) => n + 1, 1);
  }, { clock: "real" });
  assert.equal(outcome.value, 2);
});

test("an executor is an async disposable that shuts down", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  await pool[Symbol.asyncDispose]();
  assert.equal(pool.statistics().shutdown, true);
});

test("a bad maxWorkers or maxTasksPerChild is a RangeError", () => {
  assert.throws(() => new ThreadPoolExecutor({ maxWorkers: 0 }), RangeError);
  assert.throws(() => new ProcessPoolExecutor({ maxTasksPerChild: 0 }), RangeError);
});

test("submit outside a running loop is a RuntimeError", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    assert.throws(() => pool.submit(() => 1), RuntimeError);
  } finally {
    await pool.shutdown();
  }
});

// ------------------------------------------------------------ hardening (issue 12, section 4)

/** Submits `fn` and returns the error it fails with (or fails the test). */
function* failureOf(pool: Pool, fn: () => unknown): Coro<Error & Record<string, unknown>> {
  try {
    yield* pool.submit(fn);
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  return assert.fail("the job did not fail");
}

for (const [kind, make] of kinds) {
  test(`${kind}: an error whose code is a Symbol fails only its job, as a stand-in with the code as a string`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      const error = yield* failureOf(pool, () => {
        throw Object.assign(new RangeError("odd code"), { code: Symbol("E_ODD"), errno: 7 });
      });
      assert.equal(error.name, "RangeError");
      assert.equal(error.message, "odd code");
      assert.match(error.stack ?? "", /odd code/);
      assert.equal(error.code, "Symbol(E_ODD)");
      assert.equal(error.errno, 7);
      assert.equal(yield* pool.submit(() => "still working"), "still working");
      assert.equal(pool.statistics().broken, false);
    });
  });

  test(`${kind}: an error whose field is a function fails only its job, with the field as its String()`, async () => {
    await withPool(() => make({ maxWorkers: 2 }), function* (pool) {
      const other = pool.submit((x: number) => x + 1, 1);
      const error = yield* failureOf(pool, () => {
        throw Object.assign(new Error("has a callback"), { code: function retry() {} });
      });
      assert.match(String(error.code), /function retry/);
      assert.equal(yield* other, 2);
      assert.equal(yield* pool.submit(() => 3), 3);
    });
  });

  test(`${kind}: an error whose message and stack getters throw fails only its job`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      const error = yield* failureOf(pool, () => {
        const e = new TypeError("hidden");
        // The stack first: defining a property formats a pending stack, which reads the message.
        Object.defineProperty(e, "stack", { get: () => { throw new Error("no stack either"); } });
        Object.defineProperty(e, "message", { get: () => { throw new Error("no message for you"); } });
        throw e;
      });
      assert.equal(error.name, "TypeError");
      assert.equal(typeof error.message, "string");
      assert.equal(typeof error.stack, "string");
      assert.equal(yield* pool.submit(() => "next"), "next");
    });
  });

  test(`${kind}: a thrown value whose toString throws fails only its job`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      const error = yield* failureOf(pool, () => {
        throw { toString: () => { throw new Error("no"); } };
      });
      assert.match(error.message, /non-error thrown/);
      assert.equal(yield* pool.submit(() => "next"), "next");
    });
  });

  test(`${kind}: a method that uses this is refused at submit, pointing to { module, name }`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      const counter = {
        base: 40,
        plus(n: number): number {
          return this.base + n;
        },
      };
      assert.throws(() => pool.submit(counter.plus, 2), (e: unknown) => e instanceof TypeError && /uses `this`/.test(e.message) && /\{ module, name \}/.test(e.message));
      assert.equal(pool.statistics().queued + pool.statistics().busy, 0);
    });
  });

  test(`${kind}: an arrow that uses the outer this is refused at submit`, async () => {
    await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
      const holder = {
        value: 1,
        make(): () => number {
          return () => this.value;
        },
      };
      assert.throws(() => pool.submit(holder.make()), /uses `this`/);
    });
  });

  for (const name of ["process", "performance", "crypto"]) {
    test(`${kind}: a closure over a local named ${name} is refused at submit, naming it`, async () => {
      await withPool(() => make({ maxWorkers: 1 }), function* (pool) {
        const locals: Record<string, () => number> = {
          process: (() => {
            const process = { pid: 1 };
            return () => process.pid;
          })(),
          performance: (() => {
            const performance = { now: () => 5 };
            return () => performance.now();
          })(),
          crypto: (() => {
            const crypto = { size: 3 };
            return () => crypto.size;
          })(),
        };
        assert.throws(
          () => pool.submit(locals[name]!),
          (e: unknown) => e instanceof TypeError && e.message.includes(`closes over ${name}`) && e.message.includes("{ module, name }"),
        );
      });
    });
  }

  test(`${kind}: a self-contained function with nested named functions and standard globals runs`, async () => {
    const value = await withPool(() => make({ maxWorkers: 1 }), (pool) =>
      pool.submit((n: number) => {
        function square(x: number): number {
          return x * x;
        }
        class Box {
          constructor(readonly v: number) {}
          get twice(): number {
            return this.v * 2;
          }
        }
        const total = Array.from({ length: n }, (_, i) => square(i)).reduce((a, b) => a + b, 0);
        return new Box(Math.max(total, 0)).twice + JSON.parse("1") + Number.parseInt("0", 10);
      }, 4),
    );
    assert.equal(value, 29);
  });

  test(`${kind}: a future whose loop has closed settles with the job's result`, async () => {
    const pool = make({ maxWorkers: 1 });
    try {
      const outcome = await runCapturing(function* () {
        const slow = pool.submit((ms: number) => {
          const end = Date.now() + ms;
          while (Date.now() < end) {
            // busy: still running when the loop closes
          }
          return "late";
        }, 100);
        const failing = pool.submit(() => {
          throw new Error("late failure");
        });
        return { slow, failing };
      }, { clock: "real" });
      const { slow, failing } = outcome.value!;
      await pool.shutdown({ wait: true });
      assert.equal(slow.done(), true);
      assert.equal(await slow, "late");
      await assert.rejects(Promise.resolve(failing), /late failure/);
    } finally {
      await pool.shutdown({ wait: true, cancelFutures: true });
    }
  });

  test(`${kind}: a queued future whose loop has closed is cancelled by shutdown({ cancelFutures })`, async () => {
    const pool = make({ maxWorkers: 1 });
    try {
      const outcome = await runCapturing(function* () {
        const running = pool.submit(() => {
          const end = Date.now() + 100;
          while (Date.now() < end) {
            // busy
          }
          return 1;
        });
        yield* untilBusy(pool);
        return { running, queued: pool.submit(() => 2) };
      }, { clock: "real" });
      const { running, queued } = outcome.value!;
      const waiting = Promise.resolve(queued).then(() => "resolved", (e: unknown) => (e as Error).name);
      await pool.shutdown({ wait: true, cancelFutures: true });
      assert.equal(queued.cancelled(), true);
      assert.equal(await waiting, "CancelledError");
      assert.equal(await running, 1);
    } finally {
      await pool.shutdown({ wait: true, cancelFutures: true });
    }
  });
}

test("a worker thread that dies of a thrown non-Error says what was thrown, not undefined", async () => {
  await withPool(() => new ThreadPoolExecutor({ maxWorkers: 1 }), function* (pool) {
    try {
      yield* pool.submit({ module: jobs, name: "crashWithNonError" });
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof BrokenThreadPool, String(e));
      assert.doesNotMatch(e.message, /undefined: undefined/);
      assert.match(e.message, /uncaught object/);
    }
  });
});

/** Submits the fixture job `name` and returns the error it fails with (or fails the test). */
function* jobFailure(pool: Pool, name: string, ...args: unknown[]): Coro<Error> {
  try {
    yield* pool.submit({ module: jobs, name }, ...args);
  } catch (e) {
    return e as Error;
  }
  return assert.fail("the job did not fail");
}

test("a worker thread that dies of an uncaught Error names it in the broken-pool error", async () => {
  await withPool(() => new ThreadPoolExecutor({ maxWorkers: 1 }), function* (pool) {
    const error = yield* jobFailure(pool, "crashWithError");
    assert.ok(error instanceof BrokenThreadPool, String(error));
    assert.match(error.message, /terminated abruptly \(RangeError: gone\)/);
  });
});

test("a worker thread that dies of a value String() cannot convert still breaks the pool, naming its type", async () => {
  await withPool(() => new ThreadPoolExecutor({ maxWorkers: 1 }), function* (pool) {
    const error = yield* jobFailure(pool, "crashWithUnprintable");
    assert.ok(error instanceof BrokenThreadPool, String(error));
    assert.match(error.message, /terminated abruptly \(uncaught object\)/);
  });
});

test("a child process killed by a signal breaks the pool, and the error names the signal", async () => {
  await withPool(() => new ProcessPoolExecutor({ maxWorkers: 1 }), function* (pool) {
    const error = yield* jobFailure(pool, "killSelf", "SIGTERM");
    assert.ok(error instanceof BrokenProcessPool, String(error));
    assert.match(error.message, /terminated abruptly \(killed by SIGTERM\)/);
  });
});

test("ProcessPoolExecutor: an argument that clones but cannot cross the IPC channel fails only its job, with a TypeError", async () => {
  const value = await withPool(() => new ProcessPoolExecutor({ maxWorkers: 1 }), function* (pool) {
    // structuredClone shares a SharedArrayBuffer; another process cannot share it.
    const error = yield* jobFailure(pool, "double", new SharedArrayBuffer(8));
    assert.ok(error instanceof TypeError, String(error));
    assert.match(error.message, /^the job cannot be sent to a worker: .*SharedArrayBuffer/);
    return yield* pool.submit({ module: jobs, name: "double" }, 21);
  });
  assert.equal(value, 42);
});

test("ProcessPoolExecutor: a child process that cannot be started fails the job with BrokenProcessPool, instead of hanging", async () => {
  const error = await withPool(() => new ProcessPoolExecutor({ maxWorkers: 1 }), function* (pool) {
    const real = process.execPath;
    let future: Future<number>;
    // fork() runs process.execPath: a path that does not exist makes the spawn fail.
    process.execPath = "/nonexistent/node";
    try {
      future = pool.submit((x: number) => x, 1);
    } finally {
      process.execPath = real;
    }
    try {
      yield* future;
    } catch (e) {
      return e as Error;
    }
    return assert.fail("the job did not fail");
  });
  assert.ok(error instanceof BrokenProcessPool, String(error));
  assert.match(error.message, /terminated abruptly \(could not be started: spawn \/nonexistent\/node ENOENT\)/);
});

// ------------------------------------------------------------ owner's death

const poolOwner = new URL("./fixtures/pool-owner.ts", import.meta.url);

/** Whether `pid` is a live process (a zombie no one reaped yet counts as ended). */
function processRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

const deaths: Array<[string, string, NodeJS.Signals | null]> = [
  ["process.exit", "exit", null],
  ["an uncaught error", "throw", null],
  ["Ctrl-C (SIGINT)", "wait", "SIGINT"],
  ["kill -9", "wait", "SIGKILL"],
];
for (const [death, how, signal] of deaths) {
  test(`ProcessPoolExecutor: a running job's process stops within 2 s of its owner's death by ${death}`, async () => {
    const owner = spawn(process.execPath, ["--import", "tsx", fileURLToPath(poolOwner), how], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<void>((resolve) => owner.once("exit", () => resolve()));
    let output = "";
    owner.stdout.setEncoding("utf8");
    owner.stderr.resume();
    let child = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the owner did not start its job within 20 s: ${output}`)), 20_000);
        owner.stdout.on("data", (chunk: string) => {
          output += chunk;
          const pid = /child (\d+)/.exec(output);
          if (pid !== null) child = Number(pid[1]);
          if (child !== 0 && output.includes("owner ready")) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      if (signal !== null) owner.kill(signal);
      await exited;
      const died = Date.now();
      while (processRunning(child) && Date.now() - died < 3000) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(processRunning(child), false, `the job's process ${child} outlived its owner by 3 s`);
      assert.ok(Date.now() - died < 2000, `the job's process stopped ${Date.now() - died} ms after its owner`);
    } finally {
      if (owner.exitCode === null && owner.signalCode === null) owner.kill("SIGKILL");
      if (child !== 0 && processRunning(child)) process.kill(child, "SIGKILL");
    }
  });
}
