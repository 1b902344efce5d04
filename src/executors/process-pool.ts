/** `ProcessPoolExecutor`: a pool of child processes. */
import type * as childProcess from "node:child_process";
import { lazyBuiltin } from "../host.js";
import { BrokenProcessPool } from "../errors.js";
import { PoolExecutor, type WorkerEvents, type WorkerHandle } from "./pool.js";
import type { FromWorker } from "./protocol.js";

const childProcessApi = lazyBuiltin<typeof childProcess>("node:child_process", "ProcessPoolExecutor");

// The sibling entry, with this module's own extension: .ts under a TypeScript loader (tests, tsx), .js when built.
const entry = new URL(`./process-entry${import.meta.url.slice(import.meta.url.lastIndexOf("."))}`, import.meta.url);

/**
 * Runs functions in child processes (Python's
 * `concurrent.futures.ProcessPoolExecutor`): CPU-bound work that must not
 * block the loop. Arguments and results travel by structured clone.
 *
 * @example
 * const pool = new ProcessPoolExecutor();
 * const result = yield* loop.runInExecutor(pool, cpuBoundTask, 10_000_000);
 */
export class ProcessPoolExecutor extends PoolExecutor {
  protected spawn(events: WorkerEvents): WorkerHandle {
    const child = childProcessApi.fork(entry, [], { execArgv: process.execArgv, serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let requested = false;
    let lastError: Error | null = null;
    child.on("message", (message) => events.message(message as FromWorker));
    child.on("error", (error) => {
      lastError = error;
      // A child that could not be started (no pid) emits no 'exit': report its end here.
      if (child.pid === undefined) events.exit(`could not be started: ${error.message}`);
    });
    child.on("exit", (code, signal) =>
      events.exit(requested ? "terminated" : lastError !== null ? lastError.message : signal !== null ? `killed by ${signal}` : `exit code ${code}`),
    );
    return {
      send: (message) => {
        child.send(message);
      },
      terminate: () => {
        requested = true;
        child.kill("SIGKILL");
      },
      setActive: (active) => {
        if (active) {
          child.ref();
          child.channel?.ref();
        } else {
          child.unref();
          child.channel?.unref();
        }
      },
    };
  }

  protected brokenPool(message: string): BrokenProcessPool {
    return new BrokenProcessPool(message);
  }
}
