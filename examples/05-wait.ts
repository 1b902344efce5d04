/**
 * Lesson 5e: `wait` — react to whichever task finishes first.
 *
 * Notice: `wait` returns after the fastest delivery; the others are still
 * pending (and are cancelled here, since we no longer need them).
 */
import { pathToFileURL } from "node:url";
import { FIRST_COMPLETED, createTask, run, sleep, wait, type ClockOption } from "asyncio-ts";

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const couriers = [
        createTask(sleep(0.9, "bike courier"), { name: "bike" }),
        createTask(sleep(0.4, "drone"), { name: "drone" }),
        createTask(sleep(1.5, "van"), { name: "van" }),
      ];
      const [done, pending] = yield* wait(couriers, { returnWhen: FIRST_COMPLETED });
      for (const task of done) console.log(`first to arrive: ${task.result()}`);
      console.log(`still on the way: ${[...pending].map((t) => t.getName()).join(", ")}`);
      for (const task of pending) task.cancel();
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
