/**
 * Lesson 5c: `Event` — many tasks wait for one signal.
 *
 * Notice: the three waiters all start together, when the event is set.
 */
import { pathToFileURL } from "node:url";
import { Event, createTask, run, sleep, type ClockOption, type Coro } from "asyncio-ts";

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const open = new Event();
      function* guest(name: string): Coro<void> {
        yield* open.wait();
        console.log(`${name} comes in`);
      }
      const guests = ["Ada", "Alan", "Grace"].map((name) => createTask(guest(name)));
      console.log("the door is closed...");
      yield* sleep(0.5);
      console.log("opening the door");
      open.set();
      for (const g of guests) yield* g;
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
