import assert from "node:assert/strict";
import { test } from "node:test";
import { CalledProcessError, DeadlockError, IncompleteReadError, RuntimeError } from "../src/index.js";

test("CalledProcessError for a command given as a string quotes it whole", () => {
  const error = new CalledProcessError(2, "make all");
  assert.equal(error.message, "Command 'make all' returned non-zero exit status 2.");
  assert.equal(error.cmd, "make all");
  assert.equal(error.stdout, null);
  assert.equal(error.stderr, null);
});

test("CalledProcessError for a process killed by a signal names the signal", () => {
  const error = new CalledProcessError(-9, ["sleep", "10"], new Uint8Array([1]), new Uint8Array([2]));
  assert.equal(error.message, "Command 'sleep 10' died with signal 9.");
  assert.equal(error.returncode, -9);
  assert.deepEqual([...error.stdout!], [1]);
  assert.deepEqual([...error.stderr!], [2]);
});

test("IncompleteReadError without an expected count says undefined, like Python", () => {
  const error = new IncompleteReadError(new Uint8Array(3), null);
  assert.equal(error.message, "3 bytes read on a total of undefined expected bytes");
  assert.equal(error.expected, null);
});

test("DeadlockError is a RuntimeError named DeadlockError", () => {
  const error = new DeadlockError("m");
  assert.ok(error instanceof RuntimeError);
  assert.equal(error.name, "DeadlockError");
});
