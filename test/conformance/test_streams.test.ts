/**
 * Conformance with CPython 3.13's Lib/test/test_asyncio/test_streams.py.
 * Python's `stream._buffer` is read here as `statistics().buffered` and, at
 * the end of a case, by draining the reader (`rest`). CPython's
 * `run_test_server()` (an HTTP server answering "Test message") is a
 * `startServer` on 127.0.0.1 here.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  IncompleteReadError,
  LimitOverrunError,
  RuntimeError,
  StreamReader,
  createTask,
  currentTask,
  gather,
  getRunningLoop,
  openConnection,
  openUnixConnection,
  sleep,
  startServer,
  startUnixServer,
  wait,
  type Coro,
  type ExceptionContext,
  type Server,
  type StreamWriter,
} from "../../src/index.js";
import { cases, raises, repr } from "./helpers.js";

const streamCase = cases("test_streams", "StreamTests");
const DATA = Buffer.from("line1\nline2\nline3\n");
const NET = { clock: "real" } as const;

const bytes = (text: string): Buffer => Buffer.from(text);

/** What is left in the reader's buffer (ends the stream to read it). */
function* rest(stream: StreamReader): Coro<string> {
  if (!stream.atEof()) stream.feedEof();
  return (yield* stream.read(-1)).toString();
}

/** CPython's run_test_server(): answers any request with a small HTTP response, then closes. */
function* httpServer(): Coro<[Server, number]> {
  const server = yield* startServer(
    function* (reader, writer) {
      try {
        yield* reader.readuntil("\r\n\r\n");
      } catch (error) {
        // A client that closes without a request (test_eof_feed_when_closing_writer).
        if (!(error instanceof IncompleteReadError)) throw error;
        writer.close();
        return;
      }
      writer.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nTest message");
      yield* writer.drain();
      writer.close();
      yield* writer.waitClosed();
    },
    "127.0.0.1",
    0,
  );
  return [server, portOf(server)];
}

function portOf(server: Server): number {
  const address = server.sockets[0]!;
  if (typeof address === "string") throw new TypeError("not a TCP server");
  return address.port;
}

function* closeServer(server: Server): Coro<void> {
  server.close();
  yield* server.waitClosed();
}

function* exchange(reader: StreamReader, writer: StreamWriter): Coro<void> {
  writer.write("GET / HTTP/1.0\r\n\r\n");
  assert.equal((yield* reader.readline()).toString(), "HTTP/1.0 200 OK\r\n");
  assert.ok((yield* reader.read()).toString().endsWith("\r\n\r\nTest message"));
}

// --- Connections ---------------------------------------------------------------

streamCase("test_open_connection", function* () {
  const [server, port] = yield* httpServer();
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  yield* exchange(reader, writer);
  writer.close();
  yield* writer.waitClosed();
  yield* closeServer(server);
}, NET);

streamCase("test_open_unix_connection", function* () {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-conformance-"));
  try {
    const path = join(dir, "http.sock");
    const server = yield* startUnixServer(function* (reader, writer) {
      yield* reader.readuntil("\r\n\r\n");
      writer.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nTest message");
      writer.close();
      yield* writer.waitClosed();
    }, path);
    const [reader, writer] = yield* openUnixConnection(path);
    yield* exchange(reader, writer);
    writer.close();
    yield* writer.waitClosed();
    yield* closeServer(server);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, NET);

streamCase("test_open_connection_no_loop_ssl", function* () {}, { skip: "the TLS handshake is covered by test/tls.test.ts; CPython's case only checks that ssl= is accepted without a running loop, and a coroutine here always runs on one" });

streamCase("test_open_connection_error", function* () {
  const [server, port] = yield* httpServer();
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  // Python makes the transport fail with ZeroDivisionError; here the peer resets the connection.
  const socket = writer.getExtraInfo("socket") as import("node:net").Socket;
  socket.destroy(new Error("boom"));
  yield* sleep(0.01);
  const error = yield* raises(Error, reader.readline());
  assert.match(error.message, /boom/);
  yield* closeServer(server);
}, NET);

// --- StreamReader fed by hand ----------------------------------------------------

streamCase("test_feed_empty_data", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes(""));
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_feed_nonempty_data", function* () {
  const stream = new StreamReader();
  stream.feedData(DATA);
  assert.equal(yield* rest(stream), DATA.toString());
});

streamCase("test_read_zero", function* () {
  const stream = new StreamReader();
  stream.feedData(DATA);
  assert.equal((yield* stream.read(0)).length, 0);
  assert.equal(yield* rest(stream), DATA.toString());
});

streamCase("test_read", function* () {
  const stream = new StreamReader();
  const readTask = createTask(stream.read(30));
  getRunningLoop().callSoon(() => stream.feedData(DATA));
  assert.deepEqual(yield* readTask, DATA);
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_read_line_breaks", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes("line1"));
  stream.feedData(bytes("line2"));
  assert.equal((yield* stream.read(5)).toString(), "line1");
  assert.equal(yield* rest(stream), "line2");
});

streamCase("test_read_eof", function* () {
  const stream = new StreamReader();
  const readTask = createTask(stream.read(1024));
  getRunningLoop().callSoon(() => stream.feedEof());
  assert.equal((yield* readTask).length, 0);
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_read_until_eof", function* () {
  const stream = new StreamReader();
  const readTask = createTask(stream.read(-1));
  getRunningLoop().callSoon(() => {
    stream.feedData(bytes("chunk1\n"));
    stream.feedData(bytes("chunk2"));
    stream.feedEof();
  });
  assert.equal((yield* readTask).toString(), "chunk1\nchunk2");
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_read_exception", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes("line\n"));
  assert.equal((yield* stream.read(2)).toString(), "li");
  stream.setException(new RangeError());
  yield* raises(RangeError, stream.read(2));
});

streamCase("test_invalid_limit", function* () {
  assert.throws(() => new StreamReader({ limit: 0 }), (e: Error) => e instanceof RangeError && /imit/.test(e.message));
  assert.throws(() => new StreamReader({ limit: -1 }), (e: Error) => e instanceof RangeError && /imit/.test(e.message));
});

streamCase("test_read_limit", function* () {
  const stream = new StreamReader({ limit: 3 });
  stream.feedData(bytes("chunk"));
  assert.equal((yield* stream.read(5)).toString(), "chunk");
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_readline", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes("chunk1 "));
  const readTask = createTask(stream.readline());
  getRunningLoop().callSoon(() => {
    stream.feedData(bytes("chunk2 "));
    stream.feedData(bytes("chunk3 "));
    stream.feedData(bytes("\n chunk4"));
  });
  assert.equal((yield* readTask).toString(), "chunk1 chunk2 chunk3 \n");
  assert.equal(yield* rest(stream), " chunk4");
});

streamCase("test_readline_limit_with_existing_data", function* () {
  let stream = new StreamReader({ limit: 3 });
  stream.feedData(bytes("li"));
  stream.feedData(bytes("ne1\nline2\n"));
  yield* raises(RangeError, stream.readline());
  assert.equal(yield* rest(stream), "line2\n");

  stream = new StreamReader({ limit: 3 });
  stream.feedData(bytes("li"));
  stream.feedData(bytes("ne1"));
  stream.feedData(bytes("li"));
  yield* raises(RangeError, stream.readline());
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_at_eof", function* () {
  const stream = new StreamReader();
  assert.equal(stream.atEof(), false);
  stream.feedData(bytes("some data\n"));
  assert.equal(stream.atEof(), false);
  yield* stream.readline();
  assert.equal(stream.atEof(), false);
  stream.feedData(bytes("some data\n"));
  stream.feedEof();
  yield* stream.readline();
  assert.ok(stream.atEof());
});

streamCase("test_readline_limit", function* () {
  const loop = getRunningLoop();
  let stream = new StreamReader({ limit: 7 });
  const s1 = stream;
  loop.callSoon(() => {
    s1.feedData(bytes("chunk1"));
    s1.feedData(bytes("chunk2"));
    s1.feedData(bytes("chunk3\n"));
    s1.feedEof();
  });
  yield* raises(RangeError, stream.readline());
  assert.equal(stream.statistics().buffered, 0);

  stream = new StreamReader({ limit: 7 });
  const s2 = stream;
  loop.callSoon(() => {
    s2.feedData(bytes("chunk1"));
    s2.feedData(bytes("chunk2\n"));
    s2.feedData(bytes("chunk3\n"));
    s2.feedEof();
  });
  yield* raises(RangeError, stream.readline());
  assert.equal(yield* rest(stream), "chunk3\n");

  stream = new StreamReader({ limit: 7 });
  stream.feedData(bytes("1234567\n"));
  assert.equal((yield* stream.readline()).toString(), "1234567\n");
  assert.equal(stream.statistics().buffered, 0);
  stream.feedData(bytes("12345678\n"));
  yield* raises(RangeError, stream.readline());
  assert.equal(stream.statistics().buffered, 0);
  stream.feedData(bytes("12345678"));
  yield* raises(RangeError, stream.readline());
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_readline_nolimit_nowait", function* () {
  const stream = new StreamReader();
  stream.feedData(DATA.subarray(0, 6));
  stream.feedData(DATA.subarray(6));
  assert.equal((yield* stream.readline()).toString(), "line1\n");
  assert.equal(yield* rest(stream), "line2\nline3\n");
});

streamCase("test_readline_eof", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes("some data"));
  stream.feedEof();
  assert.equal((yield* stream.readline()).toString(), "some data");
});

streamCase("test_readline_empty_eof", function* () {
  const stream = new StreamReader();
  stream.feedEof();
  assert.equal((yield* stream.readline()).length, 0);
});

streamCase("test_readline_read_byte_count", function* () {
  const stream = new StreamReader();
  stream.feedData(DATA);
  yield* stream.readline();
  assert.equal((yield* stream.read(7)).toString(), "line2\nl");
  assert.equal(yield* rest(stream), "ine3\n");
});

streamCase("test_readline_exception", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes("line\n"));
  assert.equal((yield* stream.readline()).toString(), "line\n");
  stream.setException(new RangeError());
  yield* raises(RangeError, stream.readline());
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_readuntil_separator", function* () {
  const stream = new StreamReader();
  const error = yield* raises(RangeError, stream.readuntil(bytes("")));
  assert.match(error.message, /Separator should be/);
});

streamCase("test_readuntil_multi_chunks", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes("lineAAA"));
  assert.equal((yield* stream.readuntil(bytes("AAA"))).toString(), "lineAAA");
  assert.equal(stream.statistics().buffered, 0);
  stream.feedData(bytes("lineAAA"));
  assert.equal((yield* stream.readuntil("AAA")).toString(), "lineAAA");
  assert.equal(stream.statistics().buffered, 0);
  stream.feedData(bytes("lineAAAxxx"));
  assert.equal((yield* stream.readuntil("AAA")).toString(), "lineAAA");
  assert.equal(yield* rest(stream), "xxx");
});

streamCase("test_readuntil_multi_chunks_1", function* () {
  const stream = new StreamReader();
  for (const [chunks, expected] of [
    [["QWEaa", "XYaa", "a"], "QWEaaXYaaa"],
    [["QWEaa", "XYa", "aa"], "QWEaaXYaaa"],
    [["aaa"], "aaa"],
    [["Xaaa"], "Xaaa"],
    [["XXX", "a", "a", "a"], "XXXaaa"],
  ] as const) {
    for (const chunk of chunks) stream.feedData(bytes(chunk));
    assert.equal((yield* stream.readuntil("aaa")).toString(), expected);
    assert.equal(stream.statistics().buffered, 0);
  }
});

streamCase("test_readuntil_eof", function* () {
  const stream = new StreamReader();
  const data = bytes("some dataAA");
  stream.feedData(data);
  stream.feedEof();
  const error = yield* raises(IncompleteReadError, stream.readuntil("AAA"));
  assert.match(error.message, /undefined expected bytes/);
  assert.deepEqual(Buffer.from(error.partial), data);
  assert.equal(error.expected, null);
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_readuntil_limit_found_sep", function* () {
  const stream = new StreamReader({ limit: 3 });
  stream.feedData(bytes("some dataAA"));
  const notFound = yield* raises(LimitOverrunError, stream.readuntil("AAA"));
  assert.match(notFound.message, /not found/);
  assert.equal(stream.statistics().buffered, 11);
  stream.feedData(bytes("A"));
  const found = yield* raises(LimitOverrunError, stream.readuntil("AAA"));
  assert.match(found.message, /is found/);
  assert.equal(yield* rest(stream), "some dataAAA");
});

const MULTI_SEPARATOR = "3.13's tuple of separators for readuntil() is not in the API contract (readuntil takes one separator, string or bytes)";
streamCase("test_readuntil_multi_separator", function* () {}, { skip: MULTI_SEPARATOR });
streamCase("test_readuntil_multi_separator_limit", function* () {}, { skip: MULTI_SEPARATOR });
streamCase("test_readuntil_multi_separator_negative_offset", function* () {}, { skip: MULTI_SEPARATOR });

streamCase("test_readuntil_bytearray", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes("some data\r\n"));
  assert.equal((yield* stream.readuntil(new Uint8Array([13, 10]))).toString(), "some data\r\n");
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_readexactly_zero_or_less", function* () {
  const stream = new StreamReader();
  stream.feedData(DATA);
  assert.equal((yield* stream.readexactly(0)).length, 0);
  assert.equal(stream.statistics().buffered, DATA.length);
  const error = yield* raises(RangeError, stream.readexactly(-1));
  assert.match(error.message, /less than zero/);
  assert.equal(yield* rest(stream), DATA.toString());
});

streamCase("test_readexactly", function* () {
  const stream = new StreamReader();
  const n = 2 * DATA.length;
  const readTask = createTask(stream.readexactly(n));
  getRunningLoop().callSoon(() => {
    stream.feedData(DATA);
    stream.feedData(DATA);
    stream.feedData(DATA);
  });
  assert.deepEqual(yield* readTask, Buffer.concat([DATA, DATA]));
  assert.equal(yield* rest(stream), DATA.toString());
});

streamCase("test_readexactly_limit", function* () {
  const stream = new StreamReader({ limit: 3 });
  stream.feedData(bytes("chunk"));
  assert.equal((yield* stream.readexactly(5)).toString(), "chunk");
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_readexactly_eof", function* () {
  const stream = new StreamReader();
  const n = 2 * DATA.length;
  const readTask = createTask(stream.readexactly(n));
  getRunningLoop().callSoon(() => {
    stream.feedData(DATA);
    stream.feedEof();
  });
  const error = yield* raises(IncompleteReadError, readTask);
  assert.deepEqual(Buffer.from(error.partial), DATA);
  assert.equal(error.expected, n);
  assert.equal(error.message, "18 bytes read on a total of 36 expected bytes");
  assert.equal(stream.statistics().buffered, 0);
});

streamCase("test_readexactly_exception", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes("line\n"));
  assert.equal((yield* stream.readexactly(2)).toString(), "li");
  stream.setException(new RangeError());
  yield* raises(RangeError, stream.readexactly(2));
});

streamCase("test_exception", function* () {
  const stream = new StreamReader();
  assert.equal(stream.exception(), null);
  const exc = new RangeError();
  stream.setException(exc);
  assert.equal(stream.exception(), exc);
});

streamCase("test_exception_waiter", function* () {
  const stream = new StreamReader();
  const t1 = createTask(stream.readline());
  const t2 = createTask(
    (function* (): Coro<void> {
      stream.setException(new RangeError());
    })(),
  );
  yield* wait([t1, t2]);
  assert.throws(() => t1.result(), RangeError);
});

streamCase("test_exception_cancel", function* () {
  const stream = new StreamReader();
  const t = createTask(stream.readline());
  yield* sleep(0);
  t.cancel();
  yield* sleep(0);
  stream.setException(new RuntimeError("message"));
  yield* sleep(0);
  assert.equal(stream.statistics().waiting, false);
});

// --- Servers -----------------------------------------------------------------------

function* echoLine(reader: StreamReader, writer: StreamWriter): Coro<void> {
  const data = yield* reader.readline();
  writer.write(data);
  yield* writer.drain();
  writer.close();
  yield* writer.waitClosed();
}

function* helloClient(open: () => Coro<[StreamReader, StreamWriter]>): Coro<string> {
  const [reader, writer] = yield* open();
  writer.write("hello world!\n");
  const msgback = yield* reader.readline();
  writer.close();
  yield* writer.waitClosed();
  return msgback.toString();
}

streamCase("test_start_server", function* () {
  // The handler as a coroutine, then as a plain callback that starts a task.
  for (const handler of [echoLine, (r: StreamReader, w: StreamWriter): void => void createTask(echoLine(r, w))]) {
    const server = yield* startServer(handler, "127.0.0.1", 0);
    const port = portOf(server);
    assert.equal(yield* createTask(helloClient(() => openConnection("127.0.0.1", port))), "hello world!\n");
    yield* closeServer(server);
  }
}, NET);

streamCase("test_start_unix_server", function* () {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-conformance-"));
  try {
    const path = join(dir, "echo.sock");
    for (const handler of [echoLine, (r: StreamReader, w: StreamWriter): void => void createTask(echoLine(r, w))]) {
      const server = yield* startUnixServer(handler, path);
      assert.equal(yield* createTask(helloClient(() => openUnixConnection(path))), "hello world!\n");
      yield* closeServer(server);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, NET);

streamCase("test_start_tls", function* () {}, { skip: "StreamWriter.start_tls() is not in the API contract; TLS connections are opened with { tls } (test/tls.test.ts)" });
streamCase("test_read_all_from_pipe_reader", function* () {}, { skip: "drives a StreamReaderProtocol over an os.pipe() with connect_read_pipe(), which have no counterpart here (subprocess pipes are another issue's work)" });

streamCase("test_streamreader_constructor_use_running_loop", function* () {
  // Python binds the reader to the running loop; ours binds on first wait.
  const stream = new StreamReader();
  const t = createTask(stream.read(1));
  yield* sleep(0);
  stream.feedData(bytes("x"));
  assert.equal((yield* t).toString(), "x");
});

streamCase("test_multiple_drain", function* () {
  // Python pauses a FlowControlMixin by hand; here a peer that does not read fills the socket.
  let release: (() => void) | null = null;
  const server = yield* startServer(
    function* (reader, writer) {
      const loop = getRunningLoop();
      const go = loop.createFuture<void>();
      release = () => go.setResult(undefined);
      yield* go;
      yield* reader.read(-1);
      writer.close();
    },
    "127.0.0.1",
    0,
  );
  const [, writer] = yield* openConnection("127.0.0.1", portOf(server));
  writer.write(Buffer.alloc(16 * 1024 * 1024));
  let drained = 0;
  const drainers = Array.from({ length: 10 }, () =>
    createTask(
      (function* (): Coro<void> {
        yield* writer.drain();
        drained++;
      })(),
    ),
  );
  yield* sleep(0.05);
  while (release === null) yield* sleep(0.01);
  (release as () => void)();
  yield* gather(...drainers);
  assert.equal(drained, 10);
  writer.close();
  yield* writer.waitClosed();
  yield* closeServer(server);
}, NET);

streamCase("test_drain_raises", function* () {
  const server = yield* startServer(
    function* (_reader, writer) {
      (writer.getExtraInfo("socket") as import("node:net").Socket).destroy();
    },
    "127.0.0.1",
    0,
  );
  const [, writer] = yield* openConnection("127.0.0.1", portOf(server));
  const error = yield* raises(
    Error,
    (function* (): Coro<void> {
      for (;;) {
        writer.write("foo\n");
        yield* writer.drain();
      }
    })(),
  );
  assert.ok(/ECONNRESET|EPIPE|Connection lost|closed/i.test(`${(error as { code?: string }).code ?? ""} ${error.message}`), String(error));
  writer.close();
  yield* closeServer(server);
}, NET);

streamCase("test___repr__", function* () {
  assert.equal(repr(new StreamReader()), "<StreamReader>");
});

streamCase("test___repr__nondefault_limit", function* () {
  assert.equal(repr(new StreamReader({ limit: 123 })), "<StreamReader limit=123>");
});

streamCase("test___repr__eof", function* () {
  const stream = new StreamReader();
  stream.feedEof();
  assert.equal(repr(stream), "<StreamReader eof>");
});

streamCase("test___repr__data", function* () {
  const stream = new StreamReader();
  stream.feedData(bytes("data"));
  assert.equal(repr(stream), "<StreamReader 4 bytes>");
});

streamCase("test___repr__exception", function* () {
  const stream = new StreamReader();
  stream.setException(new RuntimeError());
  assert.equal(repr(stream), "<StreamReader exception=RuntimeError()>");
});

streamCase("test___repr__waiter", function* () {
  const stream = new StreamReader();
  const t = createTask(stream.read(1));
  yield* sleep(0);
  assert.match(repr(stream), /^<StreamReader waiter=<Future pending[\S ]*>>$/);
  stream.feedData(bytes("x"));
  yield* t;
  assert.equal(repr(stream), "<StreamReader>");
});

streamCase("test___repr__transport", function* () {
  const [server, port] = yield* httpServer();
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  assert.match(repr(reader), /^<StreamReader transport=<Socket 127\.0\.0\.1:\d+>>$/);
  writer.close();
  yield* writer.waitClosed();
  yield* closeServer(server);
}, NET);

const NO_PICKLE = "pickling has no counterpart in JavaScript (structuredClone drops an error's own fields)";
streamCase("test_IncompleteReadError_pickleable", function* () {}, { skip: NO_PICKLE });
streamCase("test_LimitOverrunError_pickleable", function* () {}, { skip: NO_PICKLE });

streamCase("test_wait_closed_on_close", function* () {
  const [server, port] = yield* httpServer();
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  yield* exchange(reader, writer);
  assert.equal(writer.isClosing(), false);
  writer.close();
  assert.ok(writer.isClosing());
  yield* writer.waitClosed();
  yield* closeServer(server);
}, NET);

streamCase("test_wait_closed_on_close_with_unread_data", function* () {
  const [server, port] = yield* httpServer();
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  writer.write("GET / HTTP/1.0\r\n\r\n");
  assert.equal((yield* reader.readline()).toString(), "HTTP/1.0 200 OK\r\n");
  writer.close();
  yield* writer.waitClosed();
  yield* closeServer(server);
}, NET);

streamCase("test_async_writer_api", function* () {
  const [server, port] = yield* httpServer();
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  yield* exchange(reader, writer);
  writer.close();
  yield* writer.waitClosed();
  yield* closeServer(server);
}, NET);

streamCase("test_async_writer_api_exception_after_close", function* () {
  const [server, port] = yield* httpServer();
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  yield* exchange(reader, writer);
  writer.close();
  const error = yield* raises(
    Error,
    (function* (): Coro<void> {
      writer.write("data");
      yield* writer.drain();
    })(),
  );
  // Python's ConnectionResetError.
  assert.equal((error as { code?: string }).code, "ECONNRESET", String(error));
  yield* closeServer(server);
}, NET);

streamCase("test_eof_feed_when_closing_writer", function* () {
  const [server, port] = yield* httpServer();
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  writer.close();
  yield* writer.waitClosed();
  assert.ok(reader.atEof());
  assert.equal((yield* reader.read()).length, 0);
  yield* closeServer(server);
}, NET);

const NO_RESOURCE_WARNINGS = "Python's ResourceWarning for an unclosed transport or server collected by the GC has no counterpart: Node keeps a socket open until it is closed";
streamCase("test_unclosed_resource_warnings", function* () {}, { skip: NO_RESOURCE_WARNINGS });
streamCase("test_loop_is_closed_resource_warnings", function* () {}, { skip: NO_RESOURCE_WARNINGS });
streamCase("test_unclosed_server_resource_warnings", function* () {}, { skip: NO_RESOURCE_WARNINGS });

function* unhandled(handler: (r: StreamReader, w: StreamWriter) => Coro<void>): Coro<ExceptionContext[]> {
  const messages: ExceptionContext[] = [];
  const loop = getRunningLoop();
  loop.setExceptionHandler((_loop, ctx) => messages.push(ctx));
  const server = yield* startServer(handler, "127.0.0.1", 0);
  const [, writer] = yield* openConnection("127.0.0.1", portOf(server));
  writer.write("test msg");
  yield* writer.drain();
  writer.close();
  yield* writer.waitClosed();
  yield* sleep(0.05);
  yield* closeServer(server);
  loop.setExceptionHandler(null);
  return messages;
}

streamCase("test_unhandled_exception", function* () {
  const messages = yield* unhandled(function* () {
    throw new Error("test");
  });
  assert.equal(messages[0]?.message, "Unhandled exception in client_connected_cb");
}, NET);

streamCase("test_unhandled_cancel", function* () {
  const messages = yield* unhandled(function* (_reader, writer) {
    writer.close();
    currentTask()!.cancel();
    yield* sleep(0);
  });
  assert.deepEqual(messages, []);
}, NET);

