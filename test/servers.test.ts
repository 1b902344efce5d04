import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { mkdtempSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { Socket, type AddressInfo } from "node:net";
import {
  CancelledError,
  OSError,
  RuntimeError,
  createTask,
  openConnection,
  openUnixConnection,
  sleep,
  startServer,
  startUnixServer,
  waitFor,
  type ClientConnectedCallback,
  type Coro,
  type Server,
  type StreamReader,
  type StreamWriter,
} from "../src/index.js";
import { withTempDir } from "./node-support.js";
import { errorOf, runCapturing } from "./support.js";

const portOf = (server: Server): number => (server.sockets[0] as AddressInfo).port;

function* replyOnce(reader: StreamReader, writer: StreamWriter): Coro<void> {
  const data = yield* reader.read(1024);
  writer.write(`re:${data.toString()}`);
  yield* writer.drain();
  writer.close();
  yield* writer.waitClosed();
}

function* ask(port: number, text: string): Coro<string> {
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  writer.write(text);
  const reply = (yield* reader.read()).toString();
  writer.close();
  yield* writer.waitClosed();
  return reply;
}

test("a server reports its bound address and serves", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0);
    assert.equal(server.isServing(), true);
    const address = server.sockets[0] as AddressInfo;
    assert.equal(address.address, "127.0.0.1");
    assert.ok(address.port > 0);
    const reply = yield* ask(address.port, "hi");
    server.close();
    yield* server.waitClosed();
    assert.deepEqual(server.sockets, []);
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.value, "re:hi");
  assert.deepEqual(outcome.reports, []);
});

test("startServing false defers listening until startServing()", async () => {
  await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0, { startServing: false });
    assert.equal(server.isServing(), false);
    assert.deepEqual(server.sockets, []);
    yield* server.startServing();
    assert.equal(server.isServing(), true);
    assert.equal(yield* ask(portOf(server), "later"), "re:later");
    server.close();
    yield* server.waitClosed();
  }, { clock: "real" });
});

test("an exception in a handler is reported and closes only that connection", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(
      function* (reader, writer) {
        const data = (yield* reader.read(1024)).toString();
        if (data === "bad") throw new Error("handler failed");
        writer.write("fine");
        writer.close();
      },
      "127.0.0.1",
      0,
    );
    const port = portOf(server);
    const bad = yield* ask(port, "bad");
    const good = yield* ask(port, "good");
    server.close();
    yield* server.waitClosed();
    return [bad, good];
  }, { clock: "real" });
  assert.deepEqual(outcome.value, ["", "fine"]);
  assert.equal(outcome.reports.length, 1);
  assert.equal((outcome.reports[0]!.exception as Error).message, "handler failed");
});

test("closing the server keeps clients connected; waitClosed waits for their handlers", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(
      function* (reader, writer) {
        yield* reader.read(1); // wait for the client
        yield* sleep(0.05);
        writer.write("late reply");
        writer.close();
        yield* writer.waitClosed();
      },
      "127.0.0.1",
      0,
    );
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
    writer.write("x");
    yield* sleep(0.01);
    server.close();
    const closing = createTask(server.waitClosed());
    yield* sleep(0.01);
    assert.equal(closing.done(), false);
    const reply = (yield* reader.read()).toString();
    writer.close();
    yield* closing;
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.value, "late reply");
});

test("closeClients closes every connection and abortClients drops them", async () => {
  await runCapturing(function* () {
    const server = yield* startServer(
      function* (reader) {
        yield* reader.read();
      },
      "127.0.0.1",
      0,
    );
    const [r1, w1] = yield* openConnection("127.0.0.1", portOf(server));
    const [r2, w2] = yield* openConnection("127.0.0.1", portOf(server));
    yield* sleep(0.02);
    server.close();
    server.closeClients();
    assert.equal((yield* r1.read()).length, 0);
    assert.equal((yield* r2.read()).length, 0);
    w1.close();
    w2.close();
    yield* server.waitClosed();
  }, { clock: "real" });
  await runCapturing(function* () {
    const server = yield* startServer(
      function* (reader) {
        try {
          yield* reader.read();
        } catch {
          // aborted
        }
      },
      "127.0.0.1",
      0,
    );
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
    yield* sleep(0.02);
    server.close();
    server.abortClients();
    try {
      yield* reader.read();
    } catch {
      // a reset is fine too
    }
    writer.close();
    yield* server.waitClosed();
  }, { clock: "real" });
});

test("cancelling serveForever closes the server", async () => {
  await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0);
    const serving = createTask(server.serveForever());
    yield* sleep(0.01);
    assert.equal(yield* ask(portOf(server), "q"), "re:q");
    serving.cancel();
    yield* sleep(0.05);
    assert.equal(serving.cancelled(), true);
    assert.equal(server.isServing(), false);
  }, { clock: "real" });
});

test("a second serveForever on the same server is a RuntimeError", async () => {
  await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0);
    const serving = createTask(server.serveForever());
    yield* sleep(0.01);
    try {
      yield* server.serveForever();
      assert.fail("no error");
    } catch (e) {
      assert.equal((e as Error).name, "RuntimeError");
    }
    serving.cancel();
    yield* sleep(0.02);
  }, { clock: "real" });
});

test("listening on a port in use fails with EADDRINUSE", async () => {
  await runCapturing(function* () {
    const first = yield* startServer(replyOnce, "127.0.0.1", 0);
    try {
      yield* startServer(replyOnce, "127.0.0.1", portOf(first));
      assert.fail("no error");
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, "EADDRINUSE");
    }
    first.close();
    yield* first.waitClosed();
  }, { clock: "real" });
});

test("listening on a port in use is an OSError with the code, the host error as its cause", async () => {
  const outcome = await runCapturing(function* (): Coro<unknown> {
    const first = yield* startServer(replyOnce, "127.0.0.1", 0);
    try {
      yield* startServer(replyOnce, "127.0.0.1", portOf(first));
      return null;
    } catch (e) {
      return e;
    } finally {
      first.close();
      yield* first.waitClosed();
    }
  }, { clock: "real" });
  const error = outcome.value;
  assert.ok(error instanceof OSError, String(error));
  assert.equal(error.name, "OSError");
  assert.equal(error.code, "EADDRINUSE");
  assert.equal(error.errno, 98);
  assert.equal(error.syscall, "listen");
  assert.equal((error.cause as NodeJS.ErrnoException).code, "EADDRINUSE");
});

test("a Unix socket server and connection work, report the path, and remove the file on close", async () => {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-"));
  const path = join(dir, "echo.sock");
  try {
    const outcome = await runCapturing(function* () {
      const server = yield* startUnixServer(replyOnce, path);
      assert.equal(server.sockets[0], path);
      const [reader, writer] = yield* openUnixConnection(path);
      assert.equal(writer.getExtraInfo("peername"), path);
      writer.write("unix");
      const reply = (yield* reader.read()).toString();
      writer.close();
      server.close();
      yield* server.waitClosed();
      return reply;
    }, { clock: "real" });
    assert.equal(outcome.value, "re:unix");
    assert.equal(existsSync(path), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a Unix server does not delete a regular file in its way", async () => {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-"));
  const path = join(dir, "not-a-socket");
  writeFileSync(path, "data");
  try {
    const outcome = await runCapturing(function* () {
      yield* startUnixServer(replyOnce, path);
    }, { clock: "real" });
    assert.equal((outcome.error as NodeJS.ErrnoException).code, "EADDRINUSE");
    assert.equal(existsSync(path), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the server's hold() closes it after the body", async () => {
  await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0);
    yield* server.hold(function* (s) {
      assert.equal(yield* ask(portOf(s), "held"), "re:held");
    });
    assert.equal(server.isServing(), false);
  }, { clock: "real" });
});

// ------------------------------------------------------------ hardening (issue 12, section 3)

test("a handler that returns without closing its writer has its connection closed, so waitClosed() returns", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(
      function* (reader, writer) {
        yield* reader.read(1024);
        writer.write("hi");
        yield* writer.drain();
        // returns without writer.close()
      },
      "127.0.0.1",
      0,
    );
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
    writer.write("x");
    const reply = (yield* reader.readexactly(2)).toString();
    // The peer goes away after its reply.
    writer.close();
    yield* writer.waitClosed();
    server.close();
    yield* waitFor(server.waitClosed(), 10);
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, "hi");
  assert.deepEqual(outcome.reports, []);
});

test("when a handler returns, its client reads the end of the stream after what was written", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(
      function* (_reader, writer) {
        writer.write("bye");
      },
      "127.0.0.1",
      0,
    );
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
    const reply = (yield* waitFor(reader.read(), 10)).toString();
    writer.close();
    server.close();
    yield* waitFor(server.waitClosed(), 10);
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, "bye");
});

test("a handler that is cancelled has its connection closed too", async () => {
  const outcome = await runCapturing(function* () {
    let handler: ReturnType<typeof createTask> | null = null;
    const server = yield* startServer(
      function* (reader) {
        handler = createTask(reader.read());
        yield* handler;
      },
      "127.0.0.1",
      0,
    );
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
    while (handler === null) yield* sleep(0.01);
    (handler as ReturnType<typeof createTask>).cancel();
    const data = yield* waitFor(reader.read(), 10);
    writer.close();
    server.close();
    yield* waitFor(server.waitClosed(), 10);
    return data.length;
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, 0);
});

test("a server with maxConnections closes a connection beyond it at once and warns once with the count", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(
      function* (reader, writer) {
        yield* reader.read(1024);
        writer.write("served");
      },
      "127.0.0.1",
      0,
      { maxConnections: 1 },
    );
    const [firstReader, first] = yield* openConnection("127.0.0.1", portOf(server));
    yield* sleep(0.05);
    const extra = [];
    for (let i = 0; i < 3; i++) extra.push(yield* openConnection("127.0.0.1", portOf(server)));
    const ends: number[] = [];
    for (const [reader, writer] of extra) {
      try {
        ends.push((yield* waitFor(reader.read(), 10)).length);
      } catch (error) {
        ends.push(-1); // a reset is a drop too
        void error;
      }
      writer.close();
    }
    first.write("order");
    const reply = (yield* firstReader.read()).toString();
    first.close();
    yield* sleep(1.2);
    // At the limit no more: a new client is served again.
    const [againReader, again] = yield* openConnection("127.0.0.1", portOf(server));
    again.write("order");
    const second = (yield* waitFor(againReader.read(), 10)).toString();
    again.close();
    server.close();
    yield* server.waitClosed();
    return { ends, reply, second, dropped: server.droppedConnections };
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.value!.ends.map((n) => n <= 0), [true, true, true]);
  assert.equal(outcome.value!.reply, "served");
  assert.equal(outcome.value!.second, "served");
  assert.equal(outcome.value!.dropped, 3);
  assert.deepEqual(outcome.reports.map((r) => r.message.replace(/:\d+/, ":PORT")), ["server 127.0.0.1:PORT dropped 3 connections (3 at the limit of 1 connections)"]);
});

test("a failed accept (EMFILE) after listening is counted and reported, and the server keeps serving", async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(replyOnce, "127.0.0.1", 0);
    const failure = Object.assign(new Error("accept EMFILE"), { code: "EMFILE", syscall: "accept" });
    // What Node's net.Server emits when libuv could not accept (out of file descriptors).
    server["nodeServer"].emit("error", failure);
    server["nodeServer"].emit("error", failure);
    const reply = yield* ask(portOf(server), "still");
    server.close();
    yield* server.waitClosed();
    return { reply, dropped: server.droppedConnections };
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.value, { reply: "re:still", dropped: 2 });
  assert.equal(outcome.reports.length, 1);
  assert.match(outcome.reports[0]!.message, /dropped 2 connections \(2 accept failed: EMFILE\)/);
});

test("maxConnections must be a whole number of at least 1", async () => {
  for (const [value, kind] of [[0, RangeError], [1.5, RangeError], [Number.NaN, RangeError], ["3", TypeError]] as const) {
    const outcome = await runCapturing(function* () {
      yield* startServer(replyOnce, "127.0.0.1", 0, { maxConnections: value as number });
    }, { clock: "real" });
    assert.ok(outcome.error instanceof kind, `${String(value)}: ${String(outcome.error)}`);
    assert.match(String(outcome.error), /maxConnections/);
  }
});

// --- edge cases ------------------------------------------------------------
// Server edge cases: argument checks, the server's state machine (closed
// before listening, closed twice, closed under serveForever), plain-function
// callbacks, and the drop report's wording.

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
