import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull, QueueShutDown, createTask, forEach, getRunningLoop, sleep, type Coro } from "../src/index.js";
import { runVirtual } from "./support.js";

test("items come out in FIFO order", async () => {
  assert.deepEqual(await runVirtual(function* () {
    const q = new Queue<number>();
    for (const x of [1, 2, 3]) yield* q.put(x);
    return [yield* q.get(), yield* q.get(), yield* q.get()];
  }), [1, 2, 3]);
});

test("a LifoQueue returns the newest item first", () => {
  const q = new LifoQueue<number>();
  for (const x of [1, 2, 3]) q.putNowait(x);
  assert.deepEqual([q.getNowait(), q.getNowait(), q.getNowait()], [3, 2, 1]);
});

test("a PriorityQueue returns the smallest number or tuple first", () => {
  const q = new PriorityQueue<[number, string]>();
  for (const x of [[3, "c"], [1, "a"], [2, "b"], [1, "0"]] as [number, string][]) q.putNowait(x);
  assert.deepEqual([q.getNowait(), q.getNowait(), q.getNowait(), q.getNowait()], [[1, "0"], [1, "a"], [2, "b"], [3, "c"]]);
});

test("a PriorityQueue takes a comparator", () => {
  const q = new PriorityQueue<{ due: number }>({ compare: (a, b) => b.due - a.due });
  for (const due of [1, 5, 3]) q.putNowait({ due });
  assert.deepEqual([q.getNowait().due, q.getNowait().due, q.getNowait().due], [5, 3, 1]);
});

test("a PriorityQueue refuses items it cannot order without a comparator", () => {
  const q = new PriorityQueue<object>();
  q.putNowait({});
  assert.throws(() => q.putNowait({}), TypeError);
});

test("maxsize accepts a number or an options object", () => {
  assert.equal(new Queue(3).maxsize, 3);
  assert.equal(new Queue({ maxsize: 4 }).maxsize, 4);
  assert.equal(new Queue().maxsize, 0);
});

test("getNowait on an empty queue throws QueueEmpty and putNowait on a full one QueueFull", () => {
  const q = new Queue<number>(1);
  assert.throws(() => q.getNowait(), QueueEmpty);
  q.putNowait(1);
  assert.equal(q.full(), true);
  assert.throws(() => q.putNowait(2), QueueFull);
});

test("put waits while the queue is full (backpressure)", async () => {
  await runVirtual(function* () {
    const q = new Queue<number>(2);
    yield* q.put(1);
    yield* q.put(2);
    const putter = createTask(q.put(3));
    yield* sleep(1);
    assert.equal(putter.done(), false);
    assert.equal(yield* q.get(), 1);
    yield* putter;
    assert.equal(q.qsize(), 2);
  });
});

test("get waits while the queue is empty", async () => {
  await runVirtual(function* () {
    const q = new Queue<string>();
    const getter = createTask(q.get());
    yield* sleep(1);
    assert.equal(getter.done(), false);
    yield* q.put("x");
    assert.equal(yield* getter, "x");
  });
});

test("a getter cancelled in the same tick it is woken does not lose the item", async () => {
  await runVirtual(function* () {
    const q = new Queue<string>();
    const first = createTask(q.get());
    const second = createTask(q.get());
    yield* sleep(0);
    q.putNowait("item");
    first.cancel();
    yield* sleep(1);
    assert.equal(first.cancelled(), true);
    assert.equal(second.result(), "item");
  });
});

test("a getter cancelled in the same tick it is woken leaves the item in the queue when no one else waits", async () => {
  await runVirtual(function* () {
    const q = new Queue<string>();
    const only = createTask(q.get());
    yield* sleep(0);
    q.putNowait("item");
    only.cancel();
    yield* sleep(1);
    assert.equal(only.cancelled(), true);
    assert.equal(q.qsize(), 1);
  });
});

test("a putter cancelled in the same tick it is woken inserts nothing and wakes the next putter", async () => {
  await runVirtual(function* () {
    const q = new Queue<string>(1);
    q.putNowait("a");
    const first = createTask(q.put("b"));
    const second = createTask(q.put("c"));
    yield* sleep(0);
    assert.equal(q.getNowait(), "a");
    first.cancel();
    yield* sleep(1);
    assert.equal(first.cancelled(), true);
    assert.equal(second.done(), true);
    assert.deepEqual([q.getNowait()], ["c"]);
    assert.equal(q.empty(), true);
  });
});

test("join returns when every item is marked done", async () => {
  const at = await runVirtual(function* () {
    const q = new Queue<number>();
    for (let i = 0; i < 3; i++) q.putNowait(i);
    const worker = createTask(
      (function* (): Coro<void> {
        for (;;) {
          yield* q.get();
          yield* sleep(1);
          q.taskDone();
        }
      })(),
    );
    yield* q.join();
    const at = getRunningLoop().time();
    worker.cancel();
    yield* sleep(0);
    return at;
  });
  assert.equal(at, 3);
});

test("join on a queue with nothing unfinished returns at once", async () => {
  await runVirtual(function* () {
    yield* new Queue().join();
  });
});

test("taskDone called too many times is a RangeError", () => {
  const q = new Queue<number>();
  q.putNowait(1);
  q.getNowait();
  q.taskDone();
  assert.throws(() => q.taskDone(), RangeError);
});

test("after shutdown put raises QueueShutDown and get drains then raises", async () => {
  await runVirtual(function* () {
    const q = new Queue<number>();
    q.putNowait(1);
    q.shutdown();
    assert.throws(() => q.putNowait(2), QueueShutDown);
    assert.equal(yield* q.get(), 1);
    try {
      yield* q.get();
      assert.fail("no QueueShutDown");
    } catch (e) {
      assert.ok(e instanceof QueueShutDown);
    }
  });
});

test("shutdown wakes waiting getters and putters with QueueShutDown", async () => {
  await runVirtual(function* () {
    const empty = new Queue<number>();
    const full = new Queue<number>(1);
    full.putNowait(0);
    const getter = createTask(empty.get());
    const putter = createTask(full.put(1));
    yield* sleep(0);
    empty.shutdown();
    full.shutdown();
    yield* sleep(0);
    yield* sleep(0);
    assert.ok(getter.exception() instanceof QueueShutDown);
    assert.ok(putter.exception() instanceof QueueShutDown);
  });
});

test("immediate shutdown drops the items and releases join", async () => {
  await runVirtual(function* () {
    const q = new Queue<number>();
    for (let i = 0; i < 3; i++) q.putNowait(i);
    const joiner = createTask(q.join());
    yield* sleep(0);
    q.shutdown(true);
    yield* joiner;
    assert.equal(q.qsize(), 0);
    assert.throws(() => q.getNowait(), QueueShutDown);
  });
});

test("a queue describes itself", () => {
  const q = new Queue<number>(5);
  q.putNowait(1);
  assert.equal(inspect(q), "<Queue maxsize=5 qsize=1 tasks=1>");
});

test("a PriorityQueue orders a tuple that is a prefix of another first", () => {
  const q = new PriorityQueue<number[]>();
  for (const x of [[1, 2, 3], [1, 2], [1]]) q.putNowait(x);
  assert.deepEqual([q.getNowait(), q.getNowait(), q.getNowait()], [[1], [1, 2], [1, 2, 3]]);
});

test("a PriorityQueue orders bigints and strings", () => {
  const big = new PriorityQueue<bigint>();
  for (const x of [3n, 1n, 2n, 1n]) big.putNowait(x);
  assert.deepEqual([big.getNowait(), big.getNowait(), big.getNowait(), big.getNowait()], [1n, 1n, 2n, 3n]);
  const words = new PriorityQueue<string>();
  for (const x of ["pear", "apple", "fig", "apple"]) words.putNowait(x);
  assert.deepEqual([words.getNowait(), words.getNowait(), words.getNowait(), words.getNowait()], ["apple", "apple", "fig", "pear"]);
});

test("a PriorityQueue refuses to compare a bigint with a number", () => {
  const q = new PriorityQueue<number | bigint>();
  q.putNowait(1n);
  assert.throws(() => q.putNowait(2), (e: unknown) => e instanceof TypeError && /cannot order number and bigint/.test(e.message));
});

test("a PriorityQueue keeps heap order when the right child is the smaller one", () => {
  const q = new PriorityQueue<number>();
  for (const x of [1, 5, 2, 6, 7, 3, 4]) q.putNowait(x);
  const out: number[] = [];
  while (!q.empty()) out.push(q.getNowait());
  assert.deepEqual(out, [1, 2, 3, 4, 5, 6, 7]);
});

test("a queue's async step passes a cancellation on", async () => {
  await runVirtual(function* () {
    const q = new Queue<number>();
    const consumer = createTask(
      forEach(q, function* () {
        yield* sleep(0);
      }),
    );
    yield* sleep(0);
    consumer.cancel();
    try {
      yield* consumer;
      assert.fail("no CancelledError");
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
  });
});

test("a queue's repr shows waiting getters and putters and that it is shut down", async () => {
  await runVirtual(function* () {
    const empty = new Queue<number>(1);
    const getter = createTask(empty.get());
    const full = new Queue<number>(1);
    full.putNowait(1);
    const putter = createTask(full.put(2));
    yield* sleep(0);
    assert.equal(inspect(empty), "<Queue maxsize=1 qsize=0 getters:1>");
    assert.equal(inspect(full), "<Queue maxsize=1 qsize=1 putters:1 tasks=1>");
    empty.putNowait(3);
    assert.equal(yield* getter, 3);
    assert.equal(full.getNowait(), 1);
    yield* putter;
    full.shutdown();
    assert.equal(inspect(full), "<Queue maxsize=1 qsize=1 tasks=2 shutdown>");
  });
});
