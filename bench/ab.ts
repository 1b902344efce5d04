/**
 * A/B of two builds: every row of the performance table (bench/floor.ts) on
 * a baseline copy of the library and on this one, each measurement in a
 * process of its own (`bench/ab-child.ts`: the median of 10 runs), the two
 * sides alternating for 8 pairs (the order flipped every other pair); the
 * result is the median of the per-pair ratios (this / baseline) with their
 * spread, CPU beside wall. Not part of `npm run bench`: it needs the
 * baseline, extracted into the checkout's `scratch/` (ignored by git and
 * lint), NOT under node_modules (tsx compiles files there without this
 * project's tsconfig, and that copy runs slower), e.g.
 *
 *   rm -rf scratch/ab-base && mkdir -p scratch/ab-base && git archive main src | tar -x -C scratch/ab-base
 *   node --import tsx bench/ab.ts scratch/ab-base/src/index.ts [row keys...] [--pairs N] [--runs N]
 *
 * Why processes: with both copies in one process they share the workload's
 * call sites and inline caches, and an A/A run (one commit against itself)
 * gave 0.86x for eager spawn and 0.94x for `sleep(0)`. In separate processes
 * the A/A medians were 0.92–1.02x, with single pairs from 0.68x to 1.18x: a
 * difference under about 8% is not resolved here (docs/decisions.md,
 * "bench/ab.ts runs each side in a process of its own").
 */
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { heapRows, timedRows } from "./floor.js";
import { formatRatio, smoke, spread } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
function option(name: string, fallback: number): number {
  const index = argv.indexOf(name);
  if (index < 0) return fallback;
  const value = Number(argv[index + 1]);
  argv.splice(index, 2);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive integer`);
  return value;
}
const pairs = option("--pairs", smoke ? 1 : 8);
const runs = option("--runs", smoke ? 1 : 10);
const args = argv.filter((a) => !a.startsWith("--"));
const baselinePath = args[0];
if (baselinePath === undefined) {
  console.error("usage: bench/ab.ts <baseline src/index.ts> [row keys...] [--pairs N] [--runs N] [--smoke]");
  process.exit(2);
}
const sides = { baseline: resolve(baselinePath), current: join(here, "..", "src", "index.ts") };
const keys = args.slice(1);
const wanted = (key: string): boolean => keys.length === 0 || keys.includes(key);

interface Sample {
  wall?: number;
  cpu?: number;
  bytes?: number;
}

function measureIn(library: string, key: string): Sample {
  const child = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", join(here, "ab-child.ts"), library, key, String(runs), smoke ? "smoke" : "full"], {
    encoding: "utf8",
  });
  if (child.status !== 0) throw new Error(`ab child (${key}, ${library}) failed with ${child.status}: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split("\n").pop()!) as Sample;
}

for (const row of [...timedRows, ...heapRows]) {
  if (!wanted(row.key)) continue;
  const ratios = { wall: [] as number[], cpu: [] as number[], bytes: [] as number[] };
  const bytes = { baseline: [] as number[], current: [] as number[] };
  for (let pair = 0; pair < pairs; pair++) {
    // Flip the order every other pair: neither side always runs first.
    const order = pair % 2 === 0 ? (["baseline", "current"] as const) : (["current", "baseline"] as const);
    const sample: Partial<Record<"baseline" | "current", Sample>> = {};
    for (const side of order) sample[side] = measureIn(sides[side], row.key);
    const a = sample.baseline!;
    const b = sample.current!;
    if (a.bytes !== undefined && b.bytes !== undefined) {
      bytes.baseline.push(a.bytes);
      bytes.current.push(b.bytes);
      ratios.bytes.push(b.bytes / a.bytes);
    } else {
      ratios.wall.push(b.wall! / a.wall!);
      ratios.cpu.push(b.cpu! / a.cpu!);
    }
  }
  if (ratios.bytes.length > 0) {
    const before = spread(bytes.baseline).median;
    const after = spread(bytes.current).median;
    console.log(`${row.key.padEnd(10)} ${after.toFixed(0)} B against ${before.toFixed(0)} B: ${formatRatio(spread(ratios.bytes))} (${pairs} pairs)`);
  } else {
    console.log(`${row.key.padEnd(10)} wall ${formatRatio(spread(ratios.wall))}  cpu ${spread(ratios.cpu).median.toFixed(2)}x (${pairs} pairs of ${runs}-run medians)`);
  }
}
