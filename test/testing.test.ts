/**
 * The testing kit (asyncio-ts/testing) tested on itself: what makes a
 * coroutine test fail, schedule shuffling, schedule exploration and a clock
 * driven by hand.
 */
import assert from "node:assert/strict";
import { createServer, type Server as NodeServer } from "node:net";
import { describe, test } from "node:test";
import { Worker } from "node:worker_threads";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import {
  Event,
  Lock,
  RuntimeError,
  TimeoutError,
  createTask,
  getRunningLoop,
  openConnection,
  openUnixConnection,
  run,
  runProcess,
  sleep,
  startServer,
  startUnixServer,
  toThread,
  waitFor,
  type Coro,
  type StreamReader,
  type StreamWriter,
} from "../src/index.js";
import { advanceTime, asyncTest, coroutineTest, exploreSchedules } from "../src/testing/index.js";
import { runTestBody } from "../src/testing/harness.js";

/** The error a coroutine test fails with (asserts that it fails). */
async function failureOf(body: () => Coro<void>, options: Parameters<typeof coroutineTest>[1] = {}): Promise<Error> {
  try {
    await coroutineTest(body, options)();
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the test to fail");
}

describe("coroutine tests", () => {
  asyncTest("asyncTest runs its body as the main task of a loop on the virtual clock", function* () {
    yield* sleep(3600);
    assert.equal(getRunningLoop().time(), 3600);
  });

  test("coroutineTest returns a plain function whose promise resolves when the body passes", async () => {
    let ran = false;
    const fn = coroutineTest(function* () {
      const child = createTask(sleep(1, "done"));
      assert.equal(yield* child, "done");
      ran = true;
    });
    assert.equal(fn.length, 0);
    await fn();
    assert.equal(ran, true);
  });

  test("the body's own error fails the test as the original object", async () => {
    const original = new TypeError("wrong");
    const error = await failureOf(function* () {
      yield* sleep(1);
      throw original;
    });
    assert.equal(error, original);
  });

  test("a task still pending when the body returns fails the test, named, with where it waits", async () => {
    const error = await failureOf(function* () {
      createTask(sleep(10), { name: "leaky-worker" });
      yield* sleep(1);
    });
    assert.match(error.message, /a task is still pending after the body returned/);
    assert.match(error.message, /Task "leaky-worker" \[pending\]/);
    assert.match(error.message, /sleep until 10\.000 \(in 9\.000 s\)/);
  });

  test("a hanging test is cancelled at its timeout, and the message shows the await graph", async () => {
    let cancelledAt = -1;
    const error = await failureOf(
      function* () {
        const never = new Event();
        const waiter = createTask(
          (function* () {
            yield* never.wait();
          })(),
          { name: "stuck-waiter" },
        );
        try {
          yield* waiter;
        } finally {
          cancelledAt = getRunningLoop().time();
        }
      },
      { timeout: 5 },
    );
    assert.equal(cancelledAt, 5);
    assert.match(error.message, /^test timed out after 5 s of loop time; where each live task waits:/);
    assert.match(error.message, /\* Task "test" \[pending\]\n {2}└─ Task "stuck-waiter" \[pending\]\n {4}└─ Future \[pending\]/);
  });

  test("a timeout counts loop seconds: a body that finishes in time passes", async () => {
    await coroutineTest(
      function* () {
        yield* sleep(4.5);
      },
      { timeout: 5 },
    )();
  });

  test("an exception that is never retrieved fails the test", async () => {
    const error = await failureOf(function* () {
      createTask(
        (function* () {
          throw new RangeError("nobody looks at me");
        })(),
        { name: "forgotten" },
      );
      yield* sleep(1);
    });
    assert.match(error.message, /the loop's exception handler received:/);
    assert.match(error.message, /Task exception was never retrieved \(task "forgotten"\): RangeError: nobody looks at me/);
  });

  test("an error escaping a callback fails the test", async () => {
    const error = await failureOf(function* () {
      getRunningLoop().callSoon(() => {
        throw new Error("callback broke");
      });
      yield* sleep(0);
    });
    assert.match(error.message, /Exception in callback .*: Error: callback broke/);
  });

  test("a body that installs its own exception handler takes the reports itself", async () => {
    const seen: string[] = [];
    await coroutineTest(function* () {
      getRunningLoop().setExceptionHandler((_loop, context) => seen.push(context.message));
      getRunningLoop().callSoon(() => {
        throw new Error("expected");
      });
      yield* sleep(0);
    })();
    assert.equal(seen.length, 1);
  });

  test("a server opened in the test and left listening fails the test", async () => {
    let server: NodeServer | null = null;
    try {
      const error = await failureOf(
        function* () {
          server = createServer();
          server.listen(0, "127.0.0.1");
          yield* sleep(0);
        },
        { clock: "real" },
      );
      assert.match(error.message, /opened in the test and still open at its end: TCP server/);
    } finally {
      (server as NodeServer | null)?.close();
    }
  });

  test("a server closed before the test ends passes", async () => {
    await coroutineTest(
      function* () {
        const server = createServer();
        server.listen(0, "127.0.0.1");
        server.close();
        yield* sleep(0);
      },
      { clock: "real" },
    )();
  });

  asyncTest("a server and a connection closed by the library's own calls leave nothing open", function* () {
    function* echo(reader: StreamReader, writer: StreamWriter): Coro<void> {
      writer.write((yield* reader.readline()) as Uint8Array);
      yield* writer.drain();
      writer.close();
      yield* writer.waitClosed();
    }
    const server = yield* startServer(echo, "127.0.0.1", 0);
    const [reader, writer] = yield* openConnection("127.0.0.1", (server.sockets[0] as AddressInfo).port);
    writer.write(new TextEncoder().encode("ping\n"));
    assert.equal(new TextDecoder().decode((yield* reader.readline()) as Uint8Array), "ping\n");
    writer.close();
    yield* writer.waitClosed();
    server.close();
    yield* server.waitClosed();
  });

  asyncTest("toThread's default executor is shut down with the loop, so its worker is no leak", function* () {
    assert.equal(yield* toThread((a: number, b: number) => a + b, 2, 3), 5);
  });

  test("a body that is not a function is refused at once", () => {
    assert.throws(() => coroutineTest("not a body" as unknown as () => Coro<void>), TypeError);
  });

  test("a timeout that is not a positive number is refused", async () => {
    await assert.rejects(coroutineTest(function* () {}, { timeout: 0 })(), RangeError);
  });

  test("the debug option turns on the loop's debug mode", async () => {
    let debug: boolean | null = null;
    await coroutineTest(
      function* () {
        debug = getRunningLoop().getDebug();
      },
      { debug: true },
    )();
    assert.equal(debug, true);
  });

  test("two tasks still pending are both listed", async () => {
    const error = await failureOf(function* () {
      createTask(sleep(10), { name: "first" });
      createTask(sleep(10), { name: "second" });
      yield* sleep(1);
    });
    assert.match(error.message, /2 tasks are still pending after the body returned/);
    assert.match(error.message, /\* Task "first" \[pending\]/);
    assert.match(error.message, /\* Task "second" \[pending\]/);
  });

  test("with the resource check off, a server left listening is not reported", async () => {
    let server: NodeServer | null = null;
    try {
      const outcome = await runTestBody(
        function* () {
          server = createServer().listen(0, "127.0.0.1");
          yield* sleep(0);
        },
        { clock: "real", checkResources: false },
      );
      assert.deepEqual(outcome.openResources, []);
      assert.equal("error" in outcome, false);
    } finally {
      (server as NodeServer | null)?.close();
    }
  });

  test("a plain Future whose exception is never retrieved fails the test as a Future", async () => {
    const error = await failureOf(function* () {
      getRunningLoop().createFuture<void>().setException(new RangeError("unread"));
      yield* sleep(0);
    });
    assert.match(error.message, /\n {2}Future exception was never retrieved: RangeError: unread/);
  });

  test("a report without an exception, or with one that is not an Error, is listed as it is", async () => {
    const error = await failureOf(function* () {
      getRunningLoop().callExceptionHandler({ message: "just a message" });
      getRunningLoop().callExceptionHandler({ message: "odd value", exception: 42 });
      yield* sleep(0);
    });
    assert.match(error.message, /\n {2}just a message\n {2}odd value: 42$/);
    assert.equal(error.cause, 42);
  });

  test("a report that arrives after the test has ended goes to the loop's default handler", async () => {
    let loop: ReturnType<typeof getRunningLoop> | null = null;
    const outcome = await runTestBody(function* () {
      loop = getRunningLoop();
      yield* sleep(0);
    });
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      loop!.callExceptionHandler({ message: "too late" });
    } finally {
      console.error = original;
    }
    assert.deepEqual(outcome.reports, []);
    assert.deepEqual(logged, [["too late"]]);
  });

  test("two servers left listening are counted in the failure", async () => {
    const servers: NodeServer[] = [];
    try {
      const error = await failureOf(
        function* () {
          for (let i = 0; i < 2; i++) servers.push(createServer().listen(0, "127.0.0.1"));
          yield* sleep(0);
        },
        { clock: "real" },
      );
      assert.match(error.message, /still open at its end: TCP server \(x2\)/);
    } finally {
      for (const server of servers) server.close();
    }
  });

  test("a worker thread left running fails the test", async () => {
    let worker: Worker | null = null;
    try {
      const error = await failureOf(function* () {
        worker = new Worker("setInterval(() => {}, 1000)", { eval: true });
        yield* sleep(0);
      });
      assert.match(error.message, /worker thread/);
    } finally {
      await (worker as Worker | null)?.terminate();
    }
  });
});

/** The order in which a batch of `n` tasks, created together, take their first step. */
function* batchOrder(n: number): Coro<number[]> {
  const order: number[] = [];
  const tasks = Array.from({ length: n }, (_, i) =>
    createTask(
      (function* () {
        order.push(i);
      })(),
    ),
  );
  for (const task of tasks) yield* task;
  return order;
}

describe("schedule shuffling", () => {
  test("without shuffle the batch runs first-in first-out and scheduleSeed is null", async () => {
    const seeds: Array<number | null> = [];
    const order = await run(function* () {
      seeds.push(getRunningLoop().scheduleSeed);
      return yield* batchOrder(10);
    });
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(seeds, [null]);
  });

  test("a fixed seed gives the same order twice, and different seeds different orders, on a batch of 10", async () => {
    const first = await run(() => batchOrder(10), { shuffle: true, seed: 1 });
    const again = await run(() => batchOrder(10), { shuffle: true, seed: 1 });
    const other = await run(() => batchOrder(10), { shuffle: true, seed: 2 });
    assert.deepEqual(again, first);
    assert.notDeepEqual(other, first);
    assert.notDeepEqual(first, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual([...first].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("the seed is readable as loop.scheduleSeed, and a random one is chosen when none is given", async () => {
    const given = await run(function* () {
      return getRunningLoop().scheduleSeed;
    }, { shuffle: true, seed: 12345 });
    assert.equal(given, 12345);
    const chosen = await run(function* () {
      return getRunningLoop().scheduleSeed;
    }, { shuffle: true });
    assert.ok(Number.isInteger(chosen) && chosen! >= 0 && chosen! < 2 ** 32);
  });

  test("replaying the chosen seed reproduces the order", async () => {
    let seed = -1;
    const first = await run(function* () {
      seed = getRunningLoop().scheduleSeed!;
      return yield* batchOrder(10);
    }, { shuffle: true });
    assert.deepEqual(await run(() => batchOrder(10), { shuffle: true, seed }), first);
  });

  test("a test failing under shuffle prints the seed in its message", async () => {
    const error = await failureOf(
      function* () {
        throw new Error("order-dependent");
      },
      { shuffle: true, seed: 77 },
    );
    assert.equal(error.message, "order-dependent\nschedule seed 77 (reproduce with { shuffle: true, seed: 77 })");
    assert.match(error.stack!, /^Error: order-dependent\nschedule seed 77/);
  });
});

// The planted bug: `updater` reads, yields, writes; `late` does one step of
// set-up, then the same. FIFO happens to order the second iteration as
// updater-writes-then-late-reads; the other order loses an update.
function* racyCounter(): Coro<void> {
  let counter = 0;
  const updater = createTask(
    (function* () {
      const seen = counter;
      yield* sleep(0);
      counter = seen + 1;
    })(),
  );
  const late = createTask(
    (function* () {
      yield* sleep(0);
      const seen = counter;
      yield* sleep(0);
      counter = seen + 1;
    })(),
  );
  yield* updater;
  yield* late;
  assert.equal(counter, 2, "an increment was lost");
}

describe("the seed line on failures that are not plain Errors", () => {
  const seedLine = "schedule seed 5 (reproduce with { shuffle: true, seed: 5 })";
  const shuffled = { shuffle: true, seed: 5 };

  test("a thrown value that is not an Error is wrapped in one that names it and the seed", async () => {
    const error = await failureOf(function* () {
      throw "a string";
    }, shuffled);
    assert.equal(error.message, `test failed: a string\n${seedLine}`);
    assert.equal(error.cause, "a string");
  });

  test("an error-like object from another realm gets the seed appended to its message", async () => {
    const thrown = { message: "from a vm context" };
    try {
      await coroutineTest(function* () {
        throw thrown;
      }, shuffled)();
      assert.fail("expected the test to fail");
    } catch (error) {
      assert.equal(error, thrown);
    }
    assert.equal(thrown.message, `from a vm context\n${seedLine}`);
  });

  test("an Error with an empty message gets the seed line before its stack", async () => {
    const error = await failureOf(function* () {
      throw new Error("");
    }, shuffled);
    assert.equal(error.message, `\n${seedLine}`);
    assert.ok(error.stack!.startsWith(`${seedLine}\nError\n`), error.stack);
  });

  test("a frozen Error is wrapped in a new one that has the seed line", async () => {
    const frozen = Object.freeze(new Error("frozen"));
    const error = await failureOf(function* () {
      throw frozen;
    }, shuffled);
    assert.equal(error.message, `Error: frozen\n${seedLine}`);
    assert.equal(error.cause, frozen);
  });
});

describe("exploreSchedules", () => {
  test("the planted race passes in FIFO order", async () => {
    await coroutineTest(racyCounter)();
  });

  test("finds the planted race within 200 runs, and the seed it reports reproduces it", async () => {
    const result = await exploreSchedules(racyCounter, { runs: 200, seed: 2024 });
    assert.notEqual(result.failingSeed, null);
    const seed = result.failingSeed!;
    assert.ok(result.error instanceof Error);
    assert.match(result.error.message, /an increment was lost/);
    assert.ok(result.error.message.includes(`schedule seed ${seed} (reproduce with { shuffle: true, seed: ${seed} })`));
    const replay = await failureOf(racyCounter, { shuffle: true, seed });
    assert.match(replay.message, /an increment was lost/);
  });

  test("the same seed explores the same schedules", async () => {
    const a = await exploreSchedules(racyCounter, { runs: 200, seed: 99 });
    const b = await exploreSchedules(racyCounter, { runs: 200, seed: 99 });
    assert.equal(a.failingSeed, b.failingSeed);
  });

  test("with a lock around the read and the write, no schedule fails", async () => {
    const result = await exploreSchedules(
      function* () {
        const lock = new Lock();
        let counter = 0;
        function* increment(setUpSteps: number): Coro<void> {
          for (let i = 0; i < setUpSteps; i++) yield* sleep(0);
          yield* lock.acquire();
          try {
            const seen = counter;
            yield* sleep(0);
            counter = seen + 1;
          } finally {
            lock.release();
          }
        }
        const tasks = [createTask(increment(0)), createTask(increment(1)), createTask(increment(1))];
        for (const task of tasks) yield* task;
        assert.equal(counter, 3);
      },
      { runs: 100, seed: 7 },
    );
    assert.deepEqual(result, { failingSeed: null });
  });

  test("rejects a bad number of runs", async () => {
    await assert.rejects(exploreSchedules(racyCounter, { runs: 0 }), RangeError);
  });

  test("rejects a seed that is not an integer", async () => {
    await assert.rejects(exploreSchedules(racyCounter, { seed: 1.5 }), TypeError);
  });

  test("without options it tries 100 distinct shuffled schedules from a random seed", async () => {
    const seeds = new Set<number | null>();
    const result = await exploreSchedules(function* () {
      seeds.add(getRunningLoop().scheduleSeed);
    });
    assert.deepEqual(result, { failingSeed: null });
    assert.equal(seeds.size, 100);
    assert.ok(!seeds.has(null));
  });
});

describe("advanceTime", () => {
  asyncTest("moves the clock by hand, waking what falls due on the way, in order", function* () {
    const loop = getRunningLoop();
    const wakes: number[] = [];
    const sleeper = createTask(
      (function* () {
        for (let i = 0; i < 3; i++) {
          yield* sleep(1);
          wakes.push(loop.time());
        }
      })(),
    );
    yield* advanceTime(2.5);
    assert.equal(loop.time(), 2.5);
    assert.deepEqual(wakes, [1, 2]);
    assert.equal(sleeper.done(), false);
    yield* advanceTime(0.5);
    assert.deepEqual(wakes, [1, 2, 3]);
    assert.equal(sleeper.done(), true);
  });

  asyncTest("wakes a timer whose deadline is a float sum a hair past the target", function* () {
    let wakes = 0;
    const sleeper = createTask(
      (function* () {
        // 0.2 + 0.2 + 0.2 is 0.6000000000000001, a hair past 0.5 + 0.1.
        for (let i = 0; i < 3; i++) {
          yield* sleep(0.2);
          wakes++;
        }
      })(),
    );
    yield* advanceTime(0.5);
    yield* advanceTime(0.1);
    assert.equal(wakes, 3);
    assert.equal(sleeper.done(), true);
  });

  asyncTest("moves time even while another task keeps the loop busy", function* () {
    const loop = getRunningLoop();
    let stop = false;
    const spinner = createTask(
      (function* () {
        while (!stop) yield* sleep(0);
      })(),
    );
    const timed = createTask(sleep(10, "late"));
    yield* advanceTime(10);
    assert.equal(loop.time(), 10);
    assert.equal(timed.result(), "late");
    stop = true;
    yield* spinner;
  });

  test("refuses a negative or non-numeric number of seconds", async () => {
    for (const seconds of [-1, Number.NaN, "1" as unknown as number]) {
      const error = await failureOf(function* () {
        yield* advanceTime(seconds);
      });
      assert.ok(error instanceof RangeError, String(seconds));
    }
  });

  test("needs a virtual clock", async () => {
    const error = await failureOf(
      function* () {
        yield* advanceTime(1);
      },
      { clock: "real" },
    );
    assert.ok(error instanceof RuntimeError);
    assert.match(error.message, /virtual clock/);
  });
});

describe("autojump: the virtual clock and real work", () => {
  test("a hung child still meets its runProcess timeout: time jumps once real work made no progress for the autojump threshold", async () => {
    const started = performance.now();
    await coroutineTest(
      function* () {
        const loop = getRunningLoop();
        const before = loop.time();
        let caught: unknown = null;
        try {
          yield* runProcess(["sleep", "5"], { timeout: 1 });
        } catch (error) {
          caught = error;
        }
        assert.ok(caught instanceof TimeoutError, `expected a TimeoutError, got ${String(caught)}`);
        assert.ok(loop.time() - before >= 1, "the timeout fired at loop time 1");
      },
      { autojumpThreshold: 0.2, timeout: 30 },
    )();
    const realSeconds = (performance.now() - started) / 1000;
    assert.ok(realSeconds < 4, `took ${realSeconds.toFixed(2)} s of real time (the child sleeps 5 s)`);
  });

  test("a peer answering after 0.3 s of real time is not timed out by a 5 s waitFor", async () => {
    // A peer outside the loop: it answers each connection after 300 real milliseconds.
    const peer = createServer((socket) => {
      const timer = setTimeout(() => socket.end("pong\n"), 300);
      socket.on("close", () => clearTimeout(timer));
    });
    await new Promise<void>((resolve) => peer.listen(0, "127.0.0.1", resolve));
    const { port } = peer.address() as AddressInfo;
    try {
      await coroutineTest(function* () {
        const [reader, writer] = yield* openConnection("127.0.0.1", port);
        try {
          const line = yield* waitFor(reader.readline(), 5);
          assert.equal(line.toString(), "pong\n");
        } finally {
          writer.close();
          yield* writer.waitClosed();
        }
      })();
    } finally {
      await new Promise((resolve) => peer.close(resolve));
    }
  });

  test("a read whose peer is a server of the same loop does not hold virtual time, over TCP and Unix sockets", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "asyncio-ts-autojump-")), "s.sock");
    const started = performance.now();
    await coroutineTest(
      function* () {
        // The server answers after an hour of virtual time: the client's read waits on the loop's own timer.
        const answerLater = function* (reader: StreamReader, writer: StreamWriter): Coro<void> {
          yield* reader.readline();
          yield* sleep(3600);
          writer.write("late\n");
          yield* writer.drain();
          writer.close();
        };
        const tcp = yield* startServer(answerLater, "127.0.0.1", 0);
        const unix = yield* startUnixServer(answerLater, path);
        try {
          const port = (tcp.sockets[0] as AddressInfo).port;
          for (const [reader, writer] of [yield* openConnection("127.0.0.1", port), yield* openUnixConnection(path)]) {
            writer.write("order\n");
            assert.equal((yield* waitFor(reader.readline(), 7200)).toString(), "late\n");
            writer.close();
            yield* writer.waitClosed();
          }
        } finally {
          tcp.close();
          unix.close();
          yield* tcp.waitClosed();
          yield* unix.waitClosed();
        }
      },
      { autojumpThreshold: 5 },
    )();
    const realSeconds = (performance.now() - started) / 1000;
    assert.ok(realSeconds < 4, `took ${realSeconds.toFixed(2)} s of real time: a read on the loop's own server held virtual time`);
  });

  test("the kit's timeout is also enforced in real time: a test hung on real work fails instead of hanging the run", async () => {
    const started = performance.now();
    const error = await failureOf(
      function* () {
        yield* runProcess(["sleep", "5"]);
      },
      { timeout: 0.5, autojumpThreshold: Infinity },
    );
    const realSeconds = (performance.now() - started) / 1000;
    assert.match(error.message, /^test timed out after 0\.5 s of real time; where each live task waits:/);
    assert.ok(realSeconds < 4, `took ${realSeconds.toFixed(2)} s of real time`);
  });

  test("run() refuses an autojumpThreshold that is negative or not a number", async () => {
    await assert.rejects(run(function* () {}, { clock: "virtual", autojumpThreshold: -1 }), RangeError);
    await assert.rejects(run(function* () {}, { clock: "virtual", autojumpThreshold: "1" as never }), TypeError);
  });
});
