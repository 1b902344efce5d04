/**
 * Random producer/consumer programs on a Channel, with random sleeps,
 * timeouts around sends and receives (cancellations that the task survives)
 * and task cancellations, on the virtual clock: every item is received
 * exactly once or its send raised, and nothing else is received. Rerun a
 * failure with FC_SEED=<seed>.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CancelledError, Channel, RuntimeError, StopAsyncIteration, TimeoutError, createTask, sleep, timeout, type Coro, type Task } from "../src/index.js";
import { cancelAll, runVirtual, testEnv } from "./support.js";

const RUNS = Number(testEnv("FC_RUNS") ?? 1000);
const seedOption = testEnv("FC_SEED") !== undefined ? { seed: Number(testEnv("FC_SEED")) } : {};

const duration = fc.constantFrom(0, 0, 0.5, 1);
// An operation: a pause, then a send or receive, bounded by a timeout (null: none).
const operation = fc.record({ before: duration, limit: fc.constantFrom(null, null, 0, 0.5, 1) });
const program = fc.record({
  capacity: fc.constantFrom(0, 0, 1, 2, 3),
  producers: fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
  consumers: fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
  cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.5, 1, 2), ticks: fc.nat(3), target: fc.nat(6) }), { maxLength: 4 }),
  closeAt: fc.constantFrom(1, 2, 5, 20),
});

function* bounded<T>(limit: number | null, body: () => Coro<T>): Coro<T> {
  return limit === null ? yield* body() : yield* timeout(limit, body);
}

test("Channel: every item is received exactly once or its send raised, and nothing else is received", async () => {
  await fc.assert(
    fc.asyncProperty(program, async (p) => {
      const channel = new Channel<number>(p.capacity);
      const sent = new Set<number>();
      const unsent = new Set<number>();
      const received: number[] = [];
      await runVirtual(function* () {
        let nextItem = 0;
        const tasks: Task<void>[] = [];
        for (const ops of p.producers) {
          tasks.push(createTask((function* (): Coro<void> {
            for (const op of ops) {
              yield* sleep(op.before);
              const item = nextItem++;
              try {
                yield* bounded(op.limit, () => channel.send(item));
              } catch (error) {
                unsent.add(item);
                if (error instanceof TimeoutError) continue;
                if (error instanceof RuntimeError) return;
                throw error;
              }
              sent.add(item);
            }
          })()));
        }
        for (const ops of p.consumers) {
          tasks.push(createTask((function* (): Coro<void> {
            for (const op of ops) {
              yield* sleep(op.before);
              try {
                received.push(yield* bounded(op.limit, () => channel.receive()));
              } catch (error) {
                if (error instanceof TimeoutError) continue;
                if (error instanceof StopAsyncIteration) return;
                throw error;
              }
            }
          })()));
        }
        const cancellers = p.cancels.map((c) =>
          createTask((function* (): Coro<void> {
            yield* sleep(c.at);
            for (let i = 0; i < c.ticks; i++) yield* sleep(0);
            tasks[c.target % tasks.length]!.cancel();
          })()),
        );
        yield* sleep(p.closeAt);
        channel.close();
        for (const t of tasks) {
          try {
            yield* t;
          } catch (error) {
            if (!(error instanceof CancelledError)) throw error;
          }
        }
        yield* cancelAll(cancellers);
      });
      const remaining: number[] = [];
      for (;;) {
        try {
          remaining.push(channel.receiveNowait());
        } catch (error) {
          assert.ok(error instanceof StopAsyncIteration);
          break;
        }
      }
      const delivered = [...received, ...remaining];
      assert.equal(new Set(delivered).size, delivered.length, `an item was delivered twice: ${delivered}`);
      for (const item of delivered) assert.ok(!unsent.has(item), `item ${item} was delivered although its send raised`);
      for (const item of sent) assert.ok(delivered.includes(item), `item ${item} was sent but never delivered`);
      for (const item of delivered) assert.ok(sent.has(item), `item ${item} was delivered but its send never returned`);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});
