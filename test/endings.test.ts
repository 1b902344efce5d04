/**
 * Every way a program ends, with real child processes that are inspected and
 * traced: run() returning, main raising, an uncaught exception, process.exit(),
 * SIGTERM, SIGINT, SIGHUP. After each, the inspector's socket file is gone and
 * the trace file is complete, valid JSON holding the run's events; a signal
 * still ends the process as it would have without the tooling.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { TraceFile } from "../src/index.js";
import { onEnding, warn } from "../src/debug/endings.js";

const fixture = new URL("./fixtures/ending.ts", import.meta.url).pathname;
const uid = process.getuid!();

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
  socketWasPresent: boolean;
  trace: TraceFile;
  socketDir: string;
}

/** Runs the ending fixture in `mode`; sends `signal` once it is ready, if given. */
async function end(t: TestContext, mode: string, signal?: NodeJS.Signals): Promise<Ended> {
  const sandbox = mkdtempSync(join(tmpdir(), "aio-end-"));
  t.after(() => rmSync(sandbox, { recursive: true, force: true }));
  const traceFile = join(sandbox, "run.json");
  const env: NodeJS.ProcessEnv = { ...process.env, FIXTURE_TMPDIR: sandbox };
  delete env["XDG_RUNTIME_DIR"];
  const child = spawn(process.execPath, ["--import", "tsx", fixture, mode, traceFile], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
    if (signal !== undefined && /ready \d+/.test(stdout)) {
      child.kill(signal);
      signal = undefined;
    }
  });
  const { code, signal: endedBy } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  const ready = /ready (\d+) (true|false)/.exec(stdout);
  assert.ok(ready, `no ready line: ${stdout} ${stderr}`);
  const text = readFileSync(traceFile, "utf8");
  let trace: TraceFile;
  try {
    trace = JSON.parse(text) as TraceFile;
  } catch (error) {
    throw new Error(`the trace is not valid JSON (${(error as Error).message}); it ends with ${JSON.stringify(text.slice(-200))}`, { cause: error });
  }
  return { code, signal: endedBy, stdout, stderr, pid: Number(ready[1]), socketWasPresent: ready[2] === "true", trace, socketDir: join(sandbox, `asyncio-ts-${uid}`) };
}

function assertClean(ended: Ended): void {
  assert.equal(ended.socketWasPresent, true, "the inspector was listening");
  assert.equal(existsSync(join(ended.socketDir, `asyncio-ts-${ended.pid}.sock`)), false, "the socket file is gone");
  assert.deepEqual(readdirSync(ended.socketDir), []);
  assert.equal(ended.trace.displayTimeUnit, "ms");
  const names = new Set(ended.trace.traceEvents.filter((e) => e.ph === "M").map((e) => e.args?.["name"]));
  // Every one of the fixture's 2,000 tasks has its track: the events streamed before the ending are all there.
  assert.ok(names.has("worker-0") && names.has("worker-1999"), `tracks: ${names.size}`);
  assert.ok(ended.trace.traceEvents.every((e) => typeof e.ts === "number" && typeof e.tid === "number"));
}

test("run() returning: main's result, no socket file, a complete trace", async (t) => {
  const ended = await end(t, "normal");
  assert.equal(ended.code, 0, ended.stderr);
  assert.match(ended.stdout, /result 42/);
  assertClean(ended);
  // The cancelled sleepers were traced to their end.
  assert.ok(ended.trace.traceEvents.some((e) => e.name === "cancelled"));
});

test("main raising: run() rejects with its error, no socket file, a complete trace", async (t) => {
  const ended = await end(t, "throw");
  assert.equal(ended.code, 4, ended.stderr);
  assert.match(ended.stdout, /rejected main failed/);
  assertClean(ended);
  assert.ok(ended.trace.traceEvents.some((e) => e.name === "failed"));
});

test("an uncaught exception: no socket file, a complete trace", async (t) => {
  const ended = await end(t, "uncaught");
  assert.equal(ended.code, 1);
  assert.match(ended.stderr, /uncaught outside the loop/);
  assertClean(ended);
});

test("process.exit() inside main: its status, no socket file, a complete trace", async (t) => {
  const ended = await end(t, "exit");
  assert.equal(ended.code, 3, ended.stderr);
  assertClean(ended);
});

for (const signal of ["SIGTERM", "SIGHUP"] as const) {
  test(`${signal}: the process still dies by it, with no socket file and a complete trace`, async (t) => {
    const ended = await end(t, "wait", signal);
    assert.equal(ended.signal, signal, `${ended.code} ${ended.stderr}`);
    assertClean(ended);
  });
}

test("SIGINT: the process ends by it (or by run()'s own Ctrl-C handling, with a failure status), with no socket file and a complete trace", async (t) => {
  const ended = await end(t, "wait", "SIGINT");
  assert.ok(ended.signal === "SIGINT" || (ended.code !== null && ended.code !== 0), `${ended.code} ${ended.signal}`);
  assertClean(ended);
});

for (const mode of ["graceful", "graceful-host"] as const) {
  test(`a SIGTERM the program handles itself (${mode === "graceful" ? "loop.addSignalHandler" : "a host listener"}) keeps the socket through the shutdown; removed at exit`, async (t) => {
    const ended = await end(t, mode, "SIGTERM");
    assert.equal(ended.code, 0, ended.stderr);
    assert.match(ended.stdout, /stopping true\nstopped true\nresult 42/);
    assertClean(ended);
  });
}

test("a cleanup that throws does not stop the others", () => {
  const ran: string[] = [];
  const unregisterFailing = onEnding(() => {
    throw new Error("cleanup broke");
  });
  const unregisterOther = onEnding(() => void ran.push("other"));
  // The ending's listener alone: it cleans up, then raises the signal again (caught here).
  const kill = process.kill;
  const raised: unknown[] = [];
  process.kill = ((_pid: number, signal?: string | number) => raised.push(signal) > 0) as typeof process.kill;
  try {
    process.emit("SIGHUP", "SIGHUP");
  } finally {
    process.kill = kill;
    unregisterFailing();
    unregisterOther();
  }
  assert.deepEqual(ran, ["other"]);
  assert.deepEqual(raised, ["SIGHUP"]);
});

test("a signal the program handles itself runs no cleanup: the process lives on", () => {
  const ran: string[] = [];
  const unregister = onEnding(() => void ran.push("cleanup"));
  const handledHere = (): void => void ran.push("program's handler");
  process.on("SIGHUP", handledHere);
  try {
    process.emit("SIGHUP", "SIGHUP");
  } finally {
    process.removeListener("SIGHUP", handledHere);
    unregister();
  }
  assert.deepEqual(ran, ["program's handler"]);
});

test("a warning with stderr gone is dropped without throwing", () => {
  const write = process.stderr.write;
  process.stderr.write = (() => {
    throw new Error("EPIPE");
  }) as typeof process.stderr.write;
  try {
    assert.doesNotThrow(() => warn("nobody hears this"));
  } finally {
    process.stderr.write = write;
  }
});
