/**
 * `npm run bench:compare`: the same workloads in asyncio-ts, native
 * async/Promise, Effection 4, Effect 4 and Python asyncio (3.13 when pyenv
 * has it), each run in a fresh process several times, the systems taking
 * turns round by round (so a drift of the machine's load moves every system
 * of a round together); medians with min–max, and every figure as the median
 * of its per-round ratios to asyncio-ts, with their range. Writes
 * docs/benchmarks.md and docs/benchmarks.svg (`--smoke`: tiny sizes, one
 * run, written to `--out <dir>` so the docs are not touched).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderChart, type ChartRow } from "./svg.js";
import { fullSizes, smokeSizes, workloads, type Sample, type System } from "./workloads.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..", "..");
const smoke = process.argv.includes("--smoke");
const outIndex = process.argv.indexOf("--out");
const outDir = outIndex !== -1 ? process.argv[outIndex + 1]! : join(root, "docs");
const sizes = smoke ? smokeSizes : fullSizes;
const RUNS = smoke ? 1 : Number(process.env["BENCH_RUNS"] ?? 3);

const JS_SYSTEMS: System[] = ["asyncio-ts", "native", "effection", "effect"];
const PYTHON_SCRIPTS: Record<string, string> = {
  spawn: "spawn.py", switches: "switches.py", deep: "deep.py", gather: "gather.py", taskgroup: "taskgroup.py",
  queue: "bounded_queue.py", lock: "lock.py", sleepers: "sleepers.py", held: "held.py",
  "line-echo": "line_echo.py", pizza: "pizza.py", "cpu-offload": "cpu_offload.py",
};
const DESCRIPTIONS: Record<string, string> = {
  spawn: `spawn and await ${sizes.spawn} tasks`,
  "spawn-inline": `the same, an inline function* (native: an inline async arrow) per task`,
  "spawn-eager": `the same, eager tasks (eagerTaskFactory)`,
  switches: `${sizes.switchTasks} tasks x ${sizes.switches} sleep(0) (effect: yieldNow)`,
  deep: `the same, three coroutine levels deep (native: three nested async fns)`,
  gather: `gather of ${sizes.spawn} children, one switch each (effect: Effect.all unbounded)`,
  taskgroup: `TaskGroup of ${sizes.spawn} children, one switch each`,
  queue: `bounded queue (100), ${sizes.queueItems} items`,
  lock: `${sizes.lockTasks} tasks x ${sizes.lockRounds} lock acquisitions (native: async-mutex; effect: Semaphore.withPermit)`,
  "lock-promise-mutex": `the same, native: a hand-written promise mutex`,
  sleepers: `${sizes.sleepers} concurrent ${sizes.sleepSeconds} s sleeps`,
  held: `${sizes.spawn} finished tasks the caller still holds (heap per task)`,
  "line-echo": `line echo, ${sizes.echoClients} clients x ${sizes.echoLines} lines`,
  pizza: `pizza server at bake 0, ${sizes.orders} orders`,
  "cpu-offload": `cpu_bound_task(${sizes.cpuN}) x ${sizes.cpuJobs} on 2 processes`,
};

function findPython(): { command: string; env: NodeJS.ProcessEnv; version: string } | null {
  for (const env of [{ ...process.env, PYENV_VERSION: "3.13.0" }, process.env]) {
    const probe = spawnSync("python3", ["--version"], { encoding: "utf8", env });
    if (probe.status === 0) return { command: "python3", env, version: probe.stdout.trim() || probe.stderr.trim() };
  }
  return null;
}

interface Figure {
  median: number;
  min: number;
  max: number;
  /** Median of the per-round ratios to asyncio-ts's time in the same round, and their range. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  bytesPerTask?: number;
  speedup?: number;
}

const mid = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
};

function summarise(samples: Sample[], ours: Sample[] | undefined): Figure {
  const times = samples.map((s) => s.seconds).sort((a, b) => a - b);
  const ratios = ours === undefined ? [Number.NaN] : samples.map((s, i) => s.seconds / ours[i]!.seconds);
  const figure: Figure = {
    median: mid(times), min: times[0]!, max: times[times.length - 1]!,
    ratio: mid(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios),
  };
  const bytes = samples.map((s) => s.bytesPerTask).filter((b): b is number => b !== undefined);
  if (bytes.length > 0) figure.bytesPerTask = mid(bytes);
  const speedups = samples.map((s) => s.speedup).filter((b): b is number => b !== undefined);
  if (speedups.length > 0) figure.speedup = mid(speedups);
  return figure;
}

function runJs(system: System, workload: string): Sample {
  const result = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", join(here, "run-one.ts"), system, workload, smoke ? "smoke" : "full"], {
    encoding: "utf8",
    cwd: root,
    timeout: 300_000,
  });
  const line = result.stdout.trim().split("\n").pop() ?? "";
  if (result.status !== 0) throw new Error(`${system} ${workload} failed: ${result.stderr || line}`);
  return JSON.parse(line) as Sample;
}

function runPython(python: NonNullable<ReturnType<typeof findPython>>, workload: string): Sample {
  const result = spawnSync(python.command, [join(root, "bench", "python", PYTHON_SCRIPTS[workload]!), JSON.stringify(sizes)], {
    encoding: "utf8",
    cwd: join(root, "bench", "python"),
    env: python.env,
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`python ${workload} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as Sample;
}

const python = findPython();
const uvloop = python === null ? false : spawnSync(python.command, ["-c", "import uvloop"], { env: python.env }).status === 0;
const systems = [...JS_SYSTEMS, ...(python !== null ? ["python"] : [])];
const results: Record<string, Record<string, Figure | null>> = {};
const started = Date.now();

const only = process.argv.slice(2).filter((a) => !a.startsWith("--") && a !== process.argv[outIndex + 1]);
for (const workload of Object.keys(workloads)) {
  if (only.length > 0 && !only.includes(workload)) continue;
  results[workload] = {};
  const present = systems.filter((system) =>
    system === "python" ? PYTHON_SCRIPTS[workload] !== undefined : workloads[workload]![system as System] !== undefined,
  );
  const samples = new Map<string, Sample[]>(present.map((system) => [system, []]));
  for (let round = 0; round < RUNS; round++) {
    // Round by round, in an order that flips every other round.
    const order = round % 2 === 0 ? present : [...present].reverse();
    for (const system of order) {
      samples.get(system)!.push(system === "python" ? runPython(python!, workload) : runJs(system as System, workload));
    }
  }
  for (const system of systems) {
    const mine = samples.get(system);
    results[workload]![system] = mine === undefined ? null : summarise(mine, samples.get("asyncio-ts"));
    if (mine !== undefined) process.stderr.write(`${workload} ${system}: ${results[workload]![system]!.median.toFixed(3)} s\n`);
  }
}

// ---------------------------------------------------------------- report

const fmt = (s: number): string => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);
const rows: ChartRow[] = [];
const table: string[] = [`| workload | ${systems.join(" | ")} |`, `|---|${systems.map(() => "---").join("|")}|`];
const slower: string[] = [];
for (const [workload, bySystem] of Object.entries(results)) {
  const ours = bySystem["asyncio-ts"];
  const ratios: Record<string, number | null> = {};
  const cells = systems.map((system) => {
    const f = bySystem[system];
    if (f === null || f === undefined) {
      ratios[system] = null;
      return "n/a";
    }
    const ratio = ours ? f.ratio : Number.NaN;
    ratios[system] = ratio;
    if (system !== "asyncio-ts" && ratio < 1) slower.push(`${workload}: ${system} ${ratio.toFixed(2)}x`);
    const extra = [
      f.bytesPerTask !== undefined ? `${Math.round(f.bytesPerTask)} B/task` : "",
      f.speedup !== undefined ? `speed-up ${f.speedup.toFixed(2)}x` : "",
    ].filter(Boolean).join(", ");
    const versus = system === "asyncio-ts" ? "" : ` **${ratio.toFixed(2)}x** [${f.ratioMin.toFixed(2)}–${f.ratioMax.toFixed(2)}]`;
    return `${fmt(f.median)} [${fmt(f.min)}–${fmt(f.max)}]${versus}${extra ? `<br>${extra}` : ""}`;
  });
  table.push(`| ${DESCRIPTIONS[workload]} | ${cells.join(" | ")} |`);
  rows.push({ workload, ratios });
}

const versions = {
  node: process.version,
  effection: (JSON.parse(readFileSync(join(root, "node_modules", "effection", "package.json"), "utf8")) as { version: string }).version,
  effect: (JSON.parse(readFileSync(join(root, "node_modules", "effect", "package.json"), "utf8")) as { version: string }).version,
  python: python?.version ?? "absent",
};
// The performance table measured by `npm run bench` (bench/floor-report.ts) lives
// between these markers; a regenerated page keeps it as it was.
const FLOOR_START = "<!-- floor:start -->";
const FLOOR_END = "<!-- floor:end -->";
function keptFloorSection(): string {
  try {
    const previous = readFileSync(join(outDir, "benchmarks.md"), "utf8");
    const start = previous.indexOf(FLOOR_START);
    const end = previous.indexOf(FLOOR_END);
    if (start !== -1 && end > start) return `${previous.slice(start, end + FLOOR_END.length)}\n`;
  } catch {
    // No previous page: nothing to keep.
  }
  return `${FLOOR_START}\n(not measured yet: see bench/floor-report.ts)\n${FLOOR_END}\n`;
}

const svg = renderChart(rows, systems);
const markdown = `# Benchmarks

asyncio-ts against native \`async\`/\`Promise\` (the floor for any JavaScript
scheduler), [Effection](https://frontside.com/effection) ${versions.effection},
[Effect](https://effect.website) ${versions.effect} and Python asyncio (${versions.python}${uvloop ? ", plus uvloop" : "; uvloop is not installed here, so it is skipped"}),
on the same workloads. Regenerate with \`npm run bench:compare\`.

![time relative to asyncio-ts](benchmarks.svg)

Each cell: median wall time of ${RUNS} runs [min–max], and **the median of
the per-round ratios to asyncio-ts** [their range] (below 1x: faster than
asyncio-ts; above: slower). The systems take turns round by round, so a
drift of the machine's load moves a whole round. Absolute times on a shared
2-core machine are noise; the ratios are the result. "n/a": that system has
no idiomatic version of the workload (Effection 4 has no mutex, bounded
queue or socket streams; Effect's rows are its \`Effect.all\` with unbounded
concurrency, \`Effect.yieldNow\`, \`Semaphore\` and \`Effect.sleep\`).

${table.join("\n")}

## The performance table (\`npm run bench\`, against native in one process)

${keptFloorSection()}
## Method

- Every system and workload runs in a fresh process, the systems in turn
  within each round (the order flipped every other round) (\`bench/compare/run-one.ts\`,
  \`bench/python/*.py\`), so heaps and JITs do not leak between measurements.
- The JavaScript versions are in \`bench/compare/workloads.ts\`; the Python
  ones are idiomatic asyncio (\`create_task\`, \`gather\`, \`asyncio.Queue\`,
  \`async with lock\`, streams, \`run_in_executor\`) in \`bench/python/\`.
- "native" is the floor: \`await null\` for a switch, \`Promise.all\` of async
  functions for spawning, a hand-written promise queue, \`async-mutex\` for
  the lock, plain \`net\` servers.
- Memory per sleeping task: heap growth after a full GC with all tasks
  suspended (Python: \`tracemalloc\`).
- The cpu-offload cell gives the pool's time and its speed-up over running
  the same jobs one after another in the same process.

## Machine

${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${versions.node};
${versions.python}. Run took ${((Date.now() - started) / 1000).toFixed(0)} s.

## Where a peer is faster

${slower.length === 0 ? "None in this run." : slower.map((s) => `- ${s}`).join("\n")}
`;
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "benchmarks.md"), markdown);
writeFileSync(join(outDir, "benchmarks.svg"), svg);
console.log(markdown);
