/**
 * `asyncio-ts worker`: serves a `DistributedExecutor` queue (parsing and
 * signals only; the behaviour is `serveJobs` in src/distributed/worker.ts).
 * SIGTERM or SIGINT drains (running jobs finish, no new ones) and exits 0; a
 * second signal cancels the worker (its running jobs' processes are
 * stopped) and it exits 1: `gracefulShutdown`'s two phases. Started with an
 * IPC channel, it drains the same way when its parent goes away.
 */
import { InvalidArgumentError, type Command } from "commander";
import type { Coro } from "../coroutines.js";
import { run } from "../runners.js";
import { gracefulShutdown, type Shutdown } from "../shutdown.js";
import { createTask } from "../tasks.js";
import { parseRedisUrl } from "../distributed/connection.js";

function whole(min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number of seconds >= 0");
  return n;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a number of seconds > 0");
  return n;
}

function redisUrl(value: string): string {
  try {
    parseRedisUrl(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

interface WorkerCommandOptions {
  redis: string;
  queue: string;
  module: string[];
  concurrency?: number;
  processes?: number;
  progress: number;
  lockDuration: number;
  stalledInterval: number;
  connectionTimeout: number;
}

/** Adds `worker` to the program. */
export function register(program: Command): void {
  program
    .command("worker")
    .description("run the jobs of a DistributedExecutor queue, each in a local process pool")
    .requiredOption("--redis <url>", "redis://host:port[/db] or unix:///absolute/path.sock", redisUrl)
    .requiredOption("--queue <name>", "the queue's name")
    .requiredOption("--module <path...>", "module(s) whose exported functions this worker runs")
    .option("--concurrency <n>", "jobs at once (default: CPU count)", whole(1))
    .option("--processes <n>", "processes in the local pool (default: concurrency)", whole(1))
    .option("--progress <seconds>", "seconds between progress lines (0: none)", seconds, 10)
    .option("--lock-duration <ms>", "a job's lock; a dead worker's job is taken over after it", whole(500), 4000)
    .option("--stalled-interval <ms>", "milliseconds between checks for stalled jobs", whole(100), 3000)
    .option("--connection-timeout <seconds>", "seconds to wait for Redis at start before exiting with an error", positiveSeconds, 5)
    .action(async (options: WorkerCommandOptions) => {
      // Loaded here so that the other commands never load BullMQ.
      const { serveJobs } = await import("../distributed/worker.js");
      let summary: { completed: number; failed: number };
      try {
        summary = await serve(serveJobs, options);
      } catch (error) {
        // One line that names the problem (no Redis, no such database, no bullmq): not a stack.
        process.stderr.write(`asyncio-ts worker: ${(error as Error).message ?? String(error)}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`worker ${process.pid} stopped: ${summary.completed} completed, ${summary.failed} failed\n`);
    });
}

/** Waits for the first signal (or the parent's going away) and says that the worker drains. */
function* drainAnnounced(shutdown: Shutdown): Coro<void> {
  yield* shutdown.requested.wait();
  process.stderr.write(`worker ${process.pid}: ${shutdown.reason ?? "stop"}, draining (finishing running jobs)\n`);
}

/**
 * Runs `serveJobs` until a signal (or the parent's going away) drains it:
 * `gracefulShutdown`'s first phase (no new jobs, running ones finish, however
 * long they take); a second signal cancels the worker, which stops its
 * running jobs' processes, and the command exits 1.
 */
async function serve(serveJobs: typeof import("../distributed/worker.js").serveJobs, options: WorkerCommandOptions): Promise<{ completed: number; failed: number }> {
  const summary = await run(
    function* () {
      return yield* gracefulShutdown(
        function* (shutdown) {
          // Started by a supervisor with an IPC channel (tests, the MapReduce example): its exit drains us too.
          const onDisconnect = (): void => shutdown.request("SIGHUP");
          if (process.send !== undefined) process.on("disconnect", onDisconnect);
          const stop = createTask(drainAnnounced(shutdown), { name: "worker-drain" });
          try {
            return yield* serveJobs({
              connection: options.redis,
              queue: options.queue,
              modules: options.module,
              progressInterval: options.progress,
              lockDuration: options.lockDuration,
              stalledInterval: options.stalledInterval,
              connectionTimeout: options.connectionTimeout,
              stop,
              ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
              ...(options.processes !== undefined ? { processes: options.processes } : {}),
            });
          } finally {
            stop.cancel();
            process.off("disconnect", onDisconnect);
          }
        },
        { signals: ["SIGTERM", "SIGINT"], gracePeriod: Infinity },
      );
    },
    // gracefulShutdown handles SIGINT itself (the first one drains).
    { handleSignals: false },
  );
  if (summary === undefined) {
    process.exitCode = 1;
    return { completed: 0, failed: 0 };
  }
  return summary;
}
