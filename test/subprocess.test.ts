import assert from "node:assert/strict";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { inspect } from "node:util";
import {
  CalledProcessError,
  CancelledError,
  DEVNULL,
  FileNotFoundError,
  NotADirectoryError,
  OSError,
  PIPE,
  PermissionError,
  Process,
  ProcessLookupError,
  STDOUT,
  TimeoutError,
  createSubprocessExec,
  createSubprocessShell,
  createTask,
  forEach,
  gather,
  getRunningLoop,
  runProcess,
  sleep,
  type Coro,
} from "../src/index.js";
import { withTempDir } from "./node-support.js";
import { cancelAll, errorOf, runCapturing, runVirtual } from "./support.js";

// The test runner's own pipes are open from the start; anything beyond them is a leak.
const childHandles = (): string[] => process.getActiveResourcesInfo().filter((r) => /Process|Pipe|TTY/.test(r)).sort();
const handlesAtStart = childHandles();

interface ProcEntry {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
}

/** Every process on the machine, from /proc (state, parent, process group). */
export function processTable(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    entries.push({ pid: Number(name), state: fields[0]!, ppid: Number(fields[1]), pgid: Number(fields[2]) });
  }
  return entries;
}

/** Live processes of group `pgid` (zombies reparented to PID 1 are init's to reap, not ours). */
function liveGroupMembers(pgid: number): ProcEntry[] {
  return processTable().filter((p) => p.pgid === pgid && p.state !== "Z");
}

/**
 * The group's members still alive once the signals had time to land: a
 * signalled orphan is still listed as running for a moment after its group
 * was killed (seen as state R under load), so look again for up to 2 s.
 */
function* membersLeftAfterKill(pgid: number): Coro<ProcEntry[]> {
  for (let waited = 0; waited < 2; waited += 0.05) {
    if (liveGroupMembers(pgid).length === 0) return [];
    yield* sleep(0.05);
  }
  return liveGroupMembers(pgid);
}

// tsx's esbuild service is a child of ours from the start.
const childrenAtStart = new Set(processTable().filter((p) => p.ppid === process.pid).map((p) => p.pid));

/** Our own children started since the file loaded, zombies included. */
function ourChildren(): ProcEntry[] {
  return processTable().filter((p) => p.ppid === process.pid && !childrenAtStart.has(p.pid));
}

function isAlive(pid: number): boolean {
  const entry = processTable().find((p) => p.pid === pid);
  return entry !== undefined && entry.state !== "Z";
}

/** Runs on the real clock (children take real time) and fails on any exception-handler report. */
async function runReal<T>(main: () => Coro<T>): Promise<T> {
  const outcome = await runCapturing(main, { clock: "real" });
  if (outcome.reports.length > 0) throw new Error(`unexpected reports: ${outcome.reports.map((r) => `${r.message} ${String(r.exception)}`).join("; ")}`);
  if ("error" in outcome) throw outcome.error;
  return outcome.value as T;
}

after(() => {
  assert.deepEqual(ourChildren(), [], "a child outlived its test");
  assert.deepEqual(childHandles(), handlesAtStart, "a process or pipe handle leaked");
});

test("bytes written to cat come back on its stdout, and it exits 0", async () => {
  const [code, data] = await runReal(function* () {
    const proc = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
    proc.stdin!.write("some data");
    yield* proc.stdin!.drain();
    proc.stdin!.close();
    const data = yield* proc.stdout!.read();
    return [yield* proc.wait(), data.toString()] as const;
  });
  assert.equal(code, 0);
  assert.equal(data, "some data");
});

test("communicate pushes 50 MB through cat without deadlock and the bytes come back equal", async () => {
  const input = Buffer.alloc(50 * 1024 * 1024);
  for (let i = 0; i < input.length; i += 4096) input.write(`block ${i}\n`, i);
  const [stdout, stderr, code] = await runReal(function* () {
    const proc = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
    const [out, err] = yield* proc.communicate(input);
    return [out, err, proc.returncode] as const;
  });
  assert.equal(stderr, null);
  assert.equal(code, 0);
  assert.equal(stdout!.length, input.length);
  assert.ok(stdout!.equals(input));
});

test("a child's stdout is an async source of its lines", async () => {
  const lines = await runReal(function* () {
    const proc = yield* createSubprocessExec("node", ["-e", "for (let i = 0; i < 5; i++) console.log('line ' + i)"], { stdout: PIPE });
    const lines: string[] = [];
    yield* forEach(proc.stdout!, (line) => {
      lines.push(line.toString());
    });
    yield* proc.wait();
    return lines;
  });
  assert.deepEqual(lines, ["line 0\n", "line 1\n", "line 2\n", "line 3\n", "line 4\n"]);
});

test("writing to a child that closed its stdin early (head) raises a broken pipe from drain", async () => {
  const [error, code] = await runReal(function* () {
    const proc = yield* createSubprocessExec("head", ["-n", "1"], { stdin: PIPE, stdout: DEVNULL });
    const feed = function* (): Coro<unknown> {
      try {
        for (;;) {
          proc.stdin!.write("y\n".repeat(4096));
          yield* proc.stdin!.drain();
        }
      } catch (e) {
        return e;
      }
    };
    const error = yield* feed();
    return [error, yield* proc.wait()] as const;
  });
  assert.ok(["EPIPE", "ECONNRESET"].includes((error as { code?: string }).code!), String(error));
  assert.equal(code, 0);
});

test("communicate ignores a child that exits without reading its input", async () => {
  const code = await runReal(function* () {
    const proc = yield* createSubprocessExec("head", ["-c", "1"], { stdin: PIPE, stdout: DEVNULL });
    yield* proc.communicate(Buffer.alloc(4 * 1024 * 1024, 0x79));
    return proc.returncode;
  });
  assert.equal(code, 0);
});

test("an unread stdout pauses the pipe: yes blocks with a bounded buffer until killed", async () => {
  const [line, buffered, paused, code] = await runReal(function* () {
    const limit = 1024;
    const proc = yield* createSubprocessExec("yes", [], { stdout: PIPE, limit });
    const line = (yield* proc.stdout!.readline()).toString();
    yield* sleep(0.2);
    const { buffered, paused } = proc.stdout!.statistics();
    proc.kill();
    return [line, buffered, paused, yield* proc.wait()] as const;
  });
  assert.equal(line, "y\n");
  assert.ok(paused);
  assert.ok(buffered <= 2 * 1024 + 65536, `buffered ${buffered}`);
  assert.equal(code, -9);
});

test("stderr=STDOUT sends the child's stderr into its stdout pipe", async () => {
  const [exec, shell, code] = await runReal(function* () {
    const a = yield* createSubprocessExec("sh", ["-c", "echo out; echo err >&2"], { stdout: PIPE, stderr: STDOUT });
    const [aOut, aErr] = yield* a.communicate();
    assert.equal(aErr, null);
    const b = yield* createSubprocessShell("echo out; echo err >&2; exit 3", { stdout: PIPE, stderr: STDOUT });
    const [bOut] = yield* b.communicate();
    return [aOut!.toString(), bOut!.toString(), b.returncode] as const;
  });
  assert.equal(exec, "out\nerr\n");
  assert.equal(shell, "out\nerr\n");
  assert.equal(code, 3);
});

test("stderr=PIPE keeps the two streams apart", async () => {
  const [out, err] = await runReal(function* () {
    const proc = yield* createSubprocessShell("echo out; echo err >&2", { stdout: PIPE, stderr: PIPE });
    return yield* proc.communicate();
  });
  assert.equal(out!.toString(), "out\n");
  assert.equal(err!.toString(), "err\n");
});

test("DEVNULL gives the child an empty stdin and discards its output", async () => {
  const [stdinLength, devnullOut] = await runReal(function* () {
    const a = yield* createSubprocessExec("node", ["-e", "let n = 0; process.stdin.on('data', (d) => n += d.length).on('end', () => console.log(n))"], { stdin: DEVNULL, stdout: PIPE });
    const [out] = yield* a.communicate();
    const b = yield* createSubprocessExec("sh", ["-c", "echo lost; echo lost >&2"], { stdout: DEVNULL, stderr: DEVNULL });
    const outputs = yield* b.communicate();
    return [out!.toString().trim(), outputs] as const;
  });
  assert.equal(stdinLength, "0");
  assert.deepEqual(devnullOut, [null, null]);
});

test("returncode is the exit status, or -N for signal N", async () => {
  const codes = await runReal(function* () {
    const exit7 = yield* createSubprocessShell("exit 7");
    const seven = yield* exit7.wait();
    const killed = yield* createSubprocessExec("sleep", ["100"]);
    killed.kill();
    const terminated = yield* createSubprocessExec("sleep", ["100"]);
    terminated.terminate();
    const interrupted = yield* createSubprocessExec("sleep", ["100"]);
    interrupted.sendSignal("SIGINT");
    const hup = yield* createSubprocessExec("sleep", ["100"]);
    hup.sendSignal(1);
    return [seven, yield* killed.wait(), yield* terminated.wait(), yield* interrupted.wait(), yield* hup.wait(), exit7.returncode];
  });
  assert.deepEqual(codes, [7, -9, -15, -2, -1, 7]);
});

test("signalling a child that has exited is ESRCH (Python's ProcessLookupError)", async () => {
  await runReal(function* () {
    const proc = yield* createSubprocessExec("true");
    yield* proc.wait();
    assert.throws(() => proc.kill(), { code: "ESRCH" });
    assert.throws(() => proc.sendSignal("SIGNOPE" as NodeJS.Signals), RangeError);
  });
});

test("cancelling wait() leaves the child running (as Python)", async () => {
  await runReal(function* () {
    const proc = yield* createSubprocessExec("sleep", ["100"]);
    const waiter = createTask(proc.wait());
    yield* sleep(0.05);
    waiter.cancel();
    yield* sleep(0.05);
    assert.ok(waiter.cancelled());
    assert.equal(proc.returncode, null);
    assert.ok(isAlive(proc.pid));
    proc.kill();
    assert.equal(yield* proc.wait(), -9);
  });
});

test("cancelling communicate() leaves the child running", async () => {
  await runReal(function* () {
    const proc = yield* createSubprocessExec("sleep", ["100"], { stdin: PIPE, stdout: PIPE });
    const talk = createTask(proc.communicate("ignored"));
    yield* sleep(0.05);
    talk.cancel();
    try {
      yield* talk;
      assert.fail("communicate finished");
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    assert.ok(isAlive(proc.pid));
    proc.kill();
    assert.equal(yield* proc.wait(), -9);
  });
});

test("a program that does not exist is ENOENT naming the program", async () => {
  for (const options of [{}, { stderr: STDOUT }]) {
    const outcome = await runCapturing(() => createSubprocessExec("no-such-program-xyz", ["a"], options), { clock: "real" });
    const error = outcome.error as NodeJS.ErrnoException;
    assert.equal(error.code, "ENOENT");
    assert.match(error.message, /no-such-program-xyz/);
    assert.equal(error.path, "no-such-program-xyz");
  }
});

test("a program that does not exist is a FileNotFoundError naming the program", async () => {
  for (const options of [{}, { stderr: STDOUT }]) {
    const outcome = await runCapturing(() => createSubprocessExec("no-such-program-xyz", ["a"], options), { clock: "real" });
    const error = outcome.error;
    assert.ok(error instanceof FileNotFoundError, String(error));
    assert.equal(error.message, "No such file or directory: 'no-such-program-xyz' (the program to run)");
    assert.equal(error.path, "no-such-program-xyz");
    assert.equal(error.errno, 2);
  }
});

test("a cwd that does not exist is a FileNotFoundError naming the directory, not the program", async () => {
  const cwd = join(tmpdir(), `asyncio-ts-no-such-dir-${process.pid}`);
  for (const options of [{ cwd }, { cwd, stderr: STDOUT }]) {
    const outcome = await runCapturing(() => createSubprocessExec("echo", ["hi"], options), { clock: "real" });
    const error = outcome.error;
    assert.ok(error instanceof FileNotFoundError, String(error));
    assert.equal(error.message, `No such file or directory: '${cwd}' (the cwd for echo)`);
    assert.equal(error.path, cwd);
    assert.equal(error.code, "ENOENT");
  }
  const viaRun = await runCapturing(() => runProcess(["echo", "hi"], { cwd }), { clock: "real" });
  assert.ok(viaRun.error instanceof FileNotFoundError);
  assert.equal(viaRun.error.path, cwd);
});

test("a cwd that is a file is a NotADirectoryError naming it", async () => {
  const file = fileURLToPath(import.meta.url);
  const outcome = await runCapturing(() => createSubprocessExec("echo", ["hi"], { cwd: file }), { clock: "real" });
  assert.ok(outcome.error instanceof NotADirectoryError, String(outcome.error));
  assert.equal(outcome.error.message, `Not a directory: '${file}' (the cwd for echo)`);
  assert.equal(outcome.error.path, file);
});

test("a cwd that cannot be entered for another reason (a symlink loop) is an OSError naming it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-loop-"));
  const loop = join(dir, "a");
  symlinkSync(join(dir, "b"), loop);
  symlinkSync(loop, join(dir, "b"));
  try {
    for (const options of [{ cwd: loop }, { cwd: loop, stderr: STDOUT }]) {
      const outcome = await runCapturing(() => createSubprocessExec("echo", ["hi"], options), { clock: "real" });
      assert.ok(outcome.error instanceof OSError, String(outcome.error));
      assert.equal(outcome.error.code, "ELOOP");
      assert.equal(outcome.error.path, loop);
      assert.match(outcome.error.message, /^Too many symbolic links.*: '.*\/a' \(the cwd for echo\)$/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a missing program run in an existing cwd is a FileNotFoundError naming the program", async () => {
  const outcome = await runCapturing(() => createSubprocessExec("no-such-program-xyz", [], { cwd: tmpdir() }), { clock: "real" });
  assert.ok(outcome.error instanceof FileNotFoundError, String(outcome.error));
  assert.equal(outcome.error.path, "no-such-program-xyz");
});

test("a program that is not executable is a PermissionError", async () => {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-noexec-"));
  const script = join(dir, "script.sh");
  writeFileSync(script, "echo hi\n", { mode: 0o644 });
  try {
    const outcome = await runCapturing(() => createSubprocessExec(script), { clock: "real" });
    assert.ok(outcome.error instanceof PermissionError, String(outcome.error));
    assert.equal(outcome.error.code, "EACCES");
    assert.equal((outcome.error.cause as NodeJS.ErrnoException).code, "EACCES");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("signalling a child that has exited is a ProcessLookupError", async () => {
  await runReal(function* () {
    const proc = yield* createSubprocessExec("true");
    yield* proc.wait();
    assert.throws(() => proc.terminate(), (e: unknown) => e instanceof ProcessLookupError && e.code === "ESRCH" && e.name === "ProcessLookupError");
  });
});

test("bad stdio options are a TypeError or a RangeError before anything starts", async () => {
  await runReal(function* () {
    const cases: [unknown, new (...args: never[]) => Error][] = [
      [{ stdin: "pipe" }, TypeError],
      [{ stdout: {} }, TypeError],
      [{ stdin: STDOUT }, RangeError],
      [{ stdout: STDOUT }, RangeError],
      [{ stderr: -7 }, RangeError],
      [{ stdout: 1.5 }, RangeError],
      [{ limit: 0 }, RangeError],
      [{ cwd: 3 }, TypeError],
    ];
    for (const [options, kind] of cases) {
      try {
        yield* createSubprocessExec("true", [], options as never);
        assert.fail(`accepted ${inspect(options)}`);
      } catch (error) {
        assert.ok(error instanceof kind, `${inspect(options)}: ${String(error)}`);
      }
    }
    for (const call of [() => createSubprocessExec(42 as never), () => createSubprocessExec("true", "a" as never), () => createSubprocessShell(["ls"] as never)]) {
      try {
        yield* call();
        assert.fail("accepted a bad program");
      } catch (error) {
        assert.ok(error instanceof TypeError, String(error));
      }
    }
  });
});

test("cwd and env reach the child", async () => {
  const out = await runReal(function* () {
    const proc = yield* createSubprocessShell('printf "%s %s" "$PWD" "$FOO"', { stdout: PIPE, cwd: "/tmp", env: { ...process.env, FOO: "bar" } });
    const [out] = yield* proc.communicate();
    return out!.toString();
  });
  assert.equal(out, "/tmp bar");
});

test("under the virtual clock a running child holds time", async () => {
  const [elapsed, code] = await runVirtual(function* () {
    const loop = getRunningLoop();
    const start = loop.time();
    // Nothing else to do: without the hold, time would jump to the sleeper's deadline.
    const sleeper = createTask(sleep(1000));
    const proc = yield* createSubprocessExec("sleep", ["0.2"]);
    const code = yield* proc.wait();
    const elapsed = loop.time() - start;
    yield* cancelAll([sleeper]);
    return [elapsed, code] as const;
  });
  assert.equal(code, 0);
  assert.ok(elapsed < 1, `virtual time moved ${elapsed}s while the child ran`);
});

test("Process describes itself with its pid and state", async () => {
  await runReal(function* () {
    const proc = yield* createSubprocessExec("sleep", ["100"]);
    assert.ok(proc instanceof Process);
    assert.equal(inspect(proc), `<Process ${proc.pid} running>`);
    proc.kill();
    yield* proc.wait();
    assert.equal(inspect(proc), `<Process ${proc.pid} returncode=-9>`);
  });
});

test("200 concurrent short children all finish with their own output", async () => {
  const outputs = await runReal(function* () {
    const runs = Array.from({ length: 200 }, (_, i) => runProcess(["sh", "-c", `echo ${i}`]));
    return yield* gather(...runs);
  });
  assert.deepEqual(
    outputs.map((r) => r.stdout!.toString()),
    Array.from({ length: 200 }, (_, i) => `${i}\n`),
  );
});

test("runProcess captures the output and returns the exit status", async () => {
  const result = await runReal(() => runProcess(["cat"], { input: "hello" }));
  assert.equal(result.returncode, 0);
  assert.equal(result.stdout!.toString(), "hello");
  assert.equal(result.stderr!.toString(), "");
  assert.deepEqual(result.args, ["cat"]);
  const shell = await runReal(() => runProcess("echo $((6 * 7))"));
  assert.equal(shell.stdout!.toString(), "42\n");
  const uncaptured = await runReal(() => runProcess(["true"], { capture: false }));
  assert.equal(uncaptured.stdout, null);
});

test("runProcess raises CalledProcessError for a failing check, with the output", async () => {
  const outcome = await runCapturing(() => runProcess("echo oops >&2; exit 3"), { clock: "real" });
  const error = outcome.error as CalledProcessError;
  assert.ok(error instanceof CalledProcessError);
  assert.equal(error.returncode, 3);
  assert.equal(error.cmd, "echo oops >&2; exit 3");
  assert.equal(Buffer.from(error.stderr!).toString(), "oops\n");
  assert.match(error.message, /exit status 3/);
  const unchecked = await runReal(() => runProcess("exit 3", { check: false }));
  assert.equal(unchecked.returncode, 3);
});

test("runProcess timed out kills the whole group of sh -c 'sleep 100 & sleep 100' and raises TimeoutError", async () => {
  const [error, before, live] = await runReal(function* () {
    const task = createTask(runProcess(["sh", "-c", "sleep 100 & sleep 100"], { timeout: 0.5 }));
    yield* sleep(0.25);
    const leader = ourChildren()[0]!;
    const before = liveGroupMembers(leader.pid).length;
    const [error] = yield* gather(task, { returnExceptions: true });
    return [error, before, yield* membersLeftAfterKill(leader.pid)] as const;
  });
  assert.ok(error instanceof TimeoutError, String(error));
  assert.ok(before >= 2, `${before} processes in the group`);
  assert.deepEqual(live, []);
});

test("runProcess cancelled kills the whole group, grandchildren included", async () => {
  const [groupBefore, live] = await runReal(function* () {
    const task = createTask(runProcess(["sh", "-c", "sleep 100 & sleep 100 & wait"]));
    yield* sleep(0.3);
    const group = ourChildren();
    assert.equal(group.length, 1);
    const pgid = group[0]!.pid;
    const before = liveGroupMembers(pgid).length;
    task.cancel();
    try {
      yield* task;
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    return [before, yield* membersLeftAfterKill(pgid)] as const;
  });
  assert.equal(groupBefore, 3);
  assert.deepEqual(live, []);
});

test("a group that ignores SIGTERM is killed after the grace period", async () => {
  const [before, live, elapsed] = await runReal(function* () {
    const loop = getRunningLoop();
    const task = createTask(runProcess(["sh", "-c", "trap '' TERM; sleep 100 & sleep 100 & wait"], { gracePeriod: 0.3 }));
    yield* sleep(0.3);
    const leader = ourChildren()[0]!;
    const before = liveGroupMembers(leader.pid).length;
    const start = loop.time();
    task.cancel();
    yield* gather(task, { returnExceptions: true });
    const elapsed = loop.time() - start;
    return [before, yield* membersLeftAfterKill(leader.pid), elapsed] as const;
  });
  assert.equal(before, 3);
  assert.deepEqual(live, []);
  assert.ok(elapsed >= 0.25, `killed after ${elapsed}s`);
});

// --- edge cases ------------------------------------------------------------
// Subprocess edge cases: argument checks, file-descriptor stdio,
// stderr=STDOUT program lookup, signals and process groups at the edges
// (cancelled while starting, a group already gone, a leader that exited
// while a grandchild holds its pipes), and a child outliving its loop.

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

async function errorOfRun(body: () => Coro<unknown>): Promise<unknown> {
  const outcome = await runCapturing(body, { clock: "real" });
  assert.deepEqual(outcome.reports, []);
  assert.ok("error" in outcome, `no error, got ${inspect(outcome.value)}`);
  return outcome.error;
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
    return [error, ourChildren()];
  }, { clock: "real" });
  const [error, children] = outcome.value as [unknown, unknown[]];
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
    pid = ourChildren()[0]?.pid ?? 0;
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
  await until(() => ourChildren().length === 0, "the child is reaped");
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
