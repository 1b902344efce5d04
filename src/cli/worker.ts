/**
 * `asyncio-ts worker`: serves a `DistributedExecutor` queue (parsing and
 * signals only; the behaviour is `serveJobs` in src/distributed/worker.ts).
 * SIGTERM or SIGINT drains (running jobs finish, no new ones) and exits 0; a
 * second signal exits at once with status 1. Started with an IPC channel,
 * it drains the same way when its parent goes away.
 */
import { InvalidArgumentError, type Command } from "commander";
import { Future } from "../futures.js";
import { getRunningLoop } from "../running-loop.js";
import { run } from "../runners.js";
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

/** Runs `serveJobs` until a signal (or the parent's going away) drains it. */
function serve(serveJobs: typeof import("../distributed/worker.js").serveJobs, options: WorkerCommandOptions): Promise<{ completed: number; failed: number }> {
  return run(
    function* () {
      const stop = new Future<void>(getRunningLoop());
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) process.exit(1);
        process.stderr.write(`worker ${process.pid}: ${signal}, draining (finishing running jobs)\n`);
        if (!stop.done()) stop.setResult(undefined);
      };
      // Started by a supervisor with an IPC channel (tests, the MapReduce example): its exit drains us too.
      const onDisconnect = (): void => onSignal("SIGHUP");
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
      if (process.send !== undefined) process.on("disconnect", onDisconnect);
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
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
        process.off("disconnect", onDisconnect);
      }
    },
    // This command drains on SIGINT itself rather than cancelling its main task.
    { handleSignals: false },
  );
}
