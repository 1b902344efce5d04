/**
 * `advanceTime(seconds)`: drive a virtual clock by hand (Trio's
 * `MockClock.jump`, asyncio's `TestLoop.advance_time`).
 */
import { VIRTUAL_CLOCK_RESOLUTION, VirtualClock } from "../clocks.js";
import type { Coro } from "../coroutines.js";
import { RuntimeError } from "../errors.js";
import { type EventLoop } from "../events.js";
import { getRunningLoop } from "../running-loop.js";
import { sleep } from "../sleep.js";

// A task spinning on sleep(0) keeps the ready queue busy for ever; settling
// gives up after this many iterations and lets time move on.
const MAX_SETTLE_ITERATIONS = 256;

// Lets every other ready item run until only the caller is left to run.
function* settle(loop: EventLoop): Coro<void> {
  let iterations = 0;
  do yield* sleep(0);
  while (loop.readyCount() > 0 && ++iterations < MAX_SETTLE_ITERATIONS);
}

/**
 * Moves the running loop's virtual clock `seconds` forward, from inside a
 * task, whatever else is ready. Time stops at each timer that falls due on
 * the way, in deadline order, and everything it wakes runs before time moves
 * on, so a task sleeping 1 s three times wakes three times in
 * `advanceTime(3)`. Throws `RuntimeError` unless the loop's clock is a
 * `VirtualClock`.
 *
 * @example
 * const task = createTask(after(5, "done"));
 * yield* advanceTime(4.9);
 * assert.equal(task.done(), false);
 * yield* advanceTime(0.1);
 * assert.equal(task.result(), "done");
 */
export function* advanceTime(seconds: number): Coro<void> {
  if (typeof seconds !== "number" || !(seconds >= 0)) throw new RangeError(`advanceTime() takes seconds >= 0, got ${String(seconds)}`);
  const loop = getRunningLoop();
  const clock = loop.clock;
  if (!(clock instanceof VirtualClock)) throw new RuntimeError('advanceTime() needs a virtual clock: run with { clock: "virtual" }');
  const target = clock.time() + seconds;
  yield* settle(loop);
  for (;;) {
    const next = loop.nextTimerDeadline();
    // Within the clock's resolution of the target counts as due: the loop
    // runs it without time passing the target.
    if (next === undefined || next > target + VIRTUAL_CLOCK_RESOLUTION) break;
    clock.jumpTo(Math.min(next, target));
    yield* settle(loop);
  }
  clock.jumpTo(target);
}
