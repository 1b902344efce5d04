/**
 * The comparison workloads, written once per JavaScript system: asyncio-ts,
 * native async/Promise (the floor for a JavaScript scheduler), Effection 4
 * and Effect 4 (`Effect.all` with unbounded concurrency, `Effect.yieldNow`).
 * Each returns the seconds it took (and, for sleepers, heap bytes per task).
 * Python's versions are in bench/python/.
 */
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { Mutex } from "async-mutex";
import { Effect, Fiber, Semaphore } from "./effect-module.js";
import * as effection from "effection";
import { lineClient, plainLineServer } from "../net-baselines.js";
import { promiseMutexContention } from "../promise-mutex.js";
import {
  Lock,
  ProcessPoolExecutor,
  Queue,
  createTask,
  eagerTaskFactory,
  getRunningLoop,
  fromPromise,
  gather,
  openConnection,
  run,
  sleep,
  startServer,
  taskGroup,
  type Coro,
  type StreamReader,
  type StreamWriter,
  type Task,
} from "../../src/index.js";

export type System = "asyncio-ts" | "native" | "effection" | "effect";
export interface Sample {
  seconds: number;
  /** CPU seconds of the process (user + system), where the system reports it. */
  cpuSeconds?: number;
  bytesPerTask?: number;
  speedup?: number;
}
export interface Sizes {
  spawn: number;
  switchTasks: number;
  switches: number;
  queueItems: number;
  lockTasks: number;
  lockRounds: number;
  sleepers: number;
  sleepSeconds: number;
  echoClients: number;
  echoLines: number;
  orders: number;
  cpuJobs: number;
  cpuN: number;
}

export const fullSizes: Sizes = {
  spawn: 100_000, switchTasks: 1_000, switches: 1_000, queueItems: 1_000_000, lockTasks: 1_000, lockRounds: 100,
  sleepers: 100_000, sleepSeconds: 1, echoClients: 50, echoLines: 20_000, orders: 5_000, cpuJobs: 8, cpuN: 10_000_000,
};
export const smokeSizes: Sizes = {
  spawn: 100, switchTasks: 10, switches: 10, queueItems: 1_000, lockTasks: 10, lockRounds: 5,
  sleepers: 100, sleepSeconds: 0.01, echoClients: 2, echoLines: 50, orders: 20, cpuJobs: 2, cpuN: 10_000,
};

const heap = (): number => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
};

async function timed(body: () => Promise<unknown>): Promise<Sample> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  await body();
  const cpu = process.cpuUsage(cpuStart);
  return { seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function cpuBoundTask(n: number): bigint {
  let total = 0n;
  for (let i = 0n; i < BigInt(n); i++) total += i * i;
  return total;
}

// ---------------------------------------------------------------- shared load

function* ourLineHandler(reader: StreamReader, writer: StreamWriter): Coro<void> {
  for (;;) {
    const line = yield* reader.readline();
    if (line.length === 0) break;
    writer.write(line);
    yield* writer.drain();
  }
  writer.close();
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

/** The native pizzeria at bake 0 and its load generator, with plain net. */
async function nativePizza(orders: number): Promise<void> {
  const server = net.createServer((socket) => {
    socket.once("data", () => socket.end("Here's your pizza!"));
    socket.on("error", () => socket.destroy());
  });
  const port = await listen(server);
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write("margherita"));
      socket.on("data", () => undefined);
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < orders) {
      next++;
      await one();
    }
  }));
  await new Promise((resolve) => server.close(resolve));
}

// ------------------------------------------------ bodies used by several rows

/** `switches` yields, three nested coroutines deep, in each of `switchTasks` tasks. */
function deepSwitches(s: Sizes): () => Coro<void> {
  function* level3(): Coro<void> {
    yield* sleep(0);
  }
  function* level2(): Coro<void> {
    yield* level3();
  }
  function* level1(): Coro<void> {
    yield* level2();
  }
  function* worker(): Coro<void> {
    for (let i = 0; i < s.switches; i++) yield* level1();
  }
  return function* () {
    const tasks = Array.from({ length: s.switchTasks }, () => createTask(worker()));
    for (const t of tasks) yield* t;
  };
}

function* oneSwitch(i: number): Coro<number> {
  yield* sleep(0);
  return i;
}

/** The native children baseline: `n` async functions awaiting once, through `Promise.all`. */
async function nativeChildren(n: number): Promise<void> {
  const child = async (i: number): Promise<number> => {
    await null;
    return i;
  };
  const promises = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) promises[i] = child(i);
  await Promise.all(promises);
}

/** Spawns and awaits `n` tasks of a named coroutine function, eagerly or not. */
function spawnNamed(n: number, eager: boolean): () => Coro<void> {
  function* trivial(i: number): Coro<number> {
    return i;
  }
  return function* () {
    if (eager) getRunningLoop().setTaskFactory(eagerTaskFactory);
    const tasks = new Array<Task<number>>(n);
    for (let i = 0; i < n; i++) tasks[i] = createTask(trivial(i));
    for (let i = 0; i < n; i++) yield* tasks[i]!;
  };
}

/** The native spawn baseline: `n` async functions through `Promise.all`. */
async function nativeSpawn(n: number): Promise<void> {
  const trivial = async (i: number): Promise<number> => i;
  const promises = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) promises[i] = trivial(i);
  await Promise.all(promises);
}

/** `lockTasks` tasks, each taking the same `Lock` `lockRounds` times with a `sleep(0)` inside. */
function lockContention(s: Sizes): () => Coro<void> {
  return function* () {
    const lock = new Lock();
    const worker = function* (): Coro<void> {
      for (let i = 0; i < s.lockRounds; i++) yield* lock.hold(() => sleep(0));
    };
    const tasks = Array.from({ length: s.lockTasks }, () => createTask(worker()));
    for (const t of tasks) yield* t;
  };
}

/** The chapter's load generator: `orders` orders to `port`, 50 connections at a time, each read to the end. */
export function* placeChapterOrders(port: number, orders: number): Coro<void> {
  let remaining = orders;
  function* order(): Coro<void> {
    const [reader, writer] = yield* openConnection("127.0.0.1", port);
    writer.write("margherita");
    yield* writer.drain();
    yield* reader.read();
    writer.close();
    yield* writer.waitClosed();
  }
  function* worker(): Coro<void> {
    while (remaining > 0) {
      remaining--;
      yield* order();
    }
  }
  yield* gather(...Array.from({ length: 50 }, worker));
}

// ---------------------------------------------------------------- workloads

type Workload = Partial<Record<System, (s: Sizes) => Promise<Sample>>>;

export const workloads: Record<string, Workload> = {
  spawn: {
    "asyncio-ts": (s) => timed(() => run(spawnNamed(s.spawn, false))),
    native: (s) => timed(() => nativeSpawn(s.spawn)),
    effection: (s) => timed(() => effection.run(function* () {
      const tasks: effection.Task<number>[] = [];
      for (let i = 0; i < s.spawn; i++) tasks.push(yield* effection.spawn(function* () {
        return i;
      }));
      for (const t of tasks) yield* t;
    })),
    effect: (s) => timed(() => Effect.runPromise(Effect.all(Array.from({ length: s.spawn }, (_, i) => Effect.succeed(i)), { concurrency: "unbounded" }))),
  },
  "spawn-inline": {
    // The way most users write it: an anonymous function* per task, against an inline async arrow.
    "asyncio-ts": (s) => timed(() => run(function* () {
      const tasks = new Array<Task<number>>(s.spawn);
      for (let i = 0; i < s.spawn; i++) tasks[i] = createTask((function* (): Coro<number> {
        return i;
      })());
      for (let i = 0; i < s.spawn; i++) yield* tasks[i]!;
    })),
    native: (s) => timed(async () => {
      const promises = new Array<Promise<number>>(s.spawn);
      for (let i = 0; i < s.spawn; i++) promises[i] = (async () => i)();
      await Promise.all(promises);
    }),
  },
  "spawn-eager": {
    "asyncio-ts": (s) => timed(() => run(spawnNamed(s.spawn, true))),
    native: (s) => timed(() => nativeSpawn(s.spawn)),
  },
  switches: {
    "asyncio-ts": (s) => timed(() => run(function* () {
      function* worker(): Coro<void> {
        for (let i = 0; i < s.switches; i++) yield* sleep(0);
      }
      const tasks = Array.from({ length: s.switchTasks }, () => createTask(worker()));
      for (const t of tasks) yield* t;
    })),
    native: (s) => timed(() => Promise.all(Array.from({ length: s.switchTasks }, async () => {
      for (let i = 0; i < s.switches; i++) await null;
    }))),
    effection: (s) => timed(() => effection.run(function* () {
      const tasks: effection.Task<void>[] = [];
      for (let t = 0; t < s.switchTasks; t++) {
        tasks.push(yield* effection.spawn(function* () {
          for (let i = 0; i < s.switches; i++) yield* effection.sleep(0);
        }));
      }
      for (const t of tasks) yield* t;
    })),
    effect: (s) => timed(() => Effect.runPromise(Effect.all(Array.from({ length: s.switchTasks }, () => Effect.gen(function* () {
      for (let i = 0; i < s.switches; i++) yield* Effect.yieldNow;
    })), { concurrency: "unbounded" }))),
  },
  deep: {
    "asyncio-ts": (s) => timed(() => run(deepSwitches(s))),
    native: (s) => {
      const level3 = async (): Promise<void> => void (await null);
      const level2 = async (): Promise<void> => level3();
      const level1 = async (): Promise<void> => level2();
      return timed(() => Promise.all(Array.from({ length: s.switchTasks }, async () => {
        for (let i = 0; i < s.switches; i++) await level1();
      })));
    },
    effect: (s) => {
      const level3 = Effect.gen(function* () {
        yield* Effect.yieldNow;
      });
      const level2 = Effect.gen(function* () {
        yield* level3;
      });
      const level1 = Effect.gen(function* () {
        yield* level2;
      });
      return timed(() => Effect.runPromise(Effect.all(Array.from({ length: s.switchTasks }, () => Effect.gen(function* () {
        for (let i = 0; i < s.switches; i++) yield* level1;
      })), { concurrency: "unbounded" })));
    },
  },
  gather: {
    "asyncio-ts": (s) => timed(() => run(function* () {
      const coros = new Array<Coro<number>>(s.spawn);
      for (let i = 0; i < s.spawn; i++) coros[i] = oneSwitch(i);
      yield* gather(...coros);
    })),
    native: (s) => timed(() => nativeChildren(s.spawn)),
    effect: (s) => timed(() => Effect.runPromise(Effect.all(Array.from({ length: s.spawn }, (_, i) => Effect.gen(function* () {
      yield* Effect.yieldNow;
      return i;
    })), { concurrency: "unbounded" }))),
  },
  taskgroup: {
    "asyncio-ts": (s) => timed(() => run(() => taskGroup(function* (group) {
      for (let i = 0; i < s.spawn; i++) group.createTask(oneSwitch(i));
    }))),
    native: (s) => timed(() => nativeChildren(s.spawn)),
  },
  queue: {
    "asyncio-ts": (s) => timed(() => run(function* () {
      const q = new Queue<number>(100);
      const consumer = createTask((function* (): Coro<void> {
        for (let i = 0; i < s.queueItems; i++) yield* q.get();
      })());
      for (let i = 0; i < s.queueItems; i++) yield* q.put(i);
      yield* consumer;
    })),
    native: (s) => timed(async () => {
      const items: number[] = [];
      let head = 0;
      let getters: Array<(v: number) => void> = [];
      let putters: Array<() => void> = [];
      const put = async (v: number): Promise<void> => {
        while (items.length - head >= 100) await new Promise<void>((r) => putters.push(r));
        const g = getters.shift();
        if (g) g(v);
        else items.push(v);
      };
      const get = async (): Promise<number> => {
        if (items.length - head === 0) return new Promise<number>((r) => getters.push(r));
        const v = items[head++]!;
        if (head > 4096) {
          items.splice(0, head);
          head = 0;
        }
        putters.shift()?.();
        return v;
      };
      const consumer = (async () => {
        for (let i = 0; i < s.queueItems; i++) await get();
      })();
      for (let i = 0; i < s.queueItems; i++) await put(i);
      await consumer;
      getters = [];
      putters = [];
    }),
  },
  lock: {
    "asyncio-ts": (s) => timed(() => run(lockContention(s))),
    native: (s) => timed(async () => {
      const mutex = new Mutex();
      await Promise.all(Array.from({ length: s.lockTasks }, async () => {
        for (let i = 0; i < s.lockRounds; i++) await mutex.runExclusive(async () => void (await null));
      }));
    }),
    effect: (s) => timed(() => Effect.runPromise(Effect.gen(function* () {
      const semaphore = yield* Semaphore.make(1);
      yield* Effect.all(Array.from({ length: s.lockTasks }, () => Effect.gen(function* () {
        for (let i = 0; i < s.lockRounds; i++) yield* Semaphore.withPermit(semaphore, Effect.yieldNow);
      })), { concurrency: "unbounded" });
    }))),
  },
  "lock-promise-mutex": {
    "asyncio-ts": (s) => timed(() => run(lockContention(s))),
    native: (s) => timed(() => promiseMutexContention(s.lockTasks, s.lockRounds)),
  },
  sleepers: {
    "asyncio-ts": async (s) => {
      let bytes = 0;
      const sample = await timed(() => run(function* () {
        function* sleeper(): Coro<void> {
          yield* sleep(s.sleepSeconds);
        }
        const before = heap();
        const tasks = new Array<Task<void>>(s.sleepers);
        for (let i = 0; i < s.sleepers; i++) tasks[i] = createTask(sleeper());
        yield* sleep(0);
        bytes = (heap() - before) / s.sleepers;
        for (const t of tasks) yield* t;
      }));
      return { ...sample, bytesPerTask: bytes };
    },
    native: async (s) => {
      let bytes = 0;
      const sample = await timed(async () => {
        const before = heap();
        const promises = new Array<Promise<void>>(s.sleepers);
        for (let i = 0; i < s.sleepers; i++) promises[i] = (async () => void (await new Promise<void>((r) => setTimeout(r, s.sleepSeconds * 1000))))();
        bytes = (heap() - before) / s.sleepers;
        await Promise.all(promises);
      });
      return { ...sample, bytesPerTask: bytes };
    },
    effection: async (s) => {
      let bytes = 0;
      const sample = await timed(() => effection.run(function* () {
        const before = heap();
        const tasks: effection.Task<void>[] = [];
        for (let i = 0; i < s.sleepers; i++) tasks.push(yield* effection.spawn(() => effection.sleep(s.sleepSeconds * 1000)));
        yield* effection.sleep(0);
        bytes = (heap() - before) / s.sleepers;
        for (const t of tasks) yield* t;
      }));
      return { ...sample, bytesPerTask: bytes };
    },
    effect: async (s) => {
      let bytes = 0;
      const sample = await timed(() => Effect.runPromise(Effect.gen(function* () {
        const before = heap();
        const sleepers = Effect.all(Array.from({ length: s.sleepers }, () => Effect.sleep(s.sleepSeconds * 1000)), { concurrency: "unbounded" });
        const fiber = yield* Effect.forkChild(sleepers);
        yield* Effect.sleep(Math.min(50, s.sleepSeconds * 500)); // every fiber has started and sleeps
        bytes = (heap() - before) / s.sleepers;
        yield* Fiber.join(fiber);
      })));
      return { ...sample, bytesPerTask: bytes };
    },
  },
  held: {
    // Heap per finished task its caller still holds (the time column is the whole run).
    "asyncio-ts": async (s) => {
      let bytes = 0;
      const sample = await timed(() => run(function* () {
        function* trivial(i: number): Coro<number> {
          return i;
        }
        const before = heap();
        const tasks = new Array<Task<number>>(s.spawn);
        for (let i = 0; i < s.spawn; i++) tasks[i] = createTask(trivial(i));
        for (let i = 0; i < s.spawn; i++) yield* tasks[i]!;
        bytes = (heap() - before) / s.spawn;
        if (tasks.length !== s.spawn) throw new Error("unreachable: keeps the tasks alive");
      }));
      return { ...sample, bytesPerTask: bytes };
    },
    native: async (s) => {
      let bytes = 0;
      const sample = await timed(async () => {
        const trivial = async (i: number): Promise<number> => i;
        const before = heap();
        const promises = new Array<Promise<number>>(s.spawn);
        for (let i = 0; i < s.spawn; i++) promises[i] = trivial(i);
        await Promise.all(promises);
        bytes = (heap() - before) / s.spawn;
        if (promises.length !== s.spawn) throw new Error("unreachable: keeps the promises alive");
      });
      return { ...sample, bytesPerTask: bytes };
    },
  },
  "line-echo": {
    "asyncio-ts": (s) => timed(() => run(function* () {
      const server = yield* startServer(ourLineHandler, "127.0.0.1", 0);
      const port = (server.sockets[0] as net.AddressInfo).port;
      yield* fromPromise(Promise.all(Array.from({ length: s.echoClients }, () => lineClient(port, s.echoLines))));
      server.close();
      yield* server.waitClosed();
    })),
    native: (s) => timed(async () => {
      const server = plainLineServer();
      const port = await listen(server);
      await Promise.all(Array.from({ length: s.echoClients }, () => lineClient(port, s.echoLines)));
      await new Promise((resolve) => server.close(resolve));
    }),
  },
  pizza: {
    // The chapter's server and a minimal client, as the Python and native versions are
    // (the production pizzeria adds a read timeout and a hang-up watcher per order).
    "asyncio-ts": (s) => timed(() => run(function* () {
      const server = yield* startServer(function* (reader, writer) {
        yield* reader.read(1024);
        writer.write("Here's your pizza!");
        yield* writer.drain();
        writer.close();
        yield* writer.waitClosed();
      }, "127.0.0.1", 0);
      yield* placeChapterOrders((server.sockets[0] as net.AddressInfo).port, s.orders);
      server.close();
      yield* server.waitClosed();
    })),
    native: (s) => timed(() => nativePizza(s.orders)),
  },
  "cpu-offload": {
    "asyncio-ts": async (s) => {
      const sequential = await timed(async () => {
        for (let i = 0; i < s.cpuJobs; i++) cpuBoundTask(s.cpuN);
      });
      const pool = new ProcessPoolExecutor({ maxWorkers: 2 });
      const pooled = await timed(() => run(function* () {
        yield* gather(...Array.from({ length: s.cpuJobs }, () => pool.submit(cpuBoundTask, s.cpuN)));
      }));
      await pool.shutdown();
      return { seconds: pooled.seconds, speedup: sequential.seconds / pooled.seconds };
    },
  },
};
