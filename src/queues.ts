/**
 * `Queue`, `PriorityQueue` and `LifoQueue` (Python's `asyncio.Queue` family,
 * 3.13 semantics including `shutdown`).
 *
 * Getters and putters park in two `ParkingLot`s (waiters.ts). A waiter that
 * is woken but cancelled before it resumes hands its wake-up to the next
 * waiter (the lot's rule), so a cancelled `get` never strands an item and a
 * cancelled `put` never inserts one. Storage is O(1) amortised: a ring buffer (or a binary heap).
 */
import { inspectCustom } from "./repr.js";
import type { Coro } from "./coroutines.js";
import { Deque } from "./deque.js";
import { QueueEmpty, QueueFull, QueueShutDown } from "./errors.js";
import { aiterSymbol, type AsyncIterableSource, type AsyncSource } from "./iteration.js";
import { Event } from "./locks.js";
import { LoopBound } from "./loop-bound.js";
import { functionArg, integerArg, optionsArg } from "./arguments.js";
import { ParkingLot, Waiter } from "./waiters.js";

/** Options of a queue: `new Queue({ maxsize: 100 })` (or `new Queue(100)`, as in Python). */
export interface QueueOptions {
  /** At most this many items; `put` waits while full. 0 or less: unbounded. */
  maxsize?: number;
}

/** Options of a `PriorityQueue`: a comparator, as `Array.prototype.sort` takes. */
export interface PriorityQueueOptions<T> extends QueueOptions {
  /** Orders two items: negative when `a` comes out first (like `Array.prototype.sort`). */
  compare?: (a: T, b: T) => number;
}

/** Statistics of a queue. */
export interface QueueStatistics {
  size: number;
  maxsize: number;
  unfinishedTasks: number;
  getters: number;
  putters: number;
  shutdown: boolean;
}

/** @internal The future a task waits on inside `put`/`get`: it names its queue for the await graph. */
export class QueueWaiter extends Waiter {
  constructor(
    loop: ConstructorParameters<typeof Waiter>[0],
    readonly queue: Queue<unknown>,
    readonly operation: "get" | "put",
  ) {
    super(loop);
  }
}

function readMaxsize(options: number | QueueOptions | undefined): number {
  if (options === undefined) return 0;
  if (typeof options !== "object" || options === null) return integerArg(options, "Queue(): maxsize", { infinite: true });
  return integerArg(optionsArg(options, "Queue(): options").maxsize ?? 0, "Queue(): maxsize", { infinite: true });
}

/**
 * A FIFO queue for producer and consumer tasks. With a `maxsize`, `put`
 * waits while the queue is full (backpressure).
 *
 * @example
 * const queue = new Queue<string>(100);
 * yield* queue.put("order");
 * const item = yield* queue.get();
 * queue.taskDone();
 */
export class Queue<T> extends LoopBound {
  /** The most items the queue holds; 0 or less means no limit. */
  readonly maxsize: number;
  // A wake-up grants nothing: a woken getter (putter) re-checks for an item (a
  // free slot). One is woken while there is one, and passed on if cancelled.
  private readonly getters = new ParkingLot<QueueWaiter>({ grant: () => this.storedCount() > 0, revoke: () => true });
  private readonly putters = new ParkingLot<QueueWaiter>({ grant: () => !this.full(), revoke: () => true });
  private unfinishedTasks = 0;
  private readonly finished = new Event();
  private isShutdown = false;

  constructor(options?: number | QueueOptions) {
    super();
    this.maxsize = readMaxsize(options);
    this.finished.set();
  }

  /** How many items are in the queue. */
  qsize(): number {
    return this.storedCount();
  }

  /** Whether the queue has no items. */
  empty(): boolean {
    return this.storedCount() === 0;
  }

  /** Whether the queue has `maxsize` items (never, when unbounded). */
  full(): boolean {
    return this.maxsize > 0 && this.storedCount() >= this.maxsize;
  }

  /** Puts `item`, waiting while the queue is full. `QueueShutDown` after `shutdown()`. */
  *put(item: T): Coro<void> {
    while (this.full()) {
      if (this.isShutdown) throw new QueueShutDown();
      yield* this.putters.park(new QueueWaiter(this.getLoop(), this as Queue<unknown>, "put"));
    }
    this.putNowait(item);
  }

  /** Puts `item` at once; `QueueFull` if full, `QueueShutDown` after `shutdown()`. */
  putNowait(item: T): void {
    if (this.isShutdown) throw new QueueShutDown();
    if (this.full()) throw new QueueFull();
    this.store(item);
    this.unfinishedTasks++;
    if (this.unfinishedTasks === 1) this.finished.clear();
    this.getters.serve(1);
  }

  /** Removes and returns an item, waiting while the queue is empty. `QueueShutDown` once shut down and empty. */
  *get(): Coro<T> {
    while (this.storedCount() === 0) {
      if (this.isShutdown) throw new QueueShutDown();
      yield* this.getters.park(new QueueWaiter(this.getLoop(), this as Queue<unknown>, "get"));
    }
    return this.getNowait();
  }

  /** Removes and returns an item at once; `QueueEmpty` if empty (`QueueShutDown` if also shut down). */
  getNowait(): T {
    if (this.storedCount() === 0) {
      if (this.isShutdown) throw new QueueShutDown();
      throw new QueueEmpty();
    }
    const item = this.take();
    this.putters.serve(1);
    return item;
  }

  /**
   * Tells the queue that an item taken with `get` has been processed; `join`
   * returns when every item put has been. `RangeError` (Python's
   * `ValueError`) if called more times than items were put.
   */
  taskDone(): void {
    if (this.unfinishedTasks <= 0) throw new RangeError("taskDone() called too many times");
    this.unfinishedTasks--;
    if (this.unfinishedTasks === 0) this.finished.set();
  }

  /** Waits until every item put has been marked done with `taskDone`. */
  *join(): Coro<void> {
    if (this.unfinishedTasks > 0) yield* this.finished.wait();
  }

  /**
   * The queue as an async source: `forEach(queue, body)` gets each item as
   * `get()` would and ends once the queue is shut down and empty. Calling
   * `taskDone()` stays the body's job.
   */
  [aiterSymbol](): AsyncSource<T> & AsyncIterableSource<T> {
    return new QueueItems(this);
  }

  /**
   * Shuts the queue down: `put` raises `QueueShutDown` from now on, and so
   * does `get` once the queue is empty; waiting putters and getters are
   * woken. With `immediate`, the items left are dropped (counted done, so
   * `join` returns) and `get` raises at once.
   */
  shutdown(immediate = false): void {
    this.isShutdown = true;
    if (immediate) {
      while (this.storedCount() > 0) {
        this.take();
        if (this.unfinishedTasks > 0) this.unfinishedTasks--;
      }
      if (this.unfinishedTasks === 0) this.finished.set();
    }
    // Every waiter re-checks its condition and raises QueueShutDown.
    this.getters.wakeAll();
    this.putters.wakeAll();
  }

  /** Sizes, counts and state. */
  statistics(): QueueStatistics {
    return {
      size: this.storedCount(),
      maxsize: this.maxsize,
      unfinishedTasks: this.unfinishedTasks,
      getters: this.getters.length,
      putters: this.putters.length,
      shutdown: this.isShutdown,
    };
  }

  // ------------------------------------------- storage (overridden by subclasses)
  private readonly items = new Deque<T>();

  /** @internal */ protected storedCount(): number {
    return this.items.length;
  }

  /** @internal */ protected store(item: T): void {
    this.items.push(item);
  }

  /** @internal */ protected take(): T {
    return this.items.shift() as T;
  }

  [inspectCustom](): string {
    const parts = [`maxsize=${this.maxsize}`, `qsize=${this.storedCount()}`];
    if (this.getters.length > 0) parts.push(`getters:${this.getters.length}`);
    if (this.putters.length > 0) parts.push(`putters:${this.putters.length}`);
    if (this.unfinishedTasks > 0) parts.push(`tasks=${this.unfinishedTasks}`);
    if (this.isShutdown) parts.push("shutdown");
    return `<${this.constructor.name} ${parts.join(" ")}>`;
  }
}

/** A queue that returns the most recently added item first. */
export class LifoQueue<T> extends Queue<T> {
  private readonly stack: T[] = [];

  protected override storedCount(): number {
    return this.stack.length;
  }

  protected override store(item: T): void {
    this.stack.push(item);
  }

  protected override take(): T {
    return this.stack.pop() as T;
  }
}

/** Compares numbers, strings and `[priority, ...]` tuples element-wise. */
export function defaultPriorityCompare(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = defaultPriorityCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  throw new TypeError(`PriorityQueue cannot order ${typeof a} and ${typeof b}: pass { compare }`);
}

/**
 * A queue that returns the smallest item first (a binary heap): numbers,
 * `[priority, ...]` tuples, or whatever `compare` orders.
 *
 * @example
 * const jobs = new PriorityQueue<[number, string]>();
 * jobs.putNowait([2, "later"]);
 * jobs.putNowait([1, "first"]);
 */
export class PriorityQueue<T> extends Queue<T> {
  private readonly heap: T[] = [];
  private readonly compare: (a: T, b: T) => number;

  constructor(options?: number | PriorityQueueOptions<T>) {
    super(options);
    const compare = typeof options === "object" ? options.compare : undefined;
    if (compare !== undefined) functionArg(compare, "PriorityQueue(): compare");
    this.compare = compare ?? defaultPriorityCompare;
  }

  protected override storedCount(): number {
    return this.heap.length;
  }

  protected override store(item: T): void {
    const heap = this.heap;
    let index = heap.length;
    heap.push(item);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.compare(item, heap[parent]!) >= 0) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = item;
  }

  protected override take(): T {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    const size = heap.length;
    if (size > 0) {
      let index = 0;
      for (;;) {
        let child = 2 * index + 1;
        if (child >= size) break;
        if (child + 1 < size && this.compare(heap[child + 1]!, heap[child]!) < 0) child++;
        if (this.compare(heap[child]!, last) >= 0) break;
        heap[index] = heap[child]!;
        index = child;
      }
      heap[index] = last;
    }
    return top;
  }
}

// The async source of a queue: get() until QueueShutDown.
class QueueItems<T> implements AsyncSource<T> {
  constructor(private readonly queue: Queue<T>) {}

  /** The iterator itself: it is a source too (Python's `__aiter__`). */
  [aiterSymbol](): this {
    return this;
  }

  *next(): Coro<IteratorResult<T, undefined>> {
    try {
      return { done: false, value: yield* this.queue.get() };
    } catch (error) {
      if (error instanceof QueueShutDown) return { done: true, value: undefined };
      throw error;
    }
  }
}
