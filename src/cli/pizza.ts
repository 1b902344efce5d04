/** `asyncio-ts pizza serve` and `asyncio-ts pizza order`. */
import { readFileSync } from "node:fs";
import { Event, fromPromise, getRunningLoop, run, type Coro } from "../index.js";
import { placeOrders } from "../pizza/order.js";
import { startPizzeria } from "../pizza/server.js";
import { formatSummary } from "../pizza/stats.js";

/** Options of `pizza serve`. */
export interface ServeOptions {
  host: string;
  port: number;
  bake: number;
  ovens: number;
  readTimeout: number;
  grace: number;
  backlog: number;
  /** Connections open at once; `0` = no limit; `undefined` = the default (see `defaultMaxConnections`). */
  maxConnections?: number;
}

/** File descriptors kept for everything but client connections (Node itself, stdio, logs). */
const DESCRIPTOR_RESERVE = 64;

/**
 * The default of `--max-connections`: the process's file descriptor limit
 * minus a reserve, so the server reaches its own limit, where it counts and
 * reports what it turns away, before the process runs out of descriptors,
 * where libuv drops connections without telling anyone. `null` (no limit)
 * where the limit cannot be read (no /proc).
 */
export function defaultMaxConnections(): number | null {
  let limits: string;
  try {
    limits = readFileSync("/proc/self/limits", "utf8");
  } catch {
    return null;
  }
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  if (soft === undefined || soft === "unlimited") return null;
  return Math.max(1, Number(soft) - DESCRIPTOR_RESERVE);
}

/** Serves until SIGINT or SIGTERM, then shuts down gracefully; resolves with the exit status. */
export function serve(options: ServeOptions): Promise<number> {
  return run(function* (): Coro<number> {
    const loop = getRunningLoop();
    const maxConnections = options.maxConnections === undefined ? defaultMaxConnections() : options.maxConnections === 0 ? null : options.maxConnections;
    const pizzeria = yield* startPizzeria({
      host: options.host,
      port: options.port,
      bake: options.bake,
      ovens: options.ovens,
      readTimeout: options.readTimeout,
      backlog: options.backlog,
      ...(maxConnections !== null ? { maxConnections } : {}),
      log: (line) => console.log(line),
    });
    console.log(`Pizza server running on ${options.host}:${pizzeria.port} (bake ${options.bake} s, ovens ${options.ovens === 0 ? "unlimited" : options.ovens}, max connections ${maxConnections ?? "unlimited"})`);
    const stop = new Event();
    for (const signal of ["SIGINT", "SIGTERM"] as const) loop.addSignalHandler(signal, () => stop.set());
    yield* stop.wait();
    console.log(`stopping: no new orders; ${pizzeria.inFlight()} in flight get up to ${options.grace} s`);
    yield* pizzeria.shutdown(options.grace);
    console.log(`served ${pizzeria.outcomes.served}, cancelled ${pizzeria.outcomes.cancelled}, dropped ${pizzeria.outcomes.timeout}, turned away ${pizzeria.server.droppedConnections}`);
    return 0;
  });
}

/** Options of `pizza order`. */
export interface OrderOptions {
  host: string;
  port: number;
  count: number;
  concurrency: number;
  timeout: number;
}

/** Runs the load generator; resolves with the exit status (1 if any order failed). */
export async function order(options: OrderOptions): Promise<number> {
  // cli-progress is loaded only when there is a terminal to draw the bar on.
  const bar = process.stdout.isTTY
    ? new (await import("cli-progress")).SingleBar({ format: "orders [{bar}] {value}/{total} {percentage}%", hideCursor: true })
    : null;
  return run(function* (): Coro<number> {
    bar?.start(options.count, 0);
    const summary = yield* placeOrders({ ...options, onProgress: (done) => bar?.update(done) });
    bar?.stop();
    console.log(formatSummary(summary));
    yield* fromPromise(Promise.resolve());
    return summary.failed > 0 ? 1 : 0;
  });
}
