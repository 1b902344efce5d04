/**
 * `httpHandler`: a `node:http` (and Express-style) request listener that runs
 * each request as a task of the event loop it was made in. A user of the
 * library like any other: it builds on public names only.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  CancelledError,
  RuntimeError,
  TimeoutError,
  copyContext,
  currentTask,
  getRunningLoop,
  timeout as withTimeout,
  type Coro,
  type EventLoop,
  type Task,
  type Timeout,
} from "../index.js";

/** Options of {@link httpHandler}. */
export interface HttpHandlerOptions {
  /**
   * Seconds a request may take (loop time); when it passes before the body
   * returns, the task is cancelled and the client gets 503. `null` or
   * absent: no limit.
   */
  timeout?: number | null;
  /** Prefix of each request task's name (`"api GET /users"`); default none (`"GET /users"`). */
  name?: string;
}

/** A request listener as `http.createServer` and Express take it. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Why a request's task is being cancelled from outside its body, when the handler did it. */
type EndReason = "client gone" | null;

/**
 * A request listener that runs `body(req, res)` as a task of the running
 * loop for each request (named after the method and path). Call it inside
 * the coroutine that starts the server: it captures that loop and a copy of
 * the current context.
 *
 * - The task is cancelled when the client goes away before the response
 *   ended (its `finally` blocks run).
 * - Each request runs in its own copy of the context current where
 *   `httpHandler` was called, so a `ContextVar` set for one request is never
 *   seen by another.
 * - An error escaping `body` answers 500 (when no header was sent yet; else
 *   the connection is destroyed) and is reported through the loop's exception
 *   handler; at `timeout` seconds the task is cancelled and the client gets 503.
 * - The tasks are the loop's like any other: `run` waits for the requests in
 *   flight when it ends (it cancels them, and they answer 503).
 *
 * @example
 * await run(function* () {
 *   const server = http.createServer(httpHandler(function* (req, res) {
 *     yield* sleep(0.1);
 *     res.end("hello\n");
 *   }, { timeout: 5 }));
 *   server.listen(8080);
 *   yield* waitForShutdown(); // your own stop condition
 *   server.close();
 * });
 */
export function httpHandler(body: (req: IncomingMessage, res: ServerResponse) => Coro<void>, options: HttpHandlerOptions = {}): RequestListener {
  if (typeof body !== "function") throw new TypeError(`httpHandler() takes a coroutine function (req, res) => Coro<void>, got ${typeof body}`);
  if (options === null || typeof options !== "object") throw new TypeError("httpHandler(): options must be an object");
  const seconds = options.timeout ?? null;
  if (seconds !== null && (typeof seconds !== "number" || Number.isNaN(seconds))) {
    throw new TypeError(`httpHandler(): timeout must be a number of seconds or null, got ${typeof seconds}`);
  }
  if (seconds !== null && !(seconds > 0)) throw new RangeError(`httpHandler(): timeout must be > 0 seconds, got ${seconds}`);
  const prefix = options.name === undefined ? "" : options.name;
  if (typeof prefix !== "string") throw new TypeError(`httpHandler(): name must be a string, got ${typeof prefix}`);
  let loop: EventLoop;
  try {
    loop = getRunningLoop();
  } catch (error) {
    throw new RuntimeError("httpHandler() must be called inside a running loop (in the coroutine that starts the server)", { cause: error });
  }
  const context = copyContext();

  return (req, res) => {
    if (loop.isClosed()) {
      // The program that served these requests has ended; the server was left open.
      respond(res, 503, "Service Unavailable: the server is shutting down\n");
      return;
    }
    let endReason: EndReason = null;
    let task: Task<void> | null = null;
    const onClose = (): void => {
      if (res.writableFinished || task === null || task.done()) return;
      endReason = "client gone";
      task.cancel("the client went away before the response ended");
    };
    const name = `${prefix === "" ? "" : `${prefix} `}${requestLine(req)}`;
    task = loop.createTask(serveRequest(body, req, res, seconds, loop, () => endReason), { name, context: context.copy() });
    res.once("close", onClose);
    task.addDoneCallback(() => res.off("close", onClose));
  };
}

/** The method and path of a request (a server's requests have both), without the query, which may carry secrets. */
function requestLine(req: IncomingMessage): string {
  const url = String(req.url);
  const query = url.indexOf("?");
  return `${req.method} ${query === -1 ? url : url.slice(0, query)}`;
}

/** Answers `status` with a short text body, unless a header already went out (then the connection is cut). */
function respond(res: ServerResponse, status: number, text: string): void {
  // Already answered in full (the body went on after res.end()), or the connection is gone.
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text), connection: "close" });
  res.end(text);
}

function* serveRequest(
  body: (req: IncomingMessage, res: ServerResponse) => Coro<void>,
  req: IncomingMessage,
  res: ServerResponse,
  seconds: number | null,
  loop: EventLoop,
  endReason: () => EndReason,
): Coro<void> {
  let deadline: Timeout | null = null;
  try {
    if (seconds === null) {
      yield* body(req, res);
    } else {
      yield* withTimeout(seconds, (scope) => {
        deadline = scope;
        return body(req, res);
      });
    }
  } catch (error) {
    if (error instanceof TimeoutError && (deadline as Timeout | null)?.expired() === true) {
      respond(res, 503, "Service Unavailable: the request timed out\n");
      return;
    }
    if (error instanceof CancelledError) {
      // The client went away (nothing to answer), or the loop is ending (run's end, a shutdown): 503.
      if (endReason() === null) respond(res, 503, "Service Unavailable: the server is shutting down\n");
      throw error;
    }
    respond(res, 500, "Internal Server Error\n");
    loop.callExceptionHandler({ message: `Unhandled error in HTTP request handler (${requestLine(req)})`, exception: error, task: currentTask()! });
  }
}
