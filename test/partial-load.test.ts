// hosts: node-only — a host bundle loads every module up front, so nothing is "not yet loaded" there.
/**
 * The core modules loaded one at a time, before the package's entry point
 * wires them together: each refuses what needs a module not yet loaded with
 * a RuntimeError rather than failing obscurely. (The entry point loads all.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";

test("a Future made without a loop, before the loop module is loaded, is a RuntimeError", async () => {
  const { Future } = await import("../src/futures.js");
  const { RuntimeError } = await import("../src/errors.js");
  assert.throws(() => new Future(), (e: unknown) => e instanceof RuntimeError && e.message === "no running event loop");
});

test("createTask on a loop, before the tasks module is loaded, is a RuntimeError", async () => {
  const { EventLoop } = await import("../src/events.js");
  const { RuntimeError } = await import("../src/errors.js");
  const loop = new EventLoop();
  try {
    function* body(): Generator<never, void, unknown> {}
    assert.throws(() => loop.createTask(body()), (e: unknown) => e instanceof RuntimeError && e.message === "the tasks module is not loaded");
  } finally {
    loop.close();
  }
});

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
