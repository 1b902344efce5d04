/**
 * Shared helpers for the test suite: run a coroutine on a virtual clock and
 * fail when the loop's exception handler received anything unexpected.
 */
import { getRunningLoop, run, sleep, type Coro, type ExceptionContext } from "../src/index.js";

/** Everything the loop's exception handler received during a run. */
export interface Outcome<T> {
  value?: T;
  error?: unknown;
  reports: ExceptionContext[];
}

/**
 * Runs `main` on a fresh loop with a virtual clock, capturing exception
 * handler reports. Resolves with the outcome; never rejects.
 */
export async function runCapturing<T>(main: () => Coro<T>, options: { clock?: "virtual" | "real"; debug?: boolean } = {}): Promise<Outcome<T>> {
  const reports: ExceptionContext[] = [];
  try {
    const value = await run(
      function* () {
        getRunningLoop().setExceptionHandler((_loop, context) => {
          reports.push(context);
        });
        return yield* main();
      },
      { clock: options.clock ?? "virtual", ...(options.debug !== undefined ? { debug: options.debug } : {}) },
    );
    return { value, reports };
  } catch (error) {
    return { error, reports };
  }
}

/**
 * Runs `main` on a virtual clock and returns its result; throws its error,
 * and fails if the loop's exception handler received any report.
 */
export async function runVirtual<T>(main: () => Coro<T>): Promise<T> {
  const outcome = await runCapturing(main);
  if (outcome.reports.length > 0) {
    const text = outcome.reports.map((r) => `${r.message}: ${String(r.exception)}`).join("\n");
    throw new Error(`unexpected exception handler reports:\n${text}`);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value as T;
}

/** Forces a full garbage collection (the suite runs with --expose-gc) and lets finalizers run. */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run the tests with node --expose-gc");
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A coroutine that sleeps `seconds`, then returns `value`. */
export function* after<T>(seconds: number, value: T): Coro<T> {
  yield* sleep(seconds);
  return value;
}

/** A coroutine that sleeps `seconds`, then throws an Error with `message`. */
export function* failsAfter(seconds: number, message: string): Coro<never> {
  yield* sleep(seconds);
  throw new Error(message);
}
