/**
 * `exploreSchedules`: a property test over interleavings. The body runs
 * under many shuffled schedules until one fails (fast-check's scheduler for
 * promises, Trio's shuffled batches).
 */
import type { Coro } from "../coroutines.js";
import { failureOf, runTestBody, type TestOptions } from "./harness.js";

/** Options of `exploreSchedules`. */
export interface ExploreOptions extends Omit<TestOptions, "shuffle" | "seed"> {
  /** How many schedules to try (default 100). */
  runs?: number;
  /** The first schedule's seed; the others follow from it. Random when omitted. */
  seed?: number;
}

/** What `exploreSchedules` found. */
export interface ExploreResult {
  /** The seed of the first failing schedule (replay it with `{ shuffle: true, seed }`), or `null`. */
  failingSeed: number | null;
  /** The failure of that schedule; its message ends with the seed. */
  error?: unknown;
}

/**
 * Runs `body` on a fresh shuffled loop `runs` times, each under its own
 * seed, with the checks of `coroutineTest`, and stops at the first failure.
 * The same `seed` explores the same schedules in the same order.
 *
 * @example
 * const { failingSeed, error } = await exploreSchedules(function* () {
 *   yield* transferConcurrently();
 * }, { runs: 200 });
 * if (failingSeed !== null) throw error; // the message names the seed
 */
export async function exploreSchedules(body: () => Coro<void>, options: ExploreOptions = {}): Promise<ExploreResult> {
  const runs = options.runs ?? 100;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be a positive integer, got ${String(runs)}`);
  if (options.seed !== undefined && !Number.isInteger(options.seed)) throw new TypeError(`seed must be an integer, got ${String(options.seed)}`);
  const first = options.seed !== undefined ? options.seed >>> 0 : Math.floor(Math.random() * 2 ** 32);
  const { runs: _runs, seed: _seed, ...testOptions } = options;
  for (let i = 0; i < runs; i++) {
    // Successive seeds spread by the golden ratio (Weyl sequence): all distinct.
    const seed = (first + Math.imul(i, 0x9e3779b9)) >>> 0;
    const failure = failureOf(await runTestBody(body, { ...testOptions, shuffle: true, seed }));
    if (failure !== null) return { failingSeed: seed, error: failure };
  }
  return { failingSeed: null };
}
