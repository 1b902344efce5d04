/**
 * Core scheduler workloads (issue 2): spawning tasks, `sleep(0)` switches,
 * many concurrent sleeps, each against the same workload written with
 * native async functions and promises in the same process.
 */
import { ContextVar, createTask, eagerTaskFactory, getRunningLoop, run, sleep, type Coro, type Task } from "../src/index.js";
import { heapUsed, measure, report, size, smoke } from "./harness.js";

const SPAWN = size(100_000);
const SWITCH_TASKS = size(1_000, 10);
const SWITCHES = size(1_000, 10);
const SLEEPERS = size(100_000, 100);

// --- spawn and await N trivial tasks ---------------------------------------
function* trivial(i: number): Coro<number> {
  return i;
}
async function trivialAsync(i: number): Promise<number> {
  return i;
}
const spawnNative = await measure("native Promise.all(async fns)", SPAWN, async () => {
  const promises = new Array<Promise<number>>(SPAWN);
  for (let i = 0; i < SPAWN; i++) promises[i] = trivialAsync(i);
  await Promise.all(promises);
});
const spawnOurs = await measure("asyncio-ts createTask + yield*", SPAWN, () =>
  run(function* () {
    const tasks = new Array<Task<number>>(SPAWN);
    for (let i = 0; i < SPAWN; i++) tasks[i] = createTask(trivial(i));
    for (let i = 0; i < SPAWN; i++) yield* tasks[i]!;
  }),
);
const spawnInline = await measure("asyncio-ts inline function* per task", SPAWN, () =>
  run(function* () {
    const tasks = new Array<Task<number>>(SPAWN);
    for (let i = 0; i < SPAWN; i++) tasks[i] = createTask((function* (): Coro<number> { return i; })());
    for (let i = 0; i < SPAWN; i++) yield* tasks[i]!;
  }),
);
const spawnEager = await measure("asyncio-ts eager tasks (eagerTaskFactory)", SPAWN, () =>
  run(function* () {
    getRunningLoop().setTaskFactory(eagerTaskFactory);
    const tasks = new Array<Task<number>>(SPAWN);
    for (let i = 0; i < SPAWN; i++) tasks[i] = createTask(trivial(i));
    for (let i = 0; i < SPAWN; i++) yield* tasks[i]!;
  }),
);
const requestId = new ContextVar<number>("requestId");
const spawnContext = await measure("asyncio-ts with a ContextVar set", SPAWN, () =>
  run(function* () {
    requestId.set(1);
    const tasks = new Array<Task<number>>(SPAWN);
    for (let i = 0; i < SPAWN; i++) tasks[i] = createTask(trivial(i));
    for (let i = 0; i < SPAWN; i++) yield* tasks[i]!;
  }),
);
report(`spawn and await ${SPAWN} tasks`, spawnNative, [spawnOurs, spawnInline, spawnEager, spawnContext]);
console.log(`  inline function* vs named: ${(spawnInline.median / spawnOurs.median).toFixed(2)}x (creating inline generator objects is V8's cost: see docs/decisions.md)`);
console.log(`  ContextVar in use vs not: ${(spawnContext.median / spawnOurs.median).toFixed(2)}x`);

// --- T tasks x S sleep(0) switches ------------------------------------------
const switchNative = await measure("native await null (microtask)", SWITCH_TASKS * SWITCHES, async () => {
  const worker = async (): Promise<void> => {
    for (let i = 0; i < SWITCHES; i++) await null;
  };
  await Promise.all(Array.from({ length: SWITCH_TASKS }, worker));
});
const switchOurs = await measure("asyncio-ts yield* sleep(0)", SWITCH_TASKS * SWITCHES, () =>
  run(function* () {
    function* worker(): Coro<void> {
      for (let i = 0; i < SWITCHES; i++) yield* sleep(0);
    }
    const tasks = Array.from({ length: SWITCH_TASKS }, () => createTask(worker()));
    for (const task of tasks) yield* task;
  }),
);
report(`${SWITCH_TASKS} tasks x ${SWITCHES} sleep(0) switches`, switchNative, [switchOurs]);
console.log(`  asyncio-ts switches/s: ${((SWITCH_TASKS * SWITCHES) / switchOurs.median / 1e6).toFixed(2)} M (target >= 10 M)`);

// --- N concurrent sleep(1): wall time and heap per sleeping task -------------
const SLEEP_SECONDS = smoke ? 0.01 : 1;
let nativeBytes = 0;
const sleepNative = await measure(`native setTimeout promise x${SLEEPERS}`, SLEEPERS, async () => {
  const before = heapUsed();
  const promises = new Array<Promise<void>>(SLEEPERS);
  for (let i = 0; i < SLEEPERS; i++) promises[i] = (async () => { await new Promise<void>((resolve) => setTimeout(resolve, SLEEP_SECONDS * 1000)); })();
  nativeBytes = (heapUsed() - before) / SLEEPERS;
  await Promise.all(promises);
});
let ourBytes = 0;
const sleepOurs = await measure(`asyncio-ts sleep(${SLEEP_SECONDS}) x${SLEEPERS}`, SLEEPERS, () =>
  run(function* () {
    function* sleeper(): Coro<void> {
      yield* sleep(SLEEP_SECONDS);
    }
    const before = heapUsed();
    const tasks = new Array<Task<void>>(SLEEPERS);
    for (let i = 0; i < SLEEPERS; i++) tasks[i] = createTask(sleeper());
    yield* sleep(0); // every task has now run its first step and is suspended
    ourBytes = (heapUsed() - before) / SLEEPERS;
    for (let i = 0; i < SLEEPERS; i++) yield* tasks[i]!;
  }),
);
report(`${SLEEPERS} concurrent ${SLEEP_SECONDS} s sleeps (wall time)`, sleepNative, [sleepOurs]);
console.log(`  heap per sleeping task: asyncio-ts ${ourBytes.toFixed(0)} B (target <= 512 B), native ${nativeBytes.toFixed(0)} B`);

// --- last: AsyncLocalStorage in use (once a store is used, every task captures it) ---
const { AsyncLocalStorage } = await import("node:async_hooks");
const spans = new AsyncLocalStorage<string>();
const spawnAls = await measure("asyncio-ts with an AsyncLocalStorage store", SPAWN, () =>
  spans.run("span", () =>
    run(function* () {
      const tasks = new Array<Task<number>>(SPAWN);
      for (let i = 0; i < SPAWN; i++) tasks[i] = createTask(trivial(i));
      for (let i = 0; i < SPAWN; i++) yield* tasks[i]!;
    }),
  ),
);
report(`spawn and await ${SPAWN} tasks, AsyncLocalStorage in use`, spawnNative, [spawnOurs, spawnAls]);
