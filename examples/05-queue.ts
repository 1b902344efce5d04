/**
 * Lesson 5d: `Queue` — producers and consumers with backpressure.
 *
 * Notice: the queue holds at most 2 orders; the producer waits when it is
 * full, and `join()` returns once every order has been processed.
 */
import { pathToFileURL } from "node:url";
import { Queue, createTask, run, sleep, type ClockOption, type Coro } from "asyncio-ts";

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const orders = new Queue<string>(2);
      function* cook(name: string): Coro<void> {
        for (;;) {
          const order = yield* orders.get();
          yield* sleep(0.3);
          console.log(`${name} cooked ${order}`);
          orders.taskDone();
        }
      }
      const cooks = [createTask(cook("cook A")), createTask(cook("cook B"))];
      for (const order of ["margherita", "marinara", "quattro formaggi", "diavola", "funghi"]) {
        yield* orders.put(order);
        console.log(`ordered ${order} (queue: ${orders.qsize()})`);
      }
      yield* orders.join();
      console.log("all orders cooked");
      for (const c of cooks) c.cancel();
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
