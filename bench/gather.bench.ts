/**
 * Composition workloads (issues 3 and 28): `gather` of N children and a
 * `TaskGroup` of N children, each switching once, against `Promise.all` over
 * N async functions, in alternating rounds of the same process.
 */
import * as asyncio from "../src/index.js";
import { fullFloorSizes, smokeFloorSizes, timedRows } from "./floor.js";
import { compare, smoke } from "./harness.js";

const sizes = smoke ? smokeFloorSizes : fullFloorSizes;
const gatherRow = timedRows.find((r) => r.key === "gather")!;
const groupRow = timedRows.find((r) => r.key === "taskgroup")!;
const rows = await compare(`${sizes.children} children, each yielding once`, sizes.children, { name: gatherRow.nativeName, body: () => gatherRow.native(sizes) }, [
  { name: gatherRow.oursName, body: () => gatherRow.ours(asyncio, sizes) },
  { name: groupRow.oursName, body: () => groupRow.ours(asyncio, sizes) },
]);
console.log(`  goal <= ${gatherRow.goal.toFixed(2)}x: gather ${rows[1]!.ratio.median <= gatherRow.goal ? "met" : "not met"}, TaskGroup ${rows[2]!.ratio.median <= groupRow.goal ? "met" : "not met"}`);
