import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as api from "../src/index.js";

// The names the API contract (API.md, kept beside the repository) fixes, by kind. Held here by hand (like Trio's
// test_exports.py) so that dropping or renaming one fails a test.
const classes = [
  "EventLoop", "Future", "Task", "TaskGroup", "Timeout",
  "Lock", "Event", "Condition", "Semaphore", "BoundedSemaphore", "Barrier",
  "Queue", "PriorityQueue", "LifoQueue",
  "StreamReader", "StreamWriter", "Server",
  "ThreadPoolExecutor", "ProcessPoolExecutor",
  "CancelledError", "InvalidStateError", "TimeoutError", "IncompleteReadError",
  "LimitOverrunError", "QueueEmpty", "QueueFull", "QueueShutDown",
  "BrokenBarrierError", "ExceptionGroup", "BrokenExecutorError",
  "BrokenThreadPool", "BrokenProcessPool", "RuntimeError",
  "StopAsyncIteration", "LookupError", "KeyboardInterrupt",
  "ContextVar", "Context", "Token", "Runner", "AsyncExitStack",
  "CapacityLimiter", "RateLimiter", "Channel", "Broadcast",
  "Process", "CompletedProcess", "CalledProcessError", "FileStream",
  "OSError", "ConnectionError", "BrokenPipeError", "ConnectionAbortedError", "ConnectionRefusedError",
  "ConnectionResetError", "FileNotFoundError", "FileExistsError", "PermissionError", "IsADirectoryError",
  "NotADirectoryError", "ProcessLookupError",
] as const;
const functions = [
  "run", "getRunningLoop", "getEventLoop", "createTask", "currentTask", "allTasks",
  "sleep", "gather", "wait", "waitFor", "timeout", "timeoutAt", "shield",
  "asCompleted", "taskGroup", "fromPromise",
  "openConnection", "startServer", "openUnixConnection", "startUnixServer", "toThread", "functionRef",
  "copyContext", "exitStack", "eagerTaskFactory", "forEach", "aiter", "anext", "fromAsyncIterable", "toAsyncIterable",
  "retry",
  "createSubprocessExec", "createSubprocessShell", "runProcess", "openFile", "readFile", "writeFile",
] as const;
const constants = ["FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED", "PIPE", "STDOUT", "DEVNULL"] as const;
const exported = api as unknown as Record<string, unknown>;

test("every class of the API contract is exported", () => {
  for (const name of classes) assert.equal(typeof exported[name], "function", name);
});

test("every function of the API contract is exported", () => {
  for (const name of functions) assert.equal(typeof exported[name], "function", name);
});

test("the wait constants are exported", () => {
  for (const name of constants) assert.notEqual(exported[name], undefined, name);
});

test("every error class is an Error whose name is its class name", () => {
  const errorNames = classes.filter((n) => /Error$|^Queue(Empty|Full|ShutDown)$|^ExceptionGroup$|Pool$|^StopAsyncIteration$|^KeyboardInterrupt$/.test(n));
  assert.equal(errorNames.length, 30);
  for (const name of errorNames) {
    const ErrorClass = exported[name] as new (...args: unknown[]) => Error;
    const instance = name === "IncompleteReadError" ? new ErrorClass(new Uint8Array(), 1) : name === "ExceptionGroup" ? new ErrorClass("m", []) : new ErrorClass("m");
    assert.ok(instance instanceof Error, name);
    assert.equal(instance.name, name);
  }
});

test("ExceptionGroup is an AggregateError whose exceptions are its errors", () => {
  const errors = [new Error("a")];
  const group = new api.ExceptionGroup("two", errors);
  assert.ok(group instanceof AggregateError);
  assert.equal(group.exceptions, group.errors);
});

test("the testing subpath exports the kit, and package.json maps it to dist", async () => {
  const testing = (await import("../src/testing/index.js")) as unknown as Record<string, unknown>;
  for (const name of ["asyncTest", "coroutineTest", "exploreSchedules", "advanceTime", "VirtualClock"]) {
    assert.equal(typeof testing[name], "function", name);
  }
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { exports: Record<string, { import: string }> };
  assert.equal(manifest.exports["./testing"]?.import, "./dist/src/testing/index.js");
});
