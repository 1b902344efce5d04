/**
 * Lesson 2: `yield*` (Python's `await`) waits without blocking. Awaiting
 * three fetches one after another takes the sum of their times; `gather`
 * runs them at once and takes only the longest.
 *
 * Notice: about 2 s for the two sequential fetches, about 1 s for three at once.
 */
import { pathToFileURL } from "node:url";
import { gather, getRunningLoop, run, sleep, type ClockOption, type Coro } from "asyncio-ts";

function* fetchData(url: string): Coro<string> {
  console.log(`Fetching ${url}...`);
  yield* sleep(1); // stands for network I/O
  return `Data from ${url}`;
}

function* sequential(): Coro<void> {
  const result1 = yield* fetchData("url1");
  const result2 = yield* fetchData("url2");
  console.log(result1, result2);
}

function* concurrent(): Coro<void> {
  const results = yield* gather(fetchData("url1"), fetchData("url2"), fetchData("url3"));
  console.log(results);
}

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const loop = getRunningLoop();
      let start = loop.time();
      yield* sequential();
      console.log(`sequential: ${(loop.time() - start).toFixed(1)} s`);
      start = loop.time();
      yield* concurrent();
      console.log(`gather: ${(loop.time() - start).toFixed(1)} s`);
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
