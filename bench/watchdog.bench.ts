/**
 * The stall watchdog's cost while the loop is healthy (issue 30: at most 2%
 * on the `sleep(0)` switches workload). Three runners in one process run the
 * same workload in rotating order, round after round, so that the load other
 * processes put on the machine falls on all alike: two without a watchdog
 * (the baseline, and a control whose ratio to the baseline is the noise of
 * this run) and one with `watchdog: 0.1` (its watcher polls every 10 ms).
 * Each is reported by its median wall time and its median CPU time (the
 * process's, so the watcher thread's own polling counts). Then what turning
 * it on costs a `run()`: the watcher thread's start and stop.
 */
import { performance } from "node:perf_hooks";
import { createTask, run, Runner, sleep, type Coro } from "../src/index.js";
import { runs, size, smoke } from "./harness.js";

const TASKS = size(1_000, 10);
const SWITCHES = size(1_000, 10);
const ROUNDS = smoke ? 1 : Math.max(31, runs);

function* switches(): Coro<void> {
  function* worker(): Coro<void> {
    for (let i = 0; i < SWITCHES; i++) yield* sleep(0);
  }
  const tasks = Array.from({ length: TASKS }, () => createTask(worker()));
  for (const task of tasks) yield* task;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Contender {
  name: string;
  body: () => Promise<unknown>;
  wallMs: number[];
  cpuMs: number[];
}

/** Runs each contender once per round, the order rotating each round; prints medians as ratios to the first. */
async function rotate(title: string, contenders: Contender[], rounds: number): Promise<void> {
  if (!smoke) for (const c of contenders) await c.body();
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(round + k) % contenders.length]!;
      (globalThis as { gc?: () => void }).gc?.();
      const wallStart = performance.now();
      const cpuStart = process.cpuUsage();
      await c.body();
      const cpu = process.cpuUsage(cpuStart);
      c.wallMs.push(performance.now() - wallStart);
      c.cpuMs.push((cpu.user + cpu.system) / 1000);
    }
  }
  console.log(`\n## ${title} (${rounds} rounds in rotating order, medians)`);
  const [base] = contenders;
  for (const c of contenders) {
    const wall = median(c.wallMs);
    const cpu = median(c.cpuMs);
    const ratios = c === base ? "(baseline)" : `${(wall / median(base!.wallMs)).toFixed(3)}x wall, ${(cpu / median(base!.cpuMs)).toFixed(3)}x CPU`;
    console.log(`  ${c.name.padEnd(40)} wall ${wall.toFixed(2).padStart(8)} ms  CPU ${cpu.toFixed(2).padStart(8)} ms  ${ratios}`);
  }
}

const contender = (name: string, body: () => Promise<unknown>): Contender => ({ name, body, wallMs: [], cpuMs: [] });

const plain = new Runner();
const control = new Runner();
const watched = new Runner({ watchdog: 0.1 });
await rotate(
  `${TASKS} tasks x ${SWITCHES} sleep(0) switches`,
  [
    contender("watchdog off", () => plain.run(switches)),
    contender("watchdog off again (noise control)", () => control.run(switches)),
    contender("sleep(0) switches, watchdog on", () => watched.run(switches)),
  ],
  ROUNDS,
);
await Promise.all([plain.close(), control.close(), watched.close()]);
console.log("  target: watchdog on <= 1.02x baseline (read it against the control's distance from 1)");

await rotate(
  "run() of an empty main",
  [contender("run(), no watchdog", () => run(function* () {})), contender("run(), watchdog on (thread start and stop)", () => run(function* () {}, { watchdog: 0.1 }))],
  smoke ? 1 : 21,
);
