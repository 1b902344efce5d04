/**
 * The chapter's pizza server, production-grade: read the order (at most
 * 1024 bytes), bake, reply `Here's your pizza!`, close. Optional ovens limit
 * concurrent baking; a silent client is dropped; a client that disconnects
 * mid-bake cancels its pizza and frees its oven; `shutdown(grace)` stops
 * accepting, lets orders in flight finish for `grace` seconds, then cancels
 * the rest.
 */
import type { AddressInfo } from "node:net";
import {
  CancelledError,
  FIRST_COMPLETED,
  Semaphore,
  TimeoutError,
  createTask,
  currentTask,
  getRunningLoop,
  sleep,
  startServer,
  wait,
  waitFor,
  type Coro,
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
  /** Called with one line per order. */
  log?: (line: string) => void;
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
  /** Stops accepting, waits up to `grace` seconds for orders in flight, cancels the rest, closes. */
  shutdown(grace: number): Coro<void>;
}

/** Starts the pizza server; returns once it listens. */
export function* startPizzeria(options: PizzeriaOptions = {}): Coro<Pizzeria> {
  const bake = options.bake ?? 2;
  const ovens = options.ovens ?? 0;
  const readTimeout = options.readTimeout ?? 10;
  const log = options.log ?? (() => undefined);
  if (!(bake >= 0)) throw new RangeError("bake must be >= 0 seconds");
  if (!Number.isInteger(ovens) || ovens < 0) throw new RangeError("ovens must be a whole number >= 0");
  const oven = ovens > 0 ? new Semaphore(ovens) : null;
  const outcomes: Record<OrderOutcome, number> = { served: 0, cancelled: 0, timeout: 0, "too-large": 0, empty: 0, error: 0 };
  const handlers = new Set<Task<unknown>>();
  const loop = getRunningLoop();

  function* bakePizza(): Coro<void> {
    if (oven === null) yield* sleep(bake);
    else yield* oven.hold(() => sleep(bake));
  }

  function* handleClient(reader: StreamReader, writer: StreamWriter): Coro<void> {
    const started = loop.time();
    const peer = writer.getExtraInfo("peername");
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
      order = Buffer.from(data).toString("utf8").trim();
      // Bake while watching the connection: the client hanging up cancels its pizza.
      const baking = createTask(bakePizza());
      const hangUp = createTask(reader.read(1));
      yield* wait([baking, hangUp], { returnWhen: FIRST_COMPLETED });
      if (!baking.done()) {
        baking.cancel();
        try {
          yield* baking;
        } catch {
          // cancelled: the oven is free again
        }
        outcome = "cancelled";
        return;
      }
      hangUp.cancel();
      yield* baking;
      writer.write(PIZZA_REPLY);
      yield* writer.drain();
      outcome = "served";
    } catch (error) {
      outcome = error instanceof CancelledError ? "cancelled" : "error";
      throw error;
    } finally {
      outcomes[outcome]++;
      writer.close();
      const latency = ((loop.time() - started) * 1000).toFixed(1);
      log(`${peerText} order=${JSON.stringify(order)} ${outcome} ${latency} ms`);
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
      }
    },
    options.host ?? "127.0.0.1",
    options.port ?? 0,
    { backlog: options.backlog ?? 4096 },
  );
  const port = (server.sockets[0] as AddressInfo).port;

  return {
    server,
    port,
    outcomes,
    inFlight: () => handlers.size,
    *shutdown(grace: number): Coro<void> {
      server.close();
      const deadline = loop.time() + grace;
      while (handlers.size > 0 && loop.time() < deadline) yield* sleep(Math.min(0.05, Math.max(0, deadline - loop.time())));
      for (const task of handlers) task.cancel();
      server.abortClients();
      yield* server.waitClosed();
    },
  };
}
