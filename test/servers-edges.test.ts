/**
 * Server edge cases: argument checks, the server's state machine (closed
 * before listening, closed twice, closed under serveForever), plain-function
 * callbacks, and the drop report's wording.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { Socket, type AddressInfo } from "node:net";
import {
  CancelledError,
  RuntimeError,
  createTask,
  openConnection,
  openUnixConnection,
  sleep,
  startServer,
  startUnixServer,
  type ClientConnectedCallback,
  type Coro,
  type Server,
  type StreamReader,
  type StreamWriter,
} from "../src/index.js";
import { runCapturing } from "./support.js";

const portOf = (server: Server): number => (server.sockets[0] as AddressInfo).port;

function* replyOnce(reader: StreamReader, writer: StreamWriter): Coro<void> {
  const data = yield* reader.read(1024);
  writer.write(`re:${data.toString()}`);
  writer.close();
}

function* ask(port: number, text: string): Coro<string> {
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  writer.write(text);
  const reply = (yield* reader.read()).toString();
  writer.close();
  yield* writer.waitClosed();
  return reply;
}

function* errorOf(body: () => Coro<unknown>): Coro<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  return assert.fail("no error");
}

function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-"));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

// --- arguments -------------------------------------------------------------------

test("a client-connected callback that is not a function is a TypeError", async () => {
  const outcome = await runCapturing(function* () {
    yield* startServer("handler" as unknown as ClientConnectedCallback, "127.0.0.1", 0);
  }, { clock: "real" });
  assert.ok(outcome.error instanceof TypeError);
  assert.match(String(outcome.error), /client-connected callback must be a function/);
});

test("a server's limit must be a whole number of at least 1", async () => {
  const outcome = await runCapturing(function* () {
    yield* startServer(replyOnce, "127.0.0.1", 0, { limit: 0 });
  }, { clock: "real" });
  assert.ok(outcome.error instanceof RangeError);
  assert.match(String(outcome.error), /limit/);
});

test("a server's limit bounds the readers of its connections", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(
      function* (reader, writer) {
        try {
          yield* reader.readline();
          writer.write("read a line");
        } catch (error) {
          writer.write(error instanceof RangeError ? "line over the limit" : String(error));
        }
        writer.close();
      },
      "127.0.0.1",
      0,
      { limit: 4 },
    );
    const reply = yield* ask(portOf(server), "longer than four\n");
    server.close();
    yield* server.waitClosed();
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.value, "line over the limit");
});

test("startUnixServer without a path is a TypeError", async () => {
  const outcome = await runCapturing(function* () {
    yield* startUnixServer(replyOnce, "");
  }, { clock: "real" });
  assert.ok(outcome.error instanceof TypeError);
});

// --- state -------------------------------------------------------------------

test("a server's addresses are empty until it is listening", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0, { startServing: false });
    const starting = createTask(server.startServing(), { eagerStart: true });
    const whileStarting = server.sockets;
    yield* starting;
    const listening = server.sockets.length;
    server.close();
    yield* server.waitClosed();
    return { whileStarting, listening };
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.value, { whileStarting: [], listening: 1 });
});

test("a server closed before it ever listened closes at once", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0, { startServing: false });
    server.close();
    yield* server.waitClosed();
    return [server.isServing(), server.sockets];
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.value, [false, []]);
});

test("startServing and serveForever on a closed server are RuntimeErrors", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0, { startServing: false });
    server.close();
    return [yield* errorOf(() => server.startServing()), yield* errorOf(() => server.serveForever())];
  }, { clock: "real" });
  const [starting, forever] = outcome.value as [Error, Error];
  assert.ok(starting instanceof RuntimeError && forever instanceof RuntimeError);
  assert.match(starting.message, /^server <Server 127\.0\.0\.1:0 closed connections=0> is closed$/);
  assert.match(forever.message, /is closed$/);
});

test("closing a server twice is harmless", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0);
    server.close();
    server.close();
    yield* server.waitClosed();
    return server.isServing();
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, false);
});

test("close() ends a pending serveForever as cancelled", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0);
    const forever = createTask(server.serveForever());
    yield* sleep(0);
    server.close();
    const error = yield* errorOf(() => forever as unknown as Coro<never>);
    return [error instanceof CancelledError, server.isServing()];
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.value, [true, false]);
});

test("a server's repr shows where it listens and whether it serves", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "repr.sock");
    const outcome = await runCapturing(function* () {
      const tcp = yield* startServer(replyOnce, "127.0.0.1", 0, { startServing: false });
      const notServing = inspect(tcp);
      tcp.close();
      const unix = yield* startUnixServer(replyOnce, path);
      const serving = inspect(unix);
      unix.close();
      yield* unix.waitClosed();
      return [notServing, serving];
    }, { clock: "real" });
    assert.deepEqual(outcome.value, ["<Server 127.0.0.1:0 not serving connections=0>", `<Server ${path} serving connections=0>`]);
  });
});

test("a connection accepted after close() is dropped at once", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0);
    server.close();
    // A connection that raced with close(): Node hands it over after the server closed.
    const late = new Socket();
    server["nodeServer"].emit("connection", late);
    yield* server.waitClosed();
    return late.destroyed;
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, true);
});

// --- callbacks ---------------------------------------------------------------

test("a plain-function callback serves the connection without a task", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(
      (_reader, writer) => {
        writer.write("hello from a function");
        writer.close();
      },
      "127.0.0.1",
      0,
    );
    const reply = yield* ask(portOf(server), "");
    server.close();
    yield* server.waitClosed();
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.reports, []);
  assert.equal(outcome.value, "hello from a function");
});

test("a plain-function callback that throws is reported and its connection closed", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(
      () => {
        throw new Error("handler broke");
      },
      "127.0.0.1",
      0,
    );
    const reply = yield* ask(portOf(server), "anything");
    server.close();
    yield* server.waitClosed();
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, "");
  assert.deepEqual(outcome.reports.map((r) => [r.message, String(r.exception)]), [["Unhandled exception in client_connected_cb", "Error: handler broke"]]);
});

// --- Unix sockets ------------------------------------------------------------

test("a Unix server replaces a socket file left at its path", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "stale.sock");
    const outcome = await runCapturing(function* () {
      const old = yield* startUnixServer(replyOnce, path);
      const server = yield* startUnixServer(replyOnce, path);
      const [reader, writer] = yield* openUnixConnection(path);
      writer.write("new");
      const reply = (yield* reader.read()).toString();
      writer.close();
      server.close();
      yield* server.waitClosed();
      old.close();
      yield* old.waitClosed();
      return reply;
    }, { clock: "real" });
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.value, "re:new");
    assert.equal(existsSync(path), false);
  });
});

test("a Unix connection reports the socket path as its own address too", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "names.sock");
    const outcome = await runCapturing(function* () {
      const server = yield* startUnixServer(replyOnce, path);
      const [, writer] = yield* openUnixConnection(path);
      const sockname = writer.getExtraInfo("sockname");
      writer.close();
      server.close();
      yield* server.waitClosed();
      return sockname;
    }, { clock: "real" });
    assert.equal(outcome.value, path);
  });
});

// --- drop reports ------------------------------------------------------------

test("one failed accept without an error code is reported in the singular, by its message", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0);
    server["nodeServer"].emit("error", new Error("out of luck"));
    server.close();
    yield* server.waitClosed();
    return server.droppedConnections;
  }, { clock: "real" });
  assert.equal(outcome.value, 1);
  assert.deepEqual(outcome.reports.map((r) => r.message.replace(/:\d+ /, ":PORT ")), ["server 127.0.0.1:PORT dropped 1 connection (1 accept failed: out of luck)"]);
});

test("a Unix server's drop report names its socket path", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "drops.sock");
    const outcome = await runCapturing(function* () {
      const server = yield* startUnixServer(replyOnce, path);
      server["nodeServer"].emit("error", Object.assign(new Error("accept EMFILE"), { code: "EMFILE" }));
      server.close();
      yield* server.waitClosed();
    }, { clock: "real" });
    assert.deepEqual(outcome.reports.map((r) => r.message), [`server ${path} dropped 1 connection (1 accept failed: EMFILE)`]);
  });
});

test("a server closed after its loop has closed counts its drops without reporting them", async () => {
  let server: Server | null = null;
  const outcome = await runCapturing(function* () {
    server = yield* startServer(replyOnce, "127.0.0.1", 0);
    server["nodeServer"].emit("error", Object.assign(new Error("accept EMFILE"), { code: "EMFILE" }));
  }, { clock: "real" });
  const leftOpen = server as unknown as Server;
  const released = once(leftOpen["nodeServer"], "close");
  leftOpen.close();
  await released;
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.reports, []);
  assert.equal(leftOpen.droppedConnections, 1);
});

test("a server with tls: true has no certificate: handshakes fail, and the server reports nothing", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0, { tls: true });
    const error = yield* errorOf(() => openConnection("127.0.0.1", portOf(server), { tls: true }));
    server.close();
    yield* server.waitClosed();
    return error;
  }, { clock: "real" });
  assert.ok(outcome.value instanceof Error, String(outcome.value));
  assert.deepEqual(outcome.reports, []);
});
