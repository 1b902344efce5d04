import assert from "node:assert/strict";
import { test } from "node:test";
import type { AddressInfo } from "node:net";
import {
  Broadcast,
  CancelledError,
  Channel,
  Queue,
  StopAsyncIteration,
  StreamReader,
  TimeoutError,
  aiter,
  aiterSymbol,
  anext,
  asCompleted,
  createTask,
  forEach,
  fromAsyncIterable,
  fromPromise,
  openConnection,
  sleep,
  startServer,
  toAsyncIterable,
  type AsyncSource,
  type Coro,
  type Task,
} from "../src/index.js";
import { after, runCapturing, runVirtual } from "./support.js";

/** A source of 1..n that records whether it was closed. */
function countingSource(n: number): { source: { [aiterSymbol](): AsyncSource<number> }; log: string[] } {
  const log: string[] = [];
  let i = 0;
  const it: AsyncSource<number> = {
    *next() {
      yield* sleep(1);
      i++;
      return i <= n ? { done: false, value: i } : { done: true, value: undefined };
    },
    *return() {
      yield* sleep(1);
      log.push("closed");
    },
  };
  return { source: { [aiterSymbol]: () => it }, log };
}

test("forEach runs the body for every item of a source, in order", async () => {
  const seen = await runVirtual(function* () {
    const { source, log } = countingSource(3);
    const items: number[] = [];
    yield* forEach(source, (x) => {
      items.push(x);
    });
    return { items, log };
  });
  assert.deepEqual(seen, { items: [1, 2, 3], log: [] });
});

test("a body returning false breaks the loop and the source is closed before forEach returns", async () => {
  const log = await runVirtual(function* () {
    const { source, log } = countingSource(10);
    yield* forEach(source, function* (x) {
      yield* sleep(0);
      return x < 2;
    });
    log.push("after");
    return log;
  });
  assert.deepEqual(log, ["closed", "after"]);
});

test("an error thrown by the body closes the source and propagates", async () => {
  const outcome = await runCapturing(function* () {
    const { source, log } = countingSource(10);
    try {
      yield* forEach(source, () => {
        throw new Error("boom");
      });
    } catch (error) {
      return [(error as Error).message, ...log];
    }
    return [];
  });
  assert.deepEqual(outcome.value, ["boom", "closed"]);
});

test("a source whose next() fails is not closed (Python's async for)", async () => {
  const log: string[] = [];
  const outcome = await runCapturing(function* () {
    const it: AsyncSource<number> = {
      *next() {
        throw new Error("source broke");
      },
      *return() {
        log.push("closed");
      },
    };
    yield* forEach({ [aiterSymbol]: () => it }, () => undefined);
  });
  assert.equal((outcome.error as Error).message, "source broke");
  assert.deepEqual(log, []);
});

test("cancelling the task running a forEach closes the source", async () => {
  const log = await runVirtual(function* () {
    const { source, log } = countingSource(100);
    const task = createTask(forEach(source, () => undefined));
    yield* sleep(3.5);
    task.cancel();
    try {
      yield* task;
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    return log;
  });
  assert.deepEqual(log, ["closed"]);
});

test("forEach over a queue gets the items left after shutdown, then ends", async () => {
  const items = await runVirtual(function* () {
    const queue = new Queue<string>();
    const got: string[] = [];
    const consumer = createTask(forEach(queue, (item) => {
      got.push(item);
      queue.taskDone();
    }));
    yield* queue.put("a");
    yield* sleep(1);
    queue.putNowait("b");
    queue.putNowait("c");
    queue.shutdown();
    yield* consumer;
    return got;
  });
  assert.deepEqual(items, ["a", "b", "c"]);
});

test("forEach over a stream reader yields its lines, the last one without a newline", async () => {
  const lines = await runVirtual(function* () {
    const reader = new StreamReader();
    reader.feedData(Buffer.from("one\ntwo\nthr"));
    reader.feedData(Buffer.from("ee"));
    reader.feedEof();
    const got: string[] = [];
    yield* forEach(reader, (line) => {
      got.push(line.toString());
    });
    return got;
  });
  assert.deepEqual(lines, ["one\n", "two\n", "three"]);
});

test("forEach over a socket reader reads each line the peer sent", async () => {
  const outcome = await runCapturing(
    function* () {
      const server = yield* startServer(
        function* (_reader, writer) {
          writer.write("alpha\nbeta\ngamma\n");
          yield* writer.drain();
          writer.close();
          yield* writer.waitClosed();
        },
        "127.0.0.1",
        0,
      );
      const port = (server.sockets[0] as AddressInfo).port;
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      const got: string[] = [];
      yield* forEach(reader, (line) => {
        got.push(line.toString().trimEnd());
      });
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
      return got;
    },
    { clock: "real" },
  );
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.value, ["alpha", "beta", "gamma"]);
});

test("the async form of asCompleted yields the original tasks in completion order", async () => {
  const names = await runVirtual(function* () {
    const slow = createTask(after(3, "slow"), { name: "slow" });
    const fast = createTask(after(1, "fast"), { name: "fast" });
    const middle = createTask(after(2, "middle"), { name: "middle" });
    const order: string[] = [];
    yield* forEach(asCompleted([slow, fast, middle]), (task) => {
      assert.ok(task === slow || task === fast || task === middle);
      order.push((task as Task<string>).getName());
    });
    return order;
  });
  assert.deepEqual(names, ["fast", "middle", "slow"]);
});

test("the async form of asCompleted raises TimeoutError for what is not done in time", async () => {
  const outcome = await runCapturing(function* () {
    const got: string[] = [];
    try {
      yield* forEach(asCompleted([after(1, "a"), after(10, "b")], { timeout: 5 }), (f) => {
        got.push(f.result());
      });
    } catch (error) {
      return [...got, error instanceof TimeoutError ? "timeout" : String(error)];
    }
    return got;
  });
  assert.deepEqual(outcome.value, ["a", "timeout"]);
});

test("plain asCompleted futures awaited in reverse order still settle in completion order (test_as_completed_reverse_wait)", async () => {
  const results = await runVirtual(function* () {
    const futures = [...asCompleted([after(0.05, "a"), after(0.1, "b")])];
    assert.equal(futures.length, 2);
    const first = yield* futures[1]!;
    const second = yield* futures[0]!;
    return [first, second];
  });
  assert.deepEqual(results, ["a", "b"]);
});

test("a native async generator is closed when the loop body breaks", async () => {
  const log: string[] = [];
  async function* numbers(): AsyncGenerator<number> {
    try {
      for (let i = 1; ; i++) yield i;
    } finally {
      log.push("generator closed");
    }
  }
  await runVirtual(function* () {
    yield* forEach(numbers(), (n) => n < 3);
    log.push("after loop");
  });
  assert.deepEqual(log, ["generator closed", "after loop"]);
});

test("a native async generator is closed when the task looping over it is cancelled", async () => {
  const log: string[] = [];
  async function* ticks(): AsyncGenerator<number> {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      log.push("generator closed");
    }
  }
  await runVirtual(function* () {
    const task = createTask(forEach(ticks(), function* () {
      yield* sleep(1);
    }));
    yield* sleep(2.5);
    task.cancel();
    // return() of a native generator settles through the microtask queue.
    yield* fromPromise(new Promise((resolve) => setImmediate(resolve)));
    assert.ok(task.cancelled());
  });
  assert.deepEqual(log, ["generator closed"]);
});

test("anext returns the next item, then raises StopAsyncIteration at the end", async () => {
  const outcome = await runCapturing(function* () {
    const it = aiter(countingSource(1).source);
    const first = yield* anext(it);
    const fallback = yield* anext(it, "end");
    try {
      yield* anext(it);
    } catch (error) {
      return [first, fallback, error instanceof StopAsyncIteration];
    }
    return [];
  });
  assert.deepEqual(outcome.value, [1, "end", true]);
});

test("anext takes a native async iterator", async () => {
  const value = await runVirtual(function* () {
    async function* one(): AsyncGenerator<string> {
      yield "x";
    }
    return yield* anext(one());
  });
  assert.equal(value, "x");
});

test("aiter and forEach refuse what is not an async source with a TypeError", async () => {
  assert.throws(() => aiter(42 as never), TypeError);
  assert.throws(() => aiter([1, 2] as never), /not an async source/);
  assert.throws(() => fromAsyncIterable({} as never), TypeError);
  const outcome = await runCapturing(function* () {
    yield* forEach(new Queue<number>(), "body" as never);
  });
  assert.ok(outcome.error instanceof TypeError);
});

test("toAsyncIterable gives plain async code a for await over a queue", async () => {
  const got = await runVirtual(function* (): Coro<number[]> {
    const queue = new Queue<number>();
    for (const n of [1, 2, 3]) queue.putNowait(n);
    queue.shutdown();
    const iterable = toAsyncIterable(queue);
    return yield* fromPromise(
      (async () => {
        const items: number[] = [];
        for await (const n of iterable) items.push(n);
        return items;
      })(),
    );
  });
  assert.deepEqual(got, [1, 2, 3]);
});

test("aiter of a source whose [aiterSymbol]() gives no iterator is a TypeError", () => {
  assert.throws(() => aiter({ [aiterSymbol]: () => 5 } as never), (e: unknown) => e instanceof TypeError && /returned something without a next\(\) method/.test(e.message));
});

test("anext of something that is not an iterator is a TypeError", async () => {
  const outcome = await runCapturing(function* () {
    yield* anext(5 as never);
  });
  assert.ok(outcome.error instanceof TypeError);
  assert.match((outcome.error as Error).message, /is not an async iterator/);
});

test("fromAsyncIterable of something that is not async iterable is a TypeError", () => {
  for (const bad of [null, 5, {}]) assert.throws(() => fromAsyncIterable(bad as never), (e: unknown) => e instanceof TypeError && /is not an async iterable/.test(e.message));
});

test("fromAsyncIterable accepts a function that is async iterable", async () => {
  const got = await runVirtual(function* () {
    const iterable = Object.assign(() => undefined, {
      async *[Symbol.asyncIterator]() {
        yield "from a function";
      },
    });
    const source = fromAsyncIterable(iterable);
    return [yield* source.next(), yield* source.next()];
  });
  assert.deepEqual(got, [{ done: false, value: "from a function" }, { done: true, value: undefined }]);
});

test("a native source closed twice closes its iterator once, and then reports done", async () => {
  const got = await runVirtual(function* () {
    let closes = 0;
    const source = fromAsyncIterable({
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: false as const, value: 1 }),
        return: () => {
          closes++;
          return Promise.resolve({ done: true as const, value: undefined });
        },
      }),
    });
    assert.deepEqual(yield* source.next(), { done: false, value: 1 });
    yield* source.return!();
    yield* source.return!();
    return { closes, after: yield* source.next() };
  });
  assert.deepEqual(got, { closes: 1, after: { done: true, value: undefined } });
});

test("closing a native source whose iterator has no return() does nothing more", async () => {
  await runVirtual(function* () {
    const source = fromAsyncIterable({ [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true as const, value: undefined }) }) });
    yield* source.return!();
    assert.deepEqual(yield* source.next(), { done: true, value: undefined });
  });
});

test("closing a native source while its next() is outstanding calls return() without waiting for it", async () => {
  let finishNext: (() => void) | null = null;
  const got = await runVirtual(function* () {
    let closed = false;
    const source = fromAsyncIterable({
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>((resolve) => (finishNext = () => resolve({ done: true, value: undefined }))),
        return: () => {
          closed = true;
          return new Promise<IteratorResult<number>>(() => undefined); // waits behind next(), as a native generator's would
        },
      }),
    });
    const stepping = createTask(source.next());
    yield* sleep(0);
    stepping.cancel();
    try {
      yield* stepping;
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    yield* source.return!();
    return closed;
  });
  finishNext!();
  assert.equal(got, true);
});

test("leaving a for await over toAsyncIterable early closes the source, or just ends one without return()", async () => {
  const got = await runVirtual(function* (): Coro<string[]> {
    // No sleeps: virtual time stands still while the main task waits on native code.
    const log: string[] = [];
    let i = 0;
    const source: AsyncSource<number> = {
      *next() {
        yield* sleep(0);
        return { done: false, value: ++i };
      },
      *return() {
        yield* sleep(0);
        log.push("closed");
      },
    };
    const queue = new Queue<number>();
    queue.putNowait(1);
    const closing = toAsyncIterable({ [aiterSymbol]: () => source });
    const plain = toAsyncIterable(queue);
    return yield* fromPromise(
      (async () => {
        for await (const n of closing) if (n === 2) break;
        for await (const n of plain) if (n === 1) break;
        return log;
      })(),
    );
  });
  assert.deepEqual(got, ["closed"]);
});

test("forEach walks the source fromAsyncIterable returns", async () => {
  const got = await runVirtual(function* (): Coro<number[]> {
    async function* numbers(): AsyncGenerator<number> {
      yield 1;
      yield 2;
    }
    const items: number[] = [];
    yield* forEach(fromAsyncIterable(numbers()), (n) => {
      items.push(n);
    });
    return items;
  });
  assert.deepEqual(got, [1, 2]);
});

test("toAsyncIterable takes the source fromAsyncIterable returns, and its iterator is its own async iterable", async () => {
  const got = await runVirtual(function* (): Coro<string[]> {
    async function* letters(): AsyncGenerator<string> {
      yield "a";
      yield "b";
    }
    const iterable = toAsyncIterable(fromAsyncIterable(letters()));
    return yield* fromPromise(
      (async () => {
        const iterator = iterable[Symbol.asyncIterator]();
        assert.equal((iterator as AsyncIterableIterator<string>)[Symbol.asyncIterator](), iterator);
        const items: string[] = [];
        for await (const letter of iterable) items.push(letter);
        return items;
      })(),
    );
  });
  assert.deepEqual(got, ["a", "b"]);
});

test("every iterator the package hands out returns itself from [aiterSymbol]()", async () => {
  await runVirtual(function* () {
    async function* empty(): AsyncGenerator<never> {}
    const queue = new Queue<number>();
    const subscription = new Broadcast<number>(1).subscribe();
    const completions = aiter(asCompleted([after(1, "x")]));
    const iterators = [
      aiter(queue),
      queue[aiterSymbol](),
      aiter(new StreamReader()),
      aiter(new Channel<number>()),
      completions,
      aiter(subscription),
      aiter(empty()),
      fromAsyncIterable(empty()),
      aiter(countingSource(1).source),
    ];
    for (const it of iterators) assert.equal(it[aiterSymbol](), it, it.constructor.name);
    subscription.unsubscribe();
    yield* forEach(completions, () => {});
  });
});

test("an iterator aiter made from a source of one's own walks and closes that source's iterator", async () => {
  const { source, log } = countingSource(5);
  const got = await runVirtual(function* (): Coro<number[]> {
    const items: number[] = [];
    yield* forEach(aiter(source), (n) => {
      items.push(n);
      return n < 2;
    });
    return items;
  });
  assert.deepEqual(got, [1, 2]);
  assert.deepEqual(log, ["closed"]);
});
