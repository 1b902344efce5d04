/**
 * The stall watchdog: a blocked loop is reported while it is still blocked,
 * through the loop's exception handler, with the running task and the busy
 * code's stack; then one line when the stall ends.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { getRunningLoop, Runner, run, sleep } from "../src/index.js";

const stalled = new URL("./fixtures/stalled.ts", import.meta.url);

interface Stalled {
  busyStarted: number;
  busyEnded: number;
  reports: Array<{ message: string; at: number; blockedFor: number; task?: string; stack?: string }>;
}

function runChild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, ["--import", "tsx", stalled.pathname, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (code) => resolve({ stdout, stderr, code })));
}

// The two tests that read the handler's reports share one run of the child (it takes about 3 s).
let handlerRun: ReturnType<typeof runChild> | null = null;
const runWithHandler = (): ReturnType<typeof runChild> => (handlerRun ??= runChild(["handler"]));

test("a task blocking the loop for 1.5 s under watchdog 0.2 is reported while it still blocks, naming the task and the busy function", { timeout: 60_000 }, async () => {
  const { stdout, stderr, code } = await runWithHandler();
  assert.equal(code, 0, stderr);
  const { busyStarted, busyEnded, reports } = JSON.parse(stdout) as Stalled;
  const blocked = reports.filter((r) => r.message === "event loop blocked");
  // One report per stall, and none for the 0.4 s the loop was idle before it.
  assert.equal(blocked.length, 1, JSON.stringify(reports));
  const [report] = blocked;
  assert.ok(report!.at < busyEnded, `reported ${busyEnded - report!.at} ms after the busy loop ended`);
  assert.ok(report!.at >= busyStarted + 200, "reported before the threshold");
  assert.equal(report!.task, "cruncher");
  assert.match(report!.stack!, /^ {4}at crunchNumbers \(.*stalled\.ts:\d+:\d+\)\n {4}at cruncher /);
  assert.ok(report!.blockedFor >= 0.2 && report!.blockedFor < 1.5, String(report!.blockedFor));
});

test("the stall's end is one more report with the stall's total, once the blocked step has returned", { timeout: 60_000 }, async () => {
  const { stdout, stderr, code } = await runWithHandler();
  assert.equal(code, 0, stderr);
  const { busyEnded, reports } = JSON.parse(stdout) as Stalled;
  assert.deepEqual(reports.map((r) => r.message.replace(/[\d.]+ s$/, "N s")), ["event loop blocked", "event loop unblocked after N s"]);
  const end = reports[1]!;
  assert.ok(end.at >= busyEnded);
  // Counted from when the watcher first saw the turn: at most the watcher's start-up late.
  assert.ok(end.blockedFor > 1 && end.blockedFor <= 1.6, String(end.blockedFor));
  assert.equal(end.message, `event loop unblocked after ${end.blockedFor.toFixed(3)} s`);
});

test("ASYNCIO_TS_WATCHDOG=0.2 turns the watchdog on without an option, and the default handler writes the reports to stderr", { timeout: 60_000 }, async () => {
  const { stderr, code } = await runChild(["env"], { ASYNCIO_TS_WATCHDOG: "0.2" });
  assert.equal(code, 0, stderr);
  assert.match(stderr, /^event loop blocked\nblockedFor: 0\.\d+\ntask: <Task pending [^\n]*name="cruncher">\nstack: {5}at crunchNumbers /);
  assert.match(stderr, /\nevent loop unblocked after 1\.\d{3} s\nblockedFor: 1\.\d+\n$/);
});

test("in debug mode the report also has the blocked task's creation site", { timeout: 60_000 }, async () => {
  const { stderr, code } = await runChild(["env"], { ASYNCIO_TS_WATCHDOG: "0.2", ASYNCIO_TS_DEBUG: "1" });
  assert.equal(code, 0, stderr);
  assert.match(stderr, /^event loop blocked\nblockedFor: [\d.]+\ntask: [^\n]*name="cruncher"[^\n]*\nsourceTraceback: Error: task created here\n(.*\n)*? +at .*stalled\.ts:\d+:\d+\)?\n(.*\n)*stack: {5}at crunchNumbers /);
});

test("ASYNCIO_TS_WATCHDOG set to 0 or empty is no watchdog", async () => {
  const saved = process.env["ASYNCIO_TS_WATCHDOG"];
  try {
    for (const value of ["0", ""]) {
      process.env["ASYNCIO_TS_WATCHDOG"] = value;
      const runner = new Runner({ clock: "virtual" });
      assert.equal(runner.getLoop().turnCounter, null, JSON.stringify(value));
      await runner.close();
    }
  } finally {
    if (saved === undefined) delete process.env["ASYNCIO_TS_WATCHDOG"];
    else process.env["ASYNCIO_TS_WATCHDOG"] = saved;
  }
});

test("an ASYNCIO_TS_WATCHDOG that is not a number of seconds is one warning, and the run has no watchdog", { timeout: 60_000 }, async () => {
  const { stderr, code } = await runChild(["env", "300"], { ASYNCIO_TS_WATCHDOG: "soon" });
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "asyncio-ts: ASYNCIO_TS_WATCHDOG=soon is not a number of seconds (>= 0.001); no watchdog\n");
});

test("a loop in a worker thread gets its report once the stall is over, with the total and why there is no stack", { timeout: 60_000 }, async () => {
  // Loader hooks are per thread: the worker registers tsx itself before loading the TypeScript fixture.
  const worker = new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(stalled.href)}); })`, {
    eval: true,
    argv: ["handler", "600"],
  });
  try {
    const [{ busyEnded, reports }] = (await once(worker, "message")) as [Stalled];
    assert.deepEqual(reports.map((r) => r.message.replace(/[\d.]+ s$/, "N s")), ["event loop blocked", "event loop unblocked after N s"]);
    const report = reports[0]!;
    assert.ok(report.at >= busyEnded);
    assert.equal(report.task, undefined);
    assert.match(report.stack!, /^unavailable: the loop runs in a worker thread, and node:inspector reaches only the main thread; the report is late, the stall is over$/);
    assert.ok(report.blockedFor > 0.2);
  } finally {
    await worker.terminate();
  }
});

test("a stall in a plain callback is reported during the stall, without a task", async () => {
  const reports: Array<{ message: string; task: unknown; stack: unknown; at: number }> = [];
  let busyEnded = 0;
  function holdTheThread(): void {
    const end = Date.now() + 1000;
    while (Date.now() < end);
    busyEnded = Date.now();
  }
  await run(
    function* () {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_loop, context) => void reports.push({ message: context.message, task: context.task, stack: context.stack, at: Date.now() }));
      // Let the watcher thread start, then block the loop from a callback.
      yield* sleep(0.3);
      loop.callSoon(holdTheThread);
      yield* sleep(0.05);
    },
    { watchdog: 0.1 },
  );
  assert.equal(reports[0]?.message, "event loop blocked", JSON.stringify(reports));
  assert.ok(reports[0]!.at < busyEnded);
  assert.equal(reports[0]!.task, undefined);
  assert.match(String(reports[0]!.stack), /^ {4}at holdTheThread /);
  assert.match(reports[1]?.message ?? "", /^event loop unblocked after \d+\.\d{3} s$/);
});

test("a watchdog that is not a positive number of seconds is refused by run() and Runner()", () => {
  assert.throws(() => new Runner({ watchdog: 0 }), { name: "RangeError", message: "Runner(): watchdog must be >= 0.001, got 0" });
  assert.throws(() => new Runner({ watchdog: Infinity }), { name: "RangeError", message: "Runner(): watchdog must be finite" });
  assert.throws(() => run(function* () {}, { watchdog: "1" as unknown as number }), { name: "TypeError", message: 'Runner(): watchdog must be a number, got "1"' });
});

test("a Runner with a watchdog keeps it across its runs and stops its thread when closed", async () => {
  const runner = new Runner({ watchdog: 5, clock: "virtual" });
  const loop = runner.getLoop();
  assert.ok(loop.turnCounter !== null);
  await runner.run(function* () {});
  const turns = loop.turnCounter[0]!;
  assert.ok(turns >= 2 && turns % 2 === 0, `turn counter ${turns} between runs`);
  await runner.run(function* () {});
  assert.ok(loop.turnCounter[0]! > turns);
  await runner.close();
  assert.equal(loop.turnCounter, null);
});
