/**
 * The chapter's pizza server, production-grade: read the order (at most
 * 1024 bytes), bake, reply `Here's your pizza!`, close. Optional ovens limit
 * concurrent baking; a silent client is dropped; `shutdown(grace)` stops
 * accepting, lets orders in flight finish for `grace` seconds, then cancels
 * the rest.
 *
 * The order is what the first read returns; bytes arriving later (an order
 * sent in pieces) and an end-of-stream (a client that half-closes after
 * sending, `nc -N`) belong to the order, not to a hang-up. A hang-up is the
 * connection really closing: a reset mid-bake cancels the pizza and frees its
 * oven at once; a reply that cannot be written counts the order as
 * cancelled. A client that closes without a reset (a FIN) cannot be told
 * from one that half-closed until the reply is written, so its pizza is
 * baked. With `maxConnections`, connections beyond it are closed at once and
 * reported (see `StartServerOptions.maxConnections`).
 */
import type { AddressInfo, Socket } from "node:net";
import {
  CancelledError,
  FIRST_COMPLETED,
  Semaphore,
  TimeoutError,
  createTask,
  currentTask,
  getRunningLoop,
  moveOnAfter,
  sleep,
  startServer,
  wait,
  waitFor,
  type Coro,
  type Future,
  type Server,
  type StreamReader,
  type StreamWriter,
  type Task,
} from "../index.js";

/** The reply of a served order (the chapter's protocol). */
export const PIZZA_REPLY = "Here's your pizza!";
/** The longest order accepted, in bytes. */
export const MAX_ORDER_BYTES = 1024;

/** Options of `startPizzeria`. */
export interface PizzeriaOptions {
  host?: string;
  port?: number;
  /** Seconds to bake one pizza (default 2, as in the chapter). */
  bake?: number;
  /** How many pizzas bake at once; 0 = unlimited (the chapter's behaviour). */
  ovens?: number;
  /** Seconds a client may take to send its order before it is dropped (default 10). */
  readTimeout?: number;
  /** Pending connections the kernel may queue (default 4096; Node's own default is 511). */
  backlog?: number;
  /** Most connections open at once (default: no limit); more are closed at once, with one warning per burst. */
  maxConnections?: number;
  /** Called with one line per order. */
  log?: (line: string) => void;
}

/**
 * Returns once the connection really closed: a reset or a failed write (its
 * `'error'`), or its `'close'`. Bytes and an end-of-stream do not count.
 * The error is watched as well as the close because Node reports the close
 * only in a later phase of its loop.
 */
function* connectionGone(writer: StreamWriter): Coro<void> {
  const socket = writer.getExtraInfo("socket") as Socket;
  if (socket.destroyed) return;
  const gone = getRunningLoop().createFuture<void>();
  const onGone = (): void => {
    if (!gone.done()) gone.setResult(undefined);
  };
  socket.once("error", onGone);
  socket.once("close", onGone);
  try {
    yield* gone;
  } finally {
    socket.removeListener("error", onGone);
    socket.removeListener("close", onGone);
  }
}

// A connection that failed under the handler: the client is gone, which is not the server's error.
function isConnectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED";
}

/** How an order ended. */
export type OrderOutcome = "served" | "cancelled" | "timeout" | "too-large" | "empty" | "error";

/** A running pizzeria. */
export interface Pizzeria {
  readonly server: Server;
  readonly port: number;
  /** Orders by outcome so far. */
  readonly outcomes: Record<OrderOutcome, number>;
  /** Orders being handled now. */
  inFlight(): number;
  /** Stops accepting new connections and waits until every order in flight is done (bound it with a deadline). */
  drain(): Coro<void>;
  /** Cancels the orders still in flight, drops their connections and waits until the server is closed. */
  close(): Coro<void>;
  /** Stops accepting, waits up to `grace` seconds for orders in flight, cancels the rest, closes. */
  shutdown(grace: number): Coro<void>;
}

/** Starts the pizza server; returns once it listens. */
export function* startPizzeria(options: PizzeriaOptions = {}): Coro<Pizzeria> {
  const bake = options.bake ?? 2;
  const ovens = options.ovens ?? 0;
  const readTimeout = options.readTimeout ?? 10;
  // No logger, no log line: the peer and latency text is built only for one.
  const log = options.log ?? null;
  if (!(bake >= 0)) throw new RangeError("bake must be >= 0 seconds");
  if (!Number.isInteger(ovens) || ovens < 0) throw new RangeError("ovens must be a whole number >= 0");
  const oven = ovens > 0 ? new Semaphore(ovens) : null;
  const outcomes: Record<OrderOutcome, number> = { served: 0, cancelled: 0, timeout: 0, "too-large": 0, empty: 0, error: 0 };
  const handlers = new Set<Task<unknown>>();
  const loop = getRunningLoop();
  // Set while drain() waits; resolved when the last handler ends.
  let idle: Future<void> | null = null;

  function* bakePizza(): Coro<void> {
    if (oven === null) yield* sleep(bake);
    else yield* oven.hold(() => sleep(bake));
  }

  function* handleClient(reader: StreamReader, writer: StreamWriter): Coro<void> {
    const started = loop.time();
    // Read now: once the peer has gone its address may be unknown.
    const peer = log === null ? null : writer.getExtraInfo("peername");
    const peerText = Array.isArray(peer) ? `${peer[0]}:${peer[1]}` : String(peer);
    let order = "";
    let outcome: OrderOutcome = "error";
    try {
      let data: Uint8Array;
      try {
        data = yield* waitFor(reader.read(MAX_ORDER_BYTES + 1), readTimeout);
      } catch (error) {
        if (error instanceof TimeoutError) {
          outcome = "timeout";
          return;
        }
        throw error;
      }
      if (data.length === 0) {
        outcome = "empty";
        return;
      }
      if (data.length > MAX_ORDER_BYTES) {
        outcome = "too-large";
        writer.write(`Error: order too large (at most ${MAX_ORDER_BYTES} bytes)\n`);
        yield* writer.drain();
        return;
      }
      let received = data.length;
      order = Buffer.from(data).toString("utf8");
      // Bake while watching the connection: only its real close (a reset) cancels the pizza.
      // More bytes, or an end-of-stream, are not a hang-up: they stay in the reader.
      const baking = createTask(bakePizza());
      const hangUp = createTask(connectionGone(writer));
      try {
        yield* wait([baking, hangUp], { returnWhen: FIRST_COMPLETED });
      } finally {
        // connectionGone() never fails, so cancelling leaves nothing to retrieve.
        if (!hangUp.done()) hangUp.cancel();
        if (!baking.done()) baking.cancel();
      }
      if (hangUp.done() && !hangUp.cancelled()) {
        // Let the cancelled bake finish (wait() never raises): the oven is free again.
        yield* wait([baking]);
        outcome = "cancelled";
        return;
      }
      yield* baking;
      // The rest of an order that came in pieces.
      const rest = reader.statistics().buffered;
      if (rest > 0 && received < MAX_ORDER_BYTES) {
        const more = yield* reader.read(Math.min(rest, MAX_ORDER_BYTES - received));
        received += more.length;
        order += Buffer.from(more).toString("utf8");
      }
      writer.write(PIZZA_REPLY);
      yield* writer.drain();
      outcome = "served";
    } catch (error) {
      if (isConnectionLost(error)) {
        // The write side failed, or the client reset before ordering: it hung up.
        outcome = "cancelled";
        return;
      }
      outcome = error instanceof CancelledError ? "cancelled" : "error";
      throw error;
    } finally {
      outcomes[outcome]++;
      writer.close();
      if (log !== null) {
        const latency = ((loop.time() - started) * 1000).toFixed(1);
        log(`${peerText} order=${JSON.stringify(order.trim())} ${outcome} ${latency} ms`);
      }
    }
  }

  const server = yield* startServer(
    function* (reader, writer) {
      // Each handler runs as its own task: remember it so shutdown can cancel what is left.
      const task = currentTask()!;
      handlers.add(task);
      try {
        yield* handleClient(reader, writer);
      } finally {
        handlers.delete(task);
        if (handlers.size === 0 && idle !== null && !idle.done()) idle.setResult(undefined);
      }
    },
    options.host ?? "127.0.0.1",
    options.port ?? 0,
    { backlog: options.backlog ?? 4096, ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}) },
  );
  const port = (server.sockets[0] as AddressInfo).port;

  function* drain(): Coro<void> {
    server.close();
    while (handlers.size > 0) {
      idle = loop.createFuture<void>();
      yield* idle;
    }
  }

  function* close(): Coro<void> {
    for (const task of handlers) task.cancel();
    server.abortClients();
    yield* server.waitClosed();
  }

  return {
    server,
    port,
    outcomes,
    inFlight: () => handlers.size,
    drain,
    close,
    *shutdown(grace: number): Coro<void> {
      yield* moveOnAfter(grace, drain);
      yield* close();
    },
  };
}
