/**
 * `httpHandler` (src/http/handler.ts) behind a real `node:http` server on
 * 127.0.0.1, driven by a plain `node:http` client.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import {
  CancelledError,
  ContextVar,
  Event,
  RuntimeError,
  TimeoutError,
  currentTask,
  fromPromise,
  getRunningLoop,
  run,
  sleep,
  type Coro,
  type ExceptionContext,
  type Task,
} from "../src/index.js";
import { httpHandler } from "../src/http/index.js";

interface Reply {
  status: number;
  body: string;
}

/** A plain client request; resolves with the status and body, rejects if the connection breaks. */
function get(port: number, path: string, headers: Record<string, string> = {}): { reply: Promise<Reply>; request: ClientRequest } {
  let request!: ClientRequest;
  const reply = new Promise<Reply>((resolve, reject) => {
    request = httpRequest({ host: "127.0.0.1", port, path, headers, agent: false }, (response: IncomingMessage) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
      response.on("aborted", () => reject(new Error("response aborted")));
    });
    request.on("error", reject);
    request.end();
  });
  return { reply, request };
}

/** Starts `server` on a free port of 127.0.0.1 and returns the port. */
function* listen(server: Server): Coro<number> {
  yield* fromPromise(new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
  return (server.address() as AddressInfo).port;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Sets `event` from a host callback through the loop (the callback runs outside any loop step). */
function setSoon(event: Event): void {
  getRunningLoop().callSoon(() => event.set());
}

test("each request runs as a task named after its method and path, with the prefix given", async () => {
  const names: string[] = [];
  await run(function* () {
    const server = createServer(
      httpHandler(
        function* (req: IncomingMessage, res: ServerResponse) {
          names.push(currentTask()!.getName());
          res.end("ok");
        },
        { name: "api", timeout: 30 },
      ),
    );
    const port = yield* listen(server);
    try {
      const reply = yield* fromPromise(get(port, "/users/7?token=secret").reply);
      assert.deepEqual(reply, { status: 200, body: "ok" });
    } finally {
      yield* fromPromise(close(server));
    }
  });
  assert.deepEqual(names, ["api GET /users/7"]);
});

test("each request has its own copy of the context where httpHandler was called", async () => {
  const requestId = new ContextVar<string>("requestId", { default: "-" });
  const service = new ContextVar<string>("service");
  const seen: string[] = [];
  await run(function* () {
    service.set("orders");
    const firstSet = new Event();
    const secondDone = new Event();
    const server = createServer(
      httpHandler(function* (req: IncomingMessage, res: ServerResponse) {
        const id = req.headers["x-request-id"] as string;
        seen.push(`${id} starts with ${requestId.get()} in ${service.get()}`);
        requestId.set(id);
        if (id === "a") {
          firstSet.set();
          yield* secondDone.wait();
        } else {
          yield* firstSet.wait();
          secondDone.set();
        }
        seen.push(`${id} ends with ${requestId.get()}`);
        res.end(requestId.get());
      }),
    );
    const port = yield* listen(server);
    try {
      const a = get(port, "/", { "x-request-id": "a" }).reply;
      const b = get(port, "/", { "x-request-id": "b" }).reply;
      const replies = yield* fromPromise(Promise.all([a, b]));
      assert.deepEqual(replies.map((reply) => reply.body), ["a", "b"]);
    } finally {
      yield* fromPromise(close(server));
    }
    assert.equal(requestId.get(), "-", "the requests' sets stay in their own contexts");
  });
  assert.deepEqual(seen.sort(), ["a ends with a", "a starts with - in orders", "b ends with b", "b starts with - in orders"]);
});

test("a request whose client goes away is cancelled and its finally blocks run", async () => {
  let requestTask: Task<unknown> | null = null;
  const trail: string[] = [];
  await run(function* () {
    const started = new Event();
    const cleanedUp = new Event();
    const server = createServer(
      httpHandler(function* () {
        requestTask = currentTask();
        try {
          setSoon(started);
          yield* sleep(3600);
        } catch (error) {
          trail.push(error instanceof CancelledError ? "cancelled" : "other error");
          throw error;
        } finally {
          trail.push("finally");
          cleanedUp.set();
        }
      }),
    );
    const port = yield* listen(server);
    try {
      const { reply, request } = get(port, "/slow");
      reply.catch(() => undefined);
      yield* started.wait();
      request.destroy();
      yield* cleanedUp.wait();
    } finally {
      yield* fromPromise(close(server));
    }
  });
  assert.deepEqual(trail, ["cancelled", "finally"]);
  assert.equal(requestTask!.cancelled(), true);
});

test("an error escaping the body answers 500 once and is reported through the loop's exception handler", async () => {
  const reported: ExceptionContext[] = [];
  await run(function* () {
    getRunningLoop().setExceptionHandler((_loop, context) => reported.push(context));
    const server = createServer(
      httpHandler(function* () {
        yield* sleep(0);
        throw new Error("boom");
      }),
    );
    const port = yield* listen(server);
    try {
      const reply = yield* fromPromise(get(port, "/fail").reply);
      assert.equal(reply.status, 500);
      assert.equal(reply.body, "Internal Server Error\n");
    } finally {
      yield* fromPromise(close(server));
    }
  });
  assert.equal(reported.length, 1);
  assert.equal((reported[0]!.exception as Error).message, "boom");
  assert.match(reported[0]!.message, /GET \/fail/);
  assert.equal(reported[0]!.task?.getName(), "GET /fail");
});

test("an error after the headers went out cuts the connection instead of answering 500", async () => {
  const reported: unknown[] = [];
  await run(function* () {
    getRunningLoop().setExceptionHandler((_loop, context) => reported.push(context.exception));
    const server = createServer(
      httpHandler(function* (_req: IncomingMessage, res: ServerResponse) {
        res.writeHead(200, { "content-length": "100" });
        res.write("partial");
        yield* sleep(0);
        throw new Error("late");
      }),
    );
    const port = yield* listen(server);
    try {
      const failure = yield* fromPromise(get(port, "/late").reply.then(() => null, (error: unknown) => error));
      assert.ok(failure instanceof Error, "the client sees a broken response, not a complete one");
    } finally {
      yield* fromPromise(close(server));
    }
  });
  assert.deepEqual(reported.map((error) => (error as Error).message), ["late"]);
});

test("a request still running at its timeout answers 503 and its task is cancelled", async () => {
  const trail: string[] = [];
  let elapsed = 0;
  await run(
    function* () {
      const cleanedUp = new Event();
      const loop = getRunningLoop();
      const server = createServer(
        httpHandler(
          function* () {
            try {
              yield* sleep(3600);
            } catch (error) {
              trail.push(error instanceof CancelledError ? "cancelled" : "other error");
              throw error;
            } finally {
              cleanedUp.set();
            }
          },
          { timeout: 5 },
        ),
      );
      const port = yield* listen(server);
      try {
        const start = loop.time();
        // A plain promise, not bridged yet: virtual time may jump while the request waits.
        const reply = get(port, "/slow").reply;
        yield* cleanedUp.wait();
        elapsed = loop.time() - start;
        assert.deepEqual(yield* fromPromise(reply), { status: 503, body: "Service Unavailable: the request timed out\n" });
      } finally {
        yield* fromPromise(close(server));
      }
    },
    { clock: "virtual" },
  );
  assert.deepEqual(trail, ["cancelled"]);
  assert.ok(elapsed >= 5 && elapsed < 6, `the timeout fired at ${elapsed} s`);
});

test("a TimeoutError of the body's own (not the handler's deadline) answers 500 and is reported", async () => {
  const reported: unknown[] = [];
  await run(function* () {
    getRunningLoop().setExceptionHandler((_loop, context) => reported.push(context.exception));
    for (const options of [{}, { timeout: 60 }]) {
      const server = createServer(
        httpHandler(function* () {
          yield* sleep(0);
          throw new TimeoutError("the upstream did not answer");
        }, options),
      );
      const port = yield* listen(server);
      try {
        assert.equal((yield* fromPromise(get(port, "/upstream").reply)).status, 500);
      } finally {
        yield* fromPromise(close(server));
      }
    }
  });
  assert.equal(reported.length, 2);
  assert.ok(reported.every((error) => error instanceof TimeoutError));
});

test("a body that already answered and runs past its timeout is cancelled without a second answer", async () => {
  const trail: string[] = [];
  await run(
    function* () {
      const cleanedUp = new Event();
      const server = createServer(
        httpHandler(
          function* (_req: IncomingMessage, res: ServerResponse) {
            res.end("done");
            try {
              yield* sleep(3600); // work after answering, such as writing an audit log
            } finally {
              trail.push("finally");
              cleanedUp.set();
            }
          },
          { timeout: 5 },
        ),
      );
      const port = yield* listen(server);
      try {
        const reply = get(port, "/answered").reply;
        yield* cleanedUp.wait();
        assert.deepEqual(yield* fromPromise(reply), { status: 200, body: "done" });
      } finally {
        yield* fromPromise(close(server));
      }
    },
    { clock: "virtual" },
  );
  assert.deepEqual(trail, ["finally"]);
});

test("run waits for the requests in flight when it ends, and they answer 503", async () => {
  const trail: string[] = [];
  let reply: Promise<Reply> | null = null;
  let server: Server | null = null;
  await run(function* () {
    const started = new Event();
    server = createServer(
      httpHandler(function* () {
        try {
          setSoon(started);
          yield* sleep(3600);
        } finally {
          trail.push("finally");
        }
      }),
    );
    const port = yield* listen(server);
    reply = get(port, "/work").reply;
    yield* started.wait();
    // main returns with the request still running: run cancels it and waits for it.
  });
  assert.deepEqual(trail, ["finally"]);
  try {
    assert.equal((await reply!).status, 503);
  } finally {
    await close(server!);
  }
});

test("a request arriving after its loop closed answers 503", async () => {
  let server: Server | null = null;
  let port = 0;
  let bodyRan = false;
  await run(function* () {
    server = createServer(
      httpHandler(function* (_req: IncomingMessage, res: ServerResponse) {
        bodyRan = true;
        res.end();
      }),
    );
    port = yield* listen(server);
  });
  try {
    assert.equal((await get(port, "/late").reply).status, 503);
    assert.equal(bodyRan, false);
  } finally {
    await close(server!);
  }
});

test("httpHandler refuses a body that is not a function, a bad timeout or name, and a call outside a loop", async () => {
  function* body(): Coro<void> {}
  assert.throws(() => httpHandler(body), (e: unknown) => e instanceof RuntimeError && /inside a running loop/.test(e.message));
  await run(function* () {
    assert.throws(() => httpHandler(42 as never), (e: unknown) => e instanceof TypeError && /coroutine function/.test(e.message));
    assert.throws(() => httpHandler(body, { timeout: -1 }), RangeError);
    assert.throws(() => httpHandler(body, { timeout: 0 }), RangeError);
    assert.throws(() => httpHandler(body, { timeout: "5" as never }), TypeError);
    assert.throws(() => httpHandler(body, { timeout: Number.NaN }), TypeError);
    assert.throws(() => httpHandler(body, { name: 5 as never }), TypeError);
    assert.throws(() => httpHandler(body, null as never), TypeError);
  });
});
