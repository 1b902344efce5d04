/**
 * The crawler example (examples/07-crawler.ts) against its local server, on
 * the virtual clock: it crawls every page once (the flaky one three times)
 * within its limits of 5 at once and 10 a second.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { examples } from "../examples/index.js";

async function output(name: string): Promise<string> {
  const example = examples.find((e) => e.name === name);
  assert.ok(example, `no example ${name}`);
  const lines: string[] = [];
  const originalLog = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.map(String).join(" ") + "\n");
  try {
    await example.run("virtual");
  } finally {
    console.log = originalLog;
  }
  return lines.join("");
}

test("the crawler fetches every page within 5 at once and 10 a second, retrying the flaky page", async () => {
  const text = await output("crawler");
  // 30 pages, plus two failed tries of the flaky one.
  assert.match(text, /^crawled 30 pages with 32 requests in \d+\.\d s\n/);
  const atOnce = Number(/at most (\d+) requests at once/.exec(text)?.[1]);
  assert.ok(atOnce >= 1 && atOnce <= 5, `${atOnce} at once`);
  const busiest = Number(/busiest second: (\d+) requests/.exec(text)?.[1]);
  assert.ok(busiest >= 1 && busiest <= 10, `${busiest} in a second`);
  assert.match(text, /\/page\/7 was requested 3 times/);
});
