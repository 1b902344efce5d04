/**
 * Clocks the loop reads its time from: real monotonic time, or a virtual
 * time that the loop jumps forward whenever every task waits on a timer.
 */
import { numberArg } from "./arguments.js";

/** A monotonic source of time in seconds, as `loop.time()` reports it. */
export interface Clock {
  /** The current time in seconds; never decreases. */
  time(): number;
}

/** Real monotonic time (`performance.now()`), in seconds. */
export class RealClock implements Clock {
  time(): number {
    return performance.now() / 1000;
  }
}

/**
 * Virtual time for tests: it stands still while tasks run and jumps straight
 * to the next timer's deadline once the loop has nothing else to do, so an
 * hour of `sleep`s takes microseconds and always runs in the same order
 * (Trio's `MockClock` with autojump: at once with nothing real outstanding,
 * else after the loop's `autojumpThreshold` of real seconds without progress).
 */
export class VirtualClock implements Clock {
  private now: number;

  constructor(start = 0) {
    this.now = numberArg(start, "VirtualClock(): start", { infinite: false });
  }

  time(): number {
    return this.now;
  }

  /** Moves time forward by `seconds` (never backward). */
  advance(seconds: number): void {
    numberArg(seconds, "advance(): seconds", { min: 0, infinite: false });
    this.now += seconds;
  }

  /** @internal Jumps to `when` if it is later than now. */
  jumpTo(when: number): void {
    if (when > this.now) this.now = when;
  }
}

/**
 * @internal A virtual deadline within this many seconds of the virtual time
 * counts as due: float sums (`0.2 + 0.2 + 0.2` is `0.6000000000000001`)
 * must not leave a timer just past a time set by hand (`advanceTime`).
 */
export const VIRTUAL_CLOCK_RESOLUTION = 1e-9;

/** What `run(main, { clock })` accepts. */
export type ClockOption = "real" | "virtual" | Clock;

/** Resolves a `clock` option to a clock object. */
export function makeClock(option: ClockOption | undefined): Clock {
  if (option === undefined || option === "real") return new RealClock();
  if (option === "virtual") return new VirtualClock();
  if (typeof option === "object" && option !== null && typeof option.time === "function") return option;
  throw new TypeError(`clock must be "real", "virtual" or an object with a time() method, got ${String(option)}`);
}
