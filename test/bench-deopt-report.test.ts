/**
 * `bench/deopt-report.ts`: reading `node --trace-deopt` output into the
 * functions that deoptimize run after run (the parser alone, on a written
 * trace; `bench/deopts.bench.ts` runs it on real ones).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RUN_MARKER, repeatedDeopts } from "../bench/deopt-report.js";

function bailout(fn: string, reason: string): string {
  const name = fn === "" ? "" : `${fn} `;
  return `[bailout (kind: deopt-eager, reason: ${reason}): begin. deoptimizing 0x1c1c0873ff49 <JSFunction ${name}(sfi = 0xbb0c427ca31)>, 0x12a4f5faf0e9 <Code TURBOFAN>, opt id 6]`;
}

function trace(runs: string[][]): string {
  return runs.map((lines, run) => [`${RUN_MARKER}${run}`, ...lines].join("\n")).join("\n");
}

test("a function that deoptimizes in enough counted runs is listed with its reason and run count", () => {
  const text = trace([[bailout("step", "wrong map")], [bailout("makeTask", "wrong map")], [bailout("makeTask", "wrong map"), bailout("makeTask", "wrong map")], [bailout("makeTask", "wrong map")]]);
  assert.deepEqual(repeatedDeopts(text, 1, 2), [{ fn: "makeTask", reason: "wrong map", runs: 3 }]);
});

test("deoptimizations during the warm-up runs are not counted", () => {
  const text = trace([[bailout("step", "wrong map")], [bailout("step", "wrong map")], [bailout("step", "wrong map")]]);
  assert.deepEqual(repeatedDeopts(text, 2, 2), []);
});

test("an anonymous function is reported as (anonymous), and each reason counts apart", () => {
  const text = trace([[], [bailout("", "not a Smi"), bailout("runOnce", "wrong map")], [bailout("", "not a Smi"), bailout("runOnce", "Insufficient type feedback for call")]]);
  assert.deepEqual(repeatedDeopts(text, 1, 2), [{ fn: "(anonymous)", reason: "not a Smi", runs: 2 }]);
});
