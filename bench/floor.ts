/**
 * The workloads of the performance table (issue 28), each written once over
 * a library module, so that `npm run bench` times them against native
 * async/Promise and `bench/ab.ts` times this build against another copy of
 * the library (the unpatched one) in the same process.
 */
import type * as Library from "../src/index.js";
import { promiseMutexContention } from "./promise-mutex.js";

/** The asyncio-ts module a workload runs on (this build, or a baseline copy). */
export type Lib = typeof Library;

export interface FloorSizes {
  spawn: number;
  switchTasks: number;
  switches: number;
  children: number;
  lockTasks: number;
  lockRounds: number;
  sleepers: number;
  held: number;
}

/** A row: the native baseline and the asyncio-ts workload over a library. */
export interface TimedRow {
  key: string;
  title: (s: FloorSizes) => string;
  items: (s: FloorSizes) => number;
  nativeName: string;
  native: (s: FloorSizes) => Promise<unknown>;
  oursName: string;
  ours: (lib: Lib, s: FloorSizes) => Promise<unknown>;
  /** The goal, as a ratio to native (issue 28). */
  goal: number;
}

/** A heap row: bytes per item, native and asyncio-ts. */
export interface HeapRow {
  key: string;
  title: (s: FloorSizes) => string;
  nativeName: string;
  native: (s: FloorSizes) => Promise<number>;
  oursName: string;
  ours: (lib: Lib, s: FloorSizes) => Promise<number>;
  /** The goal, in bytes per item (issue 28). */
  goalBytes: number;
}

/** Heap bytes in use after two full collections. */
export function heapNow(): number {
  (globalThis as { gc?: () => void }).gc?.();
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

// Named generator functions at module level: what the docs tell users to write.
function* trivial(i: number): Library.Coro<number> {
  return i;
}
async function trivialAsync(i: number): Promise<number> {
  return i;
}

function spawnAndAwait(lib: Lib, n: number, eager: boolean): Promise<unknown> {
  return lib.run(function* () {
    if (eager) lib.getRunningLoop().setTaskFactory(lib.eagerTaskFactory);
    const tasks = new Array<Library.Task<number>>(n);
    for (let i = 0; i < n; i++) tasks[i] = lib.createTask(trivial(i));
    for (let i = 0; i < n; i++) yield* tasks[i]!;
  });
}

async function nativeSpawn(n: number): Promise<void> {
  const promises = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) promises[i] = trivialAsync(i);
  await Promise.all(promises);
}

async function level1Async(): Promise<void> {
  await level2Async();
}
async function level2Async(): Promise<void> {
  await level3Async();
}
async function level3Async(): Promise<void> {
  await null;
}

export const timedRows: readonly TimedRow[] = [
  {
    key: "spawn",
    title: (s) => `spawn + await ${s.spawn} tasks, named function*`,
    items: (s) => s.spawn,
    nativeName: "native Promise.all(async fns)",
    native: (s) => nativeSpawn(s.spawn),
    oursName: "asyncio-ts createTask + yield*",
    ours: (lib, s) => spawnAndAwait(lib, s.spawn, false),
    goal: 1.8,
  },
  {
    key: "eager",
    title: (s) => `eager tasks, ${s.spawn} finishing at once`,
    items: (s) => s.spawn,
    nativeName: "native Promise.all(async fns)",
    native: (s) => nativeSpawn(s.spawn),
    oursName: "asyncio-ts eagerTaskFactory",
    ours: (lib, s) => spawnAndAwait(lib, s.spawn, true),
    goal: 1.0,
  },
  {
    key: "switches",
    title: (s) => `${s.switchTasks} tasks x ${s.switches} sleep(0)`,
    items: (s) => s.switchTasks * s.switches,
    nativeName: "native await null",
    native: (s) =>
      Promise.all(
        Array.from({ length: s.switchTasks }, async () => {
          for (let i = 0; i < s.switches; i++) await null;
        }),
      ),
    oursName: "asyncio-ts yield* sleep(0)",
    ours: (lib, s) =>
      lib.run(function* () {
        function* worker(): Library.Coro<void> {
          for (let i = 0; i < s.switches; i++) yield* lib.sleep(0);
        }
        const tasks = Array.from({ length: s.switchTasks }, () => lib.createTask(worker()));
        for (const task of tasks) yield* task;
      }),
    goal: 1.0,
  },
  {
    key: "deep",
    title: (s) => `${s.switchTasks} tasks x ${s.switches} sleep(0), three coroutine levels deep`,
    items: (s) => s.switchTasks * s.switches,
    nativeName: "native, three nested async fns",
    native: (s) =>
      Promise.all(
        Array.from({ length: s.switchTasks }, async () => {
          for (let i = 0; i < s.switches; i++) await level1Async();
        }),
      ),
    oursName: "asyncio-ts, three nested function*",
    ours: (lib, s) =>
      lib.run(function* () {
        function* level3(): Library.Coro<void> {
          yield* lib.sleep(0);
        }
        function* level2(): Library.Coro<void> {
          yield* level3();
        }
        function* level1(): Library.Coro<void> {
          yield* level2();
        }
        function* worker(): Library.Coro<void> {
          for (let i = 0; i < s.switches; i++) yield* level1();
        }
        const tasks = Array.from({ length: s.switchTasks }, () => lib.createTask(worker()));
        for (const task of tasks) yield* task;
      }),
    goal: 0.7,
  },
  {
    key: "gather",
    title: (s) => `gather of ${s.children} children, one switch each`,
    items: (s) => s.children,
    nativeName: "native Promise.all(async fns, await null)",
    native: (s) => nativeChildren(s.children),
    oursName: "asyncio-ts gather(...coros)",
    ours: (lib, s) =>
      lib.run(function* () {
        const coros = new Array<Library.Coro<number>>(s.children);
        for (let i = 0; i < s.children; i++) coros[i] = oneSwitch(lib, i);
        yield* lib.gather(...coros);
      }),
    goal: 1.3,
  },
  {
    key: "taskgroup",
    title: (s) => `TaskGroup of ${s.children} children, one switch each`,
    items: (s) => s.children,
    nativeName: "native Promise.all(async fns, await null)",
    native: (s) => nativeChildren(s.children),
    oursName: "asyncio-ts taskGroup + createTask",
    ours: (lib, s) =>
      lib.run(() =>
        lib.taskGroup(function* (group) {
          for (let i = 0; i < s.children; i++) group.createTask(oneSwitch(lib, i));
        }),
      ),
    goal: 1.3,
  },
  {
    key: "lock",
    title: (s) => `Lock, ${s.lockTasks} tasks x ${s.lockRounds} acquisitions, a switch inside`,
    items: (s) => s.lockTasks * s.lockRounds,
    nativeName: "hand-written promise mutex",
    native: (s) => promiseMutexContention(s.lockTasks, s.lockRounds),
    oursName: "asyncio-ts Lock.hold + sleep(0)",
    ours: (lib, s) =>
      lib.run(function* () {
        const lock = new lib.Lock();
        const worker = function* (): Library.Coro<void> {
          for (let i = 0; i < s.lockRounds; i++) yield* lock.hold(() => lib.sleep(0));
        };
        const tasks = Array.from({ length: s.lockTasks }, () => lib.createTask(worker()));
        for (const task of tasks) yield* task;
      }),
    goal: 1.5,
  },
];

function* oneSwitch(lib: Lib, i: number): Library.Coro<number> {
  yield* lib.sleep(0);
  return i;
}
async function oneSwitchAsync(i: number): Promise<number> {
  await null;
  return i;
}
async function nativeChildren(n: number): Promise<void> {
  const promises = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) promises[i] = oneSwitchAsync(i);
  await Promise.all(promises);
}

function* sleeper(lib: Lib): Library.Coro<void> {
  yield* lib.sleep(1);
}

export const heapRows: readonly HeapRow[] = [
  {
    key: "sleeping",
    title: (s) => `heap per sleeping task, ${s.sleepers} sleep(1) under gather`,
    nativeName: "native async fn awaiting a setTimeout promise",
    native: async (s) => {
      const before = heapNow();
      const promises = new Array<Promise<void>>(s.sleepers);
      for (let i = 0; i < s.sleepers; i++) promises[i] = (async () => void (await new Promise<void>((resolve) => setTimeout(resolve, 10))))();
      const all = Promise.all(promises);
      const bytes = (heapNow() - before) / s.sleepers;
      await all;
      return bytes;
    },
    oursName: "asyncio-ts sleep(1) under gather",
    ours: async (lib, s) => {
      let bytes = 0;
      await lib.run(
        function* () {
          const before = heapNow();
          const sleepers = new Array<Library.Coro<void>>(s.sleepers);
          for (let i = 0; i < s.sleepers; i++) sleepers[i] = sleeper(lib);
          const all = lib.gather(...sleepers);
          sleepers.fill(undefined as never);
          yield* lib.sleep(0); // every task has run its first step and sleeps
          bytes = (heapNow() - before) / s.sleepers;
          yield* all;
        },
        { clock: "virtual" },
      );
      return bytes;
    },
    goalBytes: 300,
  },
  {
    key: "held",
    title: (s) => `heap per finished task its caller still holds, ${s.held} tasks`,
    nativeName: "native resolved promises held",
    native: async (s) => {
      const before = heapNow();
      const promises = new Array<Promise<number>>(s.held);
      for (let i = 0; i < s.held; i++) promises[i] = trivialAsync(i);
      await Promise.all(promises);
      const bytes = (heapNow() - before) / s.held;
      if (promises.length !== s.held) throw new Error("unreachable: keeps the promises alive");
      return bytes;
    },
    oursName: "asyncio-ts finished tasks held",
    ours: async (lib, s) => {
      let bytes = 0;
      await lib.run(function* () {
        const before = heapNow();
        const tasks = new Array<Library.Task<number>>(s.held);
        for (let i = 0; i < s.held; i++) tasks[i] = lib.createTask(trivial(i));
        for (let i = 0; i < s.held; i++) yield* tasks[i]!;
        bytes = (heapNow() - before) / s.held;
        if (tasks.length !== s.held) throw new Error("unreachable: keeps the tasks alive");
      });
      return bytes;
    },
    goalBytes: 130,
  },
];

export const fullFloorSizes: FloorSizes = {
  spawn: 100_000, switchTasks: 1_000, switches: 1_000, children: 100_000, lockTasks: 1_000, lockRounds: 100, sleepers: 100_000, held: 100_000,
};
export const smokeFloorSizes: FloorSizes = {
  spawn: 100, switchTasks: 10, switches: 10, children: 100, lockTasks: 10, lockRounds: 5, sleepers: 100, held: 100,
};
