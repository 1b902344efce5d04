/**
 * Reading a trace file event by event, in chunks: any layout of the JSON,
 * events and strings split across chunks, and files that are not traces.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import type { TraceEvent } from "../src/index.js";
import { readTraceEvents } from "../src/debug/trace-reader.js";

function sandbox(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-trace-reader-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function readAll(path: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const count = readTraceEvents(path, (event) => void events.push(event));
  assert.equal(count, events.length);
  return events;
}

const events: TraceEvent[] = [
  { name: "thread_name", ph: "M", ts: 0, pid: 1, tid: 1, args: { name: 'a "quoted" }{ name ]\\' } },
  { name: "step", cat: "step", ph: "X", ts: 1, dur: 2, pid: 1, tid: 1 },
  { name: "done", ph: "i", s: "t", ts: 3, pid: 1, tid: 1 },
];

test("a trace on one line, indented, or as a bare array reads as the same events", (t) => {
  const dir = sandbox(t);
  const layouts = {
    "one-line.json": JSON.stringify({ traceEvents: events, displayTimeUnit: "ms" }),
    "indented.json": JSON.stringify({ otherData: { traceEvents: [{ not: "these" }] }, traceEvents: events }, null, 2),
    "array.json": JSON.stringify(events),
  };
  for (const [name, text] of Object.entries(layouts)) {
    writeFileSync(join(dir, name), text);
    assert.deepEqual(readAll(join(dir, name)), events, name);
  }
});

test("events, keys and multi-byte characters split across chunks read whole", (t) => {
  const file = join(sandbox(t), "big.json");
  // Enough 3-byte characters that chunk boundaries (1 MiB) fall inside names, escapes and events.
  const many = Array.from({ length: 3000 }, (_, i): TraceEvent => ({ name: `€${"é€\\\"".repeat(i % 300)}`, ph: "i", s: "t", ts: i, pid: 1, tid: 1 }));
  writeFileSync(file, `{"${"k".repeat(2_000_000)}":1,"traceEvents":${JSON.stringify(many)}}`);
  assert.deepEqual(readAll(file), many);
});

test("a truncated trace is a SyntaxError naming the file", (t) => {
  const file = join(sandbox(t), "cut.json");
  writeFileSync(file, JSON.stringify({ traceEvents: events }).slice(0, -20));
  assert.throws(() => readAll(file), { name: "SyntaxError", message: `${file}: the trace ends in the middle of an event (a truncated file?)` });
});

test("a JSON file without a traceEvents array is not a trace file", (t) => {
  const file = join(sandbox(t), "other.json");
  writeFileSync(file, JSON.stringify({ events }));
  assert.throws(() => readAll(file), { name: "SyntaxError", message: `${file} is not a trace file (no traceEvents)` });
});
