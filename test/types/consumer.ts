/**
 * A consumer's program, type-checked (never run) against the installed
 * tarball by test/package.test.ts with TypeScript 6 and 7 (strict, NodeNext,
 * skipLibCheck off), and against the sources by `npm run typecheck`. It
 * imports by package name, as a user does; each `@ts-expect-error` is a
 * misuse that must stay a type error.
 */
import { ContextVar, createTask, fromPromise, gather, run, sleep, taskGroup, timeout, type Coro, type Task } from "asyncio-ts";
import { ThreadPoolExecutor, functionRef } from "asyncio-ts/executors";
import { asyncTest } from "asyncio-ts/testing";
import { fetch, fetchJson, fetchText, httpHandler, type RequestListener } from "asyncio-ts/http";
import { createServer } from "node:http";

function* double(n: number): Coro<number> {
  yield* sleep(0.01);
  return n * 2;
}

function* main(): Coro<string> {
  const [a, b] = yield* gather(double(1), double(2));
  const sum: number = a + b;
  const task: Task<number> = createTask(double(3));
  const inTime: number = yield* timeout(1, () => task);
  const grouped: number = yield* taskGroup((tg) => tg.createTask(double(4)));
  const requestId = new ContextVar<string>("requestId", { default: "-" });
  const id: string = requestId.get();
  // A promise meets a coroutine through fromPromise.
  const body: string = yield* fromPromise(Promise.resolve("text"));
  // @ts-expect-error a promise is not a coroutine: `yield*` it through fromPromise
  yield* Promise.resolve("text");
  return `${sum} ${inTime} ${grouped} ${id} ${body}`;
}

const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
const ref = functionRef<(n: number) => number>(new URL("./jobs.js", import.meta.url), "square");
export function* useThePool(): Coro<number> {
  const squared: number = yield* pool.submit(ref, 3);
  // @ts-expect-error the reference's argument is a number
  yield* pool.submit(ref, "three");
  return squared;
}

// asyncio-ts/http: a request listener for node:http, and fetch as coroutines.
export function* serve(): Coro<void> {
  const listener: RequestListener = httpHandler(
    function* (req, res) {
      yield* sleep(0.01);
      res.end(req.url);
    },
    { timeout: 5, name: "api" },
  );
  createServer(listener).listen(0);
  const response: Response = yield* fetch("http://127.0.0.1:1/", { method: "HEAD" });
  const text: string = yield* fetchText(new URL("http://127.0.0.1:1/"));
  const item: { id: number } = yield* fetchJson<{ id: number }>("http://127.0.0.1:1/");
  console.log(response.status, text, item.id);
  // @ts-expect-error httpHandler's body is a coroutine function, not an async function
  httpHandler(async (_req, res) => void res.end());
}

asyncTest("a coroutine test", function* () {
  yield* sleep(1);
});

export const result: Promise<string> = run(main);
