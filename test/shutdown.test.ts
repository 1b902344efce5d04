import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { CancelledError, gracefulShutdown, getRunningLoop, shielded, sleep, type Shutdown } from "../src/index.js";
import { runVirtual } from "./support.js";
import { signalOnOutput, type ChildEnding } from "./node-support.js";

const program = fileURLToPath(new URL("./fixtures/graceful.ts", import.meta.url));
const now = (): number => getRunningLoop().time();

/** Runs the fixture, sends `signal` each time stdout shows one of `triggers` (in order), returns how it ended. */
const stopWith = (mode: string, signal: NodeJS.Signals, triggers: string[]): Promise<ChildEnding> => signalOnOutput(program, mode, signal, triggers);

test("the first SIGTERM sets requested with the signal as reason and a body that finishes returns its result", async () => {
  const ending = await stopWith("drain", "SIGTERM", ["ready"]);
  assert.equal(ending.code, 0, ending.stderr);
  assert.match(ending.stdout, /requested by SIGTERM\nin-flight work finished\n/);
  assert.match(ending.stdout, /block ended with drained/);
});

test("a body still running when the grace period ends is cancelled, its shielded cleanup runs, and the program exits 0", async () => {
  const ending = await stopWith("grace", "SIGINT", ["ready"]);
  assert.equal(ending.code, 0, ending.stderr);
  assert.match(ending.stdout, /requested by SIGINT\nshielded cleanup finished\n/);
  assert.match(ending.stdout, /block ended with undefined/);
});

test("a second signal cancels the body at once, without waiting for the grace period", async () => {
  const started = Date.now();
  const ending = await stopWith("second", "SIGTERM", ["ready", "draining"]);
  assert.equal(ending.code, 0, ending.stderr);
  assert.match(ending.stdout, /draining\nshielded cleanup finished\n/);
  assert.match(ending.stdout, /block ended with undefined/);
  assert.ok(Date.now() - started < 15_000, "the second signal did not cut the 100 s grace period short");
});

test("the signal handlers are removed when the block ends", async () => {
  const ending = await stopWith("drain", "SIGTERM", ["ready"]);
  assert.match(ending.stdout, /SIGTERM listeners after the block: 0/);
});

test("request() starts the grace period, after which the body is cancelled and the block ends with undefined", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    const result = yield* gracefulShutdown(
      function* (shutdown) {
        getRunningLoop().callLater(1, () => shutdown.request("deploy"));
        yield* shutdown.requested.wait();
        trail.push(`requested (${shutdown.reason}) at ${now()}`);
        try {
          yield* sleep(100);
        } catch (error) {
          trail.push(`${(error as Error).name} at ${now()}`);
          throw error;
        }
        return "not reached";
      },
      { signals: [], gracePeriod: 5 },
    );
    return { trail, result };
  });
  assert.deepEqual(outcome, { trail: ["requested (deploy) at 1", "CancelledError at 6"], result: undefined });
});

test("a body that finishes within the grace period keeps its result", async () => {
  const outcome = await runVirtual(() =>
    gracefulShutdown(
      function* (shutdown) {
        getRunningLoop().callLater(1, () => shutdown.request());
        yield* shutdown.requested.wait();
        yield* sleep(2);
        return `finished at ${now()}`;
      },
      { signals: [], gracePeriod: 5 },
    ),
  );
  assert.equal(outcome, "finished at 3");
});

test("a cancellation from outside the block is not absorbed by it", async () => {
  const outcome = await runVirtual(function* () {
    const task = getRunningLoop().createTask(gracefulShutdown(() => sleep(100), { signals: [] }));
    yield* sleep(1);
    task.cancel();
    try {
      yield* task;
    } catch (error) {
      return error instanceof CancelledError;
    }
    return false;
  });
  assert.equal(outcome, true);
});

test("an infinite grace period waits for a second request", async () => {
  const outcome = await runVirtual(function* () {
    let handle: Shutdown | null = null;
    const result = yield* gracefulShutdown(
      function* (shutdown) {
        handle = shutdown;
        getRunningLoop().callLater(1, () => shutdown.request());
        getRunningLoop().callLater(500, () => shutdown.request("again"));
        try {
          yield* sleep(1000);
        } finally {
          yield* shielded(() => sleep(1));
        }
      },
      { signals: [], gracePeriod: Infinity },
    );
    return [result, now(), (handle as unknown as Shutdown).reason];
  });
  assert.deepEqual(outcome, [undefined, 501, "requested"]);
});
