import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { Broadcast, CancelledError, QueueEmpty, QueueFull, RuntimeError, StopAsyncIteration, createTask, forEach, getRunningLoop, sleep, type Coro } from "../src/index.js";
import { runVirtual } from "./support.js";

function* collect<T>(source: Parameters<typeof forEach<T>>[0], into: T[], pause = 0): Coro<void> {
  yield* forEach(source, function* (item) {
    into.push(item);
    if (pause > 0) yield* sleep(pause);
  });
}

test("every subscriber gets every item, in order", async () => {
  const [a, b] = await runVirtual(function* () {
    const news = new Broadcast<number>(4);
    const a: number[] = [];
    const b: number[] = [];
    const readers = [createTask(collect(news.subscribe(), a)), createTask(collect(news.subscribe(), b, 0.5))];
    for (let i = 0; i < 10; i++) yield* news.send(i);
    news.close();
    for (const r of readers) yield* r;
    return [a, b];
  });
  assert.deepEqual(a, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(b, a);
});

test("a subscriber gets only the items sent after it subscribed", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<string>(8);
    const early = news.subscribe();
    yield* news.send("before");
    const late = news.subscribe();
    yield* news.send("after");
    assert.deepEqual([early.receiveNowait(), early.receiveNowait()], ["before", "after"]);
    assert.equal(late.receiveNowait(), "after");
    assert.throws(() => late.receiveNowait(), QueueEmpty);
  });
});

test("the slowest subscriber applies backpressure", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(2);
    const loop = getRunningLoop();
    const fast = news.subscribe();
    const slow = news.subscribe();
    const readers = [createTask(collect(fast, [])), createTask(collect(slow, [], 1))];
    const sentAt: number[] = [];
    for (let i = 0; i < 6; i++) {
      yield* news.send(i);
      sentAt.push(loop.time());
    }
    // The slow reader takes one item a second; two may be unread.
    assert.deepEqual(sentAt, [0, 0, 0, 1, 2, 3]);
    assert.throws(() => news.sendNowait(99), QueueFull);
    news.close();
    for (const reader of readers) yield* reader;
  });
});

test("with no subscriber an item goes nowhere and send never waits", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(1);
    for (let i = 0; i < 10; i++) news.sendNowait(i);
    assert.equal(news.statistics().buffered, 0);
  });
});

test("leaving a forEach early unsubscribes, so the others are no longer held back", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(1);
    const quitter = news.subscribe();
    const seen: number[] = [];
    const stays = createTask(collect(news.subscribe(), seen));
    const leaves = createTask(forEach(quitter, function* (n) {
      return n < 1;
    }));
    for (let i = 0; i < 5; i++) yield* news.send(i);
    yield* leaves;
    assert.equal(quitter.subscribed, false);
    assert.equal(news.statistics().subscribers, 1);
    news.close();
    yield* stays;
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    assert.equal(news.statistics().subscribers, 0);
  });
});

test("a subscriber that never reads, once unsubscribed, frees a waiting sender", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(1);
    const idle = news.subscribe();
    news.sendNowait(1);
    const blocked = createTask(news.send(2));
    yield* sleep(5);
    assert.equal(blocked.done(), false);
    idle.unsubscribe();
    yield* blocked;
    assert.equal(news.statistics().buffered, 0);
  });
});

test("a cancelled receive loses no item", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<string>(4);
    const sub = news.subscribe();
    const waiting = createTask(sub.receive());
    yield* sleep(0);
    news.sendNowait("kept");
    waiting.cancel();
    try {
      yield* waiting;
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    assert.equal(sub.receiveNowait(), "kept");
  });
});

test("close() ends every subscription after its unread items and fails waiting senders", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(1);
    const sub = news.subscribe();
    news.sendNowait(1);
    const blocked = createTask(news.send(2));
    yield* sleep(0);
    news.close();
    try {
      yield* blocked;
      assert.fail("the blocked send went through");
    } catch (error) {
      assert.ok(error instanceof RuntimeError);
    }
    assert.equal(sub.receiveNowait(), 1);
    assert.throws(() => sub.receiveNowait(), StopAsyncIteration);
    assert.equal(sub.subscribed, false);
    assert.throws(() => news.sendNowait(3), RuntimeError);
    const late = news.subscribe();
    assert.throws(() => late.receiveNowait(), StopAsyncIteration);
  });
});

test("a broadcast validates its capacity and describes itself", async () => {
  assert.throws(() => new Broadcast(0), (e: unknown) => e instanceof RangeError && /capacity/.test(e.message));
  assert.throws(() => new Broadcast(undefined as unknown as number), (e: unknown) => e instanceof TypeError && /capacity/.test(e.message));
  await runVirtual(function* () {
    const news = new Broadcast<number>(2);
    const sub = news.subscribe();
    news.sendNowait(1);
    assert.equal(inspect(news), "<Broadcast capacity=2 subscribers=1 buffered=1>");
    assert.equal(inspect(sub), "<Subscription subscribed>");
    sub.unsubscribe();
    assert.equal(inspect(news), "<Broadcast capacity=2 subscribers=0 buffered=0>");
  });
});

test("send and sendNowait on a closed broadcast are RuntimeErrors, and closing again changes nothing", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(2);
    news.close();
    news.close();
    assert.equal(news.isClosed(), true);
    assert.throws(() => news.sendNowait(1), RuntimeError);
    try {
      yield* news.send(1);
      assert.fail("no RuntimeError");
    } catch (error) {
      assert.ok(error instanceof RuntimeError);
      assert.equal(error.message, "send on a closed Broadcast");
    }
  });
});

test("a send waits behind a sender already waiting, even when it could go first", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(1);
    const sub = news.subscribe();
    news.sendNowait(1);
    const first = createTask(news.send(2));
    yield* sleep(0);
    const second = createTask(news.send(3));
    yield* sleep(0);
    assert.throws(() => news.sendNowait(4), QueueFull);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push(yield* sub.receive());
    yield* first;
    yield* second;
    assert.deepEqual(got, [1, 2, 3]);
  });
});

test("a sender cancelled while waiting is skipped when room frees up", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(1);
    const sub = news.subscribe();
    news.sendNowait(1);
    const withdrawn = createTask(news.send(2));
    const kept = createTask(news.send(3));
    yield* sleep(0);
    withdrawn.cancel(); // its waiter is done but still queued until the task resumes
    assert.equal(sub.receiveNowait(), 1);
    assert.equal(yield* sub.receive(), 3);
    yield* kept;
    assert.equal(withdrawn.cancelled(), true);
  });
});

test("unsubscribing wakes a task waiting in receive, which then ends with StopAsyncIteration", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(2);
    const sub = news.subscribe();
    const receiver = createTask(sub.receive());
    yield* sleep(0);
    sub.unsubscribe();
    sub.unsubscribe();
    try {
      yield* receiver;
      assert.fail("no StopAsyncIteration");
    } catch (error) {
      assert.ok(error instanceof StopAsyncIteration);
    }
    assert.equal(inspect(sub), "<Subscription unsubscribed>");
  });
});

test("a subscription's async step passes a cancellation on", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(2);
    const sub = news.subscribe();
    const stepping = createTask(sub.next());
    yield* sleep(0);
    stepping.cancel();
    try {
      yield* stepping;
      assert.fail("no CancelledError");
    } catch (error) {
      assert.ok(error instanceof CancelledError);
    }
    news.sendNowait(5);
    assert.deepEqual(yield* sub.next(), { done: false, value: 5 });
  });
});

test("a broadcast's repr shows its waiting senders and that it is closed", async () => {
  await runVirtual(function* () {
    const news = new Broadcast<number>(1);
    news.subscribe();
    news.sendNowait(1);
    const sender = createTask(news.send(2));
    yield* sleep(0);
    assert.equal(inspect(news), "<Broadcast capacity=1 subscribers=1 buffered=1 senders:1>");
    news.close();
    try {
      yield* sender;
    } catch (error) {
      assert.ok(error instanceof RuntimeError);
    }
    assert.equal(inspect(news), "<Broadcast capacity=1 subscribers=1 buffered=1 closed>");
  });
});
