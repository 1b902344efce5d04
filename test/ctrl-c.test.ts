import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { run, sleep } from "../src/index.js";
import { signalOnOutput, type ChildEnding } from "./node-support.js";

const program = fileURLToPath(new URL("./fixtures/interrupted.ts", import.meta.url));

/** Starts the program, sends SIGINT each time `stdout` shows one of `triggers` (in order), returns how it ended. */
const interrupt = (mode: string, triggers: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildEnding> => signalOnOutput(program, mode, "SIGINT", triggers, env);

test("Ctrl-C cancels the main task: its finally blocks and its children's run, then it exits 130 naming KeyboardInterrupt", async () => {
  const ending = await interrupt("plain", ["ready"]);
  assert.equal(ending.code, 130, ending.stderr);
  assert.match(ending.stdout, /main finally ran/);
  assert.match(ending.stdout, /child finally ran/);
  assert.match(ending.stderr, /KeyboardInterrupt/);
});

test("Ctrl-C is handled the same in a traced and inspected run, and the trace file is complete", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ctrl-c-"));
  try {
    const trace = join(dir, "run.json");
    const ending = await interrupt("plain", ["ready"], { ASYNCIO_TS_TRACE: trace, ASYNCIO_TS_INSPECT: "1" });
    assert.equal(ending.code, 130, ending.stderr);
    assert.match(ending.stdout, /main finally ran/);
    assert.match(ending.stderr, /KeyboardInterrupt/);
    assert.ok(Array.isArray(JSON.parse(readFileSync(trace, "utf8")).traceEvents));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a second Ctrl-C during slow cleanup exits at once", async () => {
  const ending = await interrupt("slow-cleanup", ["ready", "cleanup started"]);
  assert.equal(ending.code, 130);
  assert.match(ending.stdout, /cleanup started/);
  assert.doesNotMatch(ending.stdout, /cleanup finished/);
});

test("a Ctrl-C during a shielded block is held until the block ends, then cancels the main task as usual", async () => {
  const ending = await interrupt("shielded", ["ready"]);
  assert.equal(ending.code, 130, ending.stderr);
  assert.match(ending.stdout, /shielded block finished, cancelling=1\nafter the block\nmain finally ran/);
  assert.doesNotMatch(ending.stdout, /not reached/);
  assert.match(ending.stderr, /KeyboardInterrupt/);
});

test("run rejects with KeyboardInterrupt, which the program can catch", async () => {
  const ending = await interrupt("catch", ["ready"]);
  assert.equal(ending.code, 0, ending.stderr);
  assert.match(ending.stdout, /caught KeyboardInterrupt: true/);
});

test("with handleSignals: false, SIGINT is left alone and ends the process by the signal", async () => {
  const ending = await interrupt("no-signals", ["ready"]);
  assert.equal(ending.signal, "SIGINT");
  assert.doesNotMatch(ending.stdout, /finally ran/);
});

test("run leaves the host program's SIGINT listeners as they were", async () => {
  const before = process.listeners("SIGINT");
  let during = -1;
  await run(function* () {
    during = process.listenerCount("SIGINT");
    yield* sleep(0);
  });
  assert.equal(during, before.length + 1);
  assert.deepEqual(process.listeners("SIGINT"), before);
  const hostListener = (): void => undefined;
  process.on("SIGINT", hostListener);
  try {
    await run(function* () {
      during = process.listenerCount("SIGINT");
      yield* sleep(0);
    });
    assert.equal(during, 1, "a host that handles SIGINT itself keeps it");
  } finally {
    process.removeListener("SIGINT", hostListener);
  }
});
