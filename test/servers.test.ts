import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { createTask, openConnection, openUnixConnection, sleep, startServer, startUnixServer, type Coro, type Server } from "../src/index.js";
import { runCapturing } from "./support.js";

const portOf = (server: Server): number => (server.sockets[0] as AddressInfo).port;

function* replyOnce(reader: import("../src/index.js").StreamReader, writer: import("../src/index.js").StreamWriter): Coro<void> {
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
