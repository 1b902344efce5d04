/**
 * Coroutine tests for test runners: `asyncTest` registers a `node:test`
 * test, `coroutineTest` wraps a body for Vitest's and Jest's `it` (the
 * roles of pytest-asyncio and `IsolatedAsyncioTestCase`).
 */
import type * as nodeModule from "node:module";
import { lazyBuiltin } from "../host.js";
import type { Coro } from "../coroutines.js";
import { failureOf, runTestBody, type TestOptions } from "./harness.js";

const moduleApi = lazyBuiltin<typeof nodeModule>("node:module", "asyncTest");

type TestRegistrar = (name: string, fn: () => Promise<void>) => unknown;

/**
 * A host without `node:test` (a browser, or Bun and Deno running a bundle)
 * may install its own `test(name, fn)` under this registered symbol before
 * test files load; `asyncTest` then registers there.
 */
export const testRegistrarKey: unique symbol = Symbol.for("asyncio-ts.testRegistrar");

function hostTestRegistrar(): TestRegistrar | null {
  const registrar = (globalThis as { [testRegistrarKey]?: unknown })[testRegistrarKey];
  return typeof registrar === "function" ? (registrar as TestRegistrar) : null;
}

/**
 * A test function for any runner whose `it`/`test` takes a function
 * returning a promise (Vitest, Jest, Mocha, `node:test`). The body runs as
 * the main task of a fresh loop, on the virtual clock unless `clock` says
 * otherwise; virtual time waits for outstanding real work (sockets, child
 * processes, executor jobs, bridged promises) until it has stalled for
 * `autojumpThreshold` real seconds. The promise rejects with the body's error, or when:
 *
 * - a task is still pending when the body returns (the message names it and
 *   shows where it waits);
 * - a task or future failed and nobody read its exception by the end of the
 *   test ("Task exception was never retrieved": reported at once, without
 *   waiting for garbage collection as asyncio does), or the loop's
 *   exception handler received any other report (an error in a callback);
 * - `timeout` seconds passed, of loop time or of real time (the test is
 *   cancelled; the message shows the await graph of every live task);
 * - a socket, server, pipe, child process or worker thread opened in the
 *   test is still open at its end.
 *
 * With `shuffle` on, every failure message ends with the schedule seed that
 * reproduces it. A body that expects exception-handler reports installs its
 * own handler with `getRunningLoop().setExceptionHandler(...)`.
 *
 * @example
 * it("times out a slow call", coroutineTest(function* () {
 *   const started = getRunningLoop().time();
 *   let raised: unknown = null;
 *   try {
 *     yield* waitFor(sleep(10), 1);
 *   } catch (error) {
 *     raised = error;
 *   }
 *   expect(raised).toBeInstanceOf(TimeoutError);
 *   expect(getRunningLoop().time() - started).toBe(1); // the virtual clock: exact, and at once
 * }));
 */
export function coroutineTest(body: () => Coro<void>, options: TestOptions = {}): () => Promise<void> {
  return namedTest("test", body, options);
}

// The main task is named after the test, as the await graph of a timeout shows it.
function namedTest(name: string, body: () => Coro<void>, options: TestOptions): () => Promise<void> {
  if (typeof body !== "function") throw new TypeError("the test body must be a generator function");
  return async () => {
    const failure = failureOf(await runTestBody(body, { ...options, name }));
    if (failure !== null) throw failure;
  };
}

// Loaded on first use, so that importing the kit under Vitest or Jest does not load node:test.
let nodeTest: ((name: string, fn: () => Promise<void>) => unknown) | null = null;

/**
 * Registers a `node:test` test named `name` whose body is a coroutine, with
 * the checks of `coroutineTest`. Works at top level and inside `describe`.
 *
 * @example
 * asyncTest("a timeout cancels the wait", function* () {
 *   let raised: unknown = null;
 *   try {
 *     yield* waitFor(sleep(10), 1);
 *   } catch (error) {
 *     raised = error;
 *   }
 *   assert.ok(raised instanceof TimeoutError);
 * }, { timeout: 60 });
 */
export function asyncTest(name: string, body: () => Coro<void>, options: TestOptions = {}): void {
  nodeTest ??= hostTestRegistrar() ?? (moduleApi.createRequire(import.meta.url)("node:test") as { test: TestRegistrar }).test;
  const fn = namedTest(name, body, options);
  void nodeTest(name, fn);
}
