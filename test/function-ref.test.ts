// hosts: node-only — function references resolve file paths and module URLs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ThreadPoolExecutor, functionRef, getRunningLoop, run } from "../src/index.js";
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
