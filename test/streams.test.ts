import assert from "node:assert/strict";
import { test } from "node:test";
import { once } from "node:events";
import { Socket, connect, createServer, type AddressInfo, type Server as NodeServer } from "node:net";
import { PassThrough, Writable } from "node:stream";
import { inspect } from "node:util";
import {
  CancelledError,
  ConnectionError,
  ConnectionRefusedError,
  ConnectionResetError,
  IncompleteReadError,
  OSError,
  LimitOverrunError,
  RuntimeError,
  StreamReader,
  createTask,
  fromPromise,
  getRunningLoop,
  openConnection,
  openUnixConnection,
  sleep,
  startServer,
  type Coro,
  type Server,
  type StreamWriter,
} from "../src/index.js";
import { readerOver, writerOver } from "../src/streams.js";
import { errorOf, runCapturing, runVirtual } from "./support.js";

// The test runner's own pipes are open from the start; anything beyond them is a leak.
const socketHandles = (): string[] => process.getActiveResourcesInfo().filter((r) => /TCP|Pipe/.test(r)).sort();
const handlesAtStart = socketHandles();

/** Runs on the real clock (sockets) and fails on any exception-handler report. */
async function runReal<T>(main: () => Coro<T>): Promise<T> {
  const outcome = await runCapturing(main, { clock: "real" });
  if (outcome.reports.length > 0) throw new Error(`unexpected reports: ${outcome.reports.map((r) => `${r.message} ${String(r.exception)}`).join("; ")}`);
  if ("error" in outcome) throw outcome.error;
  return outcome.value as T;
}

function portOf(server: Server): number {
  return (server.sockets[0] as AddressInfo).port;
}

function* echoServer(): Coro<Server> {
  return yield* startServer(
    function* (reader, writer) {
      for (;;) {
        const data = yield* reader.read(65536);
        if (data.length === 0) break;
        writer.write(data);
        yield* writer.drain();
      }
      writer.close();
      yield* writer.waitClosed();
    },
    "127.0.0.1",
    0,
  );
}

function* closeServer(server: Server): Coro<void> {
  server.close();
  yield* server.waitClosed();
}

// --- StreamReader on its own (feedData / feedEof) ---------------------------

function readerWith(chunks: string[], eof = true, limit?: number): StreamReader {
  const reader = new StreamReader(limit === undefined ? {} : { limit });
  for (const c of chunks) reader.feedData(Buffer.from(c));
  if (eof) reader.feedEof();
  return reader;
}

test("read(n) returns at most n buffered bytes", async () => {
  await runVirtual(function* () {
    const reader = readerWith(["hello world"]);
    assert.equal((yield* reader.read(5)).toString(), "hello");
    assert.equal((yield* reader.read(100)).toString(), " world");
    assert.equal((yield* reader.read(100)).length, 0);
  });
});

test("read() with no size reads to the end of the stream", async () => {
  await runVirtual(function* () {
    const reader = new StreamReader();
    const task = createTask(reader.read());
    reader.feedData(Buffer.from("a"));
    yield* sleep(0);
    reader.feedData(Buffer.from("b"));
    reader.feedEof();
    assert.equal((yield* task).toString(), "ab");
  });
});

test("readline returns lines with their newline, then the rest at the end", async () => {
  await runVirtual(function* () {
    const reader = readerWith(["one\ntw", "o\nthree"]);
    assert.equal((yield* reader.readline()).toString(), "one\n");
    assert.equal((yield* reader.readline()).toString(), "two\n");
    assert.equal((yield* reader.readline()).toString(), "three");
    assert.equal((yield* reader.readline()).length, 0);
    assert.equal(reader.atEof(), true);
  });
});

test("readexactly waits for exactly n bytes", async () => {
  await runVirtual(function* () {
    const reader = new StreamReader();
    const task = createTask(reader.readexactly(4));
    reader.feedData(Buffer.from("ab"));
    yield* sleep(0);
    assert.equal(task.done(), false);
    reader.feedData(Buffer.from("cdef"));
    assert.equal((yield* task).toString(), "abcd");
    assert.equal((yield* reader.read(10)).toString(), "ef");
  });
});

test("readexactly at an early end raises IncompleteReadError with the partial data", async () => {
  await runVirtual(function* () {
    const reader = readerWith(["abc"]);
    try {
      yield* reader.readexactly(5);
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof IncompleteReadError);
      assert.equal(Buffer.from(e.partial).toString(), "abc");
      assert.equal(e.expected, 5);
    }
  });
});

test("readexactly of a negative size is a RangeError", async () => {
  await runVirtual(function* () {
    try {
      yield* readerWith([]).readexactly(-1);
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof RangeError);
    }
  });
});

test("readuntil reads through a multi-byte separator that spans chunks", async () => {
  await runVirtual(function* () {
    const reader = readerWith(["abc\r", "\ndef"]);
    assert.equal((yield* reader.readuntil("\r\n")).toString(), "abc\r\n");
    assert.equal((yield* reader.read()).toString(), "def");
  });
});

test("readuntil raises LimitOverrunError and keeps the data buffered", async () => {
  await runVirtual(function* () {
    const reader = readerWith(["x".repeat(20)], false, 8);
    try {
      yield* reader.readuntil("\n");
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof LimitOverrunError);
      assert.ok(e.consumed > 8);
    }
    // Nothing was lost: the bytes are still there.
    assert.equal((yield* reader.readexactly(20)).toString(), "x".repeat(20));
  });
});

test("readuntil at the end without the separator raises IncompleteReadError", async () => {
  await runVirtual(function* () {
    try {
      yield* readerWith(["no newline"]).readuntil("\n");
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof IncompleteReadError);
      assert.equal(e.expected, null);
    }
  });
});

test("readline of a line longer than the limit raises RangeError and drops it", async () => {
  await runVirtual(function* () {
    const reader = readerWith(["y".repeat(30) + "\nnext\n"], true, 8);
    try {
      yield* reader.readline();
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof RangeError);
    }
    assert.equal((yield* reader.readline()).toString(), "next\n");
  });
});

test("two tasks waiting on one reader is a RuntimeError", async () => {
  await runVirtual(function* () {
    const reader = new StreamReader();
    const first = createTask(reader.read(1));
    yield* sleep(0);
    try {
      yield* reader.read(1);
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof RuntimeError);
    }
    reader.feedData(Buffer.from("z"));
    assert.equal((yield* first).toString(), "z");
  });
});

test("a cancelled read leaves the reader usable and loses no data", async () => {
  await runVirtual(function* () {
    const reader = new StreamReader();
    const task = createTask(reader.readline());
    yield* sleep(0);
    task.cancel();
    yield* sleep(0);
    reader.feedData(Buffer.from("kept\n"));
    assert.equal((yield* reader.readline()).toString(), "kept\n");
  });
});

test("a limit that is not a positive integer is a RangeError", () => {
  assert.throws(() => new StreamReader({ limit: 0 }), RangeError);
});

// --- over real loopback sockets -------------------------------------------------

test("an echo server echoes what a client writes", async () => {
  assert.equal(await runReal(function* () {
    const server = yield* echoServer();
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
    writer.write("ping");
    yield* writer.drain();
    const reply = (yield* reader.readexactly(4)).toString();
    writer.close();
    yield* writer.waitClosed();
    yield* closeServer(server);
    return reply;
  }), "ping");
});

test("a line protocol works with writelines and readline", async () => {
  assert.deepEqual(await runReal(function* () {
    const server = yield* startServer(
      function* (reader, writer) {
        for (;;) {
          const line = yield* reader.readline();
          if (line.length === 0) break;
          writer.write(line.toString().toUpperCase());
        }
        writer.close();
      },
      "127.0.0.1",
      0,
    );
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
    writer.writelines(["alpha\n", "beta\n"]);
    writer.writeEof();
    const lines = [(yield* reader.readline()).toString(), (yield* reader.readline()).toString()];
    assert.equal((yield* reader.read()).length, 0);
    writer.close();
    yield* closeServer(server);
    return lines;
  }), ["ALPHA\n", "BETA\n"]);
});

test("half-close: after writeEof the client still reads the reply", async () => {
  assert.equal(await runReal(function* () {
    const server = yield* startServer(
      function* (reader, writer) {
        const all = yield* reader.read(); // until the client's EOF
        writer.write(`got ${all.length} bytes`);
        writer.close();
      },
      "127.0.0.1",
      0,
    );
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
    assert.equal(writer.canWriteEof(), true);
    writer.write("12345");
    writer.writeEof();
    const reply = (yield* reader.read()).toString();
    writer.close();
    yield* closeServer(server);
    return reply;
  }), "got 5 bytes");
});

test("getExtraInfo reports peername, sockname and the socket", async () => {
  await runReal(function* () {
    const server = yield* echoServer();
    const [, writer] = yield* openConnection("127.0.0.1", portOf(server));
    const peer = writer.getExtraInfo("peername") as [string, number];
    assert.deepEqual(peer, ["127.0.0.1", portOf(server)]);
    assert.equal((writer.getExtraInfo("sockname") as [string, number])[0], "127.0.0.1");
    assert.ok(writer.getExtraInfo("socket"));
    assert.equal(writer.getExtraInfo("nothing", "default"), "default");
    assert.equal(writer.getExtraInfo("cipher"), undefined, "no cipher on a plain TCP connection");
    writer.close();
    yield* closeServer(server);
  });
});

test("a peer reset fails a pending read and exception() reports it", async () => {
  let nodeServer: NodeServer | null = null;
  const port = await new Promise<number>((resolve) => {
    nodeServer = createServer((socket: Socket) => {
      socket.on("data", () => socket.resetAndDestroy());
    }).listen(0, "127.0.0.1", () => resolve((nodeServer!.address() as AddressInfo).port));
  });
  try {
    await runReal(function* () {
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      writer.write("trigger reset");
      try {
        yield* reader.read(10);
        yield* reader.read(10);
        assert.fail("no error");
      } catch (e) {
        assert.equal((e as NodeJS.ErrnoException).code, "ECONNRESET");
      }
      assert.ok(reader.exception() !== null);
      try {
        yield* writer.drain();
        assert.fail("drain did not raise");
      } catch (e) {
        assert.ok(e instanceof Error);
      }
      writer.close();
    });
  } finally {
    await new Promise((resolve) => nodeServer!.close(resolve));
  }
});

test("connecting to a closed port fails with the connection error", async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  await runReal(function* () {
    try {
      yield* openConnection("127.0.0.1", port);
      assert.fail("connected");
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, "ECONNREFUSED");
    }
  });
});

test("a peer reset is a ConnectionResetError on read, the host's error as its cause", async () => {
  let nodeServer: NodeServer | null = null;
  const port = await new Promise<number>((resolve) => {
    nodeServer = createServer((socket: Socket) => {
      socket.on("data", () => socket.resetAndDestroy());
    }).listen(0, "127.0.0.1", () => resolve((nodeServer!.address() as AddressInfo).port));
  });
  try {
    const error = await runReal(function* (): Coro<unknown> {
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      writer.write("trigger reset");
      try {
        while ((yield* reader.read(10)).length > 0);
        return null;
      } catch (e) {
        return e;
      } finally {
        writer.close();
      }
    });
    assert.ok(error instanceof ConnectionResetError, String(error));
    assert.ok(error instanceof ConnectionError && error instanceof OSError);
    assert.equal(error.name, "ConnectionResetError");
    assert.equal(error.code, "ECONNRESET");
    assert.equal(error.errno, 104);
    assert.equal(error.syscall, "read");
    assert.equal((error.cause as NodeJS.ErrnoException).code, "ECONNRESET");
  } finally {
    await new Promise((resolve) => nodeServer!.close(resolve));
  }
});

test("connecting to a port nobody listens on is a ConnectionRefusedError", async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const error = await runReal(function* (): Coro<unknown> {
    try {
      yield* openConnection("127.0.0.1", port);
      return null;
    } catch (e) {
      return e;
    }
  });
  assert.ok(error instanceof ConnectionRefusedError, String(error));
  assert.equal(error.code, "ECONNREFUSED");
  assert.equal(error.syscall, "connect");
  assert.match(error.message, /ECONNREFUSED 127\.0\.0\.1:\d+/);
});

test("an invalid port is a RangeError", async () => {
  await runReal(function* () {
    for (const port of [-1, 70000, 1.5]) {
      try {
        yield* openConnection("127.0.0.1", port);
        assert.fail("accepted");
      } catch (e) {
        assert.ok(e instanceof RangeError);
      }
    }
  });
});

test("a reader pauses its socket above twice the limit and resumes when drained", async () => {
  await runReal(function* () {
    const limit = 1024;
    const server = yield* startServer(
      function* (_reader, writer) {
        for (let i = 0; i < 64; i++) writer.write(Buffer.alloc(1024, 1));
        yield* writer.drain();
        writer.close();
      },
      "127.0.0.1",
      0,
    );
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server), { limit });
    let sawPause = false;
    for (let i = 0; i < 200 && !sawPause; i++) {
      yield* sleep(0.005);
      sawPause = reader.statistics().paused;
    }
    assert.equal(sawPause, true);
    assert.ok(reader.statistics().buffered <= 2 * limit + 65536, "buffer stayed bounded");
    const all = yield* reader.read();
    assert.equal(all.length, 64 * 1024);
    writer.close();
    yield* closeServer(server);
  });
});

test("backpressure: a client that never reads keeps the server's buffered bytes bounded", async () => {
  await runReal(function* () {
    let maxBuffered = 0;
    let written = 0;
    let writerRef: StreamWriter | null = null;
    const server = yield* startServer(
      function* (_reader, writer) {
        writerRef = writer;
        const chunk = Buffer.alloc(64 * 1024);
        try {
          while (written < 100 * 1024 * 1024) {
            writer.write(chunk);
            written += chunk.length;
            const socket = writer.getExtraInfo("socket") as Socket;
            maxBuffered = Math.max(maxBuffered, socket.writableLength);
            yield* writer.drain();
          }
        } catch {
          // The client went away: expected at the end of the test.
        }
      },
      "127.0.0.1",
      0,
    );
    const client = connect(portOf(server), "127.0.0.1");
    client.pause(); // never reads
    // Let the server fill the kernel buffers and block in drain().
    let previous = -1;
    for (let i = 0; i < 500 && written !== previous; i++) {
      previous = written;
      yield* sleep(0.02);
    }
    assert.ok(written < 100 * 1024 * 1024, "the server was not held back");
    assert.ok(maxBuffered <= 64 * 1024 + 16 * 1024 + 64 * 1024, `server buffered ${maxBuffered} bytes`);
    client.destroy();
    writerRef!.close();
    yield* closeServer(server);
  });
});

test("1,000 concurrent connections are all served", async () => {
  assert.equal(await runReal(function* () {
    const server = yield* echoServer();
    const port = portOf(server);
    const client = function* (i: number): Coro<boolean> {
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      writer.write(`${i}\n`);
      const line = (yield* reader.readline()).toString();
      writer.close();
      yield* writer.waitClosed();
      return line === `${i}\n`;
    };
    const tasks = Array.from({ length: 1000 }, (_, i) => createTask(client(i)));
    let ok = 0;
    for (const t of tasks) if (yield* t) ok++;
    yield* closeServer(server);
    return ok;
  }), 1000);
});

test("cancelling a task blocked in drain leaves the stream cleanly closable", async () => {
  await runReal(function* () {
    let drainTask: ReturnType<typeof createTask> | null = null;
    const server = yield* startServer(
      function* (_reader, writer) {
        drainTask = createTask(
          (function* (): Coro<void> {
            for (;;) {
              writer.write(Buffer.alloc(256 * 1024));
              yield* writer.drain();
            }
          })(),
        );
        try {
          yield* drainTask;
        } catch {
          // cancelled
        }
        writer.close();
        yield* writer.waitClosed();
      },
      "127.0.0.1",
      0,
    );
    const client = connect(portOf(server), "127.0.0.1");
    client.pause();
    for (let i = 0; i < 100 && drainTask === null; i++) yield* sleep(0.01);
    yield* sleep(0.05);
    drainTask!.cancel();
    client.destroy();
    yield* closeServer(server);
    assert.equal(drainTask!.cancelled(), true);
  });
});

test("cancelling a task blocked in waitClosed does not leak the socket", async () => {
  await runReal(function* () {
    const server = yield* echoServer();
    const [, writer] = yield* openConnection("127.0.0.1", portOf(server));
    const waiter = createTask(writer.waitClosed());
    yield* sleep(0.01);
    waiter.cancel();
    yield* sleep(0);
    assert.equal(waiter.cancelled(), true);
    writer.close();
    yield* writer.waitClosed();
    yield* closeServer(server);
  });
});

// --- edge cases ------------------------------------------------------------
// StreamReader / StreamWriter edge cases, driven over in-memory Node streams
// (no sockets) so each is deterministic on the virtual clock, plus the
// connection set-up paths that need a loopback server.

/** A Writable that keeps every write's callback until `flush()` (a peer that stopped reading). */
function stalledWritable(highWaterMark = 4): { stream: Writable; flush: () => void } {
  const callbacks: (() => void)[] = [];
  const stream = new Writable({
    highWaterMark,
    write(_chunk, _encoding, callback) {
      callbacks.push(callback);
    },
  });
  return { stream, flush: () => callbacks.splice(0).forEach((cb) => cb()) };
}

// --- StreamReader -------------------------------------------------------------

test("readuntil with a separator that is neither bytes nor a string is a TypeError", async () => {
  await runVirtual(function* () {
    const reader = new StreamReader();
    const error = yield* errorOf(() => reader.readuntil(5 as unknown as string));
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /readuntil\(\) takes bytes \(Uint8Array\) or a string, got number/);
  });
});

test("feedData after feedEof is a RuntimeError", () => {
  const reader = new StreamReader();
  reader.feedEof();
  assert.throws(() => reader.feedData(Buffer.from("late")), RuntimeError);
});

test("a reader over a stream that is not a socket shows the stream's class as its transport", async () => {
  await runVirtual(function* () {
    const reader = readerOver(new PassThrough(), getRunningLoop(), 1024);
    assert.equal(inspect(reader), "<StreamReader limit=1024 transport=<PassThrough>>");
  });
});

test("a reader paused for flow control says so in its repr and pauses its stream", async () => {
  await runVirtual(function* () {
    const stream = new PassThrough();
    const reader = new StreamReader({ limit: 4 });
    reader.setTransport(stream, getRunningLoop());
    reader.feedData(Buffer.alloc(9));
    assert.equal(inspect(reader), "<StreamReader 9 bytes limit=4 transport=<PassThrough> paused>");
    assert.equal(stream.isPaused(), true);
  });
});

test("a reader's repr shows an exception that is not an Error as inspect shows it", () => {
  const reader = new StreamReader();
  reader.setException("boom");
  assert.equal(inspect(reader), "<StreamReader exception='boom'>");
});

test("a reader's repr shows an Error's name and quoted message", () => {
  const reader = new StreamReader();
  reader.setException(new RangeError("bad size"));
  assert.equal(inspect(reader), "<StreamReader exception=RangeError('bad size')>");
});

// --- StreamWriter -------------------------------------------------------------

test("a drain waiting when the stream closes fails with a connection-lost error", async () => {
  await runVirtual(function* () {
    const { stream } = stalledWritable();
    const writer = writerOver(stream, null, getRunningLoop());
    writer.write("more than four bytes");
    const draining = createTask(writer.drain());
    yield* sleep(0);
    stream.destroy();
    const error = yield* errorOf(() => draining);
    assert.equal((error as NodeJS.ErrnoException).code, "ECONNRESET");
    assert.equal((error as Error).message, "Connection lost");
  });
});

test("a drain waiting when the stream fails raises the stream's error", async () => {
  await runVirtual(function* () {
    const { stream } = stalledWritable();
    const writer = writerOver(stream, null, getRunningLoop());
    writer.write("more than four bytes");
    const draining = createTask(writer.drain());
    yield* sleep(0);
    const failure = new Error("disk on fire");
    stream.destroy(failure);
    assert.equal(yield* errorOf(() => draining), failure);
  });
});

test("write after writeEof is a RuntimeError", async () => {
  await runVirtual(function* () {
    const writer = writerOver(new PassThrough(), null, getRunningLoop());
    writer.writeEof();
    assert.throws(() => writer.write("late"), RuntimeError);
  });
});

test("writeEof a second time, or after close, does nothing", async () => {
  await runVirtual(function* () {
    const stream = new PassThrough();
    let ends = 0;
    const end = stream.end.bind(stream);
    stream.end = ((...args: Parameters<typeof end>) => {
      ends++;
      return end(...args);
    }) as typeof stream.end;
    const writer = writerOver(stream, null, getRunningLoop());
    writer.writeEof();
    writer.writeEof();
    assert.equal(ends, 1);
    const other = writerOver(new PassThrough(), null, getRunningLoop());
    other.close();
    other.writeEof();
    assert.equal(other.isClosing(), true);
  });
});

test("drain() during a close that is still flushing returns without error", async () => {
  await runVirtual(function* () {
    const { stream, flush } = stalledWritable();
    const writer = writerOver(stream, null, getRunningLoop());
    writer.write("pending");
    writer.close();
    yield* writer.drain();
    assert.equal(stream.destroyed, false, "the close is still waiting for the write");
    flush();
    yield* writer.waitClosed();
  });
});

test("a writer's repr says closing while its close waits for buffered data", async () => {
  await runVirtual(function* () {
    const { stream, flush } = stalledWritable();
    const writer = writerOver(stream, null, getRunningLoop());
    assert.equal(inspect(writer), "<StreamWriter open buffered=0>");
    writer.write("pending");
    writer.close();
    assert.equal(inspect(writer), "<StreamWriter closing buffered=7>");
    flush();
    yield* writer.waitClosed();
  });
});

test("waitClosed on a writer that already closed returns at once", async () => {
  await runVirtual(function* () {
    const stream = new Writable({ write: (_chunk, _encoding, callback) => callback() });
    const writer = writerOver(stream, null, getRunningLoop());
    writer.close();
    yield* writer.waitClosed();
    const t0 = getRunningLoop().time();
    yield* writer.waitClosed();
    assert.equal(getRunningLoop().time(), t0);
    assert.equal(inspect(writer), "<StreamWriter closed buffered=0>");
  });
});

test("getExtraInfo on a writer over a plain stream gives the stream as 'pipe' and the default otherwise", async () => {
  await runVirtual(function* () {
    const stream = new PassThrough();
    const writer = writerOver(stream, null, getRunningLoop());
    assert.equal(writer.getExtraInfo("pipe"), stream);
    assert.equal(writer.getExtraInfo("peername", "none"), "none");
    assert.equal(writer.getExtraInfo("socket"), undefined);
  });
});

test("getExtraInfo on an unconnected, non-TLS socket gives the default for addresses and TLS details", async () => {
  await runVirtual(function* () {
    const socket = new Socket();
    const writer = writerOver(socket, null, getRunningLoop());
    for (const name of ["peername", "sockname", "peercert", "cipher", "ssl_object"] as const) assert.equal(writer.getExtraInfo(name, "none"), "none", name);
    socket.destroy();
  });
});

test("a 'drain' nobody waits for leaves a later drain() immediate", async () => {
  await runVirtual(function* () {
    const { stream, flush } = stalledWritable();
    const writer = writerOver(stream, null, getRunningLoop());
    writer.write("more than four bytes");
    yield* sleep(0);
    const drained = once(stream, "drain");
    flush();
    yield* fromPromise(drained);
    yield* writer.drain();
    assert.equal(stream.writableNeedDrain, false);
  });
});

test("a drain cancelled just before the stream drains is skipped, and the next drain() still waits", async () => {
  await runVirtual(function* () {
    const { stream, flush } = stalledWritable();
    const writer = writerOver(stream, null, getRunningLoop());
    writer.write("more than four bytes");
    const cancelled = createTask(writer.drain());
    yield* sleep(0);
    cancelled.cancel();
    flush(); // 'drain' fires now, before the cancelled task has resumed
    assert.ok((yield* errorOf(() => cancelled)) instanceof CancelledError);
    writer.write("another long write");
    const next = createTask(writer.drain());
    yield* sleep(0);
    assert.equal(next.done(), false);
    flush();
    yield* next;
  });
});

// --- connecting ------------------------------------------------------------------

test("openUnixConnection without a path is a TypeError", async () => {
  await runVirtual(function* () {
    assert.ok((yield* errorOf(() => openUnixConnection(""))) instanceof TypeError);
  });
});

test("a connection that completes just as its task is cancelled is closed, not leaked", async () => {
  let accepted: Socket[] = [];
  const server: NodeServer = createServer((socket) => accepted.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  // Cancel the task from inside the socket's 'connect' emit, just before
  // openConnection's own listener runs: the cancellation and the connection race.
  let onConnect: ((socket: Socket) => void) | null = null;
  let clientSocket: Socket | null = null;
  const emit = Socket.prototype.emit;
  Socket.prototype.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "connect" && onConnect !== null) {
      const hook = onConnect;
      onConnect = null;
      hook(this);
    }
    return Reflect.apply(emit, this, [event, ...args]) as boolean;
  } as typeof emit;
  try {
    const outcome = await runCapturing(function* () {
      const task = createTask(openConnection("127.0.0.1", port));
      onConnect = (socket) => {
        clientSocket = socket;
        task.cancel();
      };
      try {
        yield* task;
      } catch (error) {
        return error;
      }
      return "connected";
    }, { clock: "real" });
    assert.ok(outcome.value instanceof CancelledError, `outcome: ${inspect(outcome)}`);
    assert.deepEqual(outcome.reports, []);
    assert.ok(clientSocket !== null);
    assert.equal((clientSocket as Socket).destroyed, true);
  } finally {
    Socket.prototype.emit = emit;
    (clientSocket as Socket | null)?.destroy();
    for (const socket of accepted) socket.destroy();
    accepted = [];
    await new Promise((resolve) => server.close(resolve));
  }
});

test("after the stream tests no socket or server handle is left open", async () => {
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(socketHandles(), handlesAtStart);
});

test("under a virtual clock real socket I/O still completes", async () => {
  assert.equal(await runVirtual(function* () {
    const server = yield* echoServer();
    const [reader, writer] = yield* openConnection("127.0.0.1", portOf(server));
    writer.write("virtual\n");
    const line = (yield* reader.readline()).toString();
    writer.close();
    yield* writer.waitClosed();
    yield* closeServer(server);
    return [line, getRunningLoop().time()].join("@");
  }), "virtual\n@0");
});
