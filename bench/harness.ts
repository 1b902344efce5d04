/**
 * A tiny harness for whole-workload benchmarks: run a workload several
 * times, keep the median and the range, print it next to a baseline measured
 * in the same process, as a ratio. Absolute times on a shared 2-core machine
 * are noise; the ratio is the result.
 */
import { performance } from "node:perf_hooks";

export interface Measurement {
  name: string;
  /** Median seconds per run. */
  median: number;
  min: number;
  max: number;
  /** Work items per run (tasks, switches, items...), for a rate. */
  items: number;
}

/** True when `--smoke` was passed: tiny sizes, one run, just proves the code path works. */
export const smoke = process.argv.includes("--smoke");

/** How many timed runs (after one warm-up) each workload gets. */
export const runs = smoke ? 1 : Number(process.env["BENCH_RUNS"] ?? 5);

/** Scales a workload size down in smoke mode. */
export function size(full: number, smokeSize = Math.max(1, Math.floor(full / 1000))): number {
  return smoke ? smokeSize : full;
}

/** Times `workload` `runs` times after a warm-up; `items` is the work per run. */
export async function measure(name: string, items: number, workload: () => Promise<unknown> | unknown): Promise<Measurement> {
  if (!smoke) await workload();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    const start = performance.now();
    await workload();
    times.push((performance.now() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return { name, median: times[Math.floor(times.length / 2)]!, min: times[0]!, max: times[times.length - 1]!, items };
}

function formatRate(m: Measurement): string {
  const rate = m.items / m.median;
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M/s`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)} k/s`;
  return `${rate.toFixed(1)} /s`;
}

/**
 * Prints a table: each measurement's median time, range and rate, and its
 * time as a ratio to `baseline` (ratio > 1 means slower than the baseline).
 */
export function report(title: string, baseline: Measurement, others: Measurement[]): void {
  console.log(`\n## ${title}`);
  for (const m of [baseline, ...others]) {
    const ratio = m.median / baseline.median;
    console.log(
      `  ${m.name.padEnd(36)} ${(m.median * 1000).toFixed(1).padStart(9)} ms  [${(m.min * 1000).toFixed(1)}–${(m.max * 1000).toFixed(1)}]  ${formatRate(m).padStart(11)}  ${m === baseline ? "(baseline)" : `${ratio.toFixed(2)}x baseline time`}`,
    );
  }
}

/** Heap bytes in use after a full collection. */
export function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}
