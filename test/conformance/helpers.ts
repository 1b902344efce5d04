/**
 * Helpers for the conformance suite: tests that follow CPython 3.13's
 * Lib/test/test_asyncio cases one by one (our own code, not a copy), each
 * named `<file>.<Class>.<test>` after the case it follows.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { getRunningLoop, type Awaitable, type Coro, type VirtualClock } from "../../src/index.js";
import { runCapturing, runVirtual } from "../support.js";

/** Options of one conformance case: `skip` gives the reason it cannot apply to Node. */
export interface CaseOptions {
  skip?: string;
  /** Run on the real clock (cases with sockets); the default is the virtual clock. */
  clock?: "real";
}

/**
 * Returns a function that declares the cases of one CPython test class:
 * `cases("test_locks", "LockTests")("test_acquire", function* () {...})`
 * runs the body on a fresh loop with a virtual clock.
 */
export function cases(file: string, cls: string) {
  return (name: string, body: () => Coro<unknown>, options: CaseOptions = {}): void => {
    test(`${file}.${cls}.${name}`, options.skip !== undefined ? { skip: options.skip } : {}, async () => {
      if (options.clock !== "real") {
        await runVirtual(body);
        return;
      }
      const outcome = await runCapturing(body, { clock: "real" });
      if (outcome.reports.length > 0) throw new Error(`unexpected exception handler reports: ${outcome.reports.map((r) => r.message).join("; ")}`);
      if ("error" in outcome) throw outcome.error;
    });
  };
}

/** The same, for a case that needs no loop (Python's plain `def test_...`). */
export function syncCases(file: string, cls: string) {
  return (name: string, body: () => void, options: CaseOptions = {}): void => {
    test(`${file}.${cls}.${name}`, options.skip !== undefined ? { skip: options.skip } : {}, body);
  };
}

/** `repr(x)` for objects with an `inspect.custom`. */
export function repr(value: unknown): string {
  return inspect(value);
}

/**
 * Awaits `aw` and returns the error it raises, failing unless it is an
 * instance of `cls` (Python's `with self.assertRaises(cls): await aw`).
 */
export function* raises<E extends Error>(cls: abstract new (...args: never[]) => E, aw: Awaitable<unknown>): Coro<E> {
  try {
    yield* aw;
  } catch (error) {
    if (error instanceof cls) return error;
    throw error;
  }
  throw new assert.AssertionError({ message: `expected ${cls.name} to be raised` });
}

/**
 * Python's `time.sleep(seconds)` inside a coroutine (the loop blocked):
 * moves the virtual clock forward without letting the loop run.
 */
export function blockLoop(seconds: number): void {
  const clock = (getRunningLoop() as unknown as { clock: VirtualClock }).clock;
  clock.advance(seconds);
}
