/**
 * asyncio-ts/testing: coroutine tests for node:test, Vitest and Jest, schedule
 * shuffling and a clock driven by hand. This module only re-exports.
 */
export { asyncTest, coroutineTest } from "./coroutine-test.js";
export { exploreSchedules, type ExploreOptions, type ExploreResult } from "./explore.js";
export { advanceTime } from "./advance-time.js";
export type { TestOptions } from "./harness.js";
export { VirtualClock } from "../clocks.js";
