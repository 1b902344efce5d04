// hosts: node-only — a host bundle loads every module up front, so the executors module is always loaded there.
/**
 * The loop's default executor is installed by the executors module (which
 * sits above the loop); before it is loaded, asking for it is a clear error.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

test("runInExecutor with the default executor, before the executors module is loaded, is a RuntimeError", async () => {
  const { EventLoop } = await import("../src/events.js");
  const { RuntimeError } = await import("../src/errors.js");
  const loop = new EventLoop();
  try {
    assert.throws(() => loop.runInExecutor(null, () => 1), (e: unknown) => e instanceof RuntimeError && /no default executor is available/.test(e.message));
  } finally {
    loop.close();
  }
});
