/**
 * Lesson 6: CPU-bound work belongs in a process pool. The loop hands
 * `cpuBoundTask` to a `ProcessPoolExecutor` with `runInExecutor` and keeps
 * serving other tasks while a child process computes.
 *
 * Notice: the exact result 333333283333335000000 (larger than 2**53, so it is
 * a bigint), and the ticks that kept coming while the pool worked.
 */
import { pathToFileURL } from "node:url";
import { ProcessPoolExecutor, createTask, getEventLoop, run, sleep, type ClockOption, type Coro } from "asyncio-ts";

/** Sum of i*i for i < n; self-contained, so it can be shipped to a worker by its source. */
export function cpuBoundTask(n: number): bigint {
  let total = 0n;
  for (let i = 0n; i < BigInt(n); i++) total += i * i;
  return total;
}

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const loop = getEventLoop();
      let ticks = 0;
      const ticker = createTask(
        (function* (): Coro<void> {
          for (;;) {
            yield* sleep(0.1);
            ticks++;
          }
        })(),
      );
      const pool = new ProcessPoolExecutor();
      try {
        const result = yield* loop.runInExecutor(pool, cpuBoundTask, 10_000_000);
        console.log(`Result: ${result}`);
      } finally {
        ticker.cancel();
        yield* pool.shutdown();
      }
      // How many ticks depends on the machine; that there were any is the point.
      console.log(`the loop kept ticking while the pool computed: ${ticks > 0 ? "yes" : "no"}`);
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
