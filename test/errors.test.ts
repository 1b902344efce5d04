import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { testHost } from "./support.js";
import {
  BrokenPipeError,
  DeadlockError,
  CalledProcessError,
  ConnectionAbortedError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
  ExceptionGroup,
  FileExistsError,
  FileNotFoundError,
  IncompleteReadError,
  IsADirectoryError,
  NotADirectoryError,
  OSError,
  PermissionError,
  ProcessLookupError,
  RuntimeError,
} from "../src/index.js";
import { toOSError } from "../src/errors.js";

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

test("each OS error class has its Python name and place in the OSError family", () => {
  const family: [new (message: string) => Error, typeof OSError][] = [
    [OSError, Error as never],
    [ConnectionError, OSError],
    [BrokenPipeError, ConnectionError],
    [ConnectionAbortedError, ConnectionError],
    [ConnectionRefusedError, ConnectionError],
    [ConnectionResetError, ConnectionError],
    [FileNotFoundError, OSError],
    [FileExistsError, OSError],
    [PermissionError, OSError],
    [IsADirectoryError, OSError],
    [NotADirectoryError, OSError],
    [ProcessLookupError, OSError],
  ];
  for (const [ErrorClass, Base] of family) {
    const error = new ErrorClass("m");
    assert.ok(error instanceof Base, ErrorClass.name);
    assert.ok(error instanceof OSError);
    assert.equal(error.name, ErrorClass.name);
    assert.equal(String(error), `${ErrorClass.name}: m`);
  }
});

test("an OSError carries code, a positive errno, syscall, path and cause when given, undefined when not", () => {
  const host = new Error("host");
  const error = new OSError("m", { code: "ENOENT", errno: -2, syscall: "open", path: "/x", cause: host });
  assert.deepEqual([error.code, error.errno, error.syscall, error.path, error.cause], ["ENOENT", 2, "open", "/x", host]);
  const bare = new OSError("m");
  assert.deepEqual([bare.code, bare.errno, bare.syscall, bare.path, "cause" in bare], [undefined, undefined, undefined, undefined, false]);
});

test("toOSError picks the class for each code, OSError for any other system code, and leaves other errors alone", () => {
  const expected: Record<string, typeof OSError> = {
    EPIPE: BrokenPipeError,
    ECONNABORTED: ConnectionAbortedError,
    ECONNREFUSED: ConnectionRefusedError,
    ECONNRESET: ConnectionResetError,
    ENOENT: FileNotFoundError,
    EEXIST: FileExistsError,
    EACCES: PermissionError,
    EPERM: PermissionError,
    EISDIR: IsADirectoryError,
    ENOTDIR: NotADirectoryError,
    ESRCH: ProcessLookupError,
    EADDRINUSE: OSError,
  };
  for (const [code, ErrorClass] of Object.entries(expected)) {
    const host = Object.assign(new Error(`read ${code}`), { code, errno: -7, syscall: "read" });
    const mapped = toOSError(host) as OSError;
    assert.equal(mapped.constructor, ErrorClass, code);
    assert.deepEqual([mapped.message, mapped.code, mapped.errno, mapped.syscall, mapped.cause], [`read ${code}`, code, 7, "read", host]);
  }
  const already = new ConnectionResetError("m");
  const notSystem = Object.assign(new Error("m"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
  for (const other of [already, notSystem, new Error("plain"), "text", null]) assert.equal(toOSError(other), other);
  const bare = toOSError({ code: "EPIPE" }) as OSError;
  assert.deepEqual([bare.constructor, bare.message, bare.errno, bare.syscall, bare.path], [BrokenPipeError, "EPIPE", undefined, undefined, undefined]);
  const overridden = toOSError(Object.assign(new Error("x"), { code: "ENOENT", errno: -2, syscall: "open" }), { errno: 20, syscall: "spawn echo", cause: null }) as OSError;
  assert.deepEqual([overridden.errno, overridden.syscall, overridden.cause], [20, "spawn echo", null]);
  const named = toOSError(Object.assign(new Error("EISDIR"), { code: "EISDIR" }), { path: "/d", message: "EISDIR: '/d'" }) as OSError;
  assert.deepEqual([named.message, named.path], ["EISDIR: '/d'", "/d"]);
});

test("ExceptionGroup.split separates matching errors by class, keeping nested structure", () => {
  const [a, b, c] = [new RangeError("a"), new TypeError("b"), new RangeError("c")];
  const inner = new ExceptionGroup("inner", [b, c]);
  const group = new ExceptionGroup("outer", [a, inner]);
  const [match, rest] = group.split(RangeError);
  assert.ok(match !== null && rest !== null);
  assert.equal(match.message, "outer");
  assert.equal(match.exceptions[0], a);
  assert.ok(match.exceptions[1] instanceof ExceptionGroup);
  assert.equal(match.exceptions[1].message, "inner");
  assert.deepEqual(match.exceptions[1].exceptions, [c]);
  assert.equal(rest.exceptions.length, 1);
  assert.deepEqual((rest.exceptions[0] as ExceptionGroup).exceptions, [b]);
});

test("ExceptionGroup.split takes a predicate, and a group matching whole is returned itself", () => {
  const group = new ExceptionGroup("g", [new Error("keep"), new Error("drop")]);
  const [match, rest] = group.split((e) => e.message === "keep");
  assert.deepEqual(match?.exceptions.map((e) => e.message), ["keep"]);
  assert.deepEqual(rest?.exceptions.map((e) => e.message), ["drop"]);
  assert.deepEqual(group.split(Error), [group, null]);
  const [none, all] = group.split(TypeError);
  assert.equal(none, null);
  assert.deepEqual(all?.exceptions, group.exceptions);
  const nested = new ExceptionGroup("n", [new ExceptionGroup("whole", [new Error("x")]), new Error("y")]);
  const [whole] = nested.split((e) => e instanceof ExceptionGroup && e.message === "whole");
  assert.equal(whole?.exceptions[0], nested.exceptions[0]);
});

test("ExceptionGroup.subgroup is the matching half of split, or null", () => {
  const group = new ExceptionGroup("g", [new RangeError("r"), new TypeError("t")]);
  assert.deepEqual(group.subgroup(TypeError)?.exceptions.map((e) => e.message), ["t"]);
  assert.equal(group.subgroup(SyntaxError), null);
  assert.equal(group.subgroup(() => true), group);
});

test("ExceptionGroup.derive keeps the message; split's groups keep the cause", () => {
  const cause = new Error("why");
  const group = new ExceptionGroup("g", [new RangeError("r"), new TypeError("t")]);
  Object.defineProperty(group, "cause", { value: cause, configurable: true, writable: true });
  const derived = group.derive([new Error("x")]);
  assert.ok(derived instanceof ExceptionGroup);
  assert.equal(derived.message, "g");
  assert.equal(group.subgroup(RangeError)?.cause, cause);
});

test("ExceptionGroup.split refuses a match that is not a class or a function", () => {
  assert.throws(() => new ExceptionGroup("g", []).split("RangeError" as never), TypeError);
});

test("String(ExceptionGroup) ends with the count of sub-exceptions, as Python's str", () => {
  assert.equal(String(new ExceptionGroup("two", [new Error("a"), new Error("b")])), "ExceptionGroup: two (2 sub-exceptions)");
  assert.equal(String(new ExceptionGroup("one", [new Error("a")])), "ExceptionGroup: one (1 sub-exception)");
  assert.equal(new ExceptionGroup("one", [new Error("a")]).message, "one");
});

test("util.inspect shows each sub-error of an ExceptionGroup once", { skip: testHost === "browser" ? "the browser bundle's util.inspect stand-in shows no error fields at all" : false }, () => {
  const group = new ExceptionGroup("g", [new Error("only-once-a"), new Error("only-once-b")]);
  const shown = inspect(group);
  assert.equal(shown.split("only-once-a").length - 1, 1, shown);
  assert.equal(shown.split("only-once-b").length - 1, 1, shown);
  assert.equal(group.exceptions, group.errors);
});

test("DeadlockError is a RuntimeError named DeadlockError", () => {
  const error = new DeadlockError("m");
  assert.ok(error instanceof RuntimeError);
  assert.equal(error.name, "DeadlockError");
});
