/**
 * `fetch`, `fetchText`, `fetchJson` (src/http/fetch.ts) against a plain
 * `node:http` server on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { CancelledError, Event, RuntimeError, TimeoutError, createTask, getRunningLoop, run, timeout, type Coro, type Task } from "../src/index.js";
import { fetch, fetchJson, fetchText } from "../src/http/index.js";

let base = "";
// Called (outside any loop) when a /hang request arrives, and when its connection closes.
let onHangStarted: () => void = () => undefined;
let onHangClosed: () => void = () => undefined;

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  if (req.url === "/text") res.end("hello");
  else if (req.url === "/json") res.setHeader("content-type", "application/json").end(JSON.stringify({ id: 7, tags: ["a"] }));
  else if (req.url === "/not-json") res.end("<html>");
  else if (req.url === "/hang") {
    res.on("close", () => onHangClosed());
    onHangStarted();
  } else res.writeHead(404).end("no such page");
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** An event set (through the loop) by the next call of a server hook; the hook then goes back to doing nothing. */
function nextCall(setHook: (hook: () => void) => void): Event {
  const event = new Event();
  const loop = getRunningLoop();
  setHook(() => {
    setHook(() => undefined);
    if (!loop.isClosed()) loop.callSoon(() => event.set());
  });
  return event;
}

test("fetch returns the host's Response, fetchText its body, fetchJson its parsed JSON", async () => {
  await run(function* () {
    const response = yield* fetch(`${base}/text`);
    assert.ok(response instanceof Response);
    assert.equal(response.status, 200);
    assert.equal(yield* fetchText(new URL("/text", base)), "hello");
    const item = yield* fetchJson<{ id: number; tags: string[] }>(new Request(`${base}/json`));
    assert.deepEqual(item, { id: 7, tags: ["a"] });
  });
});

test("fetchText returns an error page's body: the status is not checked, as fetch does not", async () => {
  await run(function* () {
    assert.equal(yield* fetchText(`${base}/missing`), "no such page");
  });
});

test("fetchJson raises SyntaxError for a body that is not JSON", async () => {
  await assert.rejects(
    run(function* () {
      return yield* fetchJson(`${base}/not-json`);
    }),
    SyntaxError,
  );
});

test("cancelling the calling task aborts the request", async () => {
  await run(function* () {
    const started = nextCall((hook) => (onHangStarted = hook));
    const closed = nextCall((hook) => (onHangClosed = hook));
    const task = createTask(fetchText(`${base}/hang`));
    yield* started.wait();
    task.cancel();
    yield* assertCancelled(task);
    yield* closed.wait(); // the server saw the connection go
  });
});

function* assertCancelled(task: Task<unknown>): Coro<void> {
  try {
    yield* task;
    assert.fail("the task was not cancelled");
  } catch (error) {
    assert.ok(error instanceof CancelledError, String(error));
  }
}

test("aborting init.signal raises its reason, as the host's fetch does", async () => {
  await run(function* () {
    const started = nextCall((hook) => (onHangStarted = hook));
    const controller = new AbortController();
    const task = createTask(fetch(`${base}/hang`, { signal: controller.signal }));
    yield* started.wait();
    const reason = new Error("the user closed the page");
    controller.abort(reason);
    try {
      yield* task;
      assert.fail("the fetch was not aborted");
    } catch (error) {
      assert.equal(error, reason);
    }
  });
});

test("each call has a fresh signal: after a timeout cancelled one fetch, the next one in the same task succeeds", async () => {
  await run(function* () {
    // A deadline already due fires at the fetch's first suspension.
    let timedOut = false;
    try {
      yield* timeout(0, () => fetchText(`${base}/hang`));
    } catch (error) {
      timedOut = error instanceof TimeoutError;
    }
    assert.ok(timedOut);
    assert.equal(yield* fetchText(`${base}/text`), "hello");
  });
});

test("fetch, fetchText and fetchJson refuse what the host's fetch could not take, at the call", () => {
  assert.throws(() => fetch(42 as never), (e: unknown) => e instanceof TypeError && /fetch\(\) takes a URL string, a URL or a Request, got number/.test(e.message));
  assert.throws(() => fetchText(null as never), (e: unknown) => e instanceof TypeError && /got null/.test(e.message));
  assert.throws(() => fetchJson(`${base}/json`, "GET" as never), (e: unknown) => e instanceof TypeError && /init must be an object/.test(e.message));
  assert.throws(() => fetchText(`${base}/json`, null as never), (e: unknown) => e instanceof TypeError && /init must be an object .*got null/.test(e.message));
  assert.throws(() => fetch(`${base}/json`, { signal: {} as never }), (e: unknown) => e instanceof TypeError && /init.signal must be an AbortSignal/.test(e.message));
});

test("fetch on a host without a global fetch is a RuntimeError naming what is missing", () => {
  const hostFetch = globalThis.fetch;
  Reflect.deleteProperty(globalThis, "fetch");
  try {
    assert.throws(() => fetch(`${base}/text`), (e: unknown) => e instanceof RuntimeError && /needs the host's fetch/.test(e.message));
  } finally {
    globalThis.fetch = hostFetch;
  }
});
