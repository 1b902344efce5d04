/**
 * `startServer`, `startUnixServer` and `Server`: accept connections and run a
 * handler task for each (Python's `asyncio.start_server` and `Server`).
 *
 * Each client handler runs as its own task; an exception in one is reported
 * through the loop's exception handler and closes only that connection.
 * When a handler task ends — returned, failed or cancelled — its connection
 * is closed (after flushing what was written), as Trio does: a handler that
 * forgot `writer.close()` cannot keep the connection, and `waitClosed()`,
 * open forever. `waitClosed()` waits until the server stopped listening and
 * every connection is closed.
 *
 * With `maxConnections`, a connection arriving while that many are open is
 * accepted and closed at once (Node's `server.maxConnections`); the client
 * sees its connection end before any reply. Drops, and accepts that fail
 * (`EMFILE`, `ENFILE`: out of file descriptors), are reported through the
 * loop's exception handler as one warning per burst (the first drop opens a
 * one-second window; the warning at its end gives the count). Below that
 * limit, a process out of descriptors is handled by libuv alone: it accepts
 * and closes the waiting connections without telling Node, so they cannot be
 * counted; keep `maxConnections` under the descriptor limit to see them.
 */
import type * as fs from "node:fs";
import type * as net from "node:net";
import type * as tls from "node:tls";
import { lazyBuiltin } from "./host.js";
import { formatValue, inspectCustom } from "./repr.js";
import { isCoroutine, type Coro } from "./coroutines.js";
import { RuntimeError, toOSError } from "./errors.js";
import { type EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";
import type { Future } from "./futures.js";
import { DEFAULT_LIMIT, wrapSocket, type StreamReader, type StreamTlsOption, type StreamWriter } from "./streams.js";
import type { Task } from "./tasks.js";
import { integerArg, optionsArg } from "./arguments.js";

const fsApi = lazyBuiltin<typeof fs>("node:fs", "Unix servers");
const netApi = lazyBuiltin<typeof net>("node:net", "startServer");
const tlsApi = lazyBuiltin<typeof tls>("node:tls", "TLS servers");

/** What a server runs for each connection; a coroutine result runs as a task. */
export type ClientConnectedCallback = (reader: StreamReader, writer: StreamWriter) => Coro<void> | void;

/** Options of `startServer` / `startUnixServer`. */
export interface StartServerOptions {
  /** Reader buffer limit in bytes (default 65536). */
  limit?: number;
  /** Listen backlog (default: Node's, 511). */
  backlog?: number;
  /** Serve TLS: Node `tls.createServer` options (key, cert, ...) or a `SecureContext`. */
  tls?: StreamTlsOption;
  /** Start accepting at once (default `true`); otherwise call `startServing()`. */
  startServing?: boolean;
  /**
   * Most connections open at once (default: no limit). One arriving at the
   * limit is closed at once and counted in a warning (see the module doc).
   */
  maxConnections?: number;
}

// How long a burst of dropped connections is counted before its warning, in loop seconds.
const DROP_REPORT_WINDOW = 1;

/** A bound address, as Node's `server.address()` reports it (a path for Unix sockets). */
export type ServerAddress = net.AddressInfo | string;

type ListenTarget = { host: string; port: number } | { path: string };

/** A listening server (Python's `asyncio.Server`). */
export class Server {
  private readonly loop: EventLoop;
  private readonly nodeServer: net.Server;
  private readonly target: ListenTarget;
  private readonly backlog: number | undefined;
  private readonly connections = new Set<{ socket: net.Socket; writer: StreamWriter }>();
  private readonly handlers = new Set<Task<void>>();
  private serving = false;
  private closed = false;
  private listeningDone = false;
  private handleReleased = false;
  private serveForeverFuture: Future<never> | null = null;
  private closedWaiters: Future<void>[] = [];
  private readonly maxConnections: number | null;
  // The burst of dropped connections being counted, and the errors that dropped them.
  private dropped = 0;
  private dropCauses = new Map<string, number>();
  private dropReport: { cancel(): void } | null = null;
  private droppedTotal = 0;

  /** @internal Made by `startServer` / `startUnixServer`. */
  constructor(loop: EventLoop, callback: ClientConnectedCallback, target: ListenTarget, options: StartServerOptions) {
    this.loop = loop;
    this.target = target;
    this.backlog = options.backlog;
    this.maxConnections = options.maxConnections ?? null;
    const limit = options.limit ?? DEFAULT_LIMIT;
    const tlsOptions = options.tls === undefined ? null : options.tls === true ? {} : options.tls;
    const onSocket = (socket: net.Socket): void => this.accept(socket, callback, limit);
    const isSecureContext = tlsOptions !== null && typeof (tlsOptions as { context?: unknown }).context === "object" && !("key" in tlsOptions);
    if (isSecureContext) {
      // tls.createServer ignores a ready-made secureContext; wrap each accepted socket instead.
      const secureContext = tlsOptions as tls.SecureContext;
      this.nodeServer = netApi.createServer({ noDelay: true }, (raw) => {
        const socket = new tlsApi.TLSSocket(raw, { isServer: true, secureContext });
        socket.once("secure", () => onSocket(socket));
        socket.once("error", () => socket.destroy());
      });
    } else if (tlsOptions !== null) {
      this.nodeServer = tlsApi.createServer({ ...(tlsOptions as tls.TlsOptions), allowHalfOpen: false }, onSocket);
    } else {
      this.nodeServer = netApi.createServer({ allowHalfOpen: true, noDelay: true }, onSocket);
    }
    // Handshake failures and the like concern one client, not the server.
    this.nodeServer.on("tlsClientError", () => undefined);
    if (this.maxConnections !== null) {
      this.nodeServer.maxConnections = this.maxConnections;
      this.nodeServer.on("drop", () => this.connectionDropped(`at the limit of ${this.maxConnections} connections`));
    }
  }

  /** Connections dropped so far at `maxConnections` or by a failed accept. */
  get droppedConnections(): number {
    return this.droppedTotal + this.dropped;
  }

  /**
   * The bound addresses (empty once closed): a `net.AddressInfo`
   * (`{ address, family, port }`) for TCP, the path for a Unix socket.
   */
  get sockets(): ServerAddress[] {
    if (this.closed || !this.serving) return [];
    const address = this.nodeServer.address();
    return address === null ? [] : [address];
  }

  /** Whether the server accepts connections. */
  isServing(): boolean {
    return this.serving && !this.closed;
  }

  /** Starts accepting connections (if not already); waits until listening. */
  *startServing(): Coro<void> {
    if (this.closed) throw new RuntimeError(`server ${formatValue(this)} is closed`);
    if (this.serving) return;
    this.serving = true;
    const listening = this.loop.createFuture<void>();
    const hold = this.loop.holdTime();
    const onError = (error: Error): void => {
      hold.release();
      this.serving = false;
      if (!listening.done()) listening.setException(toOSError(error));
    };
    this.nodeServer.once("error", onError);
    const onListening = (): void => {
      hold.release();
      this.listeningDone = true;
      this.nodeServer.removeListener("error", onError);
      // After listening, an error is a failed accept (EMFILE, ENFILE, ...): it drops one client, not the server.
      this.nodeServer.on("error", (error: NodeJS.ErrnoException) => this.connectionDropped(`accept failed: ${error.code ?? error.message}`));
      if (!listening.done()) listening.setResult(undefined);
    };
    if ("path" in this.target) {
      removeStaleSocket(this.target.path);
      this.nodeServer.listen({ path: this.target.path, backlog: this.backlog }, onListening);
    } else {
      this.nodeServer.listen({ host: this.target.host, port: this.target.port, backlog: this.backlog }, onListening);
    }
    yield* listening;
  }

  /**
   * Accepts connections until cancelled; cancelling it closes the server and
   * waits for it to close.
   */
  *serveForever(): Coro<never> {
    if (this.serveForeverFuture !== null) throw new RuntimeError(`server ${formatValue(this)} is already being awaited on serveForever()`);
    if (this.closed) throw new RuntimeError(`server ${formatValue(this)} is closed`);
    yield* this.startServing();
    const forever = this.loop.createFuture<never>();
    this.serveForeverFuture = forever;
    try {
      return yield* forever;
    } catch (error) {
      this.close();
      yield* this.waitClosed();
      throw error;
    } finally {
      this.serveForeverFuture = null;
    }
  }

  /** Stops listening; open connections stay open (see `closeClients`). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.listeningDone) {
      // Node calls back once the listening handle is released and every connection has ended.
      this.nodeServer.close(() => {
        this.handleReleased = true;
        this.checkClosed();
      });
    } else {
      this.handleReleased = true;
      this.nodeServer.close();
    }
    if ("path" in this.target && this.listeningDone) removeStaleSocket(this.target.path);
    const forever = this.serveForeverFuture;
    if (forever !== null && !forever.done()) forever.cancel();
    this.flushDropReport();
    this.checkClosed();
  }

  /** Closes every client connection (after flushing what was written). */
  closeClients(): void {
    for (const { writer } of this.connections) writer.close();
  }

  /** Drops every client connection at once, without flushing. */
  abortClients(): void {
    for (const { socket } of this.connections) socket.destroy();
  }

  /** Waits until the server is closed and every connection and handler has finished. */
  *waitClosed(): Coro<void> {
    if (this.isFullyClosed()) return;
    const waiter = this.loop.createFuture<void>();
    this.closedWaiters.push(waiter);
    yield* waiter;
  }

  /** Runs `body` with the server, then closes it and waits (Python's `async with server:`). */
  *hold<T>(body: (server: Server) => Coro<T>): Coro<T> {
    try {
      return yield* body(this);
    } finally {
      this.close();
      yield* this.waitClosed();
    }
  }

  private accept(socket: net.Socket, callback: ClientConnectedCallback, limit: number): void {
    if (this.closed || this.loop.isClosed()) {
      socket.destroy();
      return;
    }
    const [reader, writer] = wrapSocket(socket, this.loop, limit, "path" in this.target ? this.target.path : null);
    const connection = { socket, writer };
    this.connections.add(connection);
    socket.once("close", () => {
      this.connections.delete(connection);
      this.checkClosed();
    });
    let result: Coro<void> | void;
    try {
      result = callback(reader, writer);
    } catch (error) {
      this.handlerFailed(error, writer);
      writer.close();
      return;
    }
    if (!isCoroutine(result)) return;
    const task = this.loop.createTask(result);
    this.handlers.add(task);
    task.addDoneCallback(() => {
      this.handlers.delete(task);
      if (!task.cancelled()) {
        const error = task.exception();
        if (error !== null) this.handlerFailed(error, writer);
      }
      // The handler is done with its connection, whatever it did with the writer.
      writer.close();
      this.checkClosed();
    });
  }

  private handlerFailed(error: unknown, writer: StreamWriter): void {
    this.loop.callExceptionHandler({ message: "Unhandled exception in client_connected_cb", exception: error, writer });
  }

  // One dropped connection: counted into the current burst, reported when its window ends.
  private connectionDropped(cause: string): void {
    this.dropped++;
    this.dropCauses.set(cause, (this.dropCauses.get(cause) ?? 0) + 1);
    if (this.dropReport !== null || this.loop.isClosed()) return;
    this.dropReport = this.loop.callLater(DROP_REPORT_WINDOW, () => {
      this.dropReport = null;
      this.flushDropReport();
    });
  }

  private flushDropReport(): void {
    this.dropReport?.cancel();
    this.dropReport = null;
    if (this.dropped === 0) return;
    const count = this.dropped;
    const causes = [...this.dropCauses].map(([cause, n]) => `${n} ${cause}`).join(", ");
    this.droppedTotal += count;
    this.dropped = 0;
    this.dropCauses = new Map();
    if (this.loop.isClosed()) return;
    this.loop.callExceptionHandler({ message: `server ${this.describeAddress()} dropped ${count} connection${count === 1 ? "" : "s"} (${causes})` });
  }

  private isFullyClosed(): boolean {
    return this.closed && this.handleReleased && this.connections.size === 0 && this.handlers.size === 0;
  }

  private checkClosed(): void {
    if (!this.isFullyClosed() || this.closedWaiters.length === 0) return;
    const waiters = this.closedWaiters;
    this.closedWaiters = [];
    for (const waiter of waiters) if (!waiter.done()) waiter.setResult(undefined);
  }

  private describeAddress(): string {
    const address = this.listeningDone && !this.closed ? this.nodeServer.address() : null;
    if (address !== null && typeof address === "object") return `${address.address}:${address.port}`;
    return "path" in this.target ? this.target.path : `${this.target.host}:${this.target.port}`;
  }

  [inspectCustom](): string {
    const where = "path" in this.target ? this.target.path : `${this.target.host}:${this.target.port}`;
    return `<Server ${where} ${this.closed ? "closed" : this.serving ? "serving" : "not serving"} connections=${this.connections.size}>`;
  }
}

function removeStaleSocket(path: string): void {
  try {
    if (fsApi.lstatSync(path).isSocket()) fsApi.unlinkSync(path);
  } catch {
    // Nothing there (or not ours to remove): listen() reports any real problem.
  }
}

function* start(loop: EventLoop, callback: ClientConnectedCallback, target: ListenTarget, options: StartServerOptions): Coro<Server> {
  if (typeof callback !== "function") throw new TypeError("the client-connected callback must be a function");
  optionsArg(options, "startServer(): options");
  if (options.limit !== undefined) integerArg(options.limit, "startServer(): limit", { min: 1 });
  if (options.backlog !== undefined) integerArg(options.backlog, "startServer(): backlog", { min: 0 });
  if (options.maxConnections !== undefined) integerArg(options.maxConnections, "startServer(): maxConnections", { min: 1 });
  const server = new Server(loop, callback, target, options);
  if (options.startServing ?? true) yield* server.startServing();
  return server;
}

/**
 * Starts a TCP (or TLS) server calling `clientConnected(reader, writer)`
 * for each connection (Python's `asyncio.start_server`). Port 0 picks a
 * free port; read it from the bound address, which is a `net.AddressInfo`
 * for TCP: `(server.sockets[0] as AddressInfo).port`.
 *
 * @example
 * const server = yield* startServer(function* (reader, writer) {
 *   const order = yield* reader.read(1024);
 *   writer.write("Here's your pizza!");
 *   yield* writer.drain();
 *   writer.close();
 * }, "127.0.0.1", 8000);
 * yield* server.serveForever();
 */
export function* startServer(clientConnected: ClientConnectedCallback, host: string, port: number, options: StartServerOptions = {}): Coro<Server> {
  integerArg(port, "startServer(): port", { min: 0, max: 65535 });
  return yield* start(getRunningLoop(), clientConnected, { host, port }, options);
}

/** Starts a Unix-socket server (Python's `asyncio.start_unix_server`); a stale socket file is replaced. */
export function* startUnixServer(clientConnected: ClientConnectedCallback, path: string, options: StartServerOptions = {}): Coro<Server> {
  if (typeof path !== "string" || path.length === 0) throw new TypeError("startUnixServer() takes a socket path");
  return yield* start(getRunningLoop(), clientConnected, { path }, options);
}
