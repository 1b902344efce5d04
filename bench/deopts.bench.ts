/**
 * Deoptimizations per run (issue 28): each row of the performance table runs
 * on this build 8 times in a child process under `--trace-deopt`, and any
 * function that deoptimizes in half or more of the runs after the first two
 * is listed. Optimized code thrown away in every run is time the timed rows
 * pay without a sign in a profile; the PERF comments that say "no
 * deoptimization per run" are guarded here. `--smoke` runs the tiny sizes
 * (V8 may optimize nothing then: the check proves the path, not the result).
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { repeatedDeopts } from "./deopt-report.js";
import { timedRows } from "./floor.js";
import { smoke } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = smoke ? 3 : 8;
const WARMUP = smoke ? 1 : 2;
const minRuns = Math.ceil((RUNS - WARMUP) / 2);

console.log(`\n## functions that deoptimize in ${minRuns} or more of runs ${WARMUP + 1}-${RUNS} (--trace-deopt, one process per row)`);
let repeatedRows = 0;
for (const row of timedRows) {
  const child = spawnSync(process.execPath, ["--expose-gc", "--trace-deopt", "--import", "tsx", join(here, "deopt-child.ts"), row.key, String(RUNS), smoke ? "smoke" : "full"], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`deopt child for ${row.key} failed (${child.status}): ${child.stderr}`);
  const repeated = repeatedDeopts(child.stdout, WARMUP, minRuns);
  if (repeated.length > 0) repeatedRows++;
  const list = repeated.length === 0 ? "none" : repeated.map((d) => `${d.fn} (${d.reason}, ${d.runs} runs)`).join("; ");
  console.log(`  ${row.key.padEnd(10)} ${list}`);
}
console.log(`  rows with a deoptimization repeated run after run: ${repeatedRows} of ${timedRows.length}`);
