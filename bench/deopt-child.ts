/**
 * Child of `bench/deopts.bench.ts`: runs one row of the performance table on
 * this build `runs` times under `--trace-deopt`, printing a marker line
 * before each run so that the parent can tell which run a deoptimization
 * happened in.
 */
import * as lib from "../src/index.js";
import { fullFloorSizes, smokeFloorSizes, timedRows } from "./floor.js";
import { RUN_MARKER } from "./deopt-report.js";

const [key, runsArg, sizeArg] = process.argv.slice(2);
const row = timedRows.find((r) => r.key === key);
if (row === undefined) throw new Error(`no row ${String(key)}`);
const sizes = sizeArg === "smoke" ? smokeFloorSizes : fullFloorSizes;
const gc = (globalThis as { gc?: () => void }).gc;
for (let run = 0; run < Number(runsArg); run++) {
  // The full GC between runs is what `npm run bench` does before every timed run.
  gc?.();
  console.log(`${RUN_MARKER}${run}`);
  await row.ours(lib, sizes);
}
