/**
 * Lock contention (issues 4 and 28): T tasks x K acquisitions, each holding
 * the lock across one `sleep(0)`, against a minimal hand-written promise
 * mutex and async-mutex, in alternating rounds of the same process.
 */
import { Mutex } from "async-mutex";
import * as asyncio from "../src/index.js";
import { fullFloorSizes, smokeFloorSizes, timedRows } from "./floor.js";
import { compare, smoke } from "./harness.js";

const sizes = smoke ? smokeFloorSizes : fullFloorSizes;
const lockRow = timedRows.find((r) => r.key === "lock")!;
const rows = await compare(lockRow.title(sizes), lockRow.items(sizes), { name: lockRow.nativeName, body: () => lockRow.native(sizes) }, [
  { name: lockRow.oursName, body: () => lockRow.ours(asyncio, sizes) },
  {
    name: "async-mutex Mutex",
    body: async () => {
      const mutex = new Mutex();
      await Promise.all(
        Array.from({ length: sizes.lockTasks }, async () => {
          for (let i = 0; i < sizes.lockRounds; i++) await mutex.runExclusive(async () => void (await null));
        }),
      );
    },
  },
]);
console.log(`  goal <= ${lockRow.goal.toFixed(2)}x: ${rows[1]!.ratio.median <= lockRow.goal ? "met" : "not met"}`);
