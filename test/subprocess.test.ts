import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
import { runCapturing, runVirtual } from "./support.js";

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
    sleeper.cancel();
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
