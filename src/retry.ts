/**
 * `retry(fn, options)`: call a coroutine function again when it fails, with
 * a delay that grows exponentially (tenacity's and backoff's job, with real
 * cancellation and timings that are exact on the virtual clock).
 */
import { functionArg, integerArg, numberArg, optionalNumberArg, optionsArg } from "./arguments.js";
import { describeValue, isThenable, type Coro } from "./coroutines.js";
import { CancelledError, ExceptionGroup, TimeoutError } from "./errors.js";
import { sleep } from "./sleep.js";
import { timeout as withTimeout } from "./timeouts.js";

/** Options of `retry`. */
export interface RetryOptions {
  /** How many calls in all, the first included (default 3; `Infinity` retries until `timeout`). */
  attempts?: number;
  /** Seconds to wait before the second call (default 0). */
  delay?: number;
  /** Factor the wait grows by after each failed call (default 1: a constant delay; 2 doubles it). */
  backoff?: number;
  /** The longest wait between two calls, in seconds (default `Infinity`). */
  maxDelay?: number;
  /** Up to this many seconds (uniform in `[0, jitter)`) are added to each wait (default 0). */
  jitter?: number;
  /** Whether an error is worth another call (default: every error). A `CancelledError` never is. */
  retryOn?: (error: unknown) => boolean;
  /** Seconds the whole retry may take, waits included; then it raises `TimeoutError` (default `null`: no limit). */
  timeout?: number | null;
}

interface RetryPlan {
  attempts: number;
  delay: number;
  backoff: number;
  maxDelay: number;
  jitter: number;
  retryOn: (error: unknown) => boolean;
  timeout: number | null;
}

function readOptions(options: RetryOptions | undefined): RetryPlan {
  const given = optionsArg(options, "retry(): options") as RetryOptions;
  const attempts = given.attempts === undefined ? 3 : integerArg(given.attempts, "retry(): attempts", { min: 1, infinite: true });
  const delay = given.delay === undefined ? 0 : numberArg(given.delay, "retry(): delay", { min: 0, infinite: false });
  const backoff = given.backoff === undefined ? 1 : numberArg(given.backoff, "retry(): backoff", { min: 1, infinite: false });
  const maxDelay = given.maxDelay === undefined ? Infinity : numberArg(given.maxDelay, "retry(): maxDelay", { min: 0 });
  const jitter = given.jitter === undefined ? 0 : numberArg(given.jitter, "retry(): jitter", { min: 0, infinite: false });
  const retryOn = given.retryOn ?? ((): boolean => true);
  functionArg(retryOn, "retry(): retryOn");
  const timeout = optionalNumberArg(given.timeout, "retry(): timeout", { min: 0 });
  return { attempts, delay, backoff, maxDelay, jitter, retryOn, timeout };
}

/** The wait before call `n + 1` after `n` failed calls: `min(delay * backoff ** (n - 1), maxDelay)` plus jitter. */
function waitAfter(plan: RetryPlan, failedCalls: number): number {
  const base = Math.min(plan.delay * plan.backoff ** (failedCalls - 1), plan.maxDelay);
  return plan.jitter > 0 ? base + Math.random() * plan.jitter : base;
}

/** How many earlier errors the `ExceptionGroup` cause keeps at most: the last ones, as tenacity keeps the last attempt. */
const KEPT_ERRORS = 16;

// The failed attempts so far: the last KEPT_ERRORS errors and a count of the older ones dropped.
class EarlierErrors {
  // Invariant: kept.length <= KEPT_ERRORS; kept.length + dropped is the number of failed attempts recorded.
  private readonly kept: unknown[] = [];
  private dropped = 0;

  get count(): number {
    return this.kept.length + this.dropped;
  }

  record(error: unknown): void {
    if (this.kept.length === KEPT_ERRORS) {
      this.kept.shift();
      this.dropped++;
    }
    this.kept.push(error);
  }

  // A group of the kept errors, its message `failed`, plus how many were dropped.
  group(failed: string): ExceptionGroup {
    const dropped = this.dropped === 0 ? "" : ` (the last ${this.kept.length} kept, ${this.dropped} earlier error${this.dropped === 1 ? "" : "s"} dropped)`;
    return new ExceptionGroup(`${failed}${dropped}`, this.kept as Error[]);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// Sets `cause` on `error` when it can take one: a frozen or sealed error propagates unchanged.
function setCause(error: object, cause: unknown): void {
  Reflect.defineProperty(error, "cause", { value: cause, configurable: true, writable: true, enumerable: false });
}

// The error that ends the retry, with the earlier ones as its `cause`.
function withEarlierErrors(error: unknown, earlier: EarlierErrors): unknown {
  if (earlier.count === 0 || error === null || typeof error !== "object") return error;
  setCause(error, earlier.group(`${plural(earlier.count, "earlier attempt")} failed`));
  return error;
}

// The TypeError for an `fn` that returned something `yield*` cannot await, or null for a coroutine (or future).
function notACoroutine(attempt: unknown): TypeError | null {
  if (isThenable(attempt)) {
    // Nobody else will look at that promise: keep its rejection from being reported as unhandled.
    Promise.resolve(attempt).catch(() => undefined);
    return new TypeError(
      "retry(): fn returned a promise (an async function?), not a coroutine; " +
        "wrap it with fromPromise: retry(() => fromPromise((signal) => fetchPage(url, { signal })))",
    );
  }
  if (attempt === null || typeof attempt !== "object" || typeof (attempt as Partial<Iterable<unknown>>)[Symbol.iterator] !== "function") {
    return new TypeError(`retry(): fn returned ${describeValue(attempt)}, not a coroutine (fn must be a function* or return a Future)`);
  }
  return null;
}

/**
 * Calls `fn()` and returns its result; when the call raises an error that
 * `retryOn` accepts, waits and calls again, up to `attempts` calls. The wait
 * before call `n + 1` is `min(delay * backoff ** (n - 1), maxDelay)` seconds
 * plus a uniform random `[0, jitter)`. A `CancelledError` is never retried.
 * The error that ends the retry propagates with the earlier errors in an
 * `ExceptionGroup` as its `cause` (replacing any cause it had; the earlier
 * errors keep theirs). The group keeps the last 16 earlier errors at most, its
 * message saying how many older ones were dropped, so memory stays bounded
 * whatever `attempts` is; a final error that cannot take a `cause` (frozen)
 * propagates unchanged. With `timeout`, the whole retry — calls and waits —
 * is bounded: the call under way is cancelled and `TimeoutError` raised,
 * its `cause` the errors so far. `fn` must return a coroutine: wrap an
 * `async` function with `fromPromise` (an `fn` returning a promise raises
 * `TypeError`).
 *
 * @example
 * const page = yield* retry(() => fetchPage(url), { attempts: 5, delay: 0.5, backoff: 2, maxDelay: 8 });
 */
export function* retry<T>(fn: () => Coro<T>, options?: RetryOptions): Coro<T> {
  functionArg(fn, "retry(): fn");
  const plan = readOptions(options);
  const errors = new EarlierErrors();
  function* attemptAll(): Coro<T> {
    for (let call = 1; ; call++) {
      // Misuse (fn not returning a coroutine) is raised at once, never retried.
      let misuse: TypeError | null = null;
      try {
        const attempt: unknown = fn();
        misuse = notACoroutine(attempt);
        if (misuse === null) return yield* (attempt as Coro<T>);
      } catch (error) {
        if (error instanceof CancelledError) throw error;
        if (call >= plan.attempts || !plan.retryOn(error)) throw withEarlierErrors(error, errors);
        errors.record(error);
      }
      if (misuse !== null) throw misuse;
      yield* sleep(waitAfter(plan, call));
    }
  }
  if (plan.timeout === null) return yield* attemptAll();
  let deadlineError: TimeoutError | null = null;
  try {
    return yield* withTimeout(plan.timeout, function* (deadline) {
      try {
        return yield* attemptAll();
      } finally {
        if (deadline.expired()) deadlineError = new TimeoutError(`retry() timed out after ${plan.timeout} s and ${plural(errors.count, "failed attempt")}`);
      }
    });
  } catch (error) {
    // Only our own deadline becomes the retry's TimeoutError; an fn that times out by itself is an ordinary failure.
    if (deadlineError !== null && error instanceof TimeoutError) {
      setCause(deadlineError, errors.count > 0 ? errors.group(`${plural(errors.count, "attempt")} failed before the deadline`) : error.cause);
      throw deadlineError;
    }
    throw error;
  }
}
