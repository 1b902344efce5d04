/**
 * The inspector at its edges: what the task table says for each kind of wait,
 * a failure while answering, the takeover of its socket path going wrong in
 * each way, the socket file vanishing, a worker thread's loop meeting the main
 * thread's, and the opt-in variable's "off" values. Each test works in a
 * sandbox TMPDIR of its own (without XDG_RUNTIME_DIR).
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { Worker } from "node:worker_threads";
import { createTask, fromPromise, getRunningLoop, inspectorSocketPath, run, sleep, type Coro } from "../src/index.js";
import { startInspector, taskTable } from "../src/debug/inspector.js";
import { privateDir, request, sandbox, withInspector } from "./inspector-support.js";
import { runVirtual } from "./support.js";

const workerFixture = new URL("./fixtures/inspected-worker.ts", import.meta.url).pathname;
delete process.env["XDG_RUNTIME_DIR"];
delete process.env["ASYNCIO_TS_INSPECT"];

/** Captures this process's stderr for the rest of the test. */
function captureStderr(t: TestContext): () => string {
  const write = process.stderr.write;
  let captured = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    captured += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stderr.write;
  t.after(() => {
    process.stderr.write = write;
  });
  return () => captured;
}

/** Sleeps (real time) until `condition` holds; fails after 5 s. */
function* until(condition: () => boolean, what: string): Coro<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 500) throw new Error(`timed out waiting until ${what}`);
    yield* sleep(0.01);
  }
}

// --- the task table ------------------------------------------------------------

test("the task table says what each task awaits: nothing yet, another task, a sleep", async () => {
  const rows = await runVirtual(function* () {
    const sleeper = createTask(sleep(10), { name: "sleeper" });
    const waiter = createTask((function* (): Coro<void> { yield* sleeper; })(), { name: "waiter" });
    yield* sleep(1);
    const fresh = createTask(sleep(1), { name: "fresh" });
    const rows = taskTable(getRunningLoop()).filter((row) => ["sleeper", "waiter", "fresh"].includes(row.name));
    waiter.cancel();
    yield* fresh;
    return rows.map((row) => ({ name: row.name, state: row.state, awaiting: row.awaiting, awaitsTasks: row.awaitsTasks.length === 0 ? "" : row.awaitsTasks[0] === sleeper.taskId ? "sleeper" : "?" }));
  });
  assert.deepEqual(rows, [
    { name: "sleeper", state: "pending", awaiting: "sleep until 10.000", awaitsTasks: "" },
    { name: "waiter", state: "pending", awaiting: "task sleeper", awaitsTasks: "sleeper" },
    { name: "fresh", state: "pending", awaiting: "ready", awaitsTasks: "" },
  ]);
});

test("a failure while building the reply is an error reply, and the inspector keeps answering", async (t) => {
  const [failed, after] = await withInspector(t, function* (path) {
    const tasks = getRunningLoop().liveTasks as unknown as Record<symbol, unknown>;
    tasks[Symbol.iterator] = () => {
      throw "the task list broke";
    };
    let failed: string;
    try {
      failed = yield* fromPromise(request(path, "ps\n"));
    } finally {
      delete tasks[Symbol.iterator];
    }
    return [failed, yield* fromPromise(request(path, "ps\n"))];
  });
  assert.equal(failed, '{"error":"the task list broke"}\n');
  assert.match(after, /"tasks":\[/);
});

// --- the socket file and its path --------------------------------------------

test("stopping an inspector whose socket file someone removed is harmless", async (t) => {
  const stderr = captureStderr(t);
  await withInspector(t, function* (path) {
    unlinkSync(path);
    yield* sleep(0);
  });
  assert.equal(stderr(), "");
});

test("a socket file removed before the inspector could make it owner-only disables the inspector with one warning", async (t) => {
  sandbox(t);
  const stderr = captureStderr(t);
  await run(function* () {
    const stop = startInspector(getRunningLoop());
    // Bound already (listen() binds at once); the 'listening' event, which secures the file, comes later.
    unlinkSync(inspectorSocketPath(process.pid));
    yield* until(() => stderr() !== "", "a warning");
    stop();
  });
  assert.match(stderr(), /^asyncio-ts: inspector disabled: .*asyncio-ts-\d+\.sock: ENOENT[^\n]*\n$/);
});

test("an inspector stopped before its takeover probe connects warns nothing", { timeout: 20_000 }, async (t) => {
  sandbox(t);
  const stderr = captureStderr(t);
  mkdirSync(privateDir(), { mode: 0o700 });
  const path = inspectorSocketPath(process.pid);
  // Someone answers at the path: the inspector's probe will connect, find it taken, and would warn if not stopped.
  const probed = new Promise<void>((resolve) => {
    const squatter = createServer((socket: Socket) => {
      socket.on("error", () => {});
      socket.on("close", () => squatter.close(() => resolve()));
      socket.resume();
    });
    squatter.listen(path, () => {
      const stop = startInspector(null as never);
      stop();
    });
  });
  await probed;
  assert.equal(stderr(), "");
});

test("a directory in place of the socket path is one warning: it cannot be taken over", async (t) => {
  sandbox(t);
  const stderr = captureStderr(t);
  mkdirSync(privateDir(), { mode: 0o700 });
  const path = inspectorSocketPath(process.pid);
  mkdirSync(path);
  await run(function* () {
    const stop = startInspector(getRunningLoop());
    yield* until(() => stderr() !== "", "a warning");
    stop();
  });
  assert.match(stderr(), /^asyncio-ts: inspector disabled: .*asyncio-ts-\d+\.sock: listen EADDRINUSE[^\n]*\n$/);
  assert.equal(existsSync(path), true, "the directory is left alone");
});

test("a regular file in place of the private directory is refused: one warning", async (t) => {
  sandbox(t);
  const stderr = captureStderr(t);
  writeFileSync(privateDir(), "not a directory");
  const stop = startInspector(null as never);
  stop();
  assert.match(stderr(), /^asyncio-ts: inspector disabled: .*asyncio-ts-\d+ is not a directory\n$/);
});

test("a relative XDG_RUNTIME_DIR is not used: the socket goes to the temp dir", (t) => {
  sandbox(t);
  process.env["XDG_RUNTIME_DIR"] = "relative/runtime";
  try {
    assert.equal(inspectorSocketPath(123), join(privateDir(), "asyncio-ts-123.sock"));
  } finally {
    delete process.env["XDG_RUNTIME_DIR"];
  }
});

// --- who opts in -------------------------------------------------------------

test("ASYNCIO_TS_INSPECT set to 0 or to nothing does not inspect", async (t) => {
  sandbox(t);
  for (const value of ["0", ""]) {
    process.env["ASYNCIO_TS_INSPECT"] = value;
    try {
      const listening = await run(function* () {
        yield* sleep(0);
        return existsSync(inspectorSocketPath(process.pid));
      });
      assert.equal(listening, false, JSON.stringify(value));
    } finally {
      delete process.env["ASYNCIO_TS_INSPECT"];
    }
  }
});

test("a worker thread's inspected loop, while the main thread's is inspected, warns once, naming the worker thread", { timeout: 20_000 }, async (t) => {
  await withInspector(t, function* (path) {
    process.env["ASYNCIO_TS_INSPECT"] = "1";
    const worker = new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(workerFixture)}); })`, { eval: true, stderr: true });
    delete process.env["ASYNCIO_TS_INSPECT"];
    let stderr = "";
    worker.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const ended = new Promise<number>((resolve) => worker.on("exit", resolve));
    const ready = new Promise<unknown>((resolve) => worker.once("message", resolve));
    try {
      yield* fromPromise(ready);
      yield* until(() => stderr !== "", "the worker's warning");
      assert.match(stderr, /^asyncio-ts: inspector disabled: .*another loop of this process is already inspected there \(this loop runs in a worker thread\)\n$/);
      assert.match(yield* fromPromise(request(path, "ps\n")), /"tasks":\[/);
    } finally {
      worker.postMessage("stop");
      yield* fromPromise(ended);
    }
  });
});
