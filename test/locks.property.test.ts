/**
 * Random programs of tasks using a Lock or a Semaphore, with random sleeps
 * and random cancellations, run on the virtual clock and checked against a
 * reference model. fast-check prints the seed and path of any failure;
 * rerun one with FC_SEED=<seed>.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CancelScope, CancelledError, Lock, Semaphore, cancelScope, createTask, getRunningLoop, shielded, sleep, type Coro, type Task } from "../src/index.js";
import { cancelAll, runVirtual, testEnv } from "./support.js";

const RUNS = Number(testEnv("FC_RUNS") ?? 1000);
const seedOption = testEnv("FC_SEED") !== undefined ? { seed: Number(testEnv("FC_SEED")) } : {};

// Durations drawn from a small set, so that events often land on the same tick.
const duration = fc.constantFrom(0, 0, 0.5, 1, 1.5);
const operation = fc.record({ before: duration, inside: duration });
const program = fc.record({
  tasks: fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 6 }),
  // A canceller task sleeps until `at`, then lets `ticks` more iterations pass, so
  // cancellations land between a wake-up and the woken task's resumption too.
  cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.5, 1, 1.5, 2, 3), ticks: fc.nat(3), target: fc.nat(5) }), { maxLength: 4 }),
  permits: fc.integer({ min: 1, max: 3 }),
});
type Program = typeof program extends fc.Arbitrary<infer P> ? P : never;

interface Trace {
  maxHolders: number;
  // Order in which waits began and in which acquisitions completed (attempt ids).
  requests: number[];
  grants: number[];
  cancelledAttempts: Set<number>;
}

function* runTasks(p: Program, acquire: (attempt: number, trace: Trace) => Coro<void>, release: () => void, trace: Trace): Coro<void> {
  let attemptIds = 0;
  let holders = 0;
  const tasks: Task<void>[] = p.tasks.map((ops) =>
    createTask(
      (function* (): Coro<void> {
        for (const op of ops) {
          yield* sleep(op.before);
          const attempt = attemptIds++;
          try {
            yield* acquire(attempt, trace);
          } catch (e) {
            if (e instanceof CancelledError) trace.cancelledAttempts.add(attempt);
            throw e;
          }
          holders++;
          trace.maxHolders = Math.max(trace.maxHolders, holders);
          try {
            yield* sleep(op.inside);
          } finally {
            holders--;
            release();
          }
        }
      })(),
    ),
  );
  const cancellers = p.cancels.map((c) =>
    createTask(
      (function* (): Coro<void> {
        yield* sleep(c.at);
        for (let i = 0; i < c.ticks; i++) yield* sleep(0);
        tasks[c.target % tasks.length]!.cancel();
      })(),
    ),
  );
  for (const t of tasks) {
    try {
      yield* t;
    } catch (e) {
      if (!(e instanceof CancelledError)) throw e;
    }
  }
  yield* cancelAll(cancellers);
}

function fifoAmongSurvivors(trace: Trace): boolean {
  const survivors = trace.requests.filter((a) => !trace.cancelledAttempts.has(a));
  const granted = trace.grants.filter((a) => survivors.includes(a));
  return granted.join(",") === survivors.filter((a) => granted.includes(a)).join(",");
}

test("Lock: mutual exclusion holds, FIFO among waiters that were not cancelled, and it ends unlocked", async () => {
  await fc.assert(
    fc.asyncProperty(program, async (p) => {
      const lock = new Lock();
      const trace: Trace = { maxHolders: 0, requests: [], grants: [], cancelledAttempts: new Set() };
      await runVirtual(() =>
        runTasks(
          p,
          function* (attempt, tr) {
            const mustWait = lock.locked() || lock.statistics().waiters > 0;
            if (mustWait) tr.requests.push(attempt);
            yield* lock.acquire();
            if (mustWait) tr.grants.push(attempt);
          },
          () => lock.release(),
          trace,
        ),
      );
      assert.ok(trace.maxHolders <= 1, `${trace.maxHolders} holders at once`);
      assert.ok(fifoAmongSurvivors(trace), `grants ${trace.grants} vs requests ${trace.requests}`);
      assert.equal(lock.locked(), false);
      assert.equal(lock.statistics().waiters, 0);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});

test("Semaphore: never more holders than permits, and no permit leaked or invented", async () => {
  await fc.assert(
    fc.asyncProperty(program, async (p) => {
      const semaphore = new Semaphore(p.permits);
      const trace: Trace = { maxHolders: 0, requests: [], grants: [], cancelledAttempts: new Set() };
      await runVirtual(() =>
        runTasks(
          p,
          function* (attempt, tr) {
            const mustWait = semaphore.locked();
            if (mustWait) tr.requests.push(attempt);
            yield* semaphore.acquire();
            if (mustWait) tr.grants.push(attempt);
          },
          () => semaphore.release(),
          trace,
        ),
      );
      assert.ok(trace.maxHolders <= p.permits, `${trace.maxHolders} holders with ${p.permits} permits`);
      assert.ok(fifoAmongSurvivors(trace), `grants ${trace.grants} vs requests ${trace.requests}`);
      assert.equal(semaphore.statistics().value, p.permits);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});

// The same primitives with cancellation delivered through cancel scopes: each
// acquire runs in a scope with a random deadline, cancellers cancel the scope
// a task is in (or the task itself), and releases run in shielded blocks that
// suspend, so held cancellations land right after a release.
const scopedProgram = fc.record({
  tasks: fc.array(fc.array(fc.record({ before: duration, inside: duration, deadline: fc.constantFrom(null, 0, 0.5, 1) }), { minLength: 1, maxLength: 6 }), {
    minLength: 2,
    maxLength: 6,
  }),
  cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.5, 1, 1.5, 2, 3), ticks: fc.nat(3), target: fc.nat(5), whole: fc.boolean() }), { maxLength: 4 }),
  permits: fc.integer({ min: 1, max: 3 }),
});
type ScopedProgram = typeof scopedProgram extends fc.Arbitrary<infer P> ? P : never;

function* runScopedTasks(p: ScopedProgram, acquire: () => Coro<unknown>, release: () => void): Coro<number> {
  let holders = 0;
  let maxHolders = 0;
  const scopes: Array<CancelScope | null> = p.tasks.map(() => null);
  const tasks: Task<void>[] = p.tasks.map((ops, index) =>
    createTask(
      (function* (): Coro<void> {
        for (const op of ops) {
          yield* sleep(op.before);
          const deadline = op.deadline === null ? null : getRunningLoop().time() + op.deadline;
          const acquired = yield* cancelScope(
            function* (scope) {
              scopes[index] = scope;
              yield* acquire();
              return true;
            },
            { deadline },
          );
          scopes[index] = null;
          if (acquired === undefined) continue;
          holders++;
          maxHolders = Math.max(maxHolders, holders);
          try {
            yield* sleep(op.inside);
          } finally {
            yield* shielded(function* () {
              yield* sleep(0);
              holders--;
              release();
            });
          }
        }
      })(),
    ),
  );
  const cancellers = p.cancels.map((c) =>
    createTask(
      (function* (): Coro<void> {
        yield* sleep(c.at);
        for (let i = 0; i < c.ticks; i++) yield* sleep(0);
        const target = c.target % tasks.length;
        if (c.whole) tasks[target]!.cancel();
        else scopes[target]?.cancel();
      })(),
    ),
  );
  for (const t of tasks) {
    try {
      yield* t;
    } catch (e) {
      if (!(e instanceof CancelledError)) throw e;
    }
  }
  yield* cancelAll(cancellers);
  return maxHolders;
}

test("Lock under cancel scopes (deadlines, scope.cancel(), shielded release): mutual exclusion holds and it ends unlocked", async () => {
  await fc.assert(
    fc.asyncProperty(scopedProgram, async (p) => {
      const lock = new Lock();
      const maxHolders = await runVirtual(() => runScopedTasks(p, () => lock.acquire(), () => lock.release()));
      assert.ok(maxHolders <= 1, `${maxHolders} holders at once`);
      assert.equal(lock.locked(), false);
      assert.equal(lock.statistics().waiters, 0);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});

test("Semaphore under cancel scopes: never more holders than permits, and no permit lost", async () => {
  await fc.assert(
    fc.asyncProperty(scopedProgram, async (p) => {
      const semaphore = new Semaphore(p.permits);
      const maxHolders = await runVirtual(() => runScopedTasks(p, () => semaphore.acquire(), () => semaphore.release()));
      assert.ok(maxHolders <= p.permits, `${maxHolders} holders with ${p.permits} permits`);
      assert.equal(semaphore.statistics().value, p.permits);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});
