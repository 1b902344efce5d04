/**
 * Random programs of tasks using a CapacityLimiter or a RateLimiter, with
 * random sleeps, random cancellations (some landing between a wake-up and
 * the woken task's resumption) and, for the capacity limiter, random changes
 * of `totalTokens`, on the virtual clock. Rerun a failure with FC_SEED=<seed>.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CancelledError, CapacityLimiter, RateLimiter, createTask, getRunningLoop, sleep, type Coro, type Task } from "../src/index.js";
import { cancelAll, runVirtual, testEnv } from "./support.js";

const RUNS = Number(testEnv("FC_RUNS") ?? 1000);
const seedOption = testEnv("FC_SEED") !== undefined ? { seed: Number(testEnv("FC_SEED")) } : {};

const duration = fc.constantFrom(0, 0, 0.25, 0.5, 1, 1.5);
const cancels = fc.array(fc.record({ at: fc.constantFrom(0, 0.25, 0.5, 1, 1.5, 2, 3), ticks: fc.nat(3), target: fc.nat(7) }), { maxLength: 5 });

/** Starts the cancellers of `plan`; returns them, for the test to end. */
function scheduleCancels(plan: { at: number; ticks: number; target: number }[], tasks: Task<void>[]): Task<void>[] {
  return plan.map((c) =>
    createTask(
      (function* (): Coro<void> {
        yield* sleep(c.at);
        // A few more iterations, so that cancellations also land between a wake-up and the resumption.
        for (let i = 0; i < c.ticks; i++) yield* sleep(0);
        tasks[c.target % tasks.length]!.cancel();
      })(),
    ),
  );
}

// Runs `coro` as `yield*` would, calling `suspended()` if it does not finish in its first step.
function observeSuspension<T>(coro: Coro<T>, suspended: () => void): Coro<T> {
  let first = true;
  const observed = {
    [Symbol.iterator]: () => observed,
    next: (value?: unknown) => {
      const step = coro.next(value as never);
      if (first && step.done !== true) suspended();
      first = false;
      return step;
    },
    throw: (error: unknown) => coro.throw(error),
    return: (value: T) => coro.return(value),
  };
  return observed as unknown as Coro<T>;
}

function* joinAll(tasks: Task<void>[]): Coro<void> {
  for (const t of tasks) {
    try {
      yield* t;
    } catch (e) {
      if (!(e instanceof CancelledError)) throw e;
    }
  }
}

const capacityProgram = fc.record({
  total: fc.integer({ min: 1, max: 3 }),
  tasks: fc.array(fc.array(fc.record({ before: duration, inside: duration }), { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 7 }),
  resizes: fc.array(fc.record({ at: fc.constantFrom(0, 0.25, 0.5, 1, 2), ticks: fc.nat(2), total: fc.integer({ min: 1, max: 4 }) }), { maxLength: 3 }),
  cancels,
});

test("CapacityLimiter: never lends more tokens than it has, never leaks one, and serves waiters FIFO", async () => {
  await fc.assert(
    fc.asyncProperty(capacityProgram, async (p) => {
      const limiter = new CapacityLimiter(p.total);
      await runVirtual(function* () {
        let holders = 0;
        // The largest totalTokens seen during each pending wait: a grant is valid against it.
        const waits = new Set<{ peak: number }>();
        const requests: number[] = [];
        const grants: number[] = [];
        const cancelledWaits = new Set<number>();
        let nextId = 0;
        const tasks = p.tasks.map((ops) =>
          createTask(
            (function* (): Coro<void> {
              for (const op of ops) {
                yield* sleep(op.before);
                const id = nextId++;
                const wait = { peak: limiter.totalTokens };
                let waited = false;
                waits.add(wait);
                try {
                  yield* observeSuspension(limiter.acquire(), () => {
                    waited = true;
                    requests.push(id);
                  });
                } catch (e) {
                  if (e instanceof CancelledError) cancelledWaits.add(id);
                  throw e;
                } finally {
                  waits.delete(wait);
                }
                if (waited) grants.push(id);
                holders++;
                assert.ok(holders <= wait.peak, `${holders} holders with at most ${wait.peak} tokens`);
                // Woken waiters that have not resumed yet hold tokens too.
                assert.ok(limiter.borrowedTokens >= holders, `${holders} holders but ${limiter.borrowedTokens} tokens lent`);
                try {
                  yield* sleep(op.inside);
                } finally {
                  holders--;
                  limiter.release();
                }
              }
            })(),
          ),
        );
        const resizers = p.resizes.map((r) =>
          createTask(
            (function* (): Coro<void> {
              yield* sleep(r.at);
              for (let i = 0; i < r.ticks; i++) yield* sleep(0);
              limiter.totalTokens = r.total;
              for (const wait of waits) wait.peak = Math.max(wait.peak, r.total);
            })(),
          ),
        );
        const cancellers = scheduleCancels(p.cancels, tasks);
        yield* joinAll(tasks);
        const survivors = requests.filter((id) => !cancelledWaits.has(id));
        assert.deepEqual(grants, survivors, "waiters that were not cancelled were not served in FIFO order");
        yield* cancelAll([...resizers, ...cancellers]);
      });
      assert.equal(limiter.borrowedTokens, 0, "a token leaked");
      assert.equal(limiter.statistics().tasksWaiting, 0);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});

const rateProgram = fc.record({
  maxRate: fc.integer({ min: 1, max: 4 }),
  timePeriod: fc.constantFrom(0.5, 1, 2, 3),
  tasks: fc.array(fc.array(fc.record({ before: duration, amount: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 5 }), { minLength: 2, maxLength: 7 }),
  cancels,
});

test("RateLimiter: never admits more than maxRate (plus what drained) in any window, FIFO, and everyone not cancelled gets through", async () => {
  await fc.assert(
    fc.asyncProperty(rateProgram, async (p) => {
      const limiter = new RateLimiter(p.maxRate, p.timePeriod);
      const admitted: { at: number; amount: number }[] = [];
      await runVirtual(function* () {
        const loop = getRunningLoop();
        const requests: number[] = [];
        const grants: number[] = [];
        const cancelledWaits = new Set<number>();
        let nextId = 0;
        const tasks = p.tasks.map((ops) =>
          createTask(
            (function* (): Coro<void> {
              for (const op of ops) {
                yield* sleep(op.before);
                const amount = Math.min(op.amount, p.maxRate);
                const id = nextId++;
                let waited = false;
                try {
                  yield* observeSuspension(limiter.acquire(amount), () => {
                    waited = true;
                    requests.push(id);
                  });
                } catch (e) {
                  if (e instanceof CancelledError) cancelledWaits.add(id);
                  throw e;
                }
                if (waited) grants.push(id);
                admitted.push({ at: loop.time(), amount });
              }
            })(),
          ),
        );
        const cancellers = scheduleCancels(p.cancels, tasks);
        yield* joinAll(tasks);
        const survivors = requests.filter((id) => !cancelledWaits.has(id));
        assert.deepEqual(grants, survivors, "acquisitions that were not cancelled were not admitted in FIFO order");
        yield* cancelAll(cancellers);
      });
      // The leaky bucket's bound: in any window [a, b], at most maxRate + (b - a) * maxRate / timePeriod.
      for (let i = 0; i < admitted.length; i++) {
        let sum = 0;
        for (let j = i; j < admitted.length; j++) {
          sum += admitted[j]!.amount;
          const window = admitted[j]!.at - admitted[i]!.at;
          const bound = p.maxRate + (window * p.maxRate) / p.timePeriod;
          assert.ok(sum <= bound + 1e-6, `${sum} admitted in [${admitted[i]!.at}, ${admitted[j]!.at}], bound ${bound}`);
        }
      }
      assert.equal(limiter.statistics().tasksWaiting, 0);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});
