/**
 * The waiter protocol (src/waiters.ts) on its own: a lot of waiters served
 * in FIFO order by a host that grants permits, with the one cancellation
 * rule, and its invariants checked after every step.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CancelledError, RuntimeError, createTask, getRunningLoop, sleep, type Coro, type Task } from "../src/index.js";
import { ParkingLot, Waiter, holding, type WaiterHost } from "../src/waiters.js";
import { runVirtual, testEnv } from "./support.js";

// A host lending `permits`: a waiter is woken with one taken on its behalf.
class Permits implements WaiterHost<Waiter> {
  revoked = 0;
  constructor(public permits: number) {}
  grant(): boolean {
    if (this.permits <= 0) return false;
    this.permits--;
    return true;
  }
  revoke(): boolean {
    this.revoked++;
    this.permits++;
    return true;
  }
}

// Parks a task on `lot`; records its name in `order` once it resumes.
function parker(lot: ParkingLot<Waiter>, name: string, order: string[]): Task<void> {
  return createTask(
    (function* (): Coro<void> {
      yield* lot.park(new Waiter(getRunningLoop()));
      order.push(name);
    })(),
  );
}

test("parked waiters are woken in FIFO order and leave the lot when they resume", async () => {
  await runVirtual(function* () {
    const lot = new ParkingLot<Waiter>(new Permits(0));
    const order: string[] = [];
    const tasks = ["a", "b", "c"].map((name) => parker(lot, name, order));
    yield* sleep(0);
    assert.equal(lot.length, 3);
    assert.equal(lot.wake(2), 2);
    assert.deepEqual([lot.length, lot.woken, lot.waiting], [1, 2, 3]);
    lot.checkInvariants();
    yield* sleep(0);
    assert.deepEqual(order, ["a", "b"]);
    assert.deepEqual([lot.length, lot.woken, lot.waiting], [1, 0, 1]);
    lot.wakeAll();
    for (const t of tasks) yield* t;
    assert.deepEqual(order, ["a", "b", "c"]);
    assert.equal(lot.waiting, 0);
    lot.checkInvariants();
  });
});

test("serve wakes waiters while the host grants them and stops at the first refusal", async () => {
  await runVirtual(function* () {
    const permits = new Permits(0);
    const lot = new ParkingLot<Waiter>(permits);
    const order: string[] = [];
    const tasks = ["a", "b", "c"].map((name) => parker(lot, name, order));
    yield* sleep(0);
    assert.equal(lot.serve(), 0);
    permits.permits = 2;
    assert.equal(lot.serve(), 2);
    assert.equal(permits.permits, 0);
    yield* sleep(0);
    assert.deepEqual(order, ["a", "b"]);
    permits.permits = 1;
    assert.equal(lot.serve(1), 1);
    for (const t of tasks) yield* t;
    assert.deepEqual(order, ["a", "b", "c"]);
  });
});

test("a waiter woken and then cancelled before it resumed gives its grant back and the wake-up passes to the next live waiter", async () => {
  await runVirtual(function* () {
    const permits = new Permits(0);
    const lot = new ParkingLot<Waiter>(permits);
    const order: string[] = [];
    const [a, b, c] = ["a", "b", "c"].map((name) => parker(lot, name, order));
    yield* sleep(0);
    permits.permits = 1;
    lot.serve();
    a!.cancel();
    yield* sleep(0);
    assert.equal(a!.cancelled(), true);
    assert.equal(permits.revoked, 1);
    // b got the permit a gave back; c still waits, and no permit is left over.
    assert.equal(permits.permits, 0);
    yield* b!;
    assert.deepEqual(order, ["b"]);
    assert.equal(c!.done(), false);
    lot.checkInvariants();
    c!.cancel();
    yield* sleep(0);
  });
});

test("a parked coroutine closed after its waiter was woken passes the wake-up on, as a cancelled one does", async () => {
  await runVirtual(function* () {
    const permits = new Permits(0);
    const lot = new ParkingLot<Waiter>(permits);
    const order: string[] = [];
    const closed = lot.park(new Waiter(getRunningLoop()));
    closed.next();
    const b = parker(lot, "b", order);
    yield* sleep(0);
    permits.permits = 1;
    lot.serve();
    closed.return(undefined);
    assert.equal(permits.revoked, 1);
    yield* b;
    assert.deepEqual(order, ["b"]);
    assert.equal(permits.permits, 0);
    lot.checkInvariants();
  });
});

test("a waiter cancelled while parked leaves without giving anything back", async () => {
  await runVirtual(function* () {
    const permits = new Permits(0);
    const lot = new ParkingLot<Waiter>(permits);
    const order: string[] = [];
    const a = parker(lot, "a", order);
    yield* sleep(0);
    a.cancel();
    // Counted until its task resumes, but never woken.
    assert.equal(lot.length, 1);
    assert.equal(lot.hasLive(), false);
    permits.permits = 1;
    assert.equal(lot.serve(), 0);
    yield* sleep(0);
    assert.equal(lot.length, 0);
    assert.equal(permits.revoked, 0);
    assert.equal(permits.permits, 1);
  });
});

test("a wake skips a waiter cancelled while parked and wakes the next live one", async () => {
  await runVirtual(function* () {
    const lot = new ParkingLot<Waiter>(new Permits(0));
    const order: string[] = [];
    const [a, b] = ["a", "b"].map((name) => parker(lot, name, order));
    yield* sleep(0);
    a!.cancel();
    assert.equal(lot.firstLive() !== undefined, true);
    assert.equal(lot.wake(1), 1);
    yield* b!;
    assert.deepEqual(order, ["b"]);
    assert.equal(a!.cancelled(), true);
  });
});

test("a host whose revoke returns false keeps the wake-up from passing on", async () => {
  await runVirtual(function* () {
    const lot = new ParkingLot<Waiter>({ grant: () => true, revoke: () => false });
    const order: string[] = [];
    const [a, b] = ["a", "b"].map((name) => parker(lot, name, order));
    yield* sleep(0);
    lot.wake(1);
    a!.cancel();
    yield* sleep(0);
    assert.equal(b!.done(), false);
    assert.equal(lot.length, 1);
    b!.cancel();
    yield* sleep(0);
  });
});

test("waiters woken with an error raise it and give nothing back", async () => {
  await runVirtual(function* () {
    const permits = new Permits(0);
    const lot = new ParkingLot<Waiter>(permits);
    const a = parker(lot, "a", []);
    yield* sleep(0);
    lot.wakeAll(new RangeError("closed"));
    yield* sleep(0);
    assert.equal(a.exception() instanceof RangeError, true);
    assert.equal(permits.revoked, 0);
    assert.equal(lot.waiting, 0);
  });
});

test("a queued waiter leaves the lot when woken and is dropped once found cancelled", async () => {
  await runVirtual(function* () {
    const lot = new ParkingLot<Waiter>(new Permits(0));
    const loop = getRunningLoop();
    const [first, second] = [new Waiter(loop), new Waiter(loop)];
    lot.enqueue(first);
    lot.enqueue(second);
    first.cancel();
    assert.equal(lot.wakeNext(), second);
    second.setResult(undefined);
    assert.deepEqual([lot.length, lot.woken], [0, 0]);
    lot.checkInvariants();
  });
});

test("a waiter joins a lot once", async () => {
  await runVirtual(function* () {
    const lot = new ParkingLot<Waiter>(new Permits(0));
    const waiter = new Waiter(getRunningLoop());
    lot.enqueue(waiter);
    assert.throws(() => lot.join(waiter), RuntimeError);
    assert.throws(() => lot.enqueue(waiter), RuntimeError);
  });
});

test("checkInvariants names a settled waiter left in the queue", async () => {
  await runVirtual(function* () {
    const lot = new ParkingLot<Waiter>(new Permits(0));
    const waiter = new Waiter(getRunningLoop());
    lot.enqueue(waiter);
    lot.checkInvariants();
    // Settled behind the lot's back: the lot no longer describes its waiters.
    waiter.setResult(undefined);
    assert.throws(() => lot.checkInvariants(), (e: unknown) => e instanceof RuntimeError && /settled waiter/.test(e.message));
  });
});

test("a wait behaves as a generator would: thrown into or closed before it starts it never joins, and after its end it is done", async () => {
  await runVirtual(function* () {
    const lot = new ParkingLot<Waiter>(new Permits(0));
    const thrown = lot.park(new Waiter(getRunningLoop()));
    assert.throws(() => thrown.throw(new RangeError("before")), RangeError);
    assert.deepEqual(thrown.next(), { value: undefined, done: true });
    const closed = lot.park(new Waiter(getRunningLoop()));
    assert.deepEqual(closed.return(undefined), { value: undefined, done: true });
    assert.deepEqual(closed.next(), { value: undefined, done: true });
    assert.equal(lot.waiting, 0);
    const ended = lot.park(new Waiter(getRunningLoop()));
    assert.equal(ended.next().done, false);
    lot.wake(1);
    assert.deepEqual(ended.next(), { value: undefined, done: true });
    assert.deepEqual(ended.next(), { value: undefined, done: true });
    assert.throws(() => ended.throw(new RangeError("after")), RangeError);
    assert.equal(lot.waiting, 0);
    assert.equal(ended[Symbol.iterator](), ended);
    // A gone waiter cannot park again, and leaves nothing behind trying.
    const gone = new Waiter(getRunningLoop());
    const once = lot.park(gone);
    once.next();
    lot.wake(1);
    once.next();
    assert.throws(() => lot.park(gone).next(), (e: unknown) => e instanceof RuntimeError && /gone waiter cannot park/.test(e.message));
    assert.equal(lot.waiting, 0);
    lot.checkInvariants();
  });
});

test("an error thrown into a parked wait leaves the lot: a cancellation after a wake-up passes it on, another error does not", async () => {
  await runVirtual(function* () {
    const permits = new Permits(0);
    const lot = new ParkingLot<Waiter>(permits);
    const order: string[] = [];
    const cancelled = lot.park(new Waiter(getRunningLoop()));
    cancelled.next();
    const failed = lot.park(new Waiter(getRunningLoop()));
    failed.next();
    const b = parker(lot, "b", order);
    yield* sleep(0);
    permits.permits = 1;
    lot.serve(1);
    assert.throws(() => cancelled.throw(new CancelledError()), CancelledError);
    // The wake-up passed to the next live waiter, `failed`: an error that is not a cancellation keeps it.
    assert.equal(permits.revoked, 1);
    assert.throws(() => failed.throw(new RangeError("inside")), RangeError);
    assert.equal(permits.revoked, 1);
    assert.deepEqual([lot.length, lot.woken], [1, 0]);
    lot.wake(1);
    yield* b;
    assert.deepEqual(order, ["b"]);
    lot.checkInvariants();
  });
});

test("holding releases when the body throws, and only acquires what has no release", async () => {
  await runVirtual(function* () {
    const calls: string[] = [];
    const primitive = {
      *acquire(): Coro<true> {
        calls.push("acquire");
        return true;
      },
      release(): void {
        calls.push("release");
      },
    };
    yield* holding(primitive, () => sleep(0));
    try {
      yield* holding(primitive, function* (): Coro<void> {
        throw new RangeError("inside");
      });
    } catch (error) {
      assert.equal(error instanceof RangeError, true);
    }
    assert.deepEqual(calls, ["acquire", "release", "acquire", "release"]);
    const acquireOnly = {
      *acquire(): Coro<true> {
        calls.push("acquire only");
        return true;
      },
    };
    assert.equal(yield* holding(acquireOnly, function* (): Coro<number> {
      return 7;
    }), 7);
    assert.deepEqual(calls.slice(4), ["acquire only"]);
  });
});

// --- random cancellations --------------------------------------------------

const RUNS = Number(testEnv("FC_RUNS") ?? 300);
const seedOption = testEnv("FC_SEED") !== undefined ? { seed: Number(testEnv("FC_SEED")) } : {};

test("under random cancellations a lot never grants more permits than there are, loses none, serves survivors FIFO, and keeps its invariants", async () => {
  const step = fc.record({ sleep: fc.constantFrom(0, 0, 0.5, 1), hold: fc.constantFrom(0, 0.5, 1) });
  const program = fc.record({
    permits: fc.integer({ min: 1, max: 3 }),
    tasks: fc.array(step, { minLength: 2, maxLength: 8 }),
    cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.5, 1, 1.5, 2), ticks: fc.nat(2), target: fc.nat(7) }), { maxLength: 4 }),
  });
  await fc.assert(
    fc.asyncProperty(program, async (p) => {
      await runVirtual(function* () {
        const permits = new Permits(p.permits);
        const lot = new ParkingLot<Waiter>(permits);
        let holders = 0;
        const requests: number[] = [];
        const grants: number[] = [];
        const cancelled = new Set<number>();
        const tasks = p.tasks.map((s, i) =>
          createTask(
            (function* (): Coro<void> {
              yield* sleep(s.sleep);
              // The fast path, as a primitive takes it: a free permit and nobody waiting first.
              if (lot.woken === 0 && !lot.hasLive() && permits.grant()) {
                grants.push(i);
              } else {
                requests.push(i);
                try {
                  yield* lot.park(new Waiter(getRunningLoop()));
                } catch (error) {
                  if (error instanceof CancelledError) cancelled.add(i);
                  throw error;
                }
                grants.push(i);
              }
              holders++;
              assert.ok(holders <= p.permits, "more holders than permits");
              lot.checkInvariants();
              try {
                yield* sleep(s.hold);
              } finally {
                holders--;
                permits.permits++;
                lot.serve(1);
                lot.checkInvariants();
              }
            })(),
          ),
        );
        const canceller = createTask(
          (function* (): Coro<void> {
            for (const c of [...p.cancels].sort((x, y) => x.at - y.at)) {
              yield* sleep(c.at - getRunningLoop().time());
              for (let t = 0; t < c.ticks; t++) yield* sleep(0);
              tasks[c.target % tasks.length]!.cancel();
              lot.checkInvariants();
            }
          })(),
        );
        for (const t of tasks) {
          try {
            yield* t;
          } catch (error) {
            if (!(error instanceof CancelledError)) throw error;
          }
        }
        yield* canceller;
        lot.checkInvariants();
        assert.equal(permits.permits, p.permits, "a permit leaked or was invented");
        assert.equal(lot.waiting, 0);
        const survivors = requests.filter((i) => !cancelled.has(i));
        assert.deepEqual(grants.filter((i) => requests.includes(i)), survivors, "survivors were not served in FIFO order");
      });
    }),
    { numRuns: RUNS, ...seedOption },
  );
});
