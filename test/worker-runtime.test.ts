/**
 * The worker side of the executors (worker-runtime.ts), run in this thread:
 * `serve` answers the pool's messages through a `send` the test provides,
 * and `toRemoteError` turns whatever a job threw into data that clones.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { FromWorker, RemoteError, ToWorker, WireFunction } from "../src/executors/protocol.js";
import { serve, toRemoteError } from "../src/executors/worker-runtime.js";

const jobs = new URL("./fixtures/jobs.ts", import.meta.url).href;

/**
 * A served worker whose channel clones like `postMessage`, and refuses the
 * first message `refuse` picks.
 */
function worker(refuse: (message: FromWorker) => boolean = () => false) {
  const sent: FromWorker[] = [];
  let refused = false;
  let wake: (() => void) | null = null;
  const handle = serve((message) => {
    if (!refused && refuse(message)) {
      refused = true;
      throw new Error(`refused ${message.type}`);
    }
    sent.push(structuredClone(message));
    wake?.();
  });
  return {
    send: (message: ToWorker) => handle(message),
    /** Waits for the `count`-th message sent back. */
    async nth(count: number): Promise<FromWorker> {
      while (sent.length < count) await new Promise<void>((resolve) => (wake = resolve));
      return sent[count - 1]!;
    },
  };
}

function source(fn: string, name = ""): WireFunction {
  return { kind: "source", source: fn, name };
}

async function runJob(fn: WireFunction, args: unknown[] = [], refuse?: (message: FromWorker) => boolean): Promise<FromWorker> {
  const w = worker(refuse);
  w.send({ type: "init", initializer: null, initargs: [] });
  assert.deepEqual(await w.nth(1), { type: "ready" });
  w.send({ type: "run", id: 1, fn, args });
  return w.nth(2);
}

async function jobError(fn: WireFunction, args: unknown[] = []): Promise<RemoteError> {
  const reply = await runJob(fn, args);
  assert.ok(reply.type === "done" && !reply.ok, `expected a failed job, got ${JSON.stringify(reply)}`);
  return reply.error;
}

test("a source that is not a function expression or a method fails its job with a TypeError", async () => {
  for (const text of ["42", "this is not JavaScript"]) {
    const error = await jobError(source(text, "broken"));
    assert.equal(error.name, "TypeError");
    assert.match(error.message, /^the function's source could not be compiled in the worker: SyntaxError/);
  }
});

test("a module that has no function under the name fails its job with a TypeError", async () => {
  const error = await jobError({ kind: "module", url: jobs, name: "noSuchExport" });
  assert.equal(error.name, "TypeError");
  assert.equal(error.message, `${jobs} has no exported function named "noSuchExport"`);
});

test("a module that cannot be imported fails its job with the import's error", async () => {
  const error = await jobError({ kind: "module", url: new URL("./fixtures/no-such-module.ts", import.meta.url).href, name: "anything" });
  assert.match(error.message, /no-such-module/);
});

test("a function runs again from the worker's cache, and map applies it to each item", async () => {
  const w = worker();
  const double = source("(x) => x * 2", "double");
  w.send({ type: "init", initializer: null, initargs: [] });
  w.send({ type: "run", id: 1, fn: double, args: [4] });
  w.send({ type: "map", id: 2, fn: double, items: [1, 2, 3] });
  assert.deepEqual(await w.nth(2), { type: "done", id: 1, ok: true, value: 8 });
  assert.deepEqual(await w.nth(3), { type: "done", id: 2, ok: true, value: [2, 4, 6] });
});

test("a function sent by source that meets an outer variable is told which one", async () => {
  const error = await jobError(source("() => missingValue + 1", "adder"));
  assert.equal(error.name, "ReferenceError");
  assert.match(error.message, /^missingValue is not defined: adder closes over missingValue, which does not exist in the worker/);
});

test("an unnamed function whose ReferenceError names no variable is described in general terms", async () => {
  const error = await jobError(source("() => { early; let early = 1; return early; }"));
  assert.equal(error.name, "ReferenceError");
  assert.match(error.message, /: the function closes over an outer variable, which does not exist in the worker/);
});

test("a result that cannot be sent back fails the job with a TypeError instead", async () => {
  const reply = await runJob(source("() => () => 1"), [], (message) => message.type === "done");
  assert.equal(reply.type, "done");
  assert.ok(reply.type === "done" && !reply.ok);
  assert.equal(reply.error.name, "TypeError");
  assert.equal(reply.error.message, "the result cannot be sent back from the worker: Error: refused done");
});

test("an error that cannot be sent back still fails the job, with a TypeError", async () => {
  const reply = await runJob(source("() => { throw new RangeError('x'); }"), [], (message) => message.type === "done");
  assert.ok(reply.type === "done" && !reply.ok);
  assert.equal(reply.error.message, "the error cannot be sent back from the worker: Error: refused done");
});

test("a ready message the channel refuses reports the initialization as failed", async () => {
  const w = worker((message) => message.type === "ready");
  w.send({ type: "init", initializer: null, initargs: [] });
  const reply = await w.nth(1);
  assert.equal(reply.type, "init-failed");
  assert.ok(reply.type === "init-failed");
  assert.equal(reply.error.message, "refused ready");
});

test("an initializer failure the channel refuses is still reported, as a TypeError", async () => {
  const w = worker((message) => message.type === "init-failed");
  w.send({ type: "init", initializer: source("() => { throw new Error('bad config'); }"), initargs: [] });
  const reply = await w.nth(1);
  assert.ok(reply.type === "init-failed");
  assert.equal(reply.error.name, "TypeError");
  assert.equal(reply.error.message, "the error cannot be sent back from the worker: Error: refused init-failed");
});

test("a thrown value that cannot even be inspected becomes a generic Error", () => {
  const hostile = new Proxy(
    {},
    {
      getPrototypeOf() {
        throw new Error("no prototype for you");
      },
    },
  );
  assert.deepEqual(toRemoteError(hostile, null), { name: "Error", message: "the worker threw a value that could not be inspected", stack: undefined });
});

test("an error whose getters throw is described with placeholders", () => {
  const error = new Error("unused");
  // The stack first: defining a property formats the stack, which reads the message.
  for (const key of ["stack", "message"]) {
    Object.defineProperty(error, key, {
      get() {
        throw new Error(`no ${key}`);
      },
    });
  }
  Object.defineProperty(error, "code", {
    enumerable: true,
    get() {
      throw new Error("no code");
    },
  });
  assert.deepEqual(toRemoteError(error, null), {
    name: "Error",
    message: "[the error's message could not be read]",
    stack: "Error: [the error's message could not be read]\n    at [the worker's stack could not be read]",
    fields: { code: "[the field's getter threw]" },
  });
});

test("an error's fields that do not clone travel as strings, and its own name is no field", () => {
  const retry = () => "again";
  const error = Object.assign(new Error("with fields"), { retry, count: 3 });
  error.name = "RetryError";
  const remote = toRemoteError(error, null);
  assert.equal(remote.name, "RetryError");
  assert.deepEqual(remote.fields, { retry: String(retry), count: 3 });
});

test("a thrown non-Error that cannot be turned into a string is described by its type", () => {
  const value = {
    toString() {
      throw new Error("no string");
    },
  };
  assert.deepEqual(toRemoteError(value, null), { name: "Error", message: "non-error thrown: [object that cannot be converted to a string]", stack: undefined });
});

test("an error with no stack travels without one", () => {
  const error = new Error("stackless");
  error.stack = undefined;
  assert.deepEqual(toRemoteError(error, null), { name: "Error", message: "stackless", stack: undefined });
});

test("an error whose keys cannot be listed keeps its name and message, without its fields", () => {
  const error = Object.assign(new TypeError("hidden fields"), { code: "E_HIDDEN" });
  const proxy = new Proxy(error, {
    ownKeys() {
      throw new Error("no keys");
    },
  });
  const remote = toRemoteError(proxy, null);
  assert.equal(remote.name, "TypeError");
  assert.equal(remote.message, "hidden fields");
  assert.equal(remote.fields, undefined);
});

test("the thread entry refuses to run outside a worker thread", async () => {
  await assert.rejects(import("../src/executors/thread-entry.js"), /thread-entry must run in a worker thread/);
});

test("the process entry refuses to run without an IPC channel", () => {
  const entry = fileURLToPath(new URL("../src/executors/process-entry.ts", import.meta.url));
  const result = spawnSync(process.execPath, ["--import", "tsx", entry], { encoding: "utf8", timeout: 30_000 });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /process-entry must run in a child process with an IPC channel/);
});
