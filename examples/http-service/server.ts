/**
 * A small JSON API on `node:http`, each request a task of one event loop
 * (`httpHandler` from `asyncio-ts/http`):
 *
 * - GET /quotes/:id asks a slow dependency (a stand-in that sleeps) for a
 *   quote, through a `CapacityLimiter`: at most CAPACITY calls at once, the
 *   rest wait their turn; `?delay=SECONDS` makes that call slower.
 * - every request has a deadline (TIMEOUT seconds): past it, the task is
 *   cancelled and the client gets 503;
 * - a request id (the `x-request-id` header, or a fresh one) lives in a
 *   `ContextVar`, so every log line of the request names it, with no
 *   parameter passed around;
 * - on SIGTERM (`gracefulShutdown`) the server stops taking connections,
 *   lets the requests in flight finish (up to GRACE seconds), then exits 0.
 *
 * Run (after `npm run build`, which the package import resolves to):
 * `PORT=8080 node --import tsx examples/http-service/server.ts`, then
 * `curl -H 'x-request-id: demo' localhost:8080/quotes/3`. Settings come from
 * the environment: PORT (0 picks a free one), TIMEOUT, CAPACITY,
 * DEPENDENCY_SECONDS, GRACE.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CapacityLimiter, ContextVar, currentTask, fromPromise, gracefulShutdown, run, sleep, wait, type Coro, type Task } from "asyncio-ts";
import { httpHandler } from "asyncio-ts/http";

const settings = {
  port: Number(process.env.PORT ?? 8080),
  timeout: Number(process.env.TIMEOUT ?? 2),
  capacity: Number(process.env.CAPACITY ?? 2),
  dependencySeconds: Number(process.env.DEPENDENCY_SECONDS ?? 0.2),
  grace: Number(process.env.GRACE ?? 10),
};

const requestId = new ContextVar<string>("requestId", { default: "-" });

/** One log line, always naming the request it belongs to. */
function log(message: string): void {
  console.log(`[${requestId.get()}] ${message}`);
}

// The slow dependency: at most `capacity` calls in flight, whatever the number of requests.
const dependency = new CapacityLimiter(settings.capacity);
let mostAtOnce = 0;

function* fetchQuote(id: string, delay: number): Coro<{ id: string; quote: string }> {
  return yield* dependency.hold(function* () {
    mostAtOnce = Math.max(mostAtOnce, dependency.borrowedTokens);
    log(`asking the dependency for quote ${id}`);
    yield* sleep(delay);
    return { id, quote: `quote number ${id}` };
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "x-request-id": requestId.get() });
  res.end(JSON.stringify(body));
}

let nextId = 1;
const inFlight = new Set<Task<unknown>>();

function* handle(req: IncomingMessage, res: ServerResponse): Coro<void> {
  const header = req.headers["x-request-id"];
  requestId.set(typeof header === "string" && header !== "" ? header : `req-${nextId++}`);
  const task = currentTask()!;
  inFlight.add(task);
  const url = new URL(req.url ?? "/", "http://localhost");
  log(`${req.method} ${url.pathname}`);
  try {
    const quote = /^\/quotes\/(\w+)$/.exec(url.pathname);
    if (req.method === "GET" && quote !== null) {
      const delay = url.searchParams.has("delay") ? Number(url.searchParams.get("delay")) : settings.dependencySeconds;
      sendJson(res, 200, yield* fetchQuote(quote[1]!, delay));
    } else if (req.method === "GET" && url.pathname === "/stats") {
      sendJson(res, 200, { mostAtOnce, capacity: settings.capacity });
    } else {
      sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
    }
    log(`answered ${res.statusCode}`);
  } finally {
    // Also when the deadline or a departing client cancelled the request.
    if (!res.writableEnded) log("cancelled before answering");
    inFlight.delete(task);
  }
}

await run(function* () {
  const server = createServer(httpHandler(handle, { timeout: settings.timeout }));
  yield* fromPromise(new Promise<void>((resolve) => server.listen(settings.port, "127.0.0.1", resolve)));
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);

  // Two-phase stop: at SIGTERM stop accepting and let the requests in flight
  // end; past GRACE seconds (or at a second SIGTERM) the block is cancelled.
  yield* gracefulShutdown(
    function* (shutdown) {
      yield* shutdown.requested.wait();
      console.log(`shutting down: ${inFlight.size} request(s) in flight (${shutdown.reason})`);
      const closed = fromPromise(new Promise<void>((resolve) => server.close(() => resolve())));
      server.closeIdleConnections();
      try {
        if (inFlight.size > 0) yield* wait([...inFlight]);
        yield* closed;
      } finally {
        // Past the grace period: the requests still running are cancelled when run() ends (and answer 503).
        server.closeAllConnections();
      }
    },
    { signals: ["SIGTERM"], gracePeriod: settings.grace },
  );
  console.log("bye");
});
