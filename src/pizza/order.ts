/**
 * The load generator behind `asyncio-ts pizza order`: `count` orders,
 * `concurrency` at a time, each a connection that sends an order and reads
 * the reply until the server closes.
 */
import { TimeoutError, createTask, getRunningLoop, openConnection, waitFor, type Coro } from "../index.js";
import { PIZZA_REPLY } from "./server.js";
import { summarise, type LoadSummary } from "./stats.js";

/** Options of `placeOrders`. */
export interface LoadOptions {
  host?: string;
  port: number;
  count: number;
  concurrency: number;
  /** Seconds to wait for one reply before counting a timeout (default 60). */
  timeout?: number;
  /** Called after each order (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

/** One order; returns the reply text. */
export function* orderPizza(host: string, port: number, what = "margherita"): Coro<string> {
  const [reader, writer] = yield* openConnection(host, port);
  try {
    writer.write(what);
    yield* writer.drain();
    return Buffer.from(yield* reader.read()).toString("utf8");
  } finally {
    writer.close();
  }
}

function errorKind(error: unknown): string {
  if (error instanceof TimeoutError) return "timeout";
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Everything an order can fail with is an Error.
  return (error as Error).name;
}

/** Places the orders and measures them. */
export function* placeOrders(options: LoadOptions): Coro<LoadSummary> {
  const host = options.host ?? "127.0.0.1";
  const loop = getRunningLoop();
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let next = 0;
  let done = 0;
  const started = loop.time();
  function* worker(): Coro<void> {
    while (next < options.count) {
      const i = next++;
      const t0 = loop.time();
      try {
        const reply = yield* waitFor(orderPizza(host, options.port, `pizza #${i}`), options.timeout ?? 60);
        if (reply === PIZZA_REPLY) latencies.push(loop.time() - t0);
        else errors["bad-reply"] = (errors["bad-reply"] ?? 0) + 1;
      } catch (error) {
        const kind = errorKind(error);
        errors[kind] = (errors[kind] ?? 0) + 1;
      }
      done++;
      options.onProgress?.(done, options.count);
    }
  }
  const workers = Array.from({ length: Math.min(options.concurrency, options.count) }, () => createTask(worker()));
  for (const w of workers) yield* w;
  return summarise(latencies, errors, loop.time() - started);
}
