// hosts: node-only — child processes run the submitted functions.
// ProcessPoolExecutor: terminateWorkers/killWorkers (Python 3.14) and the Node flags its workers get.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { BrokenProcessPool, CancelledError, ProcessPoolExecutor, sleep, type Coro, type Future } from "../src/index.js";
import { workerExecArgv } from "../src/executors/process-pool.js";
import { runCapturing } from "./support.js";

/** The outcome of a future: its error, or "cancelled". */
function* failureOf(future: Future<unknown>): Coro<Error | "cancelled" | null> {
  try {
    yield* future;
  } catch (error) {
    return error instanceof CancelledError ? "cancelled" : (error as Error);
  }
  return null;
}

async function stopWorkers(how: "terminateWorkers" | "killWorkers", signal: string): Promise<void> {
  const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
  try {
    const outcome = await runCapturing(function* () {
      const forever = (): Promise<never> => new Promise<never>(() => undefined);
      const running = [pool.submit(forever), pool.submit(forever)];
      const queued = pool.submit(forever);
      // Workers start lazily: wait (bounded) until both run a job.
      for (let i = 0; i < 1000 && pool.statistics().busy < 2; i++) yield* sleep(0.01);
      assert.equal(pool.statistics().busy, 2, "the workers did not start their jobs");
      pool[how]();
      const failures = [yield* failureOf(running[0]!), yield* failureOf(running[1]!), yield* failureOf(queued)];
      for (const failure of failures.slice(0, 2)) {
        assert.ok(failure instanceof BrokenProcessPool, String(failure));
        assert.match(failure.message, new RegExp(`killed by ${signal}`));
      }
      assert.equal(failures[2], "cancelled");
      // As in Python, a broken pool says so before it says it is shut down.
      assert.throws(() => pool.submit((x: number) => x, 1), BrokenProcessPool);
    }, { clock: "real" });
    if ("error" in outcome) throw outcome.error;
  } finally {
    await pool.shutdown({ wait: true });
  }
  assert.equal(pool.statistics().workers, 0);
}

test("terminateWorkers() sends SIGTERM to every worker: their jobs fail with BrokenProcessPool, queued ones are cancelled", async () => {
  await stopWorkers("terminateWorkers", "SIGTERM");
});

test("killWorkers() does the same with SIGKILL", async () => {
  await stopWorkers("killWorkers", "SIGKILL");
});

test("a worker keeps the parent's module hooks and memory flags and drops its entry and session flags", () => {
  assert.deepEqual(
    workerExecArgv(["--input-type=module", "-e", "code", "--import", "tsx", "--expose-gc", "--eval=more", "-p", "1", "-r", "./hook.cjs", "--loader=ts-node/esm", "--max-old-space-size=512", "--inspect=9229", "--test", "--watch", "--conditions", "dev"]),
    ["--import", "tsx", "--expose-gc", "-r", "./hook.cjs", "--loader=ts-node/esm", "--max-old-space-size=512", "--conditions", "dev"],
  );
});

test("a pool made by a program run as node --input-type=module -e works (its workers do not inherit --input-type and -e)", async () => {
  const index = new URL("../src/index.ts", import.meta.url).href;
  const program = `
    import { run, ProcessPoolExecutor } from ${JSON.stringify(index)};
    const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
    const value = await run(function* () { return yield* pool.submit((a, b) => a * b, 6, 7); });
    await pool.shutdown();
    console.log("result", value);
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", program], { timeout: 60_000 });
  assert.equal(stdout.trim(), "result 42");
});
