/** `ThreadPoolExecutor`: a pool of `worker_threads` workers. */
import type * as workerThreads from "node:worker_threads";
import type { Worker } from "node:worker_threads";
import { lazyBuiltin } from "../host.js";
import { BrokenThreadPool } from "../errors.js";
import { PoolExecutor, type WorkerEvents, type WorkerHandle } from "./pool.js";

const workerThreadsApi = lazyBuiltin<typeof workerThreads>("node:worker_threads", "ThreadPoolExecutor");

// Under a TypeScript loader (tests, tsx) this module is .ts and so is its sibling entry.
const fromSource = import.meta.url.endsWith(".ts");
const entry = new URL(`./thread-entry${import.meta.url.slice(import.meta.url.lastIndexOf("."))}`, import.meta.url);

// Loader hooks are per thread: a worker started from TypeScript sources registers tsx itself first.
function startThread(): Worker {
  if (!fromSource) return new workerThreadsApi.Worker(entry);
  const bootstrap = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new workerThreadsApi.Worker(bootstrap, { eval: true });
}

// How often a thread that was told to stop and has not exited is told again.
const TERMINATE_RETRY_MS = 1000;

/** What a worker's `'error'` event carried, as one line (it need not be an Error). */
function describeCrash(error: unknown): string {
  try {
    if (error instanceof Error) return `${String(error.name)}: ${String(error.message)}`;
    return `uncaught ${typeof error}: ${String(error)}`;
  } catch {
    return `uncaught ${typeof error}`;
  }
}

/**
 * Runs functions on worker threads (Python's
 * `concurrent.futures.ThreadPoolExecutor`). Each job runs in a worker's own
 * isolate: send functions by source (self-contained) or as `{ module, name }`.
 *
 * @example
 * const pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * const sum = yield* pool.submit((n: number) => n * (n + 1) / 2, 1000);
 * yield* pool.shutdown();
 */
export class ThreadPoolExecutor extends PoolExecutor {
  protected spawn(events: WorkerEvents): WorkerHandle {
    const worker = startThread();
    let requested = false;
    let lastError: unknown = null;
    // Asks again, every second, until the thread has exited (see `terminate` below).
    let retry: ReturnType<typeof setInterval> | null = null;
    worker.on("message", (message) => events.message(message));
    worker.on("error", (error) => (lastError = error));
    worker.on("exit", (code) => {
      if (retry !== null) clearInterval(retry);
      events.exit(requested ? "terminated" : lastError !== null ? describeCrash(lastError) : `exit code ${code}`);
    });
    return {
      send: (message) => worker.postMessage(message),
      terminate: () => {
        requested = true;
        void worker.terminate();
        // V8 can drop a termination request (Deno re-kills its workers for the
        // same reason), and a CI run once saw a cancelled job's thread spin on
        // for minutes with the pool waiting for its exit: repeat the request
        // until the 'exit' event. The pool keeps the process alive meanwhile.
        retry ??= setInterval(() => void worker.terminate(), TERMINATE_RETRY_MS);
        retry.unref();
      },
      setActive: (active) => (active ? worker.ref() : worker.unref()),
    };
  }

  protected brokenPool(message: string): BrokenThreadPool {
    return new BrokenThreadPool(message);
  }
}
