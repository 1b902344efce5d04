/**
 * Prints the performance table (issue 28) as Markdown from the JSON lines
 * `npm run bench` appends when `BENCH_JSON=<file>` is set:
 *
 *   BENCH_JSON=/tmp/bench.jsonl npm run bench -- core gather lock
 *   node --import tsx bench/floor-report.ts /tmp/bench.jsonl
 *
 * The output goes between the floor markers of docs/benchmarks.md, which
 * `npm run bench:compare` keeps when it rewrites the rest of the page.
 */
import { readFileSync } from "node:fs";
import { fullFloorSizes, heapRows, timedRows } from "./floor.js";
import type { Spread } from "./harness.js";

interface TimedLine {
  title: string;
  name: string;
  rounds: number;
  wall: Spread;
  cpu: Spread;
  ratio: Spread;
  cpuRatio: Spread;
}
interface HeapLine {
  title: string;
  heap: true;
  name: string;
  bytes: Spread;
  ratio: Spread;
}

const file = process.argv[2];
if (file === undefined) {
  console.error("usage: bench/floor-report.ts <BENCH_JSON file>");
  process.exit(2);
}
const lines = readFileSync(file, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line) as TimedLine | HeapLine);
const sizes = fullFloorSizes;
const ms = (s: number): string => `${(s * 1000).toFixed(0)} ms`;
const x = (v: number): string => `${v.toFixed(2)}x`;

const out: string[] = [
  "| workload (vs native, same run) | native wall / cpu | asyncio-ts wall / cpu | ratio: median [IQR] (range) | cpu ratio | goal |",
  "|---|---|---|---|---|---|",
];
for (const row of timedRows) {
  const title = row.title(sizes);
  // A contender's name is unique to its row; the baseline is the one of the same comparison.
  const ours = lines.find((l): l is TimedLine => !("heap" in l) && l.name === row.oursName);
  const native = lines.find((l): l is TimedLine => !("heap" in l) && l.title === ours?.title && l.name === row.nativeName);
  if (native === undefined || ours === undefined) continue;
  const r = ours.ratio;
  out.push(
    `| ${title} | ${ms(native.wall.median)} / ${ms(native.cpu.median)} | ${ms(ours.wall.median)} / ${ms(ours.cpu.median)} | **${x(r.median)}** [${x(r.q1)}–${x(r.q3)}] (${x(r.min)}–${x(r.max)}) | ${x(ours.cpuRatio.median)} | ≤ ${x(row.goal)} ${r.median <= row.goal ? "met" : "not met"} |`,
  );
}
for (const row of heapRows) {
  const title = row.title(sizes);
  const mine = lines.filter((l): l is HeapLine => "heap" in l && l.title === title);
  const native = mine.find((l) => l.name === row.nativeName);
  const ours = mine.find((l) => l.name === row.oursName);
  if (native === undefined || ours === undefined) continue;
  out.push(
    `| ${title} | ${native.bytes.median.toFixed(0)} B | **${ours.bytes.median.toFixed(0)} B** (${ours.bytes.min.toFixed(0)}–${ours.bytes.max.toFixed(0)}) | ${x(ours.ratio.median)} of native | | ≤ ${row.goalBytes} B ${ours.bytes.median <= row.goalBytes ? "met" : "not met"} |`,
  );
}
console.log(out.join("\n"));
