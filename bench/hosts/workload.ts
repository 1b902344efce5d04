/**
 * The per-host workloads of `bench/hosts.bench.ts`, portable (no Node API):
 * spawn-and-await N tasks and T tasks x S `sleep(0)` switches, each next to
 * the same work done with the host's native promises, timed in the same run
 * (median of RUNS after a warm-up). Bundled by esbuild and run on each host;
 * the result is printed as one `HOST-BENCH {json}` line (or left on
 * `globalThis` in a browser page).
 */
import { createTask, run, sleep, type Coro, type Task } from "../../src/index.js";

declare const SMOKE: boolean;
declare const HOST: string;

const SPAWN = SMOKE ? 100 : 100_000;
const SWITCH_TASKS = SMOKE ? 10 : 1000;
const SWITCHES = SMOKE ? 10 : 1000;
const RUNS = SMOKE ? 1 : 5;

/** One workload's median seconds per run. */
interface Timing {
  name: string;
  median: number;
  items: number;
}

function collect(): void {
  const host = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (host.gc !== undefined) host.gc();
  else host.Bun?.gc(true);
}

async function measure(name: string, items: number, workload: () => Promise<unknown>): Promise<Timing> {
  await workload();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    collect();
    const start = performance.now();
    await workload();
    times.push((performance.now() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  return { name, median: times[Math.floor(times.length / 2)]!, items };
}

async function trivialAsync(i: number): Promise<number> {
  return i;
}

function* trivial(i: number): Coro<number> {
  return i;
}

async function nativeSwitcher(): Promise<void> {
  for (let i = 0; i < SWITCHES; i++) await null;
}

function* switcher(): Coro<void> {
  for (let i = 0; i < SWITCHES; i++) yield* sleep(0);
}

const timings: Timing[] = [];
timings.push(
  await measure("spawn: native Promise.all(async fns)", SPAWN, async () => {
    const promises = new Array<Promise<number>>(SPAWN);
    for (let i = 0; i < SPAWN; i++) promises[i] = trivialAsync(i);
    await Promise.all(promises);
  }),
);
timings.push(
  await measure("spawn: asyncio-ts createTask + yield*", SPAWN, () =>
    run(function* () {
      const tasks = new Array<Task<number>>(SPAWN);
      for (let i = 0; i < SPAWN; i++) tasks[i] = createTask(trivial(i));
      for (let i = 0; i < SPAWN; i++) yield* tasks[i]!;
    }),
  ),
);
timings.push(
  await measure("switches: native await null", SWITCH_TASKS * SWITCHES, async () => {
    const promises = new Array<Promise<void>>(SWITCH_TASKS);
    for (let i = 0; i < SWITCH_TASKS; i++) promises[i] = nativeSwitcher();
    await Promise.all(promises);
  }),
);
timings.push(
  await measure("switches: asyncio-ts yield* sleep(0)", SWITCH_TASKS * SWITCHES, () =>
    run(function* () {
      const tasks = new Array<Task<void>>(SWITCH_TASKS);
      for (let i = 0; i < SWITCH_TASKS; i++) tasks[i] = createTask(switcher());
      for (let i = 0; i < SWITCH_TASKS; i++) yield* tasks[i]!;
    }),
  ),
);

const result = { host: HOST, timings };
(globalThis as { __asyncioTsHostBench?: unknown }).__asyncioTsHostBench = result;
if (HOST !== "browser") console.log(`HOST-BENCH ${JSON.stringify(result)}`);
