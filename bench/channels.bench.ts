/**
 * Channel throughput (issue 16): one producer, one consumer, N items,
 * through a rendezvous (capacity 0) and a buffered (capacity 64) channel,
 * against a minimal hand-written promise channel in the same run; and a
 * Broadcast to 4 subscribers.
 */
import { Broadcast, Channel, createTask, forEach, run } from "../src/index.js";
import { measure, report, size } from "./harness.js";

const N = size(200_000, 200);
const BUFFER = 64;
const SUBSCRIBERS = 4;

/** The smallest correct promise channel with a buffer (0: rendezvous), as a Node programmer would hand-roll it. */
class PromiseChannel<T> {
  private readonly buffer: T[] = [];
  private readonly receivers: Array<(item: T) => void> = [];
  private readonly senders: Array<{ item: T; resolve: () => void }> = [];
  constructor(private readonly capacity: number) {}
  async send(item: T): Promise<void> {
    const receiver = this.receivers.shift();
    if (receiver !== undefined) return receiver(item);
    if (this.buffer.length < this.capacity) {
      this.buffer.push(item);
      return;
    }
    await new Promise<void>((resolve) => this.senders.push({ item, resolve }));
  }
  async receive(): Promise<T> {
    if (this.buffer.length > 0) {
      const item = this.buffer.shift()!;
      const sender = this.senders.shift();
      if (sender !== undefined) {
        this.buffer.push(sender.item);
        sender.resolve();
      }
      return item;
    }
    const sender = this.senders.shift();
    if (sender !== undefined) {
      sender.resolve();
      return sender.item;
    }
    return new Promise<T>((resolve) => this.receivers.push(resolve));
  }
}

async function handWritten(capacity: number): Promise<void> {
  const channel = new PromiseChannel<number>(capacity);
  const consumer = (async () => {
    for (let i = 0; i < N; i++) await channel.receive();
  })();
  for (let i = 0; i < N; i++) await channel.send(i);
  await consumer;
}

function ours(capacity: number): Promise<void> {
  return run(function* () {
    const channel = new Channel<number>(capacity);
    const consumer = createTask(forEach(channel, () => undefined));
    for (let i = 0; i < N; i++) yield* channel.send(i);
    channel.close();
    yield* consumer;
  });
}

for (const capacity of [0, BUFFER]) {
  const baseline = await measure(`hand-written promise channel(${capacity})`, N, () => handWritten(capacity));
  const channel = await measure(`asyncio-ts Channel(${capacity})`, N, () => ours(capacity));
  report(`channel, capacity ${capacity}, 1 producer 1 consumer, ${N} items`, baseline, [channel]);
}

const baseline = await measure(`hand-written channel x${SUBSCRIBERS}`, N * SUBSCRIBERS, async () => {
  const channels = Array.from({ length: SUBSCRIBERS }, () => new PromiseChannel<number>(BUFFER));
  const consumers = channels.map(async (channel) => {
    for (let i = 0; i < N; i++) await channel.receive();
  });
  for (let i = 0; i < N; i++) for (const channel of channels) await channel.send(i);
  await Promise.all(consumers);
});
const broadcast = await measure(`asyncio-ts Broadcast(${BUFFER}) x${SUBSCRIBERS}`, N * SUBSCRIBERS, () =>
  run(function* () {
    const news = new Broadcast<number>(BUFFER);
    const readers = Array.from({ length: SUBSCRIBERS }, () => createTask(forEach(news.subscribe(), () => undefined)));
    for (let i = 0; i < N; i++) yield* news.send(i);
    news.close();
    for (const reader of readers) yield* reader;
  }),
);
report(`broadcast to ${SUBSCRIBERS} subscribers (baseline: one hand-written channel per subscriber), ${N} items`, baseline, [broadcast]);
