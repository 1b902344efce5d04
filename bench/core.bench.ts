/**
 * Core scheduler workloads (issues 2 and 28): spawning tasks, eager tasks,
 * `sleep(0)` switches (flat and three coroutines deep), many concurrent
 * sleeps, and the heap a sleeping or a finished task costs, each against the
 * same workload written with native async functions and promises, in
 * alternating rounds of the same process (see `compare`).
 */
import * as asyncio from "../src/index.js";
import { ContextVar, createTask, run, sleep, type Coro, type Task } from "../src/index.js";
import { fullFloorSizes, heapRows, smokeFloorSizes, timedRows, type TimedRow } from "./floor.js";
import { compare, compareHeap, smoke, size, type Contender } from "./harness.js";

const sizes = smoke ? smokeFloorSizes : fullFloorSizes;
const SPAWN = sizes.spawn;
const SLEEPERS = size(100_000, 100);

function row(key: string): TimedRow {
  return timedRows.find((r) => r.key === key)!;
}
function nativeOf(r: TimedRow): Contender {
  return { name: r.nativeName, body: () => r.native(sizes) };
}
function oursOf(r: TimedRow): Contender {
  return { name: r.oursName, body: () => r.ours(asyncio, sizes) };
}
function goal(r: TimedRow, ratio: number): void {
  console.log(`  goal <= ${r.goal.toFixed(2)}x: ${ratio <= r.goal ? "met" : "not met"}`);
}

// --- spawn and await N trivial tasks (named, inline, eager, with a ContextVar set) ---
function* trivial(i: number): Coro<number> {
  return i;
}
const requestId = new ContextVar<number>("requestId");
const spawnRow = row("spawn");
const spawn = await compare(spawnRow.title(sizes), SPAWN, nativeOf(spawnRow), [
  oursOf(spawnRow),
  {
    name: "asyncio-ts inline function* per task",
    body: () =>
      run(function* () {
        const tasks = new Array<Task<number>>(SPAWN);
        for (let i = 0; i < SPAWN; i++) tasks[i] = createTask((function* (): Coro<number> { return i; })());
        for (let i = 0; i < SPAWN; i++) yield* tasks[i]!;
      }),
  },
  {
    name: "asyncio-ts with a ContextVar set",
    body: () =>
      run(function* () {
        requestId.set(1);
        const tasks = new Array<Task<number>>(SPAWN);
        for (let i = 0; i < SPAWN; i++) tasks[i] = createTask(trivial(i));
        for (let i = 0; i < SPAWN; i++) yield* tasks[i]!;
      }),
  },
]);
goal(spawnRow, spawn[1]!.ratio.median);
console.log(`  inline function* vs named: ${(spawn[2]!.ratio.median / spawn[1]!.ratio.median).toFixed(2)}x (V8 gives each closure its own prototype: name your coroutine functions; see docs/decisions.md)`);

// --- the rest of the table: eager, switches, deep switches ---
for (const key of ["eager", "switches", "deep"]) {
  const r = row(key);
  const rows = await compare(r.title(sizes), r.items(sizes), nativeOf(r), [oursOf(r)]);
  goal(r, rows[1]!.ratio.median);
}

// --- heap per sleeping task and per finished task held ---
for (const r of heapRows) {
  const rows = await compareHeap(r.title(sizes), { name: r.nativeName, bytesPerItem: () => r.native(sizes) }, [
    { name: r.oursName, bytesPerItem: () => r.ours(asyncio, sizes) },
  ]);
  console.log(`  goal <= ${r.goalBytes} B: ${rows[1]!.bytes.median <= r.goalBytes ? "met" : "not met"}`);
}

// --- N concurrent sleep(1): wall time (a real clock, so few rounds) ---
const SLEEP_SECONDS = smoke ? 0.01 : 1;
await compare(
  `${SLEEPERS} concurrent ${SLEEP_SECONDS} s sleeps (wall time)`,
  SLEEPERS,
  {
    name: `native setTimeout promise x${SLEEPERS}`,
    body: async () => {
      const promises = new Array<Promise<void>>(SLEEPERS);
      for (let i = 0; i < SLEEPERS; i++) promises[i] = (async () => void (await new Promise<void>((resolve) => setTimeout(resolve, SLEEP_SECONDS * 1000))))();
      await Promise.all(promises);
    },
  },
  [
    {
      name: `asyncio-ts sleep(${SLEEP_SECONDS}) x${SLEEPERS}`,
      body: () =>
        run(function* () {
          function* sleeper(): Coro<void> {
            yield* sleep(SLEEP_SECONDS);
          }
          const tasks = new Array<Task<void>>(SLEEPERS);
          for (let i = 0; i < SLEEPERS; i++) tasks[i] = createTask(sleeper());
          for (let i = 0; i < SLEEPERS; i++) yield* tasks[i]!;
        }),
    },
  ],
  { rounds: 3 },
);

// --- last: AsyncLocalStorage in use (once a store is used, every task captures it) ---
const { AsyncLocalStorage } = await import("node:async_hooks");
const spans = new AsyncLocalStorage<string>();
await compare(`spawn + await ${SPAWN} tasks, AsyncLocalStorage in use`, SPAWN, nativeOf(spawnRow), [
  {
    name: "asyncio-ts with an AsyncLocalStorage store",
    body: () =>
      spans.run("span", () =>
        run(function* () {
          const tasks = new Array<Task<number>>(SPAWN);
          for (let i = 0; i < SPAWN; i++) tasks[i] = createTask(trivial(i));
          for (let i = 0; i < SPAWN; i++) yield* tasks[i]!;
        }),
      ),
  },
]);
