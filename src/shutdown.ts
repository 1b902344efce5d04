/**
 * `gracefulShutdown(body, { signals, gracePeriod })`: the two-phase stop a
 * server, a worker or a crawler needs, built on a cancel scope.
 *
 * Phase one, at the first signal: `shutdown.requested` is set and the body
 * stops taking new work and finishes what is in flight. Phase two, when the
 * grace period ends or at a second signal: the body is cancelled (its
 * `finally` blocks run; cleanup that awaits belongs in `shielded`). The
 * cancellation the shutdown makes is absorbed by the block, which then ends
 * with `undefined`, so the program can exit 0.
 */
import type { Awaitable, Coro } from "./coroutines.js";
import { cancelScope } from "./cancel-scopes.js";
import { getRunningLoop } from "./running-loop.js";
import { Event } from "./locks.js";
import { numberArg } from "./arguments.js";

/** The options of `gracefulShutdown`. */
export interface GracefulShutdownOptions {
  /** The signals that request the shutdown (default `["SIGTERM", "SIGINT"]`). */
  signals?: readonly NodeJS.Signals[];
  /** Seconds the body gets after the first signal before it is cancelled (default 10; `Infinity`: until a second signal). */
  gracePeriod?: number;
}

/**
 * The state of a `gracefulShutdown` block, handed to its body: `requested`
 * is set at the first signal (or `request()`), and `reason` names it.
 */
export class Shutdown {
  /** Set when the shutdown is requested: stop taking new work, finish what is in flight. */
  readonly requested = new Event();
  #reason: string | null = null;
  readonly #onRequest: (reason: string) => void;

  /** @internal Made by `gracefulShutdown`. */
  constructor(onRequest: (reason: string) => void) {
    this.#onRequest = onRequest;
  }

  /** What requested the shutdown: the signal's name (`"SIGTERM"`), the reason given to `request()`, or `null` before. */
  get reason(): string | null {
    return this.#reason;
  }

  /**
   * Requests the shutdown from the program itself, as a signal would (the
   * first request starts the grace period, a second one cancels the body).
   */
  request(reason = "requested"): void {
    if (this.#reason === null) this.#reason = reason;
    this.#onRequest(reason);
  }
}

/**
 * Runs `body` until it returns, stopping it in two phases when one of
 * `signals` arrives: the first sets `shutdown.requested` (the body should
 * stop taking work and finish what is in flight); if the body has not
 * returned `gracePeriod` seconds later, or at a second signal, it is
 * cancelled and the block ends with `undefined`. The signal handlers are
 * installed on the running loop for the block only (replacing any the
 * program had for those signals; Ctrl-C handling steps aside meanwhile).
 *
 * @example
 * yield* gracefulShutdown(function* (shutdown) {
 *   const server = yield* startServer(handle, "127.0.0.1", 8080);
 *   yield* shutdown.requested.wait();
 *   server.close(); // no new connections; those open get the grace period
 *   yield* server.waitClosed();
 * }, { gracePeriod: 30 });
 */
export function* gracefulShutdown<T>(body: (shutdown: Shutdown) => Awaitable<T>, options: GracefulShutdownOptions = {}): Coro<T | undefined> {
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  const gracePeriod = numberArg(options.gracePeriod ?? 10, "gracefulShutdown(): gracePeriod", { min: 0, infinite: true });
  const loop = getRunningLoop();
  return yield* cancelScope(function* (scope) {
    let requests = 0;
    const shutdown = new Shutdown((reason) => {
      requests++;
      if (requests === 1) {
        shutdown.requested.set();
        if (Number.isFinite(gracePeriod)) scope.deadline = loop.time() + gracePeriod;
      } else {
        scope.cancel(`graceful shutdown: ${reason} again, cancelling at once`);
      }
    });
    for (const signal of signals) loop.addSignalHandler(signal, (name: NodeJS.Signals) => shutdown.request(name), signal);
    try {
      return yield* body(shutdown);
    } finally {
      if (!loop.isClosed()) for (const signal of signals) loop.removeSignalHandler(signal);
    }
  });
}
