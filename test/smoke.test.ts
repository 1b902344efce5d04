import assert from "node:assert/strict";
import { test } from "node:test";
import { sleep, getRunningLoop } from "../src/index.js";
import { runVirtual } from "./support.js";

test("a day of virtual sleep passes instantly", async () => {
  const elapsed = await runVirtual(function* () {
    const loop = getRunningLoop();
    const start = loop.time();
    yield* sleep(86400);
    return loop.time() - start;
  });
  assert.equal(elapsed, 86400);
});
