// One test file, three runners: node:test, Vitest and Jest run it as it is
// (npm run test:kit), against the built package (dist/) as a user would import it.
// The only runner-specific line picks `describe` and `it`; assertions use node:assert.
import assert from "node:assert/strict";
import process from "node:process";
import { Event, Lock, TimeoutError, createTask, getRunningLoop, sleep, waitFor } from "asyncio-ts";
import { advanceTime, coroutineTest, exploreSchedules } from "asyncio-ts/testing";

const { describe, it } = process.env.VITEST
  ? await import("vitest")
  : typeof globalThis.it === "function"
    ? globalThis // Jest's globals
    : await import("node:test");

describe("asyncio-ts/testing under any runner", () => {
  it(
    "runs a coroutine on the virtual clock: an hour of sleeping takes no time",
    coroutineTest(function* () {
      yield* sleep(3600);
      assert.equal(getRunningLoop().time(), 3600);
    }),
  );

  it(
    "times out a slow call after exactly one loop second",
    coroutineTest(function* () {
      const started = getRunningLoop().time();
      try {
        yield* waitFor(sleep(10), 1);
        assert.fail("expected a TimeoutError");
      } catch (error) {
        assert.ok(error instanceof TimeoutError);
      }
      assert.equal(getRunningLoop().time() - started, 1);
    }),
  );

  it(
    "drives the clock by hand with advanceTime",
    coroutineTest(function* () {
      const ready = new Event();
      const task = createTask(
        (function* () {
          yield* sleep(5);
          ready.set();
        })(),
      );
      yield* advanceTime(4.9);
      assert.equal(ready.isSet(), false);
      yield* advanceTime(0.1);
      assert.equal(ready.isSet(), true);
      yield* task;
    }),
  );

  it("fails a test that leaves a task pending, naming it", async () => {
    const leaky = coroutineTest(function* () {
      createTask(sleep(60), { name: "forgotten-poller" });
    });
    await assert.rejects(leaky(), /still pending[\s\S]*Task "forgotten-poller"/);
  });

  it("fails a hanging test at its timeout, showing where it waits", async () => {
    const hangs = coroutineTest(
      function* () {
        yield* new Event().wait();
      },
      { timeout: 30 },
    );
    await assert.rejects(hangs(), /timed out after 30 s of loop time/);
  });

  it("finds an interleaving bug by shuffling schedules, and reports the seed", async () => {
    let shared = 0;
    function* racy() {
      shared = 0;
      const first = createTask(
        (function* () {
          const seen = shared;
          yield* sleep(0);
          shared = seen + 1;
        })(),
      );
      const second = createTask(
        (function* () {
          yield* sleep(0);
          const seen = shared;
          yield* sleep(0);
          shared = seen + 1;
        })(),
      );
      yield* first;
      yield* second;
      assert.equal(shared, 2);
    }
    const found = await exploreSchedules(racy, { runs: 200, seed: 1 });
    assert.notEqual(found.failingSeed, null);
    assert.match(String(found.error), new RegExp(`schedule seed ${found.failingSeed}`));
  });

  it(
    "passes every schedule once a lock guards the read and the write",
    coroutineTest(
      function* () {
        const lock = new Lock();
        let shared = 0;
        function* increment(steps) {
          for (let i = 0; i < steps; i++) yield* sleep(0);
          yield* lock.acquire();
          try {
            const seen = shared;
            yield* sleep(0);
            shared = seen + 1;
          } finally {
            lock.release();
          }
        }
        const tasks = [createTask(increment(0)), createTask(increment(1))];
        for (const task of tasks) yield* task;
        assert.equal(shared, 2);
      },
      { shuffle: true },
    ),
  );
});
