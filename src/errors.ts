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

/**
 * Several errors raised together, by a `TaskGroup` (Python's `ExceptionGroup`).
 * `exceptions` is the same array as `AggregateError.errors`.
 */
export class ExceptionGroup extends AggregateError {
  /** The errors in the group, in the order they happened. */
  readonly exceptions: Error[];
  constructor(message: string, exceptions: Error[]) {
    super(exceptions, message);
    Object.defineProperty(this, "name", { value: new.target.name, configurable: true, writable: true });
    // AggregateError copies its iterable; make both names refer to one array.
    this.errors = exceptions;
    this.exceptions = exceptions;
  }
}

/** An executor can no longer run work (Python's `concurrent.futures.BrokenExecutor`). */
export class BrokenExecutorError extends NamedError {}

/** A thread-pool worker died; the pool refuses new work (Python's `BrokenThreadPool`). */
export class BrokenThreadPool extends BrokenExecutorError {}

/** A process-pool worker died; the pool refuses new work (Python's `BrokenProcessPool`). */
export class BrokenProcessPool extends BrokenExecutorError {}

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
