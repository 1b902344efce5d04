/**
 * Type-level tests: checked by `tsc --noEmit` (npm run typecheck), never run.
 * Each `Equal` assertion fails to compile if a helper's result type drifts;
 * each `@ts-expect-error` line is a misuse that must stay a type error.
 */
import type { AddressInfo } from "node:net";
import type * as tls from "node:tls";
import {
  Condition,
  BoundedSemaphore,
  Lock,
  ProcessPoolExecutor,
  Semaphore,
  ThreadPoolExecutor,
  createTask,
  functionRef,
  gather,
  getRunningLoop,
  shield,
  sleep,
  startServer,
  taskGroup,
  timeout,
  timeoutAt,
  type Coro,
  type Future,
  type FunctionRef,
  type StreamWriter,
  type Task,
} from "../../src/index.js";
import { functionRef as functionRefFromSubpath } from "../../src/executors/index.js";
import type { cpuBoundTask, double } from "../fixtures/jobs.js";

type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2 ? true : false;
/** `typeOf(x).is<T>()` compiles only when the type of `x` is exactly `T`. */
function typeOf<A>(_value: A): { is<B>(..._mismatch: Equal<A, B> extends true ? [] : [types_differ: never]): void } {
  return { is: () => undefined };
}

function* numberCoro(): Coro<number> {
  yield* sleep(1);
  return 1;
}
function* stringCoro(): Coro<string> {
  return "x";
}

// --- body-taking helpers accept any awaitable and type their result ----------

export function* bodies(): Coro<void> {
  const gathered = yield* timeout(10, () => gather(numberCoro(), stringCoro()));
  typeOf(gathered).is<[number, string]>();

  const fromGenerator = yield* timeout(10, function* () {
    yield* sleep(1);
    return 5;
  });
  typeOf(fromGenerator).is<number>();

  const fromTask = yield* timeoutAt(getRunningLoop().time() + 1, () => createTask(stringCoro()));
  typeOf(fromTask).is<string>();

  const fromFuture = yield* timeout(null, () => getRunningLoop().createFuture<bigint>());
  typeOf(fromFuture).is<bigint>();

  const grouped = yield* taskGroup((tg) => tg.createTask(numberCoro()));
  typeOf(grouped).is<number>();

  const groupedBlock = yield* taskGroup(function* (tg) {
    const a = tg.createTask(numberCoro());
    const b = tg.createTask(stringCoro());
    return [yield* a, yield* b] as const;
  });
  typeOf(groupedBlock).is<readonly [number, string]>();

  const locked = yield* new Lock().hold(() => gather(numberCoro()));
  typeOf(locked).is<[number]>();
  const semaphored = yield* new Semaphore(2).hold(() => createTask(stringCoro()));
  typeOf(semaphored).is<string>();
  const bounded = yield* new BoundedSemaphore(1).hold(numberCoro);
  typeOf(bounded).is<number>();
  const conditioned = yield* new Condition().hold(() => stringCoro());
  typeOf(conditioned).is<string>();

  const shielded = yield* shield(() => gather(numberCoro(), stringCoro()));
  typeOf(shielded).is<[number, string]>();
  const shieldedCoro = yield* shield(numberCoro());
  typeOf(shieldedCoro).is<number>();

  // @ts-expect-error a body must return an awaitable, not a plain value
  yield* timeout(1, () => 42);
  // @ts-expect-error a body is a function, not a coroutine object
  yield* timeout(1, numberCoro());
  // @ts-expect-error the result is a number, not a string
  const wrong: string = yield* timeout(1, numberCoro);
  void wrong;
  // @ts-expect-error hold() takes no argument for its body
  yield* new Lock().hold((x: number) => sleep(x));
}

// --- typed function references --------------------------------------------

export function* references(): Coro<void> {
  const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const ref = functionRef<typeof cpuBoundTask>(new URL("../fixtures/jobs.ts", import.meta.url), "cpuBoundTask");
  typeOf(ref).is<FunctionRef<typeof cpuBoundTask>>();

  const submitted = pool.submit(ref, 1000);
  typeOf(submitted).is<Future<bigint>>();
  const total = yield* submitted;
  typeOf(total).is<bigint>();

  const viaLoop = yield* getRunningLoop().runInExecutor(pool, functionRefFromSubpath<typeof double>("test/fixtures/jobs.ts", "double"), 2);
  typeOf(viaLoop).is<number>();

  const mapped = yield* pool.map(functionRef<typeof double>("test/fixtures/jobs.ts", "double"), [1, 2, 3]);
  typeOf(mapped).is<number[]>();

  // An untyped { module, name } still works, with an unknown result.
  const untyped = yield* pool.submit({ module: "test/fixtures/jobs.ts", name: "double" }, 2);
  typeOf(untyped).is<unknown>();

  // @ts-expect-error cpuBoundTask takes a number
  void pool.submit(ref, "1000");
  // @ts-expect-error cpuBoundTask takes one argument
  void pool.submit(ref);
  // @ts-expect-error runInExecutor checks the arguments too
  void getRunningLoop().runInExecutor(pool, functionRef<typeof double>("test/fixtures/jobs.ts", "double"), "two");
  // @ts-expect-error map's items must be the function's argument type
  yield* pool.map(functionRef<typeof double>("test/fixtures/jobs.ts", "double"), ["a"]);

  // --- shutdown returns a Future: yield*-able and thenable
  const stopping = pool.shutdown();
  const asFuture: Future<void> = stopping;
  const asThenable: PromiseLike<void> = stopping;
  void asFuture;
  void asThenable;
  yield* pool.shutdown();
}

export async function nativeShutdown(): Promise<void> {
  const pool = new ThreadPoolExecutor();
  await pool.shutdown({ wait: true });
}

// --- getExtraInfo and server addresses ----------------------------------

export function* connectionDetails(writer: StreamWriter): Coro<void> {
  const peer = writer.getExtraInfo("peername");
  typeOf(peer).is<[host: string, port: number] | string | undefined>();
  const sockname = writer.getExtraInfo("sockname", null);
  typeOf(sockname).is<[host: string, port: number] | string | null>();
  const socket = writer.getExtraInfo("socket");
  if (socket !== undefined) socket.setNoDelay(true);
  const cert = writer.getExtraInfo("peercert");
  typeOf(cert).is<tls.PeerCertificate | undefined>();
  const cipher = writer.getExtraInfo("cipher");
  typeOf(cipher).is<tls.CipherNameAndProtocol | undefined>();
  const other = writer.getExtraInfo("compression");
  typeOf(other).is<unknown>();

  const server = yield* startServer(function* () {}, "127.0.0.1", 0);
  const port = (server.sockets[0] as AddressInfo).port;
  typeOf(port).is<number>();
  // @ts-expect-error a bound address may be a Unix path: narrow it first
  void server.sockets[0]!.port;
  server.close();
}

// --- misuse the types reject ------------------------------------------------

export function* misuse(task: Task<number>): Coro<void> {
  // @ts-expect-error createTask takes a coroutine object, not the function
  createTask(numberCoro);
  // @ts-expect-error a Task<number> is not a Task<string>
  const t: Task<string> = task;
  void t;
}
