/**
 * Child of `bench/ab.ts`: loads one copy of the library (this build or a
 * baseline) and measures one row of the performance table on it, printing
 * one JSON line: the median wall and CPU seconds of `runs` timed runs after
 * two warm-ups (a full GC before each), or for a heap row the median bytes
 * per item.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { fullFloorSizes, heapRows, smokeFloorSizes, timedRows, type Lib } from "./floor.js";
import { spread, timeOnce } from "./harness.js";

const [libraryPath, key, runsArg, sizeArg] = process.argv.slice(2);
const lib = (await import(pathToFileURL(resolve(libraryPath!)).href)) as Lib;
const runs = Number(runsArg);
const sizes = sizeArg === "smoke" ? smokeFloorSizes : fullFloorSizes;

const timed = timedRows.find((r) => r.key === key);
const heap = heapRows.find((r) => r.key === key);
if (timed !== undefined) {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let run = -2; run < runs; run++) {
    const { wall, cpu } = await timeOnce(() => timed.ours(lib, sizes));
    if (run < 0) continue;
    walls.push(wall);
    cpus.push(cpu);
  }
  console.log(JSON.stringify({ wall: spread(walls).median, cpu: spread(cpus).median }));
} else if (heap !== undefined) {
  const bytes: number[] = [];
  for (let run = 0; run < runs; run++) bytes.push(await heap.ours(lib, sizes));
  console.log(JSON.stringify({ bytes: spread(bytes).median }));
} else {
  throw new Error(`no row ${String(key)}`);
}
