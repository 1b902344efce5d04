/**
 * `asyncio-ts ps` / `pstree` and the inspector socket: the task table and
 * await tree of a process that opted in; the per-user private directory and
 * its checks on both ends (a squatted, symlinked, foreign or too-wide path is
 * refused); the host never dies of its inspector (a missing or too-long
 * TMPDIR, a worker thread); bounded input (request size, connections, idle
 * time, a 100 MB flood); the socket file removed at every ending; a client
 * that gives up on a blocked loop and escapes what it prints.
 *
 * Every test works in a sandbox TMPDIR of its own (and without
 * XDG_RUNTIME_DIR, unless it tests it), for this process and its children.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { Worker } from "node:worker_threads";
import { createTask, fromPromise, getRunningLoop, inspectorSocketPath, run, sleep, type Coro } from "../src/index.js";
import { startInspector, taskTable } from "../src/debug/inspector.js";
import { privateDir, realTmp, request, sandbox, uid, waitForSocket, withInspector } from "./inspector-support.js";
import { captureStderr } from "./node-support.js";
import { runVirtual } from "./support.js";

const cli = new URL("../dist/src/cli/main.js", import.meta.url).pathname;
const fixture = new URL("./fixtures/ending.ts", import.meta.url).pathname;
const workerFixture = new URL("./fixtures/inspected-worker.ts", import.meta.url).pathname;
const skip = existsSync(cli) ? false : "dist/ is not built (npm test builds it first)";
delete process.env["XDG_RUNTIME_DIR"];
delete process.env["ASYNCIO_TS_INSPECT"];

/**
 * The environment of a fixture: it takes the sandbox as its TMPDIR from
 * FIXTURE_TMPDIR once started, so that tsx keeps its compile cache in the
 * real temp dir (and cannot create a TMPDIR that a test wants missing).
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: realTmp, FIXTURE_TMPDIR: process.env["TMPDIR"]!, ...extra };
  delete env["ASYNCIO_TS_TRACE"];
  return env;
}

/** The environment of the CLI (no tsx): the sandbox as its TMPDIR. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

interface Started {
  child: ChildProcess;
  pid: number;
  socketPresent: boolean;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the ending fixture in `mode` and resolves once it printed its ready line. */
function start(mode: string, env: NodeJS.ProcessEnv = childEnv(), args: string[] = []): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, mode, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = /ready (\d+) (true|false)/.exec(out);
      if (match) {
        child.stdout!.off("data", check);
        resolve({ child, pid: Number(match[1]), socketPresent: match[2] === "true", stdout: () => out, stderr: () => err, exited });
      }
    };
    child.stdout!.on("data", check);
    void exited.then(() => setImmediate(() => reject(new Error(`exited before its ready line: ${out} ${err}`))));
  });
}

function cliRun(args: string[], env: NodeJS.ProcessEnv = cliEnv()): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

test("ps and pstree show the tasks of a process that opted in; directory 0700, socket 0600, removed at exit", { skip }, async (t) => {
  sandbox(t);
  const fixtureInspected = new URL("./fixtures/inspected.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", fixtureInspected], { env: childEnv(), stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const pid = await new Promise<number>((resolve) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /ready (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
  });
  const path = inspectorSocketPath(pid);
  assert.equal(path, join(privateDir(), `asyncio-ts-${pid}.sock`));
  try {
    assert.equal(lstatSync(privateDir()).mode & 0o777, 0o700);
    assert.equal(lstatSync(path).mode & 0o777, 0o600);
    const ps = await cliRun(["ps", String(pid)]);
    assert.equal(ps.status, 0, ps.stderr);
    assert.match(ps.stdout, /task id +task name +state +awaiting/);
    assert.match(ps.stdout, /kitchen +pending +gather of 2/);
    assert.match(ps.stdout, /oven-1 +pending +sleep until \d+\.\d{3} +kitchen/);
    const tree = await cliRun(["pstree", String(pid)]);
    assert.equal(tree.status, 0, tree.stderr);
    assert.match(tree.stdout, /\(T\) kitchen \[gather of 2\]\n\s+├── \(T\) oven-1 \[sleep until/);
  } finally {
    // The program has its own SIGTERM handler: the inspector only cleans up and lets it decide.
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
  }
  assert.equal(existsSync(path), false);
});

test("ps of a process that did not opt in says how to opt in", { skip }, (t) => {
  sandbox(t);
  const result = spawnSync(process.execPath, [cli, "ps", String(process.pid)], { encoding: "utf8", env: cliEnv() });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /ASYNCIO_TS_INSPECT=1/);
});

test("nothing listens when a run did not opt in", async (t) => {
  sandbox(t);
  await run(function* () {
    yield* sleep(0);
  });
  assert.equal(existsSync(inspectorSocketPath(process.pid)), false);
});

test("the socket lives in $XDG_RUNTIME_DIR when it is set", { skip }, async (t) => {
  const dir = sandbox(t);
  const runtime = join(dir, "run-user");
  mkdirSync(runtime, { mode: 0o700 });
  const env = childEnv({ XDG_RUNTIME_DIR: runtime });
  const host = await start("wait", env);
  try {
    assert.equal(host.socketPresent, true);
    assert.equal(existsSync(join(runtime, `asyncio-ts-${host.pid}.sock`)), true);
    const ps = await cliRun(["ps", String(host.pid)], cliEnv({ XDG_RUNTIME_DIR: runtime }));
    assert.equal(ps.status, 0, ps.stderr);
    assert.match(ps.stdout, /worker-3 +pending/);
  } finally {
    host.child.kill("SIGTERM");
    await host.exited;
  }
  assert.equal(existsSync(join(runtime, `asyncio-ts-${host.pid}.sock`)), false);
});

function readdir(dir: string): string[] {
  return spawnSync("ls", ["-A", dir], { encoding: "utf8" }).stdout.split("\n").filter((l) => l !== "");
}

/** Runs the fixture to its end and returns what it printed; the inspector must have warned with one line. */
async function runsOnWithWarning(env: NodeJS.ProcessEnv = childEnv()): Promise<string> {
  const host = await start("normal", env);
  const { code } = await host.exited;
  assert.equal(code, 0, host.stderr());
  assert.equal(host.socketPresent, false);
  assert.match(host.stdout(), /result 42/);
  const lines = host.stderr().split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, host.stderr());
  assert.match(lines[0]!, /^asyncio-ts: inspector disabled: /);
  return lines[0]!;
}

test("a private directory with a mode wider than 0700 is refused: one warning, and the program runs on", async (t) => {
  sandbox(t);
  mkdirSync(privateDir());
  chmodSync(privateDir(), 0o755);
  assert.match(await runsOnWithWarning(), /mode 0755, wider than 0700/);
});

test("a symbolic link in place of the private directory is refused", async (t) => {
  const dir = sandbox(t);
  mkdirSync(join(dir, "elsewhere"), { mode: 0o700 });
  symlinkSync(join(dir, "elsewhere"), privateDir());
  assert.match(await runsOnWithWarning(), /is a symbolic link/);
  assert.deepEqual(readdir(join(dir, "elsewhere")), []);
});

test("a private directory owned by another user is refused", { skip: uid === 0 ? false : "needs root to make a directory owned by another uid" }, async (t) => {
  sandbox(t);
  mkdirSync(privateDir(), { mode: 0o700 });
  chownSync(privateDir(), 65534, 65534);
  assert.match(await runsOnWithWarning(), /owned by uid 65534, not 0/);
});

const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
const squatSkip = process.env["CI"] !== "true" ? "CI=true only (runs a squatter as another uid)" : uid !== 0 || setpriv === undefined ? "needs root and setpriv" : false;

test("another local user who squats the path can neither kill the host nor answer ps in its place", { skip: skip || squatSkip }, async (t) => {
  const dir = sandbox(t);
  chmodSync(dir, 0o1777); // a shared temp dir, as /tmp is
  const squat = join(dir, `asyncio-ts-${uid}`);
  // The squatter (uid 65534) creates our directory name first, then, once the
  // host's pid is known, a socket there that answers with terminal escapes.
  const squatter = (script: string): ReturnType<typeof spawnSync> =>
    spawnSync(setpriv!, ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script], { encoding: "utf8" });
  const made = squatter(`require("fs").mkdirSync(${JSON.stringify(squat)}, { mode: 0o777 }); require("fs").chmodSync(${JSON.stringify(squat)}, 0o777)`);
  assert.equal(made.status, 0, String(made.stderr));
  assert.equal(lstatSync(squat).uid, 65534);
  const host = await start("wait");
  const server = spawn(
    setpriv!,
    [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      process.execPath,
      "-e",
      `const s = require("net").createServer((c) => c.end(JSON.stringify({ tasks: [{ id: 1, name: "\\u001b[2Jowned", state: "pending", awaiting: "x", awaitsTasks: [] }] }) + "\\n"));
       s.listen(${JSON.stringify(join(squat, `asyncio-ts-${host.pid}.sock`))}, () => console.log("listening"));`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    await new Promise((resolve) => server.stdout.once("data", resolve));
    assert.equal(host.socketPresent, false);
    assert.match(host.stderr(), /^asyncio-ts: inspector disabled: .*owned by uid 65534, not 0\n$/);
    const ps = await cliRun(["ps", String(host.pid)]);
    assert.equal(ps.status, 1);
    assert.match(ps.stderr, /refusing to talk to .*owned by uid 65534/);
    assert.equal(ps.stdout, "");
  } finally {
    server.kill();
    host.child.kill("SIGTERM");
    await host.exited;
  }
});

test("a TMPDIR that does not exist is one warning, and the program runs on", async (t) => {
  const dir = sandbox(t);
  assert.match(await runsOnWithWarning(childEnv({ FIXTURE_TMPDIR: join(dir, "missing") })), /ENOENT/);
});

test("a TMPDIR too long for a Unix socket path is one warning, and the program runs on", async (t) => {
  const dir = sandbox(t);
  const long = join(dir, "x".repeat(100));
  mkdirSync(long);
  assert.match(await runsOnWithWarning(childEnv({ FIXTURE_TMPDIR: long })), /longer than 107 bytes/);
});

test("an inspected run() inside a worker thread works (no process.umask there), and ps sees its tasks", { skip }, async (t) => {
  sandbox(t);
  process.env["ASYNCIO_TS_INSPECT"] = "1";
  const worker = new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(workerFixture)}); })`, { eval: true, stderr: true });
  delete process.env["ASYNCIO_TS_INSPECT"];
  let stderr = "";
  worker.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const messages: string[] = [];
  const next = (): Promise<string> => new Promise((resolve) => worker.once("message", (m: string) => resolve(m)));
  const ended = new Promise<number>((resolve) => worker.on("exit", resolve));
  worker.on("message", (m: string) => messages.push(m));
  assert.equal(await next(), "ready");
  const path = inspectorSocketPath(process.pid);
  assert.equal(lstatSync(path).mode & 0o777, 0o600);
  const ps = await cliRun(["ps", String(process.pid)]);
  assert.equal(ps.status, 0, ps.stderr);
  assert.match(ps.stdout, /in-a-worker +pending/);
  const result = next();
  worker.postMessage("stop");
  assert.equal(await result, "result 7");
  assert.equal(await ended, 0);
  assert.equal(stderr, "");
  assert.equal(existsSync(path), false);
});

test("a stale socket left by a killed process of the same pid is replaced", async (t) => {
  sandbox(t);
  mkdirSync(privateDir(), { mode: 0o700 });
  const path = inspectorSocketPath(process.pid);
  const killed = spawn(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(path)}, () => console.log("up"))`], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => killed.stdout.once("data", resolve));
  killed.kill("SIGKILL");
  await new Promise((resolve) => killed.on("exit", resolve));
  assert.equal(lstatSync(path).isSocket(), true);
  const reply = await run(function* () {
    const stop = startInspector(getRunningLoop());
    try {
      yield* waitForSocket(path);
      return yield* fromPromise(request(path, "ps\n"));
    } finally {
      stop();
    }
  });
  assert.match(reply, /"pid":\d+/);
});

test("a request line longer than 64 KiB closes the connection without an answer", async (t) => {
  await withInspector(t, function* (path) {
    assert.equal(yield* fromPromise(request(path, Buffer.alloc(64 * 1024 + 1, "a"))), "");
    assert.match(yield* fromPromise(request(path, `${"p".repeat(10)}\n`)), /"error":"unknown request \\"pppppppppp\\""/);
    assert.match(yield* fromPromise(request(path, "ps\n")), /"tasks":\[/);
  });
});

test("at most 16 connections are served at once", async (t) => {
  await withInspector(t, function* (path) {
    const held: Socket[] = [];
    const idle = Array.from({ length: 16 }, () => request(path, "", held));
    yield* waitConnected(held);
    // The 17th is closed at once, unanswered.
    assert.equal(yield* fromPromise(request(path, "ps\n")), "");
    held[0]!.destroy();
    yield* fromPromise(idle[0]!);
    let reply = "";
    for (let i = 0; i < 200 && reply === ""; i++) {
      reply = yield* fromPromise(request(path, "ps\n"));
      if (reply === "") yield* sleep(0.01);
    }
    assert.match(reply, /"tasks":\[/);
    for (const socket of held) socket.destroy();
  });
});

function* waitConnected(sockets: Socket[]): Coro<void> {
  while (sockets.some((s) => s.connecting)) yield* sleep(0.005);
  // Let the server accept them all before the next one.
  yield* sleep(0.05);
}

test("an idle connection is closed after the idle time", { timeout: 20_000 }, async (t) => {
  await withInspector(
    t,
    function* (path) {
      const start = performance.now();
      assert.equal(yield* fromPromise(request(path, "")), "");
      assert.ok(performance.now() - start >= 40);
    },
    50,
  );
});

test("the inspector stops answering and leaves no socket file when its run ends", async (t) => {
  let path = "";
  await withInspector(t, function* (p) {
    path = p;
    yield* sleep(0);
  });
  assert.equal(existsSync(path), false);
});

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match![1]) * 1024;
}

test("a 100 MB flood without a newline keeps the host's RSS within 50 MB of its baseline, and it answers after", { skip }, async (t) => {
  sandbox(t);
  const host = await start("wait");
  try {
    const path = inspectorSocketPath(host.pid);
    const baseline = rssOf(host.pid);
    const chunk = Buffer.alloc(1024 * 1024, "x");
    const sent = await new Promise<number>((resolve) => {
      let total = 0;
      const socket = connect(path);
      const pump = (): void => {
        while (total < 100 * chunk.length) {
          total += chunk.length;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
        socket.end();
      };
      socket.on("connect", pump);
      socket.on("error", () => {});
      socket.on("close", () => resolve(total));
    });
    assert.ok(sent < 100 * chunk.length, `the host read all ${sent} bytes`);
    assert.ok(rssOf(host.pid) - baseline < 50 * 1024 * 1024, `RSS grew from ${baseline} to ${rssOf(host.pid)}`);
    const ps = await cliRun(["ps", String(host.pid)]);
    assert.equal(ps.status, 0, ps.stderr);
  } finally {
    host.child.kill("SIGTERM");
    await host.exited;
  }
});

test("ps against a blocked event loop gives up after --timeout with one line and status 1", { skip }, async (t) => {
  sandbox(t);
  const host = await start("block");
  try {
    const ps = await cliRun(["ps", String(host.pid), "--timeout", "0.5"]);
    assert.equal(ps.status, 1);
    assert.equal(ps.stderr, `error: process ${host.pid} did not answer within 0.5 s (is its event loop blocked?)\n`);
    assert.equal(ps.stdout, "");
  } finally {
    host.child.kill("SIGKILL");
    await host.exited;
  }
});

test("ps and pstree escape control characters in what they print", { skip }, async (t) => {
  sandbox(t);
  const host = await start("wait", childEnv({ FIXTURE_TASK_NAME: "\u001b[2J\u0007evil\u202e" }));
  try {
    for (const command of ["ps", "pstree"]) {
      const out = await cliRun([command, String(host.pid)]);
      assert.equal(out.status, 0, out.stderr);
      assert.ok(out.stdout.includes("\\x1b[2J\\x07evil\\u202e"), out.stdout);
      // eslint-disable-next-line no-control-regex -- the point is that no control character is printed
      assert.doesNotMatch(out.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    }
  } finally {
    host.child.kill("SIGTERM");
    await host.exited;
  }
});

/** A fake inspector socket at this process's path, answering `reply`. */
function fakeServer(t: TestContext, reply: string): Promise<string> {
  const path = inspectorSocketPath(process.pid);
  const server: Server = createServer((c) => c.end(reply));
  t.after(() => void server.close());
  return new Promise((resolve) => server.listen(path, () => resolve(path)));
}

test("ps refuses a socket whose directory is open to others, or whose socket another user owns", { skip }, async (t) => {
  sandbox(t);
  mkdirSync(privateDir(), { mode: 0o700 });
  const path = await fakeServer(t, `${JSON.stringify({ tasks: [{ id: 1, name: "impostor", state: "pending", awaiting: "x", awaitsTasks: [] }] })}\n`);
  chmodSync(privateDir(), 0o755);
  const wide = await cliRun(["ps", String(process.pid)]);
  assert.equal(wide.status, 1);
  assert.match(wide.stderr, /^error: refusing to talk to .*mode 0755, wider than 0700/);
  assert.equal(wide.stdout, "");
  chmodSync(privateDir(), 0o700);
  if (uid === 0) {
    chownSync(path, 65534, 65534);
    const foreign = await cliRun(["ps", String(process.pid)]);
    assert.equal(foreign.status, 1);
    assert.match(foreign.stderr, /owned by uid 65534, not 0/);
    chownSync(path, 0, 0);
  }
  const ok = await cliRun(["ps", String(process.pid)]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /impostor/);
});

test("ps rejects a reply that is not a task table", { skip }, async (t) => {
  sandbox(t);
  mkdirSync(privateDir(), { mode: 0o700 });
  await fakeServer(t, `${JSON.stringify({ tasks: [{ id: "1", name: 2 }] })}\n`);
  const bad = await cliRun(["ps", String(process.pid)]);
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, `error: process ${process.pid} sent a malformed reply\n`);
});

test("a second inspector for the same pid (another loop of this process) is one warning, and the first keeps answering", async (t) => {
  const stderr = captureStderr(t);
  await withInspector(t, function* (path) {
    const stopSecond = startInspector(getRunningLoop());
    try {
      for (let i = 0; i < 500 && stderr() === ""; i++) yield* sleep(0.01);
    } finally {
      stopSecond();
    }
    assert.match(yield* fromPromise(request(path, "ps\n")), /"tasks":\[/);
  });
  assert.match(stderr(), /^asyncio-ts: inspector disabled: .*another loop of this process is already inspected there\n$/);
});

// --- edge cases ------------------------------------------------------------
// The inspector at its edges: what the task table says for each kind of wait,
// a failure while answering, the takeover of its socket path going wrong in
// each way, the socket file vanishing, a worker thread's loop meeting the main
// thread's, and the opt-in variable's "off" values. Each test works in a
// sandbox TMPDIR of its own (without XDG_RUNTIME_DIR).

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
