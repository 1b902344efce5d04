/**
 * StreamReader / StreamWriter edge cases, driven over in-memory Node streams
 * (no sockets) so each is deterministic on the virtual clock, plus the
 * connection set-up paths that need a loopback server.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { once } from "node:events";
import { Socket, createServer, type AddressInfo, type Server as NodeServer } from "node:net";
import { PassThrough, Writable } from "node:stream";
import { inspect } from "node:util";
import { CancelledError, RuntimeError, StreamReader, createTask, fromPromise, getRunningLoop, openConnection, openUnixConnection, sleep, type Coro, type Task } from "../src/index.js";
import { readerOver, writerOver } from "../src/streams.js";
import { runCapturing, runVirtual } from "./support.js";

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

function* errorOf(body: () => Coro<unknown> | Task<unknown>): Coro<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  return assert.fail("no error");
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
