/**
 * Lesson 5a: `Lock` — one task at a time in a critical section.
 *
 * Notice: without the lock the read-modify-write loses updates; with it the
 * balance is exact.
 */
import { pathToFileURL } from "node:url";
import { Lock, gather, run, sleep, type ClockOption, type Coro } from "asyncio-ts";

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      let unsafe = 0;
      let safe = 0;
      const lock = new Lock();
      function* depositUnsafely(): Coro<void> {
        const read = unsafe;
        yield* sleep(0.01); // another task runs here and reads the same balance
        unsafe = read + 1;
      }
      function* depositSafely(): Coro<void> {
        yield* lock.hold(function* () {
          const read = safe;
          yield* sleep(0.01);
          safe = read + 1;
        });
      }
      yield* gather(...Array.from({ length: 10 }, depositUnsafely));
      yield* gather(...Array.from({ length: 10 }, depositSafely));
      console.log(`10 deposits without a lock: balance ${unsafe}`);
      console.log(`10 deposits with a lock:    balance ${safe}`);
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
