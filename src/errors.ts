/**
 * The errors of asyncio-ts, shared between modules (Python's
 * `asyncio.exceptions`, plus the executor and queue errors API.md lists).
 *
 * Every class sets `name` to its own class name so that stack traces and
 * `String(err)` say what it is. Python's `ValueError` is the built-in
 * `RangeError`; Python's `TypeError` is the built-in `TypeError`.
 */

/** Base for errors that carry a name equal to their class name. */
abstract class NamedError extends Error {
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, "name", { value: new.target.name, configurable: true, writable: true });
  }
}

/**
 * The operation was cancelled (Python's `asyncio.CancelledError`).
 *
 * Thrown into a coroutine at its current `yield*` when its task is cancelled.
 * Catch it only to clean up, then re-throw it; a task that swallows it keeps
 * running. `isCancelledError(e)` tells it apart in a broad `catch`.
 */
export class CancelledError extends NamedError {
  /** The message given to `cancel(msg)`, if any (Python's `args[0]`). */
  readonly cancelMessage: unknown;
  constructor(message?: unknown) {
    super(message === undefined || message === null ? "" : String(message));
    this.cancelMessage = message ?? undefined;
  }
}

/** True when `e` is a `CancelledError`: the idiom for re-throwing cancellation from a broad `catch`. */
export function isCancelledError(e: unknown): e is CancelledError {
  return e instanceof CancelledError;
}

/** An operation was called in a state that does not allow it (Python's `asyncio.InvalidStateError`). */
export class InvalidStateError extends NamedError {}

/** A deadline passed (Python's built-in `TimeoutError`, raised by `waitFor`, `timeout`, `asCompleted`). */
export class TimeoutError extends NamedError {}

/** Misuse of the library: no running loop, loop closed, a task awaiting itself (Python's `RuntimeError`). */
export class RuntimeError extends NamedError {}

/**
 * Nothing can make progress any more: `run()`'s main task is pending while
 * the host has no timer, I/O or signal handler left that could wake a task
 * (Node's `'beforeExit'`). `run()` and `Runner.run` cancel the main task, so
 * its `finally` blocks run, then reject with this error; its message shows
 * what each pending task was waiting on (the await graph).
 */
export class DeadlockError extends RuntimeError {}

/**
 * The stream ended before the expected number of bytes arrived
 * (Python's `asyncio.IncompleteReadError`).
 */
export class IncompleteReadError extends NamedError {
  /** The bytes read before the end of the stream. */
  readonly partial: Uint8Array;
  /** How many bytes were expected, or `null` when reading up to a separator. */
  readonly expected: number | null;
  constructor(partial: Uint8Array, expected: number | null) {
    super(`${partial.length} bytes read on a total of ${expected === null ? "undefined" : expected} expected bytes`);
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * The separator was not found within the reader's limit
 * (Python's `asyncio.LimitOverrunError`). The data stays in the buffer.
 */
export class LimitOverrunError extends NamedError {
  /** How many bytes may be consumed without overrunning the limit. */
  readonly consumed: number;
  constructor(message: string, consumed: number) {
    super(message);
    this.consumed = consumed;
  }
}

/** `getNowait()` on an empty queue (Python's `asyncio.QueueEmpty`). */
export class QueueEmpty extends NamedError {}

/** `putNowait()` on a full queue (Python's `asyncio.QueueFull`). */
export class QueueFull extends NamedError {}

/** `put`/`get` on a queue that was shut down (Python 3.13's `asyncio.QueueShutDown`). */
export class QueueShutDown extends NamedError {}

/** A `Barrier` was reset or aborted while tasks waited on it (Python's `asyncio.BrokenBarrierError`). */
export class BrokenBarrierError extends NamedError {}

/** What `ExceptionGroup.split` and `subgroup` match: an error class, or a predicate on each error. */
export type ExceptionMatch = (abstract new (...args: never[]) => Error) | ((error: Error) => boolean);

// A class (Error or a subclass) is matched with instanceof; any other function is a predicate.
function matcherOf(match: ExceptionMatch): (error: Error) => boolean {
  if (typeof match !== "function") throw new TypeError("ExceptionGroup: match must be an error class or a predicate (error) => boolean");
  const prototype = (match as { prototype?: unknown }).prototype;
  if (match === Error || prototype instanceof Error) return (error) => error instanceof (match as abstract new () => Error);
  return match as (error: Error) => boolean;
}

/**
 * Several errors raised together, by a `TaskGroup` (Python's `ExceptionGroup`).
 * `exceptions` is the same array as `AggregateError.errors`. `String(eg)`
 * ends with `(N sub-exceptions)`, as Python's `str(eg)`.
 *
 * @example
 * const [resets, rest] = group.split(ConnectionResetError);
 * if (rest !== null) throw rest;
 */
export class ExceptionGroup extends AggregateError {
  constructor(message: string, exceptions: Error[]) {
    super(exceptions, message);
    // Our own name is on the prototype (below): a bundler may rename a class
    // that refers to itself (esbuild makes it `_ExceptionGroup`). A subclass
    // is named after itself, as Python names `class MyGroup(ExceptionGroup)`.
    if (new.target !== ExceptionGroup) Object.defineProperty(this, "name", { value: new.target.name, configurable: true, writable: true });
    // AggregateError copies its iterable; make both names refer to one array.
    this.errors = exceptions;
  }

  /** The errors in the group, in the order they happened: the same array as `errors` (a getter, so `util.inspect` shows them once). */
  get exceptions(): Error[] {
    return this.errors as Error[];
  }

  /**
   * Splits the group in two (Python's `split`): the errors that `match`
   * (an error class, or a predicate), and the rest, each as a group derived
   * from this one with the nesting kept, or `null` when empty. A nested
   * group that matches as a whole goes whole; a group matching as a whole
   * is returned itself.
   */
  split(match: ExceptionMatch): [ExceptionGroup | null, ExceptionGroup | null] {
    return this.splitBy(matcherOf(match));
  }

  /** The errors that `match`, nesting kept (Python's `subgroup`): `split(match)[0]`. */
  subgroup(match: ExceptionMatch): ExceptionGroup | null {
    return this.splitBy(matcherOf(match))[0];
  }

  /**
   * A group with this one's message and the given errors (Python's `derive`),
   * which `split` and `subgroup` use; a subclass with other constructor
   * arguments overrides it. The result is a plain `ExceptionGroup`.
   */
  derive(errors: Error[]): ExceptionGroup {
    return new ExceptionGroup(this.message, errors);
  }

  /** `ExceptionGroup: message (N sub-exceptions)`, as Python's `str(eg)` adds the count. */
  override toString(): string {
    const count = this.errors.length;
    return `${super.toString()} (${count} sub-exception${count === 1 ? "" : "s"})`;
  }

  private splitBy(matches: (error: Error) => boolean): [ExceptionGroup | null, ExceptionGroup | null] {
    if (matches(this)) return [this, null];
    const matching: Error[] = [];
    const rest: Error[] = [];
    for (const error of this.exceptions) {
      if (error instanceof ExceptionGroup) {
        const [inner, innerRest] = error.splitBy(matches);
        if (inner !== null) matching.push(inner);
        if (innerRest !== null) rest.push(innerRest);
      } else if (matches(error)) matching.push(error);
      else rest.push(error);
    }
    return [this.derivedWith(matching), this.derivedWith(rest)];
  }

  // A derived group carrying this one's cause and stack, as Python copies __cause__ and __traceback__.
  private derivedWith(errors: Error[]): ExceptionGroup | null {
    if (errors.length === 0) return null;
    const derived = this.derive(errors);
    if ("cause" in this) Object.defineProperty(derived, "cause", { value: this.cause, configurable: true, writable: true, enumerable: false });
    if (this.stack !== undefined) derived.stack = this.stack;
    return derived;
  }
}
Object.defineProperty(ExceptionGroup.prototype, "name", { value: "ExceptionGroup", configurable: true, writable: true });

/** An executor can no longer run work (Python's `concurrent.futures.BrokenExecutor`). */
export class BrokenExecutorError extends NamedError {}

/** A thread-pool worker died; the pool refuses new work (Python's `BrokenThreadPool`). */
export class BrokenThreadPool extends BrokenExecutorError {}

/** A process-pool worker died; the pool refuses new work (Python's `BrokenProcessPool`). */
export class BrokenProcessPool extends BrokenExecutorError {}
// ---------------------------------------------------------------------------
// Operating-system errors (Python's OSError family)
// ---------------------------------------------------------------------------

/** What the host says about a system error; every field is optional. */
export interface OSErrorDetails {
  /** The error's code, such as `"ECONNRESET"`. */
  code?: string;
  /** The error number, positive as Python's `errno` (Node's negative `errno` is turned around). */
  errno?: number;
  /** The system call that failed, such as `"read"` or `"connect"`. */
  syscall?: string;
  /** The file or directory involved. */
  path?: string;
  /** The host's own error. */
  cause?: unknown;
}

/**
 * A system call failed (Python's `OSError`). Streams, servers, connections,
 * subprocesses and files raise it, or the subclass named after its `code`
 * (`ConnectionResetError` for `ECONNRESET`, `FileNotFoundError` for
 * `ENOENT`, ...), with the host's own error as `cause`.
 *
 * @example
 * try {
 *   yield* reader.read(100);
 * } catch (e) {
 *   if (e instanceof ConnectionResetError) console.log("the peer went away");
 *   else throw e;
 * }
 */
export class OSError extends NamedError {
  /** The error's code, such as `"ECONNRESET"`, when the host gave one. */
  readonly code: string | undefined;
  /** The error number, positive as Python's `errno.ECONNRESET`, when the host gave one. */
  readonly errno: number | undefined;
  /** The system call that failed, when the host said. */
  readonly syscall: string | undefined;
  /** The file or directory involved (Python's `filename`), when there is one. */
  readonly path: string | undefined;
  constructor(message: string, details: OSErrorDetails = {}) {
    super(message, "cause" in details ? { cause: details.cause } : undefined);
    this.code = details.code;
    this.errno = details.errno === undefined ? undefined : Math.abs(details.errno);
    this.syscall = details.syscall;
    this.path = details.path;
  }
}

/** A connection failed (Python's `ConnectionError`): the base of the four below. */
export class ConnectionError extends OSError {}

/** Writing to a pipe or socket whose other end is closed (Python's `BrokenPipeError`, `EPIPE`). */
export class BrokenPipeError extends ConnectionError {}

/** The connection was aborted on this side (Python's `ConnectionAbortedError`, `ECONNABORTED`). */
export class ConnectionAbortedError extends ConnectionError {}

/** Nothing listens at the address (Python's `ConnectionRefusedError`, `ECONNREFUSED`). */
export class ConnectionRefusedError extends ConnectionError {}

/** The peer reset the connection (Python's `ConnectionResetError`, `ECONNRESET`). */
export class ConnectionResetError extends ConnectionError {}

/** No such file or directory (Python's `FileNotFoundError`, `ENOENT`). */
export class FileNotFoundError extends OSError {}

/** The file already exists (Python's `FileExistsError`, `EEXIST`). */
export class FileExistsError extends OSError {}

/** Not allowed (Python's `PermissionError`, `EACCES` and `EPERM`). */
export class PermissionError extends OSError {}

/** A directory where a file was expected (Python's `IsADirectoryError`, `EISDIR`). */
export class IsADirectoryError extends OSError {}

/** A file where a directory was expected (Python's `NotADirectoryError`, `ENOTDIR`). */
export class NotADirectoryError extends OSError {}

/** No such process (Python's `ProcessLookupError`, `ESRCH`). */
export class ProcessLookupError extends OSError {}

// The subclass for each code, as Python's OSError constructor picks it from errno.
const osErrorClasses: Record<string, new (message: string, details?: OSErrorDetails) => OSError> = {
  EPIPE: BrokenPipeError,
  ECONNABORTED: ConnectionAbortedError,
  ECONNREFUSED: ConnectionRefusedError,
  ECONNRESET: ConnectionResetError,
  ENOENT: FileNotFoundError,
  EEXIST: FileExistsError,
  EACCES: PermissionError,
  EPERM: PermissionError,
  EISDIR: IsADirectoryError,
  ENOTDIR: NotADirectoryError,
  ESRCH: ProcessLookupError,
};

/**
 * @internal The one mapping from a host's system error (an error with a
 * `code` such as `"ECONNRESET"`, as Node, Bun and Deno's Node layer raise)
 * to the `OSError` subclass Python would raise, the host error as `cause`.
 * Anything else (not an object, no `E…` code, already an `OSError`) is
 * returned as it is. `details` overrides what the host error says (a
 * message naming the path, the path itself, the cause).
 */
export function toOSError(error: unknown, details: OSErrorDetails & { message?: string } = {}): unknown {
  if (error instanceof OSError || error === null || typeof error !== "object") return error;
  const host = error as { code?: unknown; errno?: unknown; syscall?: unknown; path?: unknown; message?: unknown };
  if (typeof host.code !== "string" || !/^E[A-Z0-9]+$/.test(host.code)) return error;
  const ErrorClass = osErrorClasses[host.code] ?? OSError;
  return new ErrorClass(details.message ?? (typeof host.message === "string" ? host.message : host.code), {
    code: host.code,
    errno: details.errno ?? (typeof host.errno === "number" ? host.errno : undefined),
    syscall: details.syscall ?? (typeof host.syscall === "string" ? host.syscall : undefined),
    path: details.path ?? (typeof host.path === "string" ? host.path : undefined),
    cause: "cause" in details ? details.cause : error,
  });
}

// ---------------------------------------------------------------------------


/**
 * An async source has no more items (Python's `StopAsyncIteration`): raised
 * by `anext()` without a default, and by `Channel.receive()` once the
 * channel is closed and drained.
 */
export class StopAsyncIteration extends NamedError {}

/** A `ContextVar` has no value in the current context and no default (Python's `LookupError`). */
export class LookupError extends NamedError {}

/**
 * The program was interrupted by Ctrl-C (Python's `KeyboardInterrupt`):
 * `run()` rejects with it after cancelling the main task on the first SIGINT.
 */
export class KeyboardInterrupt extends NamedError {}

/**
 * A process run with `check` exited with a non-zero status (Python's
 * `subprocess.CalledProcessError`), raised by `runProcess`.
 */
export class CalledProcessError extends NamedError {
  /** The exit status (`-N` when killed by signal N). */
  readonly returncode: number;
  /** The command as given to `runProcess`. */
  readonly cmd: string[] | string;
  /** Captured stdout, or `null` when not captured. */
  readonly stdout: Uint8Array | null;
  /** Captured stderr, or `null` when not captured. */
  readonly stderr: Uint8Array | null;
  constructor(returncode: number, cmd: string[] | string, stdout: Uint8Array | null = null, stderr: Uint8Array | null = null) {
    const shown = Array.isArray(cmd) ? cmd.join(" ") : String(cmd);
    super(returncode < 0 ? `Command '${shown}' died with signal ${-returncode}.` : `Command '${shown}' returned non-zero exit status ${returncode}.`);
    this.returncode = returncode;
    this.cmd = cmd;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

