/**
 * Random programs on a Broadcast: senders with timeouts, subscribers that
 * join late, read at their own pace (some through `forEach`, leaving early),
 * time out while receiving, or are cancelled; all on the virtual clock. A
 * monitor subscribed from the start sees the order items went out in.
 * Every live subscriber gets every item sent while it was subscribed, in
 * that order. Rerun a failure with FC_SEED=<seed>.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Broadcast, CancelledError, RuntimeError, StopAsyncIteration, TimeoutError, createTask, forEach, sleep, timeout, type Coro, type Task } from "../src/index.js";
import { cancelAll, runVirtual, testEnv } from "./support.js";

const RUNS = Number(testEnv("FC_RUNS") ?? 1000);
const seedOption = testEnv("FC_SEED") !== undefined ? { seed: Number(testEnv("FC_SEED")) } : {};

const duration = fc.constantFrom(0, 0, 0.5, 1);
const operation = fc.record({ before: duration, limit: fc.constantFrom(null, null, 0, 0.5, 1) });
const program = fc.record({
  capacity: fc.integer({ min: 1, max: 3 }),
  senders: fc.array(fc.array(operation, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 2 }),
  subscribers: fc.array(
    fc.record({ joinAt: duration, viaForEach: fc.boolean(), reads: fc.array(operation, { minLength: 0, maxLength: 8 }), readsAll: fc.boolean() }),
    { minLength: 1, maxLength: 3 },
  ),
  cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.5, 1, 2), ticks: fc.nat(3), target: fc.nat(5) }), { maxLength: 3 }),
  closeAt: fc.constantFrom(1, 3, 10),
});

interface SubscriberLog {
  subscribedAt: number;
  received: number[];
  completed: boolean;
}

function* bounded<T>(limit: number | null, body: () => Coro<T>): Coro<T> {
  return limit === null ? yield* body() : yield* timeout(limit, body);
}

test("Broadcast: every live subscriber gets every item sent while it was subscribed, in order, exactly once", async () => {
  await fc.assert(
    fc.asyncProperty(program, async (p) => {
      const news = new Broadcast<number>(p.capacity);
      let events = 0;
      const sendStarted = new Map<number, number>();
      const sendReturned = new Map<number, number>();
      const unsent = new Set<number>();
      const order: number[] = [];
      const logs: SubscriberLog[] = [];
      await runVirtual(function* () {
        const monitor = createTask(forEach(news.subscribe(), (item) => void order.push(item)));
        let nextItem = 0;
        const tasks: Task<void>[] = [];
        for (const ops of p.senders) {
          tasks.push(createTask((function* (): Coro<void> {
            for (const op of ops) {
              yield* sleep(op.before);
              const item = nextItem++;
              sendStarted.set(item, ++events);
              try {
                yield* bounded(op.limit, () => news.send(item));
              } catch (error) {
                unsent.add(item);
                if (error instanceof TimeoutError) continue;
                if (error instanceof RuntimeError) return;
                throw error;
              }
              sendReturned.set(item, ++events);
            }
          })()));
        }
        for (const s of p.subscribers) {
          tasks.push(createTask((function* (): Coro<void> {
            yield* sleep(s.joinAt);
            const subscription = news.subscribe();
            const log: SubscriberLog = { subscribedAt: ++events, received: [], completed: false };
            logs.push(log);
            if (s.viaForEach) {
              // Reads at the pace of `reads`, then leaves the loop early unless it reads all.
              let index = 0;
              let leftEarly = false;
              yield* forEach(subscription, function* (item) {
                log.received.push(item);
                const op = s.reads[index++];
                if (op === undefined && !s.readsAll) {
                  leftEarly = true;
                  return false;
                }
                if (op !== undefined) yield* sleep(op.before);
                return true;
              });
              log.completed = !leftEarly;
              return;
            }
            try {
              for (let i = 0; s.readsAll || i < s.reads.length; i++) {
                // After its paced reads, one that reads all waits without a timeout (a spin of timeout(0) would stop the clock).
                const op = s.reads[i] ?? { before: 0, limit: null };
                yield* sleep(op.before);
                try {
                  log.received.push(yield* bounded(op.limit, () => subscription.receive()));
                } catch (error) {
                  if (error instanceof TimeoutError) continue;
                  if (error instanceof StopAsyncIteration) {
                    log.completed = true;
                    return;
                  }
                  throw error;
                }
              }
            } finally {
              subscription.unsubscribe();
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
        news.close();
        for (const t of [...tasks, monitor]) {
          try {
            yield* t;
          } catch (error) {
            if (!(error instanceof CancelledError)) throw error;
          }
        }
        yield* cancelAll(cancellers);
      });
      // The monitor saw each item whose send returned, once, and no other.
      assert.equal(new Set(order).size, order.length, `the monitor got an item twice: ${order}`);
      assert.deepEqual([...order].sort((a, b) => a - b), [...sendReturned.keys()].sort((a, b) => a - b), "the items that went out are not the items sent");
      for (const item of order) assert.ok(!unsent.has(item));
      for (const log of logs) {
        const start = log.received.length > 0 ? order.indexOf(log.received[0]!) : -1;
        if (log.received.length > 0) {
          assert.deepEqual(log.received, order.slice(start, start + log.received.length), `subscriber got ${log.received}, not a run of ${order}`);
        }
        for (const item of log.received) assert.ok(sendReturned.get(item)! > log.subscribedAt, `item ${item} was sent before the subscription`);
        if (log.completed) {
          const expected = order.filter((item) => sendStarted.get(item)! > log.subscribedAt);
          for (const item of expected) assert.ok(log.received.includes(item), `a subscriber that read to the end missed item ${item}`);
          if (log.received.length > 0) assert.equal(start + log.received.length, order.length, "a subscriber that read to the end stopped short");
        }
      }
      assert.equal(news.statistics().subscribers, 0, "a subscription outlived its reader");
      assert.equal(news.statistics().buffered, 0);
    }),
    { numRuns: RUNS, ...seedOption },
  );
});
