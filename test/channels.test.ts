import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { CancelledError, Channel, QueueEmpty, QueueFull, RuntimeError, StopAsyncIteration, createTask, forEach, getRunningLoop, sleep, timeout, type Coro, type Future } from "../src/index.js";
import { runVirtual } from "./support.js";

function* expectThrows(body: () => Coro<unknown> | Future<unknown>, check: (error: unknown) => boolean): Coro<void> {
  try {
    yield* body();
  } catch (error) {
    assert.ok(check(error), `unexpected ${String(error)}`);
    return;
  }
  assert.fail("did not throw");
}

test("a rendezvous channel's send waits until a receiver takes the item", async () => {
  await runVirtual(function* () {
    const channel = new Channel<string>();
    const loop = getRunningLoop();
    const sent = createTask((function* () {
      yield* channel.send("hello");
      return loop.time();
    })());
    yield* sleep(2);
    assert.equal(sent.done(), false);
    assert.equal(channel.statistics().sendersWaiting, 1);
    assert.equal(yield* channel.receive(), "hello");
    assert.equal(yield* sent, 2);
  });
});

test("a receiver waiting on a rendezvous channel gets the item straight from the sender", async () => {
  await runVirtual(function* () {
    const channel = new Channel<number>(0);
    const received = createTask(channel.receive());
    yield* sleep(1);
    yield* channel.send(7);
    assert.equal(yield* received, 7);
  });
});

test("a buffered channel takes capacity items without waiting, then makes the sender wait", async () => {
  await runVirtual(function* () {
    const channel = new Channel<number>(2);
    yield* channel.send(1);
    channel.sendNowait(2);
    assert.throws(() => channel.sendNowait(3), QueueFull);
    const third = createTask(channel.send(3));
    yield* sleep(1);
    assert.equal(third.done(), false);
    assert.equal(channel.receiveNowait(), 1);
    // The waiting sender's item moved into the freed slot.
    assert.equal(channel.statistics().buffered, 2);
    yield* third;
    assert.deepEqual([channel.receiveNowait(), channel.receiveNowait()], [2, 3]);
    assert.throws(() => channel.receiveNowait(), QueueEmpty);
  });
});

test("senders and receivers are served in FIFO order", async () => {
  const received = await runVirtual(function* () {
    const channel = new Channel<number>(0);
    const senders = [1, 2, 3].map((i) => createTask(channel.send(i)));
    yield* sleep(0);
    const received: number[] = [];
    for (let i = 0; i < 3; i++) received.push(yield* channel.receive());
    for (const s of senders) yield* s;
    return received;
  });
  assert.deepEqual(received, [1, 2, 3]);
});

test("close() lets receivers drain the buffer, then ends a forEach", async () => {
  const seen = await runVirtual(function* () {
    const channel = new Channel<string>(10);
    for (const word of ["a", "b", "c"]) yield* channel.send(word);
    channel.close();
    const seen: string[] = [];
    yield* forEach(channel, function* (word) {
      seen.push(word);
    });
    yield* expectThrows(() => channel.receive(), (e) => e instanceof StopAsyncIteration);
    assert.throws(() => channel.receiveNowait(), StopAsyncIteration);
    return seen;
  });
  assert.deepEqual(seen, ["a", "b", "c"]);
});

test("close() wakes waiting receivers with StopAsyncIteration and fails waiting senders with RuntimeError", async () => {
  await runVirtual(function* () {
    const empty = new Channel<number>(0);
    const receiver = createTask(empty.receive());
    yield* sleep(0);
    empty.close();
    yield* expectThrows(() => receiver, (e) => e instanceof StopAsyncIteration);

    const full = new Channel<number>(0);
    const sender = createTask(full.send(1));
    yield* sleep(0);
    full.close();
    yield* expectThrows(() => sender, (e) => e instanceof RuntimeError && /not sent/.test((e as Error).message));
    yield* expectThrows(() => full.send(2), (e) => e instanceof RuntimeError);
    assert.throws(() => full.sendNowait(2), RuntimeError);
    assert.equal(full.isClosed(), true);
  });
});

test("a forEach producer-consumer pipeline ends when the producer closes", async () => {
  const total = await runVirtual(function* () {
    const channel = new Channel<number>(1);
    createTask((function* () {
      for (let i = 1; i <= 100; i++) yield* channel.send(i);
      channel.close();
    })());
    let total = 0;
    yield* forEach(channel, function* (n) {
      total += n;
      yield* sleep(0.01);
    });
    return total;
  });
  assert.equal(total, 5050);
});

test("a receiver cancelled after it was given an item hands it to the next receiver", async () => {
  await runVirtual(function* () {
    const channel = new Channel<string>(0);
    const first = createTask(channel.receive());
    const second = createTask(channel.receive());
    yield* sleep(0);
    channel.sendNowait("only");
    first.cancel();
    yield* expectThrows(() => first, (e) => e instanceof CancelledError);
    assert.equal(yield* second, "only");
  });
});

test("a receiver cancelled after it was given an item puts it back at the front of the buffer", async () => {
  await runVirtual(function* () {
    const channel = new Channel<string>(1);
    const receiver = createTask(channel.receive());
    yield* sleep(0);
    channel.sendNowait("first");
    channel.sendNowait("second");
    receiver.cancel();
    yield* sleep(0);
    assert.equal(receiver.cancelled(), true);
    assert.deepEqual([channel.receiveNowait(), channel.receiveNowait()], ["first", "second"]);
  });
});

test("a sender cancelled while waiting has not sent its item", async () => {
  await runVirtual(function* () {
    const channel = new Channel<string>(0);
    const sender = createTask(channel.send("never"));
    yield* sleep(1);
    sender.cancel();
    yield* expectThrows(() => sender, (e) => e instanceof CancelledError);
    assert.throws(() => channel.receiveNowait(), QueueEmpty);
  });
});

test("a sender whose item was taken completes its send, and the cancellation arrives at its next await", async () => {
  await runVirtual(function* () {
    const channel = new Channel<string>(0);
    const log: string[] = [];
    const sender = createTask((function* () {
      yield* channel.send("taken");
      log.push("send returned");
      yield* sleep(1);
      log.push("not reached");
    })());
    yield* sleep(0);
    assert.equal(channel.receiveNowait(), "taken");
    sender.cancel();
    yield* expectThrows(() => sender, (e) => e instanceof CancelledError);
    assert.deepEqual(log, ["send returned"]);
    assert.equal(sender.cancelling(), 1);
  });
});

test("a timeout that expires after the item was taken does not report the send as failed", async () => {
  await runVirtual(function* () {
    const channel = new Channel<number>(0);
    const loop = getRunningLoop();
    const sender = createTask(timeout(1, () => channel.send(1)));
    // Take the item at the very moment the timeout fires.
    loop.callAt(1, () => void channel.receiveNowait());
    yield* sender;
    assert.equal(loop.time(), 1);
  });
});

test("a channel validates its capacity and describes itself", async () => {
  assert.throws(() => new Channel(-1), (e: unknown) => e instanceof RangeError && /capacity/.test(e.message));
  assert.throws(() => new Channel(1.5), (e: unknown) => e instanceof RangeError && /capacity/.test(e.message));
  assert.throws(() => new Channel("1" as unknown as number), (e: unknown) => e instanceof TypeError && /capacity/.test(e.message));
  assert.equal(new Channel(Infinity).capacity, Infinity);
  await runVirtual(function* () {
    const channel = new Channel<number>(3);
    channel.sendNowait(1);
    assert.equal(inspect(channel), "<Channel capacity=3 buffered=1>");
    channel.close();
    assert.equal(inspect(channel), "<Channel capacity=3 buffered=1 closed>");
    assert.deepEqual(channel.statistics(), { capacity: 3, buffered: 1, sendersWaiting: 0, receiversWaiting: 0, closed: true });
  });
});

test("closing a closed channel changes nothing", async () => {
  await runVirtual(function* () {
    const channel = new Channel<number>(1);
    channel.sendNowait(1);
    channel.close();
    channel.close();
    assert.equal(channel.receiveNowait(), 1);
  });
});

test("an item sent to a receiver cancelled but not yet resumed goes to the next receiver", async () => {
  await runVirtual(function* () {
    const channel = new Channel<string>(0);
    const withdrawn = createTask(channel.receive());
    const kept = createTask(channel.receive());
    yield* sleep(0);
    withdrawn.cancel(); // its waiter is done but still queued until the task resumes
    channel.sendNowait("item");
    assert.equal(yield* kept, "item");
    assert.equal(withdrawn.cancelled(), true);
  });
});

test("a receive skips a sender cancelled but not yet resumed", async () => {
  await runVirtual(function* () {
    const channel = new Channel<string>(0);
    const withdrawn = createTask(channel.send("withdrawn"));
    const kept = createTask(channel.send("kept"));
    yield* sleep(0);
    withdrawn.cancel();
    assert.equal(channel.receiveNowait(), "kept");
    yield* kept;
    assert.equal(withdrawn.cancelled(), true);
  });
});

test("a channel's async step passes a cancellation on", async () => {
  await runVirtual(function* () {
    const channel = new Channel<number>(1);
    let stepping: ReturnType<typeof createTask<void>> | null = null;
    stepping = createTask(
      forEach(channel, function* () {
        yield* sleep(0);
      }),
    );
    yield* sleep(0);
    stepping.cancel();
    yield* expectThrows(() => stepping!, (e) => e instanceof CancelledError);
  });
});

test("a channel's repr shows waiting senders and receivers", async () => {
  await runVirtual(function* () {
    const senders = new Channel<number>(0);
    const sender = createTask(senders.send(1));
    const receivers = new Channel<number>(0);
    const receiver = createTask(receivers.receive());
    yield* sleep(0);
    assert.equal(inspect(senders), "<Channel capacity=0 buffered=0 senders:1>");
    assert.equal(inspect(receivers), "<Channel capacity=0 buffered=0 receivers:1>");
    assert.equal(senders.receiveNowait(), 1);
    receivers.sendNowait(2);
    yield* sender;
    assert.equal(yield* receiver, 2);
  });
});

test("a send driven by hand outside any task, cancelled after its item was taken, raises the CancelledError", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const channel = new Channel<string>(0);
    const outcome = loop.createFuture<unknown>();
    loop.callSoon(() => {
      const send = channel.send("by hand");
      send.next(); // waits for a receiver
      assert.equal(channel.receiveNowait(), "by hand");
      const cancellation = new CancelledError("no task to re-arm");
      try {
        send.throw(cancellation);
        outcome.setResult("no error");
      } catch (error) {
        outcome.setResult(error === cancellation ? "raised" : error);
      }
    });
    assert.equal(yield* outcome, "raised");
  });
});
