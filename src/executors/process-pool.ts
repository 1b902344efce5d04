/** `ProcessPoolExecutor`: a pool of child processes. */
import type * as childProcess from "node:child_process";
import { lazyBuiltin } from "../host.js";
import { BrokenProcessPool } from "../errors.js";
import { PoolExecutor, type WorkerEvents, type WorkerHandle } from "./pool.js";
import type { FromWorker } from "./protocol.js";

const childProcessApi = lazyBuiltin<typeof childProcess>("node:child_process", "ProcessPoolExecutor");

// The sibling entry, with this module's own extension: .ts under a TypeScript loader (tests, tsx), .js when built.
const entry = new URL(`./process-entry${import.meta.url.slice(import.meta.url.lastIndexOf("."))}`, import.meta.url);

// Node flags that take their value as the next argument (`--import tsx`).
const FLAGS_WITH_VALUE = new Set(["-e", "--eval", "-p", "--print", "-r", "--require", "--import", "--loader", "--experimental-loader", "--input-type", "-C", "--conditions", "--inspect-port", "--debug-port", "--env-file", "--title", "--disable-warning"]);

// Flags that are about the parent's own entry or session, not about how code runs:
// a worker given them fails (`--input-type` with a file entry is ERR_INPUT_TYPE_NOT_ALLOWED),
// runs the wrong program (-e, -p), or fights over a port (--inspect) or a watcher.
const PARENT_ONLY = /^(-e|--eval|-p|--print|--input-type|-i|--interactive|-c|--check|--test|--test-.*|--watch|--watch-.*|--inspect|--inspect-.*|--debug-port)$/;

/**
 * @internal The parent's Node flags a worker process should get: module
 * hooks (`--import`, `--loader`, `--require`), conditions, memory and V8
 * flags are kept; those about the parent's entry point or session are dropped.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const equals = arg.indexOf("=");
    const name = arg.startsWith("--") && equals > 0 ? arg.slice(0, equals) : arg;
    const valueFollows = equals < 0 && FLAGS_WITH_VALUE.has(name) && i + 1 < execArgv.length;
    const value = valueFollows ? [execArgv[++i]!] : [];
    if (!PARENT_ONLY.test(name)) kept.push(arg, ...value);
  }
  return kept;
}

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
    const child = childProcessApi.fork(entry, [], { execArgv: workerExecArgv(process.execArgv), serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
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
      signal: (signal) => {
        child.kill(signal);
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

  /**
   * Sends SIGTERM to every worker process and shuts the pool down (Python
   * 3.14's `terminate_workers`): the jobs they were running fail with
   * `BrokenProcessPool`, queued ones are cancelled.
   */
  terminateWorkers(): void {
    this.signalWorkers("SIGTERM");
  }

  /** Like `terminateWorkers`, with SIGKILL (Python 3.14's `kill_workers`). */
  killWorkers(): void {
    this.signalWorkers("SIGKILL");
  }

  protected brokenPool(message: string): BrokenProcessPool {
    return new BrokenProcessPool(message);
  }
}
