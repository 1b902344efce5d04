/**
 * The pipeline example (examples/08-pipeline.ts) runs two real children and
 * prints grep's matches line by line, on either clock.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { examples } from "../examples/index.js";

async function output(clock: "real" | "virtual"): Promise<string> {
  const example = examples.find((e) => e.name === "pipeline");
  assert.ok(example, "the pipeline example is not in the tour");
  const lines: string[] = [];
  // Only console.log: the test runner itself reports through stdout.
  const originalLog = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.map(String).join(" ") + "\n");
  try {
    await example.run(clock);
  } finally {
    console.log = originalLog;
  }
  return lines.join("");
}

const EXPECTED = ["grep: order 3: diavola", "grep: order 6: diavola", "grep: order 9: diavola", "passed 9 lines to grep", "orders exited 0, grep exited 0", ""].join("\n");

test("the pipeline example passes every line through grep and prints its matches", async () => {
  assert.equal(await output("real"), EXPECTED);
});

test("the pipeline example prints the same on the virtual clock (a running child holds time)", async () => {
  assert.equal(await output("virtual"), EXPECTED);
});
