/**
 * Shared helpers for the test suite: run a coroutine on a virtual clock and
 * fail when the loop's exception handler received anything unexpected.
 */
import { CancelledError, sleep, type Coro, type ExceptionContext, type Task } from "../src/index.js";
import { failureOf, runTestBody } from "../src/testing/harness.js";
import { forceInvariantChecks } from "../src/events.js";

// Every loop a test file using these helpers makes checks the scheduler's
// invariants after each iteration (as debug mode does): a broken one fails
// the run that broke it. `CHECK_INVARIANTS=0` turns it off to compare timings.
forceInvariantChecks(testEnv("CHECK_INVARIANTS") !== "0");

/** An environment variable of the test run; `undefined` on a host without an environment (a browser). */
export function testEnv(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

/** The JavaScript host running the tests. */
export const testHost: "node" | "bun" | "deno" | "browser" =
  "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string" ? "node" : "browser";

/** Whether the tests run from a host bundle (test/hosts), where the executors' worker entry files are absent. */
export const inHostBundle = (globalThis as Record<symbol, unknown>)[Symbol.for("asyncio-ts.testRegistrar")] !== undefined;

/** Resolves in a later macrotask of the host (`setImmediate`, or a zero timeout where there is none). */
export function hostTurn(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

// runVirtual runs every check of the testing kit, as asyncTest does: a task
// left pending when the body returns, an OS resource (socket, server, pipe,
// child, worker) left open, and a failure nobody read all fail the test.
// `KIT_CHECK_TASKS=0`, `KIT_CHECK_RESOURCES=0` and `KIT_CHECK_UNRETRIEVED=0`
// turn one check off, to bisect.
const CHECK_TASKS = testEnv("KIT_CHECK_TASKS") !== "0";
const CHECK_RESOURCES = testEnv("KIT_CHECK_RESOURCES") !== "0";
const CHECK_UNRETRIEVED = testEnv("KIT_CHECK_UNRETRIEVED") !== "0";

/** Everything the loop's exception handler received during a run. */
export interface Outcome<T> {
  value?: T;
  error?: unknown;
  reports: ExceptionContext[];
}

/**
 * Runs `main` on a fresh loop with a virtual clock, capturing exception
 * handler reports. Resolves with the outcome; never rejects. The testing
 * kit's harness (asyncio-ts/testing) runs it, with its leak checks off.
 */
export async function runCapturing<T>(main: () => Coro<T>, options: { clock?: "virtual" | "real"; debug?: boolean } = {}): Promise<Outcome<T>> {
  const outcome = await runTestBody(main, { ...options, checkTasks: false, checkResources: false, checkUnretrieved: false });
  return "error" in outcome ? { error: outcome.error, reports: outcome.reports } : { value: outcome.value as T, reports: outcome.reports };
}

/**
 * Runs `main` on a virtual clock and returns its result; throws its error,
 * and fails if the loop's exception handler received any report, a task was
 * left pending or an OS resource left open (the testing kit's checks).
 */
export async function runVirtual<T>(main: () => Coro<T>): Promise<T> {
  const outcome = await runTestBody(main, { checkTasks: CHECK_TASKS, checkResources: CHECK_RESOURCES, checkUnretrieved: CHECK_UNRETRIEVED });
  const failure = failureOf(outcome);
  if (failure !== null) throw failure;
  return outcome.value as T;
}

/** Forces a full garbage collection (the suite runs with --expose-gc) and lets finalizers run. */
export async function collectGarbage(): Promise<void> {
  // Node and Deno (--expose-gc, --v8-flags=--expose-gc), Chromium (--js-flags=--expose-gc), Bun (Bun.gc).
  const host = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  const gc = host.gc ?? (host.Bun !== undefined ? () => host.Bun!.gc(true) : undefined);
  if (gc === undefined) throw new Error("run the tests with node --expose-gc");
  for (let i = 0; i < 3; i++) {
    gc();
    await hostTurn();
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

/** Runs `body` and returns what it throws; fails the test when it throws nothing. */
export function* errorOf(body: () => Coro<unknown> | Task<unknown>): Coro<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, got none");
}

/** Cancels `tasks` (helpers a test no longer needs) and waits until each has finished. */
export function* cancelAll(tasks: Iterable<Task<unknown>>): Coro<void> {
  const list = [...tasks];
  for (const task of list) task.cancel();
  for (const task of list) {
    try {
      yield* task;
    } catch (error) {
      if (!(error instanceof CancelledError)) throw error;
    }
  }
}
