/**
 * `retry(fn, options)`: call a coroutine function again when it fails, with
 * a delay that grows exponentially (tenacity's and backoff's job, with real
 * cancellation and timings that are exact on the virtual clock).
 */
import type { Coro } from "./coroutines.js";
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

function checkNumber(name: string, value: unknown, fallback: number, valid: (n: number) => boolean, range: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`retry(): ${name} must be a number, got ${String(value)}`);
  if (!valid(value)) throw new RangeError(`retry(): ${name} must be ${range}, got ${value}`);
  return value;
}

function readOptions(options: RetryOptions): RetryPlan {
  if (options === null || typeof options !== "object") throw new TypeError(`retry(): options must be an object, got ${String(options)}`);
  const attempts = checkNumber("attempts", options.attempts, 3, (n) => n >= 1 && (Number.isInteger(n) || n === Infinity), "an integer >= 1 or Infinity");
  const delay = checkNumber("delay", options.delay, 0, (n) => n >= 0 && Number.isFinite(n), "a finite number >= 0");
  const backoff = checkNumber("backoff", options.backoff, 1, (n) => n >= 1 && Number.isFinite(n), "a finite number >= 1");
  const maxDelay = checkNumber("maxDelay", options.maxDelay, Infinity, (n) => n >= 0, "a number >= 0");
  const jitter = checkNumber("jitter", options.jitter, 0, (n) => n >= 0 && Number.isFinite(n), "a finite number >= 0");
  const retryOn = options.retryOn ?? ((): boolean => true);
  if (typeof retryOn !== "function") throw new TypeError(`retry(): retryOn must be a function, got ${String(retryOn)}`);
  const timeout = options.timeout === null ? null : checkNumber("timeout", options.timeout, -1, (n) => n >= 0, "a number >= 0 or null");
  return { attempts, delay, backoff, maxDelay, jitter, retryOn, timeout: timeout === -1 ? null : timeout };
}

/** The wait before call `n + 1` after `n` failed calls: `min(delay * backoff ** (n - 1), maxDelay)` plus jitter. */
function waitAfter(plan: RetryPlan, failedCalls: number): number {
  const base = Math.min(plan.delay * plan.backoff ** (failedCalls - 1), plan.maxDelay);
  return plan.jitter > 0 ? base + Math.random() * plan.jitter : base;
}

// The error that ends the retry, with the earlier ones as its `cause`.
function withEarlierErrors(error: unknown, earlier: unknown[]): unknown {
  if (earlier.length === 0 || error === null || typeof error !== "object") return error;
  const group = new ExceptionGroup(`${earlier.length} earlier attempt${earlier.length === 1 ? "" : "s"} failed`, earlier as Error[]);
  Object.defineProperty(error, "cause", { value: group, configurable: true, writable: true, enumerable: false });
  return error;
}

/**
 * Calls `fn()` and returns its result; when the call raises an error that
 * `retryOn` accepts, waits and calls again, up to `attempts` calls. The wait
 * before call `n + 1` is `min(delay * backoff ** (n - 1), maxDelay)` seconds
 * plus a uniform random `[0, jitter)`. A `CancelledError` is never retried.
 * The error that ends the retry propagates with the earlier errors in an
 * `ExceptionGroup` as its `cause` (replacing any cause it had; the earlier
 * errors keep theirs). With `timeout`, the whole retry — calls and waits —
 * is bounded: the call under way is cancelled and `TimeoutError` raised,
 * its `cause` the errors so far.
 *
 * @example
 * const page = yield* retry(() => fetchPage(url), { attempts: 5, delay: 0.5, backoff: 2, maxDelay: 8 });
 */
export function* retry<T>(fn: () => Coro<T>, options: RetryOptions = {}): Coro<T> {
  if (typeof fn !== "function") throw new TypeError(`retry(): fn must be a function returning a coroutine, got ${String(fn)}`);
  const plan = readOptions(options);
  const errors: unknown[] = [];
  function* attemptAll(): Coro<T> {
    for (let call = 1; ; call++) {
      try {
        return yield* fn();
      } catch (error) {
        if (error instanceof CancelledError) throw error;
        if (call >= plan.attempts || !plan.retryOn(error)) throw withEarlierErrors(error, errors);
        errors.push(error);
      }
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
        if (deadline.expired()) deadlineError = new TimeoutError(`retry() timed out after ${plan.timeout} s and ${errors.length} failed attempt${errors.length === 1 ? "" : "s"}`);
      }
    });
  } catch (error) {
    // Only our own deadline becomes the retry's TimeoutError; an fn that times out by itself is an ordinary failure.
    if (deadlineError !== null && error instanceof TimeoutError) {
      const group = new ExceptionGroup(`${errors.length} attempt${errors.length === 1 ? "" : "s"} failed before the deadline`, errors as Error[]);
      Object.defineProperty(deadlineError, "cause", { value: errors.length > 0 ? group : error.cause, configurable: true, writable: true, enumerable: false });
      throw deadlineError;
    }
    throw error;
  }
}
