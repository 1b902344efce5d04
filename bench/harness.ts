/**
 * A tiny harness for whole-workload benchmarks. `compare` is the fair one:
 * the baseline and each contender run alternately, round by round (ABAB...,
 * the order flipped every other round), and the result is the median of the
 * per-round ratios with its spread, wall and CPU time side by side. A
 * machine whose load drifts moves both sides of a round together, where
 * running every repetition of A and then every repetition of B moved one
 * ratio from 1.18x to 2.6x between two runs. `measure` + `report` (all of A,
 * then all of B) remain for the workloads not yet moved to `compare`.
 * Absolute times on a shared 2-core machine are noise; the ratio is the result.
 */
import { appendFileSync } from "node:fs";
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

// ------------------------------------------------------------ alternating rounds

/** One side of a comparison: a name and the workload it times. */
export interface Contender {
  name: string;
  body: () => Promise<unknown> | unknown;
}

/** Median and spread of a list of numbers. */
export interface Spread {
  median: number;
  /** Interquartile range: the middle half of the rounds lies in [q1, q3]. */
  q1: number;
  q3: number;
  min: number;
  max: number;
}

/** What `compare` found for one contender. */
export interface ComparisonRow {
  name: string;
  /** Wall seconds per run. */
  wall: Spread;
  /** CPU seconds per run (user + system, every thread of the process: GC helpers count). */
  cpu: Spread;
  /** Per-round ratio of wall time to the baseline's in the same round (1 for the baseline). */
  ratio: Spread;
  /** Per-round ratio of CPU time to the baseline's. */
  cpuRatio: Spread;
}

/** How many alternating rounds `compare` runs (after one warm-up of each side). */
export const defaultRounds = smoke ? 1 : Number(process.env["BENCH_ROUNDS"] ?? 9);

/** Median, quartiles and range of `values` (not modified). */
export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => {
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
  };
  return { median: at(0.5), q1: at(0.25), q3: at(0.75), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

/** Runs `body` once after a full GC; its wall and CPU seconds. */
export async function timeOnce(body: () => Promise<unknown> | unknown): Promise<{ wall: number; cpu: number }> {
  collect();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await body();
  const wall = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** `1.83x [IQR 1.75–1.90, 1.70–2.01]`: a ratio's median, middle half and range. */
export function formatRatio(s: Spread): string {
  return `${s.median.toFixed(2)}x [IQR ${s.q1.toFixed(2)}–${s.q3.toFixed(2)}, ${s.min.toFixed(2)}–${s.max.toFixed(2)}]`;
}

/**
 * Runs `baseline` and `contenders` alternately for `rounds` rounds (one
 * warm-up each first, a full GC before every timed run) and prints, for each
 * contender, the median of its per-round wall-time ratios to the baseline
 * with their spread, and its CPU time beside its wall time. With
 * `BENCH_JSON=<file>` each row is also appended to that file as a JSON line.
 */
export async function compare(
  title: string,
  items: number,
  baseline: Contender,
  contenders: readonly Contender[],
  options: { rounds?: number } = {},
): Promise<ComparisonRow[]> {
  const rounds = smoke ? 1 : (options.rounds ?? defaultRounds);
  const sides = [baseline, ...contenders];
  if (!smoke) for (const side of sides) await side.body();
  const walls = sides.map((): number[] => []);
  const cpus = sides.map((): number[] => []);
  for (let round = 0; round < rounds; round++) {
    // Flip the order every other round: neither side always runs on the heap the other just left.
    const order = round % 2 === 0 ? sides.map((_, i) => i) : sides.map((_, i) => sides.length - 1 - i);
    for (const i of order) {
      const { wall, cpu } = await timeOnce(sides[i]!.body);
      walls[i]!.push(wall);
      cpus[i]!.push(cpu);
    }
  }
  const rows = sides.map((side, i): ComparisonRow => ({
    name: side.name,
    wall: spread(walls[i]!),
    cpu: spread(cpus[i]!),
    ratio: spread(walls[i]!.map((w, r) => w / walls[0]![r]!)),
    cpuRatio: spread(cpus[i]!.map((c, r) => c / cpus[0]![r]!)),
  }));
  printRows(title, items, rounds, rows);
  return rows;
}

function printRows(title: string, items: number, rounds: number, rows: readonly ComparisonRow[]): void {
  console.log(`\n## ${title} (${rounds} alternating rounds)`);
  for (const [i, row] of rows.entries()) {
    const ms = (s: number): string => (s * 1000).toFixed(1);
    const rate = formatRate({ name: row.name, median: row.wall.median, min: row.wall.min, max: row.wall.max, items });
    const versus = i === 0 ? "(baseline)" : `${formatRatio(row.ratio)} cpu ${row.cpuRatio.median.toFixed(2)}x`;
    console.log(
      `  ${row.name.padEnd(46)} ${ms(row.wall.median).padStart(8)} ms [${ms(row.wall.min)}–${ms(row.wall.max)}]  cpu ${ms(row.cpu.median).padStart(8)} ms  ${rate.padStart(11)}  ${versus}`,
    );
  }
  const file = process.env["BENCH_JSON"];
  if (file !== undefined && file !== "") {
    for (const row of rows) appendFileSync(file, `${JSON.stringify({ title, items, rounds, ...row })}\n`);
  }
}

/** One side of a memory comparison: measures and returns heap bytes per item once. */
export interface HeapContender {
  name: string;
  bytesPerItem: () => Promise<number> | number;
}

/**
 * Measures each side's heap bytes per item, alternately for `rounds` rounds,
 * and prints the median with its range, and each contender's per-round ratio
 * to the baseline.
 */
export async function compareHeap(title: string, baseline: HeapContender, contenders: readonly HeapContender[]): Promise<Array<{ name: string; bytes: Spread; ratio: Spread }>> {
  const sides = [baseline, ...contenders];
  const bytes = sides.map((): number[] => []);
  const heapRounds = smoke ? 1 : Math.max(3, Math.min(defaultRounds, 5));
  for (let round = 0; round < heapRounds; round++) {
    const order = round % 2 === 0 ? sides.map((_, i) => i) : sides.map((_, i) => sides.length - 1 - i);
    for (const i of order) bytes[i]!.push(await sides[i]!.bytesPerItem());
  }
  const rows = sides.map((side, i) => ({ name: side.name, bytes: spread(bytes[i]!), ratio: spread(bytes[i]!.map((b, r) => b / bytes[0]![r]!)) }));
  console.log(`\n## ${title} (${heapRounds} alternating rounds)`);
  for (const [i, row] of rows.entries()) {
    console.log(
      `  ${row.name.padEnd(46)} ${row.bytes.median.toFixed(0).padStart(6)} B/item [${row.bytes.min.toFixed(0)}–${row.bytes.max.toFixed(0)}]  ${i === 0 ? "(baseline)" : `${row.ratio.median.toFixed(2)}x`}`,
    );
  }
  const file = process.env["BENCH_JSON"];
  if (file !== undefined && file !== "") for (const row of rows) appendFileSync(file, `${JSON.stringify({ title, heap: true, ...row })}\n`);
  return rows;
}
