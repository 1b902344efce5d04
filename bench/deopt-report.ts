/**
 * Reading `node --trace-deopt` output: which functions deoptimize again and
 * again, run after run of the same workload. One deoptimization while the
 * feedback settles is normal; one in every run means optimized code is
 * thrown away each time (a map that changes from run to run: see
 * docs/decisions.md, "No deoptimization per run").
 */

/** The line the child prints before each run (`${RUN_MARKER}${n}`). */
export const RUN_MARKER = "#deopt-run ";

/** A function that deoptimized in many runs, and why. */
export interface RepeatedDeopt {
  /** The function's name (`(anonymous)` for none). */
  fn: string;
  reason: string;
  /** In how many of the counted runs it deoptimized (at least once). */
  runs: number;
}

const BAILOUT = /\[bailout \(kind: [^,]+, reason: ([^)]+)\): begin\. deoptimizing 0x[0-9a-f]+ <JSFunction ?([^ >(]*)/;

/**
 * The (function, reason) pairs that deoptimized in at least `minRuns` of the
 * runs after the first `warmup` ones, most frequent first.
 */
export function repeatedDeopts(trace: string, warmup: number, minRuns: number): RepeatedDeopt[] {
  const runsOf = new Map<string, Set<number>>();
  let run = -1;
  for (const line of trace.split("\n")) {
    if (line.startsWith(RUN_MARKER)) {
      run = Number(line.slice(RUN_MARKER.length));
      continue;
    }
    if (run < warmup) continue;
    const match = BAILOUT.exec(line);
    if (match === null) continue;
    const key = `${match[2] === "" ? "(anonymous)" : match[2]!}\u0000${match[1]!}`;
    let runs = runsOf.get(key);
    if (runs === undefined) runsOf.set(key, (runs = new Set()));
    runs.add(run);
  }
  const repeated: RepeatedDeopt[] = [];
  for (const [key, runs] of runsOf) {
    if (runs.size < minRuns) continue;
    const [fn, reason] = key.split("\u0000") as [string, string];
    repeated.push({ fn, reason, runs: runs.size });
  }
  return repeated.sort((a, b) => b.runs - a.runs || a.fn.localeCompare(b.fn));
}
