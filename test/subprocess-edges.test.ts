/**
 * Subprocess edge cases: argument checks, file-descriptor stdio,
 * stderr=STDOUT program lookup, signals and process groups at the edges
 * (cancelled while starting, a group already gone, a leader that exited
 * while a grandchild holds its pipes), and a child outliving its loop.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { inspect } from "node:util";
import {
  CancelledError,
  PIPE,
  PermissionError,
  STDOUT,
  TimeoutError,
  createSubprocessExec,
  createSubprocessShell,
  createTask,
  getRunningLoop,
  runProcess,
  sleep,
  type Coro,
  type Process,
} from "../src/index.js";
import { runCapturing } from "./support.js";

/** Every process on the machine, from /proc: pid, state, parent and process group. */
function processTable(): { pid: number; state: string; ppid: number; pgid: number }[] {
  const entries = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      entries.push({ pid: Number(name), state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // exited while we looked
    }
  }
  return entries;
}

/** Our own children that are still processes (zombies included). */
const ourChildren = (): number[] => processTable().filter((p) => p.ppid === process.pid).map((p) => p.pid);

/** Live members of process group `pgid` (zombies are their parents' to reap). */
const liveGroupMembers = (pgid: number): number[] => processTable().filter((p) => p.pgid === pgid && p.state !== "Z").map((p) => p.pid);

// tsx's esbuild service is a child of ours from the start.
const childrenAtStart = new Set(ourChildren());
const newChildren = (): number[] => ourChildren().filter((pid) => !childrenAtStart.has(pid));

after(() => {
  assert.deepEqual(newChildren(), [], "a child outlived its test");
});

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** Waits (polling, real time) until `condition` holds; fails after 10 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 10_000) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function* errorOf(body: () => Coro<unknown>): Coro<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  return assert.fail("no error");
}

async function errorOfRun(body: () => Coro<unknown>): Promise<unknown> {
  const outcome = await runCapturing(body, { clock: "real" });
  assert.deepEqual(outcome.reports, []);
  assert.ok("error" in outcome, `no error, got ${inspect(outcome.value)}`);
  return outcome.error;
}

function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-sub-"));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

// --- arguments ---------------------------------------------------------------

test("a program name of null is a TypeError that says null", async () => {
  const error = await errorOfRun(() => createSubprocessExec(null as never));
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /takes a program name, got null$/);
});

test("a stdio that is not a number is a TypeError listing what it may be, STDOUT only for stderr", async () => {
  const stdout = await errorOfRun(() => createSubprocessExec("true", [], { stdout: "pipe" as never }));
  const stderr = await errorOfRun(() => createSubprocessExec("true", [], { stderr: "pipe" as never }));
  assert.equal((stdout as Error).message, 'stdout must be PIPE, DEVNULL, a file descriptor or null, got "pipe"');
  assert.equal((stderr as Error).message, 'stderr must be PIPE, DEVNULL, STDOUT, a file descriptor or null, got "pipe"');
});

test("subprocess options that are not an object are a TypeError", async () => {
  const error = await errorOfRun(() => createSubprocessExec("true", [], 5 as never));
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /options must be an object, got number 5/);
});

test("an env that is not an object is a TypeError", async () => {
  const error = await errorOfRun(() => createSubprocessShell("true", { env: "PATH=/bin" as never }));
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /env must be an object of strings, got "PATH=\/bin"/);
});

test("sendSignal with something that is neither a signal name nor a number is a TypeError", async () => {
  const outcome = await runCapturing(function* () {
    const proc = yield* createSubprocessExec("sleep", ["30"]);
    const errors = [-1, 1.5, {}].map((signal) => {
      try {
        proc.sendSignal(signal as never);
        return null;
      } catch (error) {
        return error;
      }
    });
    proc.kill();
    yield* proc.wait();
    return errors;
  }, { clock: "real" });
  const errors = outcome.value as Error[];
  assert.ok(errors.every((e) => e instanceof TypeError));
  assert.deepEqual(errors.map((e) => e.message.replace(/^.*got /, "")), ["number -1", "number 1.5", "an object"]);
});

test("runProcess takes a command string or a non-empty array", async () => {
  const error = await errorOfRun(() => runProcess([]));
  assert.ok(error instanceof TypeError);
});

test("runProcess's timeout must be a number", async () => {
  const error = await errorOfRun(() => runProcess(["true"], { timeout: "5" as never }));
  assert.ok(error instanceof TypeError);
  assert.match(error.message, /timeout must be a number of seconds, got "5"/);
});

test("runProcess's gracePeriod must be a number >= 0", async () => {
  const error = await errorOfRun(() => runProcess(["true"], { gracePeriod: -1 }));
  assert.ok(error instanceof RangeError);
  assert.match(error.message, /gracePeriod must be a number of seconds >= 0, got number -1/);
});

test("communicate with input that is neither bytes nor a string is a TypeError", async () => {
  const outcome = await runCapturing(function* () {
    const proc = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
    const error = yield* errorOf(() => proc.communicate(42 as never));
    proc.stdin!.close();
    yield* proc.wait();
    return error;
  }, { clock: "real" });
  assert.ok(outcome.value instanceof TypeError, String(outcome.value));
  assert.match((outcome.value as Error).message, /write\(\) takes bytes/);
});

// --- stdio and lookup --------------------------------------------------------

test("a file descriptor as stdout sends the child's output into that file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "out.txt");
    const fd = openSync(path, "w");
    try {
      const outcome = await runCapturing(function* () {
        const proc = yield* createSubprocessShell("echo into the file", { stdout: fd });
        assert.equal(proc.stdout, null);
        return yield* proc.wait();
      }, { clock: "real" });
      assert.equal(outcome.value, 0);
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(path, "utf8"), "into the file\n");
  });
});

test("with stderr=STDOUT a program given by its path runs, and a missing path is ENOENT", async () => {
  const outcome = await runCapturing(function* () {
    const proc = yield* createSubprocessExec("/bin/sh", ["-c", "echo out; echo err >&2"], { stdout: PIPE, stderr: STDOUT });
    const [out] = yield* proc.communicate();
    const missing = yield* errorOf(() => createSubprocessExec("./no-such-program-xyz", [], { stderr: STDOUT }));
    return [out!.toString(), (missing as NodeJS.ErrnoException).code];
  }, { clock: "real" });
  assert.deepEqual(outcome.value, ["out\nerr\n", "ENOENT"]);
});

test("with stderr=STDOUT and no PATH in env, the program is looked up in the default directories", async () => {
  const outcome = await runCapturing(function* () {
    const proc = yield* createSubprocessExec("echo", ["found"], { stdout: PIPE, stderr: STDOUT, env: {} });
    const [out] = yield* proc.communicate();
    return out!.toString();
  }, { clock: "real" });
  assert.equal(outcome.value, "found\n");
});

// --- runProcess --------------------------------------------------------------

test("runProcess passes cwd and env to the child", async () => {
  await withTempDir(async (dir) => {
    const outcome = await runCapturing(() => runProcess('printf "%s %s" "$PWD" "$GREETING"', { cwd: dir, env: { GREETING: "hello" } }), { clock: "real" });
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.value!.stdout!.toString(), `${realpathSync(dir)} hello`);
  });
});

test("a CompletedProcess describes itself with its command and returncode", async () => {
  const outcome = await runCapturing(() => runProcess(["sh", "-c", "exit 4"], { check: false }), { clock: "real" });
  assert.equal(inspect(outcome.value), '<CompletedProcess ["sh","-c","exit 4"] returncode=4>');
});

test("runProcess with a timeout it does not reach returns the result", async () => {
  const outcome = await runCapturing(() => runProcess(["echo", "in time"], { timeout: 60 }), { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value!.stdout!.toString(), "in time\n");
});

test("runProcess timed out on a lone child raises TimeoutError once the child is gone", async () => {
  const outcome = await runCapturing(function* () {
    const error = yield* errorOf(() => runProcess(["sleep", "30"], { timeout: 0.2 }));
    return [error, newChildren()];
  }, { clock: "real" });
  const [error, children] = outcome.value as [unknown, number[]];
  assert.ok(error instanceof TimeoutError, String(error));
  assert.deepEqual(children, []);
});

test("cancelling runProcess after its leader exited, while a grandchild holds the output open, stops at once", async () => {
  await withTempDir(async (dir) => {
    const pidFile = join(dir, "leader.pid");
    let leader = 0;
    const outcome = await runCapturing(function* () {
      // The leader writes its pid and exits; the background sleep keeps stdout open, so communicate() waits on.
      const task = createTask(runProcess(["sh", "-c", `sleep 30 & echo $$ > ${pidFile}`], { gracePeriod: 30 }));
      for (let waited = 0; leader === 0 || !isGone(leader); waited += 0.01) {
        if (waited > 10) throw new Error("the leader never wrote its pid and exited");
        yield* sleep(0.01);
        if (leader === 0 && existsSync(pidFile)) leader = Number(readFileSync(pidFile, "utf8")) || 0;
      }
      const loop = getRunningLoop();
      const start = loop.time();
      task.cancel();
      const error = yield* errorOf(() => task as unknown as Coro<unknown>);
      return [error, loop.time() - start];
    }, { clock: "real" });
    const [error, elapsed] = outcome.value as [unknown, number];
    assert.ok(error instanceof CancelledError, String(error));
    assert.ok(elapsed < 5, `stopping took ${elapsed}s: it waited for a leader that had already exited`);
    await until(() => liveGroupMembers(leader).length === 0, "the grandchild is gone");
  });
});

// --- process groups and lifetimes --------------------------------------------

test("a child cancelled while starting in a new session is killed with its whole group", async () => {
  let pid = 0;
  const outcome = await runCapturing(function* () {
    const starting = createTask(createSubprocessShell("sleep 30 & sleep 30", { startNewSession: true }), { eagerStart: true });
    pid = newChildren()[0] ?? 0;
    starting.cancel();
    return yield* errorOf(() => starting as unknown as Coro<unknown>);
  }, { clock: "real" });
  assert.ok(outcome.value instanceof CancelledError, String(outcome.value));
  assert.ok(pid > 0);
  await until(() => isGone(pid) && liveGroupMembers(pid).length === 0, `group ${pid} is gone`);
});

test("a child cancelled while starting whose group is already gone raises only the cancellation", async () => {
  // Simulates the group exiting between spawn and the kill: process.kill(-pgid) is ESRCH.
  const realKill = process.kill.bind(process);
  const groupKills: number[] = [];
  process.kill = ((pid: number, signal?: string | number): true => {
    if (pid < 0) {
      groupKills.push(pid);
      throw Object.assign(new Error("kill ESRCH"), { code: "ESRCH" });
    }
    return realKill(pid, signal);
  }) as typeof process.kill;
  let outcome;
  try {
    outcome = await runCapturing(function* () {
      const starting = createTask(createSubprocessExec("sleep", ["30"], { startNewSession: true }), { eagerStart: true });
      starting.cancel();
      return yield* errorOf(() => starting as unknown as Coro<unknown>);
    }, { clock: "real" });
  } finally {
    process.kill = realKill as typeof process.kill;
    for (const pid of groupKills) realKill(-pid, "SIGKILL");
  }
  assert.ok(outcome.value instanceof CancelledError, String(outcome.value));
  assert.equal(groupKills.length, 1);
  await until(() => newChildren().length === 0, "the child is reaped");
});

test("a signal the system refuses raises its OSError class (EPERM: PermissionError)", async () => {
  const realKill = process.kill.bind(process);
  let refused = 0;
  const outcome = await runCapturing(function* () {
    const proc = yield* createSubprocessExec("sleep", ["30"]);
    process.kill = ((pid: number, signal?: string | number): true => {
      if (pid === proc.pid && signal === "SIGTERM") {
        refused++;
        throw Object.assign(new Error("kill EPERM"), { code: "EPERM", errno: -1, syscall: "kill" });
      }
      return realKill(pid, signal);
    }) as typeof process.kill;
    try {
      proc.terminate();
      return null;
    } catch (error) {
      return error;
    } finally {
      process.kill = realKill as typeof process.kill;
      proc.kill();
      yield* proc.wait();
    }
  }, { clock: "real" });
  assert.equal(refused, 1);
  assert.ok(outcome.value instanceof PermissionError, String(outcome.value));
  assert.deepEqual([outcome.value.code, outcome.value.errno, outcome.value.syscall], ["EPERM", 1, "kill"]);
});

test("an error the child reports after it started (a failed kill) fails nothing", async () => {
  const outcome = await runCapturing(function* () {
    const proc = yield* createSubprocessExec("sh", ["-c", "read line; echo got $line"], { stdin: PIPE, stdout: PIPE });
    proc["child"].emit("error", Object.assign(new Error("kill EPERM"), { code: "EPERM" }));
    const [out] = yield* proc.communicate("it\n");
    return out!.toString();
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.reports, []);
  assert.equal(outcome.value, "got it\n");
});

test("a child that exits after its loop closed still records its returncode", async () => {
  let proc: Process | null = null;
  const outcome = await runCapturing(function* () {
    proc = yield* createSubprocessExec("sleep", ["30"]);
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  const child = proc as unknown as Process;
  assert.equal(child.returncode, null);
  child.kill();
  await until(() => child.returncode !== null, "the child exited");
  assert.equal(child.returncode, -9);
});
