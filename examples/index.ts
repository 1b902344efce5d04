/**
 * The chapter's programs in order, with what each one teaches. The tour
 * (`npm start`, `asyncio-ts tour`) and `asyncio-ts example <name>` use this list.
 */
import type { ClockOption } from "asyncio-ts";

/** One runnable example. */
export interface Example {
  name: string;
  title: string;
  notice: string;
  /** Runs it; examples that sleep accept a clock (tests pass "virtual"); `invocation` carries the command line's arguments. */
  run(clock?: ClockOption, invocation?: ExampleInvocation): Promise<void> | void;
}

/** What `asyncio-ts example NAME [options] [args...]` passes on (only mapreduce uses it). */
export interface ExampleInvocation {
  args: string[];
  redis?: string;
  workers?: number;
  generate?: number;
}

export const examples: Example[] = [
  { name: "toy-event-loop", title: "A generator-based event loop", notice: "each `yield` hands control back; one Fibonacci step per cycle", run: async () => (await import("./01-toy-event-loop.js")).main() },
  { name: "fetch-data", title: "Sequential awaits vs gather", notice: "about 2 s one after another, about 1 s at once", run: async (clock) => (await import("./02-fetch-data.js")).main(clock) },
  { name: "futures", title: "Futures, tasks and their states", notice: "done() turns true when the task finishes; a cancelled task raises CancelledError", run: async (clock) => (await import("./03-futures.js")).main(clock) },
  { name: "pizza-server", title: "The asynchronous pizza server", notice: "ten orders at once are served in about one bake time", run: async (clock) => (await import("./04-pizza-server.js")).main(clock) },
  { name: "lock", title: "Lock", notice: "a lost update without the lock, an exact balance with it", run: async (clock) => (await import("./05-lock.js")).main(clock) },
  { name: "semaphore", title: "Semaphore", notice: "never more than two pizzas in two ovens", run: async (clock) => (await import("./05-semaphore.js")).main(clock) },
  { name: "event", title: "Event", notice: "every waiter starts when the event is set", run: async (clock) => (await import("./05-event.js")).main(clock) },
  { name: "queue", title: "Queue", notice: "the producer waits while the queue is full; join() waits for every taskDone()", run: async (clock) => (await import("./05-queue.js")).main(clock) },
  { name: "wait", title: "wait(FIRST_COMPLETED)", notice: "the fastest courier wins; the others are still pending", run: async (clock) => (await import("./05-wait.js")).main(clock) },
  { name: "open-connection", title: "openConnection", notice: "write never waits; drain and readline do", run: async (clock) => (await import("./05-open-connection.js")).main(clock) },
  { name: "cpu-bound", title: "CPU-bound work in a process pool", notice: "the exact bigint result, and a loop that kept ticking", run: async (clock) => (await import("./06-cpu-bound.js")).main(clock) },
  { name: "mapreduce", title: "MapReduce: a word count, one machine or many", notice: "the same top 20 on a local process pool or on workers behind Redis (--redis URL)", run: async (clock, invocation) => (await import("./07-mapreduce.js")).main(clock, { dir: invocation?.args[0], redis: invocation?.redis, workers: invocation?.workers, generate: invocation?.generate }) },
];
