/**
 * The first `AsyncLocalStorage` use of the process happens inside tasks that
 * were created before it (so they captured no resource). This file uses no
 * store before its one test runs, so it runs in a process of its own (as
 * every test file does); the test checks that no store was in use yet.
 */
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { test } from "node:test";
import { createTask, sleep, type Coro } from "../src/index.js";
import { storesInUse } from "../src/async-scope.js";
import { runVirtual } from "./support.js";

const user = new AsyncLocalStorage<string>();

test("tasks created before the first store use each keep their own enterWith, as native async functions do", async () => {
  assert.equal(storesInUse, false, "a store was used before this test: it would not test the first use");
  const seen = await runVirtual(function* () {
    function* entering(name: string, delay: number): Coro<string[]> {
      yield* sleep(delay);
      user.enterWith(name);
      const log = [user.getStore() ?? "none"];
      yield* sleep(1);
      log.push(user.getStore() ?? "none");
      yield* sleep(2);
      log.push(user.getStore() ?? "none");
      return log;
    }
    function* bystander(): Coro<string[]> {
      const log: string[] = [];
      for (let i = 0; i < 4; i++) {
        yield* sleep(1);
        log.push(user.getStore() ?? "none");
      }
      return log;
    }
    const a = createTask(entering("A", 0.5), { name: "A" });
    const b = createTask(bystander(), { name: "B" });
    const c = createTask(entering("C", 1.5), { name: "C" });
    const main: string[] = [];
    for (let i = 0; i < 4; i++) {
      yield* sleep(1);
      main.push(user.getStore() ?? "none");
    }
    return { a: yield* a, b: yield* b, c: yield* c, main };
  });
  assert.deepEqual(seen, {
    a: ["A", "A", "A"],
    b: ["none", "none", "none", "none"],
    c: ["C", "C", "C"],
    main: ["none", "none", "none", "none"],
  });
});
