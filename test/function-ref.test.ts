// hosts: node-only — function references resolve file paths and module URLs.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { ThreadPoolExecutor, functionRef, getRunningLoop, run } from "../src/index.js";
import { checkSelfContained, toFunctionRef } from "../src/executors/function-ref.js";
import type { double } from "./fixtures/jobs.js";

const jobs = new URL("./fixtures/jobs.ts", import.meta.url);

test("functionRef makes a frozen { module, name } reference", () => {
  const ref = functionRef<typeof double>(jobs, "double");
  assert.deepEqual({ ...ref }, { module: jobs, name: "double" });
  assert.ok(Object.isFrozen(ref));
});

test("functionRef refuses a missing export name or a module that is not a path or URL", () => {
  assert.throws(() => functionRef(jobs, ""), TypeError);
  assert.throws(() => functionRef(42 as unknown as string, "double"), TypeError);
});

test("a typed reference runs through pool.submit, pool.map and loop.runInExecutor", async () => {
  const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
  try {
    const ref = functionRef<typeof double>(jobs, "double");
    const results = await run(function* () {
      const submitted = yield* pool.submit(ref, 21);
      const mapped = yield* pool.map(ref, [1, 2]);
      const viaLoop = yield* getRunningLoop().runInExecutor(pool, ref, 5);
      return [submitted, mapped, viaLoop];
    });
    assert.deepEqual(results, [42, [2, 4], 10]);
  } finally {
    await pool.shutdown({ wait: true, cancelFutures: true });
  }
});

// ------------------------------------------------- what toFunctionRef accepts and refuses

test("a { module, name } reference names its module by URL: a URL object, a string with a scheme, or a path", () => {
  assert.deepEqual(toFunctionRef({ module: jobs, name: "double" }), { kind: "module", url: jobs.href, name: "double" });
  assert.deepEqual(toFunctionRef({ module: "data:text/javascript,export const f = () => 1", name: "f" }), {
    kind: "module",
    url: "data:text/javascript,export const f = () => 1",
    name: "f",
  });
  const absolute = resolve("/tmp/jobs.js");
  assert.deepEqual(toFunctionRef({ module: absolute, name: "f" }), { kind: "module", url: pathToFileURL(absolute).href, name: "f" });
  assert.deepEqual(toFunctionRef({ module: "./jobs.js", name: "f" }), { kind: "module", url: pathToFileURL(resolve("jobs.js")).href, name: "f" });
});

test("something that is neither a function nor a { module, name } reference is refused", () => {
  for (const value of [null, 42, { module: "./jobs.js" }, { module: 7, name: "f" }]) {
    assert.throws(() => toFunctionRef(value as never), /an executor runs a function, or \{ module: path \| URL, name: exportName \}/);
  }
});

test("a native or bound function is refused: it has no source to send", () => {
  assert.throws(() => toFunctionRef(Math.max), /^TypeError: max is native or bound and cannot be sent to a worker/);
  const bound = ((x: number) => x).bind(null);
  assert.throws(() => toFunctionRef(bound), /is native or bound/);
  // A proxy's source reads as native code too; this one has no name.
  assert.throws(() => toFunctionRef(new Proxy(function () {}, {})), /^TypeError: this function is native or bound/);
});

test("a method that uses super is refused", () => {
  const holder = {
    describe(): string {
      return super.toString();
    },
  };
  assert.throws(() => toFunctionRef(holder.describe), /describe uses `super`, which does not travel to a worker/);
});

test("a class's computed member key runs in the function's scope, its members do not", () => {
  // Built from text: TypeScript refuses `this` in a computed key, JavaScript does not.
  const keyed = new Function("return function keyed() { return class { [this.key]() { return 1; } }; };")() as () => unknown;
  assert.throws(() => toFunctionRef(keyed), /keyed uses `this`/);
  const members = () =>
    class {
      value = 1;
      read() {
        return this.value;
      }
    };
  assert.equal(toFunctionRef(members).kind, "source");
});

test("a private method's source cannot be parsed outside its class, and is refused", () => {
  class Holder {
    static secret(): () => number {
      return new Holder().#secret;
    }
    #secret(): number {
      return 1;
    }
  }
  assert.throws(() => toFunctionRef(Holder.secret()), /#secret's source cannot be parsed \(.*\), so it cannot be checked or sent to a worker/);
});

test("checking more distinct sources than the check cache keeps still judges each one", () => {
  for (let i = 0; i < 1100; i++) checkSelfContained(`(x) => x + ${i}`, "");
  assert.throws(() => checkSelfContained("(x) => x + outside", ""), /the function closes over outside/);
  checkSelfContained("(x) => x + 0", "");
});

test("this inside a nested function is that function's own, and is accepted", () => {
  const outer = () => {
    const inner = function (this: unknown) {
      return this;
    };
    return inner.call(1);
  };
  assert.equal(toFunctionRef(outer).kind, "source");
});

test("a nested named function is accepted though the TypeScript loader wraps it in its __name helper", () => {
  const outer = () => {
    function inner(): number {
      return 1;
    }
    return inner();
  };
  const ref = toFunctionRef(outer);
  assert.ok(ref.kind === "source");
  assert.match(ref.source, /__name/, "this test assumes the loader's keepNames helper");
});
