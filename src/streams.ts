/**
 * `StreamReader`, `StreamWriter`, `openConnection`, `openUnixConnection`:
 * asyncio's high-level streams over Node's `net` and `tls` sockets (Python's
 * `asyncio.streams`).
 *
 * Flow control both ways: the reader pauses its socket when more than twice
 * `limit` bytes are buffered and resumes it once a read brings the buffer
 * back to `limit`; `writer.drain()` waits while the socket's write buffer is
 * above its high-water mark. Only one task may wait on a reader at a time.
 */
import type * as net from "node:net";
import type { Readable, Writable } from "node:stream";
import type * as tls from "node:tls";
import { lazyBuiltin } from "./host.js";
import { formatValue, inspectCustom } from "./repr.js";
import type { Coro } from "./coroutines.js";
import { ConnectionResetError, IncompleteReadError, LimitOverrunError, RuntimeError, toOSError } from "./errors.js";
import { type EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";
import type { Future } from "./futures.js";
import { fromPromise } from "./bridge.js";
import { aiterSymbol, type AsyncIterableSource, type AsyncSource } from "./iteration.js";
import { integerArg } from "./arguments.js";

const netApi = lazyBuiltin<typeof net>("node:net", "TCP and Unix streams");
const tlsApi = lazyBuiltin<typeof tls>("node:tls", "TLS streams");

/** Default buffer limit of a reader: 64 KiB (2**16), as in asyncio. */
export const DEFAULT_LIMIT = 2 ** 16;
// Node, Bun and Deno have Buffer; elsewhere a stream has no socket to read from anyway
// (that arm runs in browsers only, never under c8).
/* c8 ignore next */
const EMPTY: Buffer = typeof Buffer === "function" ? Buffer.alloc(0) : (new Uint8Array(0) as Buffer);

/**
 * What `writer.getExtraInfo(name)` returns for the names asyncio documents
 * (those that apply to a Node socket).
 */
export interface StreamExtraInfo {
  /** The remote address: `[host, port]` for TCP, the socket path for Unix sockets. */
  peername: [host: string, port: number] | string;
  /** The local address: `[host, port]` for TCP, the socket path for Unix sockets. */
  sockname: [host: string, port: number] | string;
  /** The Node socket itself (a `tls.TLSSocket` for TLS). */
  socket: net.Socket;
  /** The peer's certificate (TLS only). */
  peercert: tls.PeerCertificate;
  /** The negotiated cipher (TLS only). */
  cipher: tls.CipherNameAndProtocol;
  /** The TLS socket (TLS only; Python's `ssl_object`). */
  ssl_object: tls.TLSSocket;
}

/** TLS for a stream: Node `tls` options, or a `SecureContext`. */
export type StreamTlsOption = tls.ConnectionOptions | tls.TlsOptions | tls.SecureContext | true;

/** Options of `openConnection` / `openUnixConnection`. */
export interface OpenConnectionOptions {
  /** Reader buffer limit in bytes (default 65536). */
  limit?: number;
  /** Connect with TLS: Node `tls.connect` options, a `SecureContext`, or `true` for defaults. */
  tls?: StreamTlsOption;
}

function toBuffer(data: Uint8Array | string, what: string): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (data instanceof Uint8Array) return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`${what} takes bytes (Uint8Array) or a string, got ${typeof data}`);
}

function checkLimit(limit: number | undefined): number {
  return integerArg(limit === undefined ? DEFAULT_LIMIT : limit, "limit", { min: 1 });
}

/**
 * Buffered reading from a connection (Python's `asyncio.StreamReader`).
 * Usable without a socket too: `feedData` / `feedEof` drive it by hand.
 */
export class StreamReader {
  private readonly limit: number;
  // Invariant: `size` is the total length of `chunks`.
  private chunks: Buffer[] = [];
  private size = 0;
  private eof = false;
  private error: unknown = null;
  private waiter: Future<void> | null = null;
  // Any Node Readable: a socket, a child's pipe, a file stream.
  private socket: Readable | null = null;
  private paused = false;
  private loop: EventLoop | null = null;
  /** @internal Whether the peer is a socket of the same loop (then a read waits on the loop, not on real work). */
  peerInLoop: (() => boolean) | null = null;
  // Asked by a virtual clock while a read waits: real work, unless the peer is a socket of this loop.
  private readonly readIsReal = (): boolean => this.peerInLoop?.() !== true;

  constructor(options: { limit?: number } = {}) {
    this.limit = checkLimit(options.limit);
  }

  /** @internal Connects the reader to its socket (or any Readable) for flow control. */
  setTransport(socket: Readable, loop: EventLoop): void {
    this.socket = socket;
    this.loop = loop;
  }

  /** The exception the connection failed with, or `null`. */
  exception(): unknown {
    return this.error;
  }

  /** @internal Fails pending and later reads with `error`. */
  setException(error: unknown): void {
    this.error = error;
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      if (!waiter.done()) waiter.setException(error);
    }
  }

  /** Adds received bytes to the buffer (called by the socket; public for tests). */
  feedData(data: Uint8Array): void {
    if (this.eof) throw new RuntimeError("feedData after feedEof");
    if (data.length === 0) return;
    this.chunks.push(toBuffer(data, "feedData()"));
    this.size += data.length;
    this.wakeWaiter();
    if (this.socket !== null && !this.paused && this.size > 2 * this.limit) {
      this.socket.pause();
      this.paused = true;
    }
  }

  /** Marks the end of the stream. */
  feedEof(): void {
    this.eof = true;
    this.wakeWaiter();
  }

  /** Whether the stream ended and the buffer is empty. */
  atEof(): boolean {
    return this.eof && this.size === 0;
  }

  /**
   * Reads up to `n` bytes (`n = -1`: until the end of the stream). Returns
   * an empty array at the end of the stream.
   */
  *read(n = -1): Coro<Buffer> {
    integerArg(n, "read(): n");
    this.throwIfFailed();
    if (n === 0) return EMPTY;
    if (n < 0) {
      while (!this.eof) {
        yield* this.waitForData("read");
        this.throwIfFailed();
      }
      return this.take(this.size);
    }
    if (this.size === 0 && !this.eof) yield* this.waitForData("read");
    this.throwIfFailed();
    return this.take(Math.min(n, this.size));
  }

  /** Reads exactly `n` bytes; `IncompleteReadError` (with `.partial`) if the stream ends first. */
  *readexactly(n: number): Coro<Buffer> {
    integerArg(n, "readexactly(): n");
    if (n < 0) throw new RangeError(`readexactly(): n can not be less than zero, got ${n}`);
    this.throwIfFailed();
    if (n === 0) return EMPTY;
    while (this.size < n) {
      if (this.eof) {
        const partial = this.take(this.size);
        throw new IncompleteReadError(partial, n);
      }
      yield* this.waitForData("readexactly");
      this.throwIfFailed();
    }
    return this.take(n);
  }

  /**
   * Reads up to and including `separator` (default `"\n"`), or, given an
   * array of separators (Python 3.13's tuple), up to the one whose match
   * ends first. `LimitOverrunError` if none is found within the limit (the
   * data stays buffered); `IncompleteReadError` if the stream ends first.
   */
  *readuntil(separator: Uint8Array | string | readonly (Uint8Array | string)[] = "\n"): Coro<Buffer> {
    const seps = (Array.isArray(separator) ? separator : [separator]).map((sep: Uint8Array | string) => toBuffer(sep, "readuntil()"));
    if (seps.length === 0) throw new RangeError("Separator should contain at least one element");
    seps.sort((a, b) => a.length - b.length);
    const minLength = seps[0]!.length;
    const maxLength = seps[seps.length - 1]!.length;
    if (minLength === 0) throw new RangeError("Separator should be at least one-byte string");
    this.throwIfFailed();
    let offset = 0;
    let matchStart = -1;
    let matchEnd = -1;
    for (;;) {
      if (this.size - offset >= minLength) {
        const buffer = this.flatten();
        for (const sep of seps) {
          const found = buffer.indexOf(sep, offset);
          if (found !== -1 && (matchEnd === -1 || found + sep.length < matchEnd)) {
            matchStart = found;
            matchEnd = found + sep.length;
          }
        }
        if (matchEnd !== -1) break;
        offset = Math.max(0, this.size + 1 - maxLength);
        if (offset > this.limit) throw new LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
      }
      if (this.eof) {
        const partial = this.take(this.size);
        throw new IncompleteReadError(partial, null);
      }
      yield* this.waitForData("readuntil");
      this.throwIfFailed();
    }
    if (matchStart > this.limit) throw new LimitOverrunError("Separator is found, but chunk is longer than limit", matchStart);
    return this.take(matchEnd);
  }

  /**
   * Reads one line, `\n` included; at the end of the stream returns what is
   * left (possibly empty). A line longer than the limit is dropped and
   * raises `RangeError` (Python's `ValueError`).
   */
  *readline(): Coro<Buffer> {
    try {
      return yield* this.readuntil("\n");
    } catch (error) {
      if (error instanceof IncompleteReadError) return Buffer.from(error.partial);
      if (error instanceof LimitOverrunError) {
        const buffer = this.flatten();
        if (buffer[error.consumed] === 0x0a) this.take(error.consumed + 1);
        else this.take(this.size);
        throw new RangeError(error.message, { cause: error });
      }
      throw error;
    }
  }

  /**
   * The reader as an async source of lines (Python's `async for line in
   * reader`): each `readline()`, newline included, until the end of the stream.
   */
  [aiterSymbol](): AsyncSource<Buffer> & AsyncIterableSource<Buffer> {
    return new StreamLines(this);
  }

  /** Buffered bytes and state, for debugging. */
  statistics(): { buffered: number; eof: boolean; paused: boolean; waiting: boolean } {
    return { buffered: this.size, eof: this.eof, paused: this.paused, waiting: this.waiter !== null };
  }

  private throwIfFailed(): void {
    if (this.error !== null) throw this.error;
  }

  private *waitForData(caller: string): Coro<void> {
    if (this.waiter !== null) throw new RuntimeError(`${caller}() called while another coroutine is already waiting for incoming data`);
    if (this.paused) {
      this.paused = false;
      this.socket?.resume();
    }
    const loop = this.loop ?? getRunningLoop();
    const waiter = loop.createFuture<void>();
    this.waiter = waiter;
    // Waiting on a socket or pipe is real work outstanding, and a virtual clock
    // holds for it (autojump), unless the peer is a socket of this same loop.
    const onTransport = this.socket !== null;
    if (onTransport) loop.probedWaitStarted(this.readIsReal);
    try {
      yield* waiter;
    } finally {
      if (onTransport) loop.probedWaitEnded(this.readIsReal);
      if (this.waiter === waiter) this.waiter = null;
    }
  }

  private wakeWaiter(): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      if (!waiter.done()) waiter.setResult(undefined);
    }
  }

  // Joins the chunks into one buffer (needed to search across chunk borders).
  // Only called with data buffered (size > 0), so there is at least one chunk.
  private flatten(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0]!;
  }

  // Removes and returns the first `n` bytes; resumes the socket once drained to the limit.
  private take(n: number): Buffer {
    let result: Buffer;
    if (n === 0) result = EMPTY;
    else if (n === this.size) {
      result = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      this.chunks = [];
    } else {
      const first = this.chunks[0]!;
      if (first.length >= n) {
        result = first.subarray(0, n);
        if (first.length === n) this.chunks.shift();
        else this.chunks[0] = first.subarray(n);
      } else {
        const joined = this.flatten();
        result = joined.subarray(0, n);
        this.chunks[0] = joined.subarray(n);
      }
    }
    this.size -= n;
    if (this.paused && this.size <= this.limit) {
      this.paused = false;
      this.socket?.resume();
    }
    return result;
  }

  // Python's fields, in Python's order: buffered bytes, eof, limit, waiter, exception, transport, paused.
  [inspectCustom](): string {
    const parts = ["StreamReader"];
    if (this.size > 0) parts.push(`${this.size} bytes`);
    if (this.eof) parts.push("eof");
    if (this.limit !== DEFAULT_LIMIT) parts.push(`limit=${this.limit}`);
    if (this.waiter !== null) parts.push(`waiter=${formatValue(this.waiter)}`);
    if (this.error !== null) parts.push(`exception=${errorRepr(this.error)}`);
    if (this.socket !== null) {
      const socket = this.socket;
      const peer = !(socket instanceof netApi.Socket) || socket.remoteAddress === undefined ? "" : ` ${socket.remoteAddress}:${String(socket.remotePort)}`;
      parts.push(`transport=<${this.socket.constructor.name}${peer}>`);
    }
    if (this.paused) parts.push("paused");
    return `<${parts.join(" ")}>`;
  }
}

// An error as Python's repr shows an exception: `RuntimeError()`, `RangeError('bad')`.
function errorRepr(error: unknown): string {
  if (!(error instanceof Error)) return formatValue(error);
  return `${error.name}(${error.message === "" ? "" : `'${error.message}'`})`;
}

function uncork(writer: StreamWriter): void {
  writer.flushBatch();
}

/** A connection error for a connection lost while writing (Python's `ConnectionResetError`). */
function connectionLost(): Error {
  return new ConnectionResetError("Connection lost", { code: "ECONNRESET" });
}

/**
 * Writing to a connection (Python's `asyncio.StreamWriter`). `write` never
 * waits; `yield* writer.drain()` after writing is what gives backpressure.
 */
export class StreamWriter {
  /** The reader of the same connection (may be `null`). */
  readonly reader: StreamReader | null;
  // Any Node Writable: a socket, a child's stdin, a file stream.
  private readonly socket: Writable;
  private readonly loop: EventLoop;
  private closing = false;
  private eofWritten = false;
  private closed = false;
  private closeError: unknown = null;
  private closedWaiters: Future<void>[] = [];
  private drainWaiters: Future<void>[] = [];
  private corked = false;

  /** @internal Made by `openConnection` and servers. */
  constructor(socket: Writable, reader: StreamReader | null, loop: EventLoop) {
    this.socket = socket;
    this.reader = reader;
    this.loop = loop;
    socket.on("drain", () => this.releaseDrainWaiters(null));
  }

  /** @internal The socket reported an error. */
  connectionError(error: unknown): void {
    this.closeError ??= error;
  }

  /** @internal The socket closed. */
  connectionClosed(): void {
    this.closed = true;
    this.closing = true;
    if (this.drainWaiters.length > 0) this.releaseDrainWaiters(this.closeError ?? connectionLost());
    const waiters = this.closedWaiters;
    this.closedWaiters = [];
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(undefined);
  }

  /** Queues `data` (bytes, or a string as UTF-8) for sending; never waits. */
  write(data: Uint8Array | string): void {
    const buffer = toBuffer(data, "write()");
    if (this.eofWritten) throw new RuntimeError("Cannot call write() after writeEof()");
    // As asyncio: writing to a lost connection is dropped; drain() reports the loss.
    if (this.closing || buffer.length === 0) return;
    if (!this.corked) {
      // Writes made in one loop iteration leave in one writev, not a syscall each.
      this.corked = true;
      this.socket.cork();
      process.nextTick(uncork, this);
    }
    this.socket.write(buffer);
  }

  /** @internal Ends the batch started by the first write of this iteration. */
  flushBatch(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  /** Writes each item in order. */
  writelines(lines: Iterable<Uint8Array | string>): void {
    for (const line of lines) this.write(line);
  }

  /**
   * Waits until the write buffer is below its high-water mark. Throws the
   * connection's error if it was lost.
   */
  *drain(): Coro<void> {
    const readerError = this.reader?.exception();
    if (readerError !== null && readerError !== undefined) throw readerError;
    // A failed write (EPIPE) destroys the stream at once, before its 'close' event.
    if (this.closing || this.socket.destroyed) {
      // Give a pending close or error event its turn, as asyncio yields here:
      // one host turn (Node emits 'close' in a later phase), not just one
      // loop iteration, which may run in the same macrotask.
      yield* fromPromise(new Promise<void>((resolve) => setImmediate(resolve)));
      if (this.closed || this.socket.destroyed) throw this.closeError ?? connectionLost();
      return;
    }
    // A batch still corked flushes at the end of this iteration; 'drain' follows it.
    if (!this.socket.writableNeedDrain) return;
    const waiter = this.loop.createFuture<void>();
    this.drainWaiters.push(waiter);
    try {
      yield* waiter;
    } finally {
      const index = this.drainWaiters.indexOf(waiter);
      if (index !== -1) this.drainWaiters.splice(index, 1);
    }
  }

  /** Whether the writer can half-close (`writeEof`): TCP and Unix sockets can, TLS cannot. */
  canWriteEof(): boolean {
    return !(this.socket instanceof tlsApi.TLSSocket);
  }

  /** Sends end-of-stream after the buffered data; the connection stays readable (half-close). */
  writeEof(): void {
    if (!this.canWriteEof()) throw new RuntimeError("this connection cannot half-close (TLS)");
    if (this.eofWritten || this.closing) return;
    this.eofWritten = true;
    this.flushBatch();
    this.socket.end();
  }

  /** Closes the connection once the buffered data is sent. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.flushBatch();
    const socket = this.socket;
    if (socket.destroyed) return;
    // end() flushes, then sends FIN; destroy() then releases the socket without waiting for the peer (asyncio's transport.close()).
    socket.end(() => socket.destroy());
  }

  /** Whether `close()` was called or the connection is gone. */
  isClosing(): boolean {
    return this.closing;
  }

  /** Waits until the connection is closed. */
  *waitClosed(): Coro<void> {
    if (this.closed) return;
    const waiter = this.loop.createFuture<void>();
    this.closedWaiters.push(waiter);
    yield* waiter;
  }

  /**
   * Connection details (Python's `get_extra_info`): `"peername"` and
   * `"sockname"` (`[host, port]` for TCP, the path for Unix sockets),
   * `"socket"` (the Node socket), and for TLS `"peercert"`, `"cipher"` and
   * `"ssl_object"`; typed by `StreamExtraInfo`. `dflt` (default `undefined`)
   * when the detail does not apply, and for any other name.
   *
   * @example
   * const peer = writer.getExtraInfo("peername"); // [host, port] | string | undefined
   */
  getExtraInfo<K extends keyof StreamExtraInfo>(name: K): StreamExtraInfo[K] | undefined;
  getExtraInfo<K extends keyof StreamExtraInfo, D>(name: K, dflt: D): StreamExtraInfo[K] | D;
  getExtraInfo(name: string, dflt?: unknown): unknown;
  getExtraInfo(name: string, dflt?: unknown): unknown {
    const socket = this.socket;
    if (!(socket instanceof netApi.Socket)) return name === "pipe" ? socket : dflt;
    switch (name) {
      case "socket":
        return socket;
      case "peername":
        return socket.remotePort !== undefined ? [socket.remoteAddress, socket.remotePort] : (this.unixPath ?? dflt);
      case "sockname":
        return socket.localPort !== undefined ? [socket.localAddress, socket.localPort] : (this.unixPath ?? dflt);
      case "peercert":
        return socket instanceof tlsApi.TLSSocket ? socket.getPeerCertificate() : dflt;
      case "cipher":
        return socket instanceof tlsApi.TLSSocket ? socket.getCipher() : dflt;
      case "ssl_object":
        return socket instanceof tlsApi.TLSSocket ? socket : dflt;
      default:
        return dflt;
    }
  }

  /** @internal The Unix socket path of this connection, if any. */
  unixPath: string | null = null;

  private releaseDrainWaiters(error: unknown): void {
    const waiters = this.drainWaiters;
    if (waiters.length === 0) return;
    this.drainWaiters = [];
    for (const waiter of waiters) {
      if (waiter.done()) continue;
      if (error === null) waiter.setResult(undefined);
      else waiter.setException(error);
    }
  }

  [inspectCustom](): string {
    const state = this.closed ? "closed" : this.closing ? "closing" : "open";
    return `<StreamWriter ${state} buffered=${this.socket.writableLength}>`;
  }
}

/** @internal Wires a connected socket to a new reader and writer. */
export function wrapSocket(socket: net.Socket, loop: EventLoop, limit: number, unixPath: string | null = null): [StreamReader, StreamWriter] {
  const reader = readerOver(socket, loop, limit);
  const writer = writerOver(socket, reader, loop);
  writer.unixPath = unixPath;
  trackEndpoint(socket, loop, reader, unixPath);
  return [reader, writer];
}

// The open socket ends of each loop, counted by endpoint. A client and the
// server it talks to in one program are both ends of one connection: a read
// on either waits for the loop's own tasks (which may sleep on virtual time),
// not for real work, so it must not hold a virtual clock.
const openEndpoints = new WeakMap<EventLoop, Map<string, number>>();

function endpointKeys(socket: net.Socket, unixPath: string | null): [own: string, peer: string] | null {
  if (unixPath !== null) {
    // A Unix socket has no port: the accepted end and the connecting end are told apart by side.
    const accepted = (socket as { server?: unknown }).server != null;
    return accepted ? [`server ${unixPath}`, `client ${unixPath}`] : [`client ${unixPath}`, `server ${unixPath}`];
  }
  const { localAddress, localPort, remoteAddress, remotePort } = socket;
  if (localAddress === undefined || remoteAddress === undefined) return null;
  const plain = (address: string): string => address.replace(/^::ffff:/, "");
  return [`${plain(localAddress)} ${localPort}`, `${plain(remoteAddress)} ${remotePort}`];
}

function trackEndpoint(socket: net.Socket, loop: EventLoop, reader: StreamReader, unixPath: string | null): void {
  const keys = endpointKeys(socket, unixPath);
  if (keys === null) return;
  const [own, peer] = keys;
  let endpoints = openEndpoints.get(loop);
  if (endpoints === undefined) openEndpoints.set(loop, (endpoints = new Map()));
  const counts = endpoints;
  counts.set(own, (counts.get(own) ?? 0) + 1);
  socket.once("close", () => {
    const left = counts.get(own)! - 1;
    if (left === 0) counts.delete(own);
    else counts.set(own, left);
  });
  reader.peerInLoop = () => counts.has(peer);
}

/**
 * @internal A reader fed by any Node Readable (a socket, a child's pipe, a
 * file stream), pausing and resuming it for flow control.
 */
export function readerOver(readable: Readable, loop: EventLoop, limit: number): StreamReader {
  const reader = new StreamReader({ limit });
  reader.setTransport(readable, loop);
  readable.on("data", (chunk: Buffer) => {
    if (!loop.isClosed()) reader.feedData(chunk);
  });
  readable.on("end", () => {
    if (!loop.isClosed()) reader.feedEof();
  });
  readable.on("error", (error: Error) => {
    if (!loop.isClosed()) reader.setException(toOSError(error));
  });
  readable.on("close", () => {
    if (loop.isClosed()) return;
    if (reader.exception() === null && !reader.atEof()) reader.feedEof();
  });
  return reader;
}

/**
 * @internal A writer over any Node Writable (a socket, a child's stdin, a
 * file stream); `reader` is the same connection's reader, if any.
 */
export function writerOver(writable: Writable, reader: StreamReader | null, loop: EventLoop): StreamWriter {
  const writer = new StreamWriter(writable, reader, loop);
  writable.on("error", (error: Error) => writer.connectionError(toOSError(error)));
  writable.on("close", () => {
    if (!loop.isClosed()) writer.connectionClosed();
  });
  return writer;
}

function resolveTls(option: StreamTlsOption | undefined): tls.ConnectionOptions | null {
  if (option === undefined) return null;
  if (option === true) return {};
  // A SecureContext (from tls.createSecureContext) carries its native handle in `context`.
  if (typeof (option as { context?: unknown }).context === "object" && !("secureContext" in option)) return { secureContext: option as tls.SecureContext };
  return option as tls.ConnectionOptions;
}

function* connect(loop: EventLoop, makeSocket: () => net.Socket, secure: boolean): Coro<net.Socket> {
  const connected = loop.createFuture<net.Socket>();
  const hold = loop.holdTime();
  const socket = makeSocket();
  const connectEvent = secure ? "secureConnect" : "connect";
  // Each listener removes the other: at most one of them runs.
  const onConnect = (): void => {
    socket.removeListener("error", onError);
    if (!connected.done()) connected.setResult(socket);
  };
  const onError = (error: Error): void => {
    socket.removeListener(connectEvent, onConnect);
    socket.destroy();
    if (!connected.done()) connected.setException(toOSError(error));
  };
  socket.once(connectEvent, onConnect);
  socket.once("error", onError);
  try {
    return yield* connected;
  } catch (error) {
    // Failed, or cancelled (even after the connection completed): the socket must not leak.
    socket.destroy();
    throw error;
  } finally {
    hold.release();
  }
}

/**
 * Opens a TCP (or TLS) connection and returns its reader and writer
 * (Python's `asyncio.open_connection`).
 *
 * @example
 * const [reader, writer] = yield* openConnection("127.0.0.1", 8000);
 * writer.write("hello\n");
 * yield* writer.drain();
 * const reply = yield* reader.readline();
 */
export function* openConnection(host: string, port: number, options: OpenConnectionOptions = {}): Coro<[StreamReader, StreamWriter]> {
  integerArg(port, "openConnection(): port", { min: 0, max: 65535 });
  const limit = checkLimit(options.limit);
  const loop = getRunningLoop();
  const tlsOptions = resolveTls(options.tls);
  const socket = yield* connect(
    loop,
    () => (tlsOptions !== null ? tlsApi.connect({ servername: netApi.isIP(host) === 0 ? host : undefined, ...tlsOptions, host, port }) : netApi.connect({ host, port, allowHalfOpen: true, noDelay: true })),
    tlsOptions !== null,
  );
  return wrapSocket(socket, loop, limit);
}

/** Opens a Unix-socket connection (Python's `asyncio.open_unix_connection`). */
export function* openUnixConnection(path: string, options: OpenConnectionOptions = {}): Coro<[StreamReader, StreamWriter]> {
  if (typeof path !== "string" || path.length === 0) throw new TypeError("openUnixConnection() takes a socket path");
  const limit = checkLimit(options.limit);
  const loop = getRunningLoop();
  const tlsOptions = resolveTls(options.tls);
  const socket = yield* connect(
    loop,
    () => (tlsOptions !== null ? tlsApi.connect({ ...tlsOptions, path }) : netApi.connect({ path, allowHalfOpen: true })),
    tlsOptions !== null,
  );
  return wrapSocket(socket, loop, limit, path);
}

// The async source of a reader: readline() until it returns nothing (EOF).
class StreamLines implements AsyncSource<Buffer> {
  constructor(private readonly reader: StreamReader) {}

  /** The iterator itself: it is a source too (Python's `__aiter__`). */
  [aiterSymbol](): this {
    return this;
  }

  *next(): Coro<IteratorResult<Buffer, undefined>> {
    const line = yield* this.reader.readline();
    if (line.length === 0) return { done: true, value: undefined };
    return { done: false, value: line };
  }
}
