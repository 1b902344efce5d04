/**
 * Last words for the debug tooling: a synchronous cleanup that runs however
 * the process ends — `process.exit()`, an uncaught exception (both emit
 * `'exit'`), or SIGTERM, SIGINT, SIGHUP (which would otherwise kill the
 * process without any `'exit'`). The inspector removes its socket file with
 * it; the trace writer completes its file.
 *
 * Signals: while a cleanup is registered (main thread only; signals never
 * reach a worker's `process`), one listener per signal watches it. If it is
 * the only listener of that signal, the signal would kill the process: it
 * runs every cleanup, removes itself and raises the signal again, so the
 * process still dies by the signal as it would have without us. If another
 * listener exists (the program's own, `loop.addSignalHandler`, or `run()`'s
 * Ctrl-C handling), the program handles the signal and lives on — often
 * for a graceful shutdown, exactly when the inspector is wanted — so it
 * does nothing; the cleanups run when the process does end. A cleanup may
 * run more than once, and must be idempotent.
 */
import { lazyBuiltin } from "../host.js";
import { markPassive } from "../runners.js";
import type * as workerThreads from "node:worker_threads";

const workerThreadsApi = lazyBuiltin<typeof workerThreads>("node:worker_threads", "Ending hooks");

const cleanups = new Set<() => void>();

/** The signals whose default action is death without `'exit'`. */
export const endingSignals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

function runCleanups(): void {
  for (const cleanup of [...cleanups]) {
    try {
      cleanup();
    } catch {
      // A cleanup failing must not stop the others, nor the ending.
    }
  }
}

const onExit = (): void => runCleanups();

const signalListeners = new Map<NodeJS.Signals, () => void>(
  endingSignals.map((signal) => [
    signal,
    markPassive((): void => {
      // Someone else handles the signal: the process lives on, and so does what the cleanups would remove.
      if (process.listenerCount(signal) !== 1) return;
      runCleanups();
      uninstall();
      process.kill(process.pid, signal);
    }),
  ]),
);

let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", onExit);
  if (workerThreadsApi.isMainThread) for (const [signal, listener] of signalListeners) process.on(signal, listener);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.removeListener("exit", onExit);
  for (const [signal, listener] of signalListeners) process.removeListener(signal, listener);
}

/**
 * Registers `cleanup` to run synchronously at any ending of the process;
 * returns the function that unregisters it (call it after running the
 * cleanup yourself on a normal end).
 */
export function onEnding(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  install();
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0) uninstall();
  };
}

/** One warning line on stderr, prefixed with the library's name; never throws. */
export function warn(message: string): void {
  try {
    process.stderr.write(`asyncio-ts: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  } catch {
    // stderr closed: nothing more we can do
  }
}
