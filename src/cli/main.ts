#!/usr/bin/env node
/**
 * The `asyncio-ts` command: the chapter's tour, single examples, and the
 * pizzeria. Parsing and printing only; the behaviour lives in library modules.
 * Bad arguments print one line and exit with status 2.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { tour, loadExamples } from "./tour.js";
import { order, serve } from "./pizza.js";
import { register as registerPs } from "./ps.js";
import { register as registerTrace } from "./trace.js";
import { register as registerWorker } from "./worker.js";

/** A bad argument noticed after parsing (commander reports the ones it finds itself). */
class UsageError extends Error {}

function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number of seconds >= 0");
  return n;
}

const program = new Command()
  .name("asyncio-ts")
  .description("Python's asyncio for TypeScript: the chapter's tour, its examples, and the pizzeria")
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(message.trim().split("\n")[0] + "\n") });

program
  .command("tour")
  .description("run every example of the chapter in order, then the pizzeria under load")
  .action(async () => {
    await tour();
  });

program
  .command("example")
  .description("run one example (see `asyncio-ts example --list`)")
  .argument("[name]", "example name")
  .argument("[args...]", "the example's arguments (mapreduce: DIR)")
  .option("--list", "list the examples")
  .option("--redis <url>", "mapreduce: run the map jobs on `asyncio-ts worker`s of this Redis")
  .option("--workers <n>", "mapreduce: pool processes, or with --redis local workers to start", integer(1))
  .option("--generate <megabytes>", "mapreduce: first write a reproducible corpus of this size into DIR", integer(1))
  .action(async (name: string | undefined, args: string[], options: { list?: boolean; redis?: string; workers?: number; generate?: number }) => {
    const examples = await loadExamples();
    if (options.list === true || name === undefined) {
      for (const e of examples) console.log(`${e.name.padEnd(18)} ${e.title}`);
      return;
    }
    const example = examples.find((e) => e.name === name || e.name.endsWith(name));
    if (example === undefined) throw new UsageError(`unknown example ${JSON.stringify(name)}; try --list`);
    await example.run("real", { args, redis: options.redis, workers: options.workers, generate: options.generate });
  });

const pizza = program.command("pizza").description("the chapter's pizza server and a load generator");

pizza
  .command("serve")
  .description("serve pizzas: read the order, bake, reply \"Here's your pizza!\", close")
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--port <port>", "port (0 picks a free one)", integer(0, 65535), 8000)
  .option("--bake <seconds>", "seconds to bake one pizza", seconds, 2)
  .option("--ovens <n>", "pizzas baking at once (0 = unlimited)", integer(0), 0)
  .option("--read-timeout <seconds>", "drop a client that sends no order within this time", seconds, 10)
  .option("--grace <seconds>", "on SIGINT/SIGTERM, how long orders in flight may finish", seconds, 5)
  .option("--backlog <n>", "pending connections the kernel may queue", integer(1, 65535), 4096)
  .option(
    "--max-connections <n>",
    "connections open at once; one beyond it is closed at once and counted in a warning on stderr (default: the file descriptor limit minus 64; 0 = no limit)",
    integer(0),
  )
  .action(async (options: { host: string; port: number; bake: number; ovens: number; readTimeout: number; grace: number; backlog: number; maxConnections?: number }) => {
    process.exitCode = await serve(options);
  });

pizza
  .command("order")
  .description("a load generator: place many orders and report orders/s and latency percentiles")
  .option("--host <host>", "server address", "127.0.0.1")
  .option("--port <port>", "server port", integer(1, 65535), 8000)
  .option("--count <n>", "how many orders", integer(1), 100)
  .option("--concurrency <n>", "orders in flight at once", integer(1), 10)
  .option("--timeout <seconds>", "seconds to wait for one pizza", seconds, 60)
  .action(async (options: { host: string; port: number; count: number; concurrency: number; timeout: number }) => {
    process.exitCode = await order(options);
  });

registerPs(program);
registerTrace(program);
registerWorker(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are not errors; everything else is a usage error.
    process.exitCode = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help" ? 0 : 2;
  } else if (error instanceof UsageError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof Error) {
    // A failure of the command itself (no such process, refused connection...): one line, status 1.
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
