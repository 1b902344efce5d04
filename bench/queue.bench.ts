/**
 * Bounded queue (maxsize 100), one producer and one consumer, N items
 * (issue 4), against a minimal hand-written promise queue in the same run.
 */
import { Queue, createTask, run, type Coro } from "../src/index.js";
import { measure, report, size } from "./harness.js";

const N = size(1_000_000);
const MAXSIZE = 100;

/** The smallest correct bounded promise queue: what a Node programmer would hand-roll. */
class PromiseQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private getters: Array<(item: T) => void> = [];
  private putters: Array<() => void> = [];
  constructor(private readonly maxsize: number) {}
  private get size(): number {
    return this.items.length - this.head;
  }
  async put(item: T): Promise<void> {
    while (this.size >= this.maxsize) await new Promise<void>((resolve) => this.putters.push(resolve));
    const getter = this.getters.shift();
    if (getter !== undefined) getter(item);
    else this.items.push(item);
  }
  async get(): Promise<T> {
    if (this.size === 0) return new Promise<T>((resolve) => this.getters.push(resolve));
    const item = this.items[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    this.putters.shift()?.();
    return item;
  }
}

const baseline = await measure("hand-written promise queue", N, async () => {
  const q = new PromiseQueue<number>(MAXSIZE);
  const consumer = (async () => {
    for (let i = 0; i < N; i++) await q.get();
  })();
  for (let i = 0; i < N; i++) await q.put(i);
  await consumer;
});
const ours = await measure("asyncio-ts Queue(100)", N, () =>
  run(function* () {
    const q = new Queue<number>(MAXSIZE);
    const consumer = createTask(
      (function* (): Coro<void> {
        for (let i = 0; i < N; i++) yield* q.get();
      })(),
    );
    for (let i = 0; i < N; i++) yield* q.put(i);
    yield* consumer;
  }),
);
report(`bounded queue, 1 producer 1 consumer, ${N} items`, baseline, [ours]);
console.log(`  asyncio-ts items/s: ${(N / ours.median / 1e6).toFixed(2)} M (target >= 6 M)`);
