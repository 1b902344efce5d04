/**
 * Lesson 5b: `Semaphore` — at most n tasks at once (here: 2 ovens).
 *
 * Notice: six pizzas with two ovens take three bake times, never more than
 * two in the ovens at once.
 */
import { pathToFileURL } from "node:url";
import { Semaphore, gather, getRunningLoop, run, sleep, type ClockOption, type Coro } from "asyncio-ts";

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const ovens = new Semaphore(2);
      const loop = getRunningLoop();
      let baking = 0;
      let most = 0;
      function* bake(pizza: number): Coro<void> {
        yield* ovens.hold(function* () {
          baking++;
          most = Math.max(most, baking);
          yield* sleep(0.5);
          baking--;
        });
        console.log(`pizza ${pizza} ready at ${loop.time().toFixed(1)} s`);
      }
      loop.time();
      yield* gather(...[1, 2, 3, 4, 5, 6].map(bake));
      console.log(`at most ${most} pizzas baked at once`);
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
