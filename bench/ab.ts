/**
 * A/B of two builds in one process: every row of the performance table
 * (bench/floor.ts) run on a baseline copy of the library and on this one, in
 * alternating rounds, with the median per-round ratio (this / baseline) and
 * its spread. Not part of `npm run bench`: it needs the baseline, extracted
 * into the checkout's `scratch/` (ignored by git and lint), NOT under
 * node_modules (tsx compiles files there without this project's tsconfig, so
 * a baseline there runs slower: an A/A run of one commit gave 0.43x), e.g.
 *
 *   rm -rf scratch/ab-base && mkdir -p scratch/ab-base && git archive main src | tar -x -C scratch/ab-base
 *   node --expose-gc --import tsx bench/ab.ts scratch/ab-base/src/index.ts [row keys...]
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as current from "../src/index.js";
import { fullFloorSizes, heapRows, smokeFloorSizes, timedRows, type Lib } from "./floor.js";
import { compare, compareHeap, smoke } from "./harness.js";

const args = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const baselinePath = args[0];
if (baselinePath === undefined) {
  console.error("usage: bench/ab.ts <baseline src/index.ts> [row keys...]");
  process.exit(2);
}
const keys = args.slice(1);
const baseline = (await import(pathToFileURL(resolve(baselinePath)).href)) as Lib;
const sizes = smoke ? smokeFloorSizes : fullFloorSizes;
const wanted = (key: string): boolean => keys.length === 0 || keys.includes(key);

for (const row of timedRows) {
  if (!wanted(row.key)) continue;
  await compare(`${row.title(sizes)}: this build vs baseline`, row.items(sizes), { name: `baseline ${row.oursName}`, body: () => row.ours(baseline, sizes) }, [
    { name: `this build ${row.oursName}`, body: () => row.ours(current, sizes) },
  ]);
}
for (const row of heapRows) {
  if (!wanted(row.key)) continue;
  await compareHeap(`${row.title(sizes)}: this build vs baseline`, { name: "baseline", bytesPerItem: () => row.ours(baseline, sizes) }, [
    { name: "this build", bytesPerItem: () => row.ours(current, sizes) },
  ]);
}
