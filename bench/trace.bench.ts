/**
 * The cost of the debug tooling (issue 9) on the spawn workload: plain,
 * debug mode on, and tracing on, in the same run. Debug mode off must cost
 * nothing: it is the plain figure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTask, run, type Coro, type RunOptions, type Task } from "../src/index.js";
import { measure, report, size } from "./harness.js";

const N = size(100_000);
const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-trace-bench-"));

function* trivial(i: number): Coro<number> {
  return i;
}
function spawnAll(options: RunOptions): Promise<void> {
  return run(function* () {
    const tasks = new Array<Task<number>>(N);
    for (let i = 0; i < N; i++) tasks[i] = createTask(trivial(i));
    for (let i = 0; i < N; i++) yield* tasks[i]!;
  }, options);
}

const plain = await measure("spawn, debug off, no trace", N, () => spawnAll({}));
const debug = await measure("spawn, debug mode on", N, () => spawnAll({ debug: true }));
const traced = await measure("spawn, tracing to a file", N, () => spawnAll({ trace: join(dir, "run.json") }));
report(`spawn and await ${N} tasks`, plain, [debug, traced]);
rmSync(dir, { recursive: true, force: true });
