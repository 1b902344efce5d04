/**
 * `run(main)`: the entry point of an asyncio-ts program (Python's `asyncio.run`).
 */
import type { ClockOption } from "./clocks.js";
import { isCoroutine, type Coro } from "./coroutines.js";
import { RuntimeError } from "./errors.js";
import { EventLoop, isInsideLoopIteration } from "./events.js";
import type { Future } from "./futures.js";
import type { Task } from "./tasks.js";

/** Options of `run()`. */
export interface RunOptions {
  /** Debug mode: slow-step warnings, task creation stacks (default: env `ASYNCIO_TS_DEBUG`). */
  debug?: boolean;
  /** `"real"` (default), `"virtual"` (time jumps to the next timer when idle), or a `Clock`. */
  clock?: ClockOption;
  /** Answer `asyncio-ts ps`/`pstree` on a private Unix socket (default: env `ASYNCIO_TS_INSPECT`). */
  inspect?: boolean;
  /** Write a Trace Event Format timeline of the run to this file (default: env `ASYNCIO_TS_TRACE`). */
  trace?: string;
  /** Run each iteration's ready batch in a seeded random order (Trio's scheduler), to shake out order dependence. */
  shuffle?: boolean;
  /** The shuffle's seed (read it back as `loop.scheduleSeed`); random when omitted. */
  seed?: number;
}

/**
 * @internal Something to set up on every `run()` loop (debug tooling). It
 * returns a finisher called after the loop closes, or nothing.
 */
export type RunSetup = (loop: EventLoop, options: RunOptions) => (() => void | Promise<void>) | void;
const runSetups: RunSetup[] = [];

/** @internal Registers a `RunSetup` (the debug modules do, when imported). */
export function addRunSetup(setup: RunSetup): void {
  runSetups.push(setup);
}

/**
 * Runs `main` on a new event loop and returns its result. When `main` ends,
 * every task still alive is cancelled and awaited, the default executor is
 * shut down and the loop is closed. Rejects with `main`'s exception (the
 * original object).
 *
 * @example
 * const answer = await run(function* () {
 *   yield* sleep(1);
 *   return 42;
 * });
 */
export function run<T>(main: Coro<T> | (() => Coro<T>), options: RunOptions = {}): Promise<T> {
  if (isInsideLoopIteration()) throw new RuntimeError("run() cannot be called from a running event loop");
  const coro = typeof main === "function" ? main() : main;
  if (!isCoroutine(coro)) {
    throw new TypeError(`run() takes a coroutine or a generator function, got ${coro === null ? "null" : typeof coro}`);
  }
  const loop = new EventLoop({
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
    ...(options.debug !== undefined ? { debug: options.debug } : {}),
    ...(options.shuffle !== undefined ? { shuffle: options.shuffle } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const finishers: Array<() => void | Promise<void>> = [];
  for (const setup of runSetups) {
    const finish = setup(loop, options);
    if (finish !== undefined) finishers.push(finish);
  }
  return runOnLoop(loop, coro, finishers);
}

async function runOnLoop<T>(loop: EventLoop, coro: Coro<T>, finishers: ReadonlyArray<() => void | Promise<void>>): Promise<T> {
  try {
    return await loop.runUntilComplete(coro);
  } finally {
    try {
      await cancelAllTasks(loop);
      await loop.runUntilComplete(loop.createTask(loop.shutdownDefaultExecutor(), { name: "shutdown default executor" }));
    } finally {
      loop.close();
      for (const finish of finishers) await finish();
    }
  }
}

/** Cancels every live task and runs the loop until they are all done. */
async function cancelAllTasks(loop: EventLoop): Promise<void> {
  const tasks = [...loop.liveTasks];
  if (tasks.length === 0) return;
  for (const task of tasks) task.cancel();
  await loop.runUntilComplete(allDone(loop, tasks));
  for (const task of tasks) {
    if (task.cancelled()) continue;
    const exception = task.exception();
    if (exception !== null) {
      loop.callExceptionHandler({ message: "unhandled exception during asyncio.run() shutdown", exception, task });
    }
  }
}

function allDone(loop: EventLoop, tasks: readonly Task<unknown>[]): Future<void> {
  const done = loop.createFuture<void>();
  let remaining = tasks.length;
  const onDone = (): void => {
    if (--remaining === 0 && !done.done()) done.setResult(undefined);
  };
  for (const task of tasks) task.addDoneCallback(onDone);
  return done;
}
