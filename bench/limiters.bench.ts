/**
 * Capacity-limited fan-out (issue 16): N jobs, at most 10 at once, each
 * suspending once, through p-limit (the npm baseline) and through our
 * CapacityLimiter and Semaphore, in the same run.
 */
import pLimit from "p-limit";
import { CapacityLimiter, Semaphore, createTask, run, sleep, type Coro, type Task } from "../src/index.js";
import { measure, report, size } from "./harness.js";

const JOBS = size(100_000, 100);
const AT_ONCE = 10;

const baseline = await measure("p-limit(10)", JOBS, async () => {
  const limit = pLimit(AT_ONCE);
  await Promise.all(Array.from({ length: JOBS }, () => limit(async () => void (await null))));
});

function fanOut(hold: (body: () => Coro<void>) => Coro<void>): Promise<void> {
  return run(function* () {
    const tasks: Task<void>[] = [];
    for (let i = 0; i < JOBS; i++) tasks.push(createTask(hold(() => sleep(0))));
    for (const t of tasks) yield* t;
  });
}

const limiter = await measure("asyncio-ts CapacityLimiter(10)", JOBS, () => {
  const tokens = new CapacityLimiter(AT_ONCE);
  return fanOut((body) => tokens.hold(body));
});
const semaphore = await measure("asyncio-ts Semaphore(10)", JOBS, () => {
  const permits = new Semaphore(AT_ONCE);
  return fanOut((body) => permits.hold(body));
});
report(`${JOBS} jobs, at most ${AT_ONCE} at once, one suspension each`, baseline, [limiter, semaphore]);
