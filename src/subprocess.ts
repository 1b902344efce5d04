/**
 * Child processes (Python's `asyncio.subprocess`): `createSubprocessExec`,
 * `createSubprocessShell`, `Process`, and Trio's `run_process` as
 * `runProcess`.
 *
 * A child's pipes are the project's streams: `stdin` is a `StreamWriter`
 * (`drain()` waits on the pipe's buffer), `stdout`/`stderr` are
 * `StreamReader`s (paused past twice `limit`, an async source of lines).
 * Under a virtual clock a running child holds time: the loop does not jump
 * ahead while a child (or a pipe it left open) is alive.
 */
import type * as childProcess from "node:child_process";
import type { ChildProcess } from "node:child_process";
import type * as fs from "node:fs";
import type * as os from "node:os";
import type * as path from "node:path";
import { lazyBuiltin } from "./host.js";
import { inspectCustom } from "./repr.js";
import type { Coro } from "./coroutines.js";
import { CalledProcessError, CancelledError, FileNotFoundError, OSError, ProcessLookupError, toOSError } from "./errors.js";
import { type EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";
import type { Future } from "./futures.js";
import { gather } from "./gather.js";
import { DEFAULT_LIMIT, readerOver, writerOver, type StreamReader, type StreamWriter } from "./streams.js";
import { timeout as withTimeout } from "./timeouts.js";

const what = "Subprocesses";
const childProcessApi = lazyBuiltin<typeof childProcess>("node:child_process", what);
const fsApi = lazyBuiltin<typeof fs>("node:fs", what);
const osApi = lazyBuiltin<typeof os>("node:os", what);
const pathApi = lazyBuiltin<typeof path>("node:path", what);

/** Connect the child's stream to a new pipe (Python's `asyncio.subprocess.PIPE`). */
export const PIPE = -1;
/** Send the child's stderr where its stdout goes (stderr only; Python's `STDOUT`). */
export const STDOUT = -2;
/** Connect the child's stream to `/dev/null` (Python's `DEVNULL`). */
export const DEVNULL = -3;

/**
 * Where a child's stdin, stdout or stderr goes: `PIPE`, `DEVNULL`, `STDOUT`
 * (stderr only), a file descriptor of this process to share (`>= 0`), or
 * `null` / omitted to inherit ours.
 */
export type StdioOption = number | null;

/** Options of `createSubprocessExec` and `createSubprocessShell`. */
export interface SubprocessOptions {
  stdin?: StdioOption;
  stdout?: StdioOption;
  stderr?: StdioOption;
  /** Working directory of the child. */
  cwd?: string;
  /** Environment of the child (default: ours). */
  env?: Record<string, string | undefined>;
  /** Buffer limit of the stdout/stderr readers in bytes (default 65536). */
  limit?: number;
  /** Start the child in a new session and process group (Python's `start_new_session`). */
  startNewSession?: boolean;
}

const SHELL = "/bin/sh";

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : typeof value === "object" ? (value === null ? "null" : "an object") : `${typeof value} ${String(value)}`;
}

type NodeStdio = "pipe" | "ignore" | "inherit" | number;

function nodeStdio(name: "stdin" | "stdout" | "stderr", value: unknown): NodeStdio {
  if (value === undefined || value === null) return "inherit";
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be PIPE, DEVNULL, ${name === "stderr" ? "STDOUT, " : ""}a file descriptor or null, got ${describe(value)}`);
  }
  if (value === PIPE) return "pipe";
  if (value === DEVNULL) return "ignore";
  if (value === STDOUT) {
    if (name !== "stderr") throw new RangeError(`STDOUT can only be used for stderr, not ${name}`);
    // Replaced by a `2>&1` in the child (see spawnChild): fd 2 then is fd 1.
    return "inherit";
  }
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name}: ${value} is neither PIPE, DEVNULL, STDOUT nor a file descriptor`);
  return value;
}

function checkLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit <= 0) throw new RangeError(`limit must be a positive integer, got ${describe(limit)}`);
  return limit;
}

// The public functions default their options to {}, so undefined never gets here.
function checkOptions(options: unknown): SubprocessOptions {
  if (options === null || typeof options !== "object") throw new TypeError(`subprocess options must be an object, got ${describe(options)}`);
  const opts = options as SubprocessOptions;
  if (opts.cwd !== undefined && typeof opts.cwd !== "string") throw new TypeError(`cwd must be a string, got ${describe(opts.cwd)}`);
  if (opts.env !== undefined && (opts.env === null || typeof opts.env !== "object")) throw new TypeError(`env must be an object of strings, got ${describe(opts.env)}`);
  return opts;
}

/** A missing program (Python's `FileNotFoundError`), named as Python names it. */
function programNotFound(program: string, cause?: unknown): FileNotFoundError {
  const details = { code: "ENOENT", errno: osApi.constants.errno.ENOENT, syscall: `spawn ${program}`, path: program };
  return new FileNotFoundError(`No such file or directory: '${program}' (the program to run)`, cause === undefined ? details : { ...details, cause });
}

// Node blames the program (`spawn echo ENOENT`) or names nothing (`spawn ELOOP`)
// when the working directory is the problem: find out, as Python names the cwd.
function cwdProblem(cwd: string | undefined, program: string, spawnError?: unknown): OSError | null {
  if (cwd === undefined) return null;
  let statError: { code: string; errno?: number; message: string };
  try {
    if (fsApi.statSync(cwd).isDirectory()) return null;
    statError = { code: "ENOTDIR", errno: osApi.constants.errno.ENOTDIR, message: "ENOTDIR: not a directory" };
  } catch (error) {
    statError = error as typeof statError;
  }
  // Node's fs messages read "ENOENT: no such file or directory, stat '…'": keep the middle, as Python's strerror.
  const strerror = /^E[A-Z0-9]+: ([^,]+)/.exec(statError.message)?.[1] ?? statError.code;
  const message = `${strerror[0]!.toUpperCase()}${strerror.slice(1)}: '${cwd}' (the cwd for ${program})`;
  return toOSError(statError, { message, syscall: `spawn ${program}`, path: cwd, cause: spawnError ?? (statError instanceof Error ? statError : undefined) }) as OSError;
}

// What a failed spawn raises: the cwd's problem if it has one, a missing program, or the mapped host error.
function spawnFailed(error: unknown, program: string, cwd: string | undefined): unknown {
  const ofCwd = cwdProblem(cwd, program, error);
  if (ofCwd !== null) return ofCwd;
  if ((error as { code?: unknown } | null)?.code === "ENOENT") return programNotFound(program, error);
  return toOSError(error);
}

function isExecutableFile(path: string): boolean {
  try {
    fsApi.accessSync(path, fsApi.constants.X_OK);
    return fsApi.statSync(path).isFile();
  } catch {
    return false;
  }
}

// With stderr=STDOUT the child runs under `sh -c 'exec 2>&1; exec "$0" "$@"'`,
// so a missing program must be found missing here, as spawn would.
function programExists(program: string, env: Record<string, string | undefined>, cwd: string | undefined): boolean {
  if (program.includes("/")) return isExecutableFile(pathApi.resolve(cwd ?? process.cwd(), program));
  const path = env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin";
  return path.split(pathApi.delimiter).some((dir) => dir !== "" && isExecutableFile(pathApi.resolve(cwd ?? process.cwd(), dir, program)));
}

function signalNumber(signal: NodeJS.Signals): number {
  // Node names an exit signal from this same table.
  return osApi.constants.signals[signal];
}

/** The error for signalling a process that has exited (Python's `ProcessLookupError`). */
function processGone(pid: number): ProcessLookupError {
  return new ProcessLookupError(`process ${pid} has exited`, { code: "ESRCH", errno: osApi.constants.errno.ESRCH, syscall: "kill" });
}

/**
 * A running or finished child (Python's `asyncio.subprocess.Process`), made
 * by `createSubprocessExec` / `createSubprocessShell`.
 */
export class Process {
  /** The child's process id. */
  readonly pid: number;
  /** The child's stdin when it is `PIPE`, else `null`. */
  readonly stdin: StreamWriter | null;
  /** The child's stdout when it is `PIPE`, else `null`. */
  readonly stdout: StreamReader | null;
  /** The child's stderr when it is `PIPE`, else `null`. */
  readonly stderr: StreamReader | null;
  private exitCode: number | null = null;
  // Invariant: empty once exitCode is set (every waiter got it).
  private exitWaiters: Future<number>[] = [];
  private readonly loop: EventLoop;
  private readonly child: ChildProcess;

  /**
   * @internal Made by `createSubprocessExec` / `createSubprocessShell` right
   * after `spawn()`, before the child has even started: Node discards the
   * output of a pipe nobody listens to when the child exits, and a short
   * child may exit before the caller resumes.
   */
  constructor(child: ChildProcess, loop: EventLoop, limit: number) {
    this.child = child;
    this.loop = loop;
    this.pid = child.pid ?? -1;
    this.stdin = child.stdin !== null ? writerOver(child.stdin, null, loop) : null;
    this.stdout = child.stdout !== null ? readerOver(child.stdout, loop, limit) : null;
    this.stderr = child.stderr !== null ? readerOver(child.stderr, loop, limit) : null;
    child.on("exit", (code, signal) => this.exited(code !== null ? code : -signalNumber(signal!)));
  }

  /** The exit status: `null` while running, `-N` when killed by signal N. */
  get returncode(): number | null {
    return this.exitCode;
  }

  /**
   * Waits for the child to exit and returns its `returncode`. With
   * `stdout=PIPE` the child may block on a full pipe nobody reads: use
   * `communicate()`. Cancelling the wait does not kill the child.
   */
  *wait(): Coro<number> {
    if (this.exitCode !== null) return this.exitCode;
    const waiter = this.loop.createFuture<number>();
    this.exitWaiters.push(waiter);
    try {
      return yield* waiter;
    } finally {
      const index = this.exitWaiters.indexOf(waiter);
      if (index !== -1) this.exitWaiters.splice(index, 1);
    }
  }

  /**
   * Writes `input` to stdin (then closes it) while reading stdout and
   * stderr to their ends, then waits for the child to exit; returns
   * `[stdout, stderr]` (`null` for a stream that is not `PIPE`). A child
   * that exits without reading its input is not an error. Cancelling it
   * does not kill the child.
   */
  *communicate(input?: Uint8Array | string): Coro<[Buffer | null, Buffer | null]> {
    const [, stdout, stderr] = yield* gather(this.feedStdin(input), readAll(this.stdout), readAll(this.stderr));
    yield* this.wait();
    return [stdout, stderr];
  }

  /**
   * Sends `signal` (a name such as `"SIGINT"`, or a number) to the child.
   * Throws `ProcessLookupError` (`code: "ESRCH"`) once it exited.
   */
  sendSignal(signal: NodeJS.Signals | number): void {
    if (typeof signal === "string") {
      if (!(signal in osApi.constants.signals)) throw new RangeError(`unknown signal ${JSON.stringify(signal)}`);
    } else if (typeof signal !== "number" || !Number.isInteger(signal) || signal < 0) {
      throw new TypeError(`sendSignal() takes a signal name or number, got ${describe(signal)}`);
    }
    // Node reaps the child only when it reports 'exit': until then the pid is still ours.
    if (this.exitCode !== null) throw processGone(this.pid);
    try {
      process.kill(this.pid, signal);
    } catch (error) {
      // EPERM (a setuid child), or ESRCH in the instant between its exit and Node's 'exit' event.
      throw toOSError(error);
    }
  }

  /** Sends `SIGTERM`. */
  terminate(): void {
    this.sendSignal("SIGTERM");
  }

  /** Sends `SIGKILL`. */
  kill(): void {
    this.sendSignal("SIGKILL");
  }

  /** @internal A future set when the child exits, without removal on cancellation (for runProcess's grace period). */
  addExitWaiter(waiter: Future<number>): void {
    if (this.exitCode !== null) waiter.setResult(this.exitCode);
    else this.exitWaiters.push(waiter);
  }

  private exited(code: number): void {
    this.exitCode = code;
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    if (this.loop.isClosed()) return;
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(code);
  }

  private *feedStdin(input: Uint8Array | string | undefined): Coro<void> {
    const stdin = this.stdin;
    if (stdin === null) return;
    try {
      if (input !== undefined && input !== null) {
        stdin.write(input);
        yield* stdin.drain();
      }
    } catch (error) {
      // As asyncio: a child that does not read all its input is not an error of communicate().
      if (!isBrokenPipe(error)) throw error;
    }
    stdin.close();
  }

  [inspectCustom](): string {
    return `<Process ${this.pid} ${this.exitCode === null ? "running" : `returncode=${this.exitCode}`}>`;
  }
}

function isBrokenPipe(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EPIPE" || code === "ECONNRESET";
}

function* readAll(reader: StreamReader | null): Coro<Buffer | null> {
  if (reader === null) return null;
  return yield* reader.read();
}

function* spawnChild(file: string, args: string[], shown: { program: string; args: string[] }, options: unknown): Coro<Process> {
  const opts = checkOptions(options);
  const stdin = nodeStdio("stdin", opts.stdin);
  const stdout = nodeStdio("stdout", opts.stdout);
  const stderr = nodeStdio("stderr", opts.stderr);
  const limit = checkLimit(opts.limit);
  const env = opts.env ?? process.env;
  if (opts.stderr === STDOUT) {
    // Node's stdio cannot name another of the child's fds: the child dups fd 1 onto fd 2 itself.
    if (file === SHELL && args[0] === "-c" && args.length === 2) args = ["-c", `exec 2>&1\n${args[1]}`];
    else {
      if (!programExists(file, env, opts.cwd)) throw cwdProblem(opts.cwd, shown.program) ?? programNotFound(shown.program);
      args = ["-c", 'exec 2>&1; exec "$0" "$@"', file, ...args];
      file = SHELL;
    }
  }
  const loop = getRunningLoop();
  const started = loop.createFuture<void>();
  // The child holds virtual time from now until it has exited and its pipes have closed.
  const hold = loop.holdTime();
  let child: ChildProcess;
  try {
    child = childProcessApi.spawn(file, args, { stdio: [stdin, stdout, stderr], cwd: opts.cwd, env, detached: opts.startNewSession === true });
  } catch (error) {
    hold.release();
    throw spawnFailed(error, shown.program, opts.cwd);
  }
  const proc = new Process(child, loop, limit);
  let spawned = false;
  child.once("spawn", () => {
    spawned = true;
    if (!started.done()) started.setResult(undefined);
  });
  child.on("error", (error: Error) => {
    // After the start, 'error' only reports a failed kill(), and sendSignal() checks first.
    if (spawned) return;
    hold.release();
    if (!started.done() && !loop.isClosed()) started.setException(spawnFailed(error, shown.program, opts.cwd));
  });
  child.once("close", () => hold.release());
  try {
    yield* started;
  } catch (error) {
    // Cancelled while starting: the child must not outlive the call (asyncio kills it too).
    if (error instanceof CancelledError && child.pid !== undefined) killChild(child, opts.startNewSession === true);
    throw error;
  }
  return proc;
}

function killChild(child: ChildProcess, group: boolean): void {
  try {
    if (group && child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    else child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
}

function checkArgs(program: unknown, args: unknown): string[] {
  if (typeof program !== "string" || program.length === 0) throw new TypeError(`createSubprocessExec() takes a program name, got ${describe(program)}`);
  // createSubprocessExec defaults args to [], so undefined never gets here.
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) throw new TypeError("createSubprocessExec() takes its arguments as an array of strings");
  return [...(args as string[])];
}

/**
 * Starts `program` with `args` (no shell) and returns its `Process`
 * (Python's `asyncio.create_subprocess_exec`). A missing program raises
 * `FileNotFoundError` naming the program; a missing `cwd`, one naming the
 * directory; other system errors their `OSError` class.
 *
 * @example
 * const proc = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
 * const [out] = yield* proc.communicate("hello");
 */
export function* createSubprocessExec(program: string, args: string[] = [], options: SubprocessOptions = {}): Coro<Process> {
  const argv = checkArgs(program, args);
  return yield* spawnChild(program, argv, { program, args: argv }, options);
}

/**
 * Runs `cmd` through `/bin/sh -c` and returns its `Process` (Python's
 * `asyncio.create_subprocess_shell`). A missing command is the shell's exit
 * status 127, not an error.
 */
export function* createSubprocessShell(cmd: string, options: SubprocessOptions = {}): Coro<Process> {
  if (typeof cmd !== "string") throw new TypeError(`createSubprocessShell() takes a command string, got ${describe(cmd)}`);
  return yield* spawnChild(SHELL, ["-c", cmd], { program: SHELL, args: ["-c", cmd] }, options);
}

// ---------------------------------------------------------------- runProcess

/** Options of `runProcess`. */
export interface RunProcessOptions {
  /** Bytes (or a UTF-8 string) written to the child's stdin, then closed; without it stdin is inherited. */
  input?: Uint8Array | string;
  /** Raise `CalledProcessError` for a non-zero exit (default `true`). */
  check?: boolean;
  /** Capture stdout and stderr (default `true`); `false` inherits ours. */
  capture?: boolean;
  /** Seconds before the process group is killed and `TimeoutError` raised. */
  timeout?: number;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Seconds between SIGTERM and SIGKILL to the group when stopping it (default 5, real time). */
  gracePeriod?: number;
}

/** The result of `runProcess` (Python's `subprocess.CompletedProcess`). */
export class CompletedProcess {
  constructor(
    /** The command as given. */
    readonly args: string[] | string,
    /** The exit status (`-N` for signal N). */
    readonly returncode: number,
    /** Captured stdout, or `null` when not captured. */
    readonly stdout: Buffer | null,
    /** Captured stderr, or `null` when not captured. */
    readonly stderr: Buffer | null,
  ) {}

  [inspectCustom](): string {
    return `<CompletedProcess ${JSON.stringify(this.args)} returncode=${this.returncode}>`;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nobody left in the group.
  }
}

// Stops the child's whole group: SIGTERM, up to `grace` seconds for the
// leader to exit, then SIGKILL for whatever of the group is left.
function* stopGroup(proc: Process, grace: number): Coro<void> {
  signalGroup(proc.pid, "SIGTERM");
  const loop = getRunningLoop();
  const exited = loop.createFuture<number>();
  // Real time: the child holds a virtual clock, so a loop timer would not fire.
  const timer = setTimeout(() => {
    if (!exited.done() && !loop.isClosed()) exited.setResult(0);
  }, grace * 1000);
  proc.addExitWaiter(exited);
  try {
    yield* exited;
  } finally {
    clearTimeout(timer);
    signalGroup(proc.pid, "SIGKILL");
  }
  // The leader dies of SIGKILL at once; waiting for it leaves no zombie behind.
  yield* proc.wait();
}

/**
 * Runs a command to completion (Trio's `run_process`, Python's
 * `subprocess.run`): an array is a program and its arguments, a string a
 * shell command. The child runs in its own process group; cancellation or
 * `timeout` stops the whole group (SIGTERM, `gracePeriod`, SIGKILL), so no
 * grandchild outlives the call; a timeout then raises `TimeoutError`. A
 * non-zero exit with `check` raises `CalledProcessError`.
 *
 * @example
 * const { stdout } = yield* runProcess(["git", "rev-parse", "HEAD"]);
 * yield* runProcess("make test", { capture: false, timeout: 600 });
 */
export function* runProcess(cmd: string[] | string, options: RunProcessOptions = {}): Coro<CompletedProcess> {
  if (typeof cmd !== "string" && (!Array.isArray(cmd) || cmd.length === 0)) throw new TypeError("runProcess() takes a command string or a non-empty array of strings");
  const { input, check = true, capture = true, timeout, gracePeriod = 5 } = options;
  if (timeout !== undefined && (typeof timeout !== "number" || Number.isNaN(timeout))) throw new TypeError(`timeout must be a number of seconds, got ${describe(timeout)}`);
  if (typeof gracePeriod !== "number" || !(gracePeriod >= 0)) throw new RangeError(`gracePeriod must be a number of seconds >= 0, got ${describe(gracePeriod)}`);
  const spawnOptions: SubprocessOptions = {
    stdin: input !== undefined ? PIPE : null,
    stdout: capture ? PIPE : null,
    stderr: capture ? PIPE : null,
    startNewSession: true,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
  };
  const run = function* (): Coro<[number, Buffer | null, Buffer | null]> {
    const proc = typeof cmd === "string" ? yield* createSubprocessShell(cmd, spawnOptions) : yield* createSubprocessExec(cmd[0]!, cmd.slice(1), spawnOptions);
    try {
      const [stdout, stderr] = yield* proc.communicate(input);
      return [proc.returncode!, stdout, stderr];
    } catch (error) {
      yield* stopGroup(proc, gracePeriod);
      throw error;
    }
  };
  const [returncode, stdout, stderr] = timeout === undefined ? yield* run() : yield* withTimeout(timeout, run);
  if (check && returncode !== 0) throw new CalledProcessError(returncode, cmd, stdout, stderr);
  return new CompletedProcess(cmd, returncode, stdout, stderr);
}
