/**
 * Lesson 3: a Future is a result that is not there yet; a Task is a Future
 * that runs a coroutine. A future is pending, then finished (with a result or
 * an exception) or cancelled — and never changes again.
 *
 * Notice: `done()` is false until the task has finished; a cancelled task
 * raises `CancelledError` to whoever awaits it.
 */
import { pathToFileURL } from "node:url";
import { CancelledError, createTask, getRunningLoop, run, sleep, type ClockOption, type Coro, type Future } from "asyncio-ts";

function* slowOperation(): Coro<string> {
  yield* sleep(2);
  return "Operation completed";
}

function state(future: Future<unknown>): string {
  if (!future.done()) return "pending";
  return future.cancelled() ? "cancelled" : "finished";
}

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const task = createTask(slowOperation());
      console.log(`Task done: ${task.done()}`);
      const result = yield* task;
      console.log(`Task done: ${task.done()}`);
      console.log(`Result: ${result}`);

      // The three states, on a bare future.
      const future = getRunningLoop().createFuture<number>();
      console.log(`future is ${state(future)}`);
      future.setResult(42);
      console.log(`future is ${state(future)} with result ${future.result()}`);

      // Cancelling a task: CancelledError is thrown where it waits.
      const doomed = createTask(sleep(3600));
      yield* sleep(0.1);
      doomed.cancel("no longer needed");
      try {
        yield* doomed;
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        console.log(`doomed task is ${state(doomed)}: ${error.message}`);
      }
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
