/**
 * `Broadcast<T>`: one sender side, many subscribers, each getting every item
 * sent after it subscribed, in order (what Trio users asked for in
 * python-trio/trio#987; tokio's `broadcast`, without lagging receivers).
 *
 * Items live once, in a shared log; each subscription is a cursor into it.
 * The log keeps the items the slowest subscription has not read yet, and
 * `send` waits while it holds `capacity` of them: the slowest subscriber
 * applies backpressure. A subscription that leaves (`unsubscribe()`, or a
 * `forEach` that ends early) stops holding the log back at once.
 *
 * Cancellation: a receiver only moves its own cursor after it resumes, so a
 * cancelled `receive` loses nothing. A sender that must wait carries its
 * item; once a freed slot took it the send has completed, and a
 * cancellation that came later is delivered at the task's next `yield*`.
 */
import { inspectCustom } from "./repr.js";
import type { Coro } from "./coroutines.js";
import { Deque } from "./deque.js";
import { QueueEmpty, QueueFull, RuntimeError, StopAsyncIteration } from "./errors.js";
import { aiterSymbol, type AsyncSource } from "./iteration.js";
import { LoopBound } from "./loop-bound.js";
import { checkCapacity, SENDERS, SendWaiter, waitToSend } from "./channels.js";
import { GRANT_NOTHING, ParkingLot, Waiter } from "./waiters.js";

/** Statistics of a `Broadcast`. */
export interface BroadcastStatistics {
  capacity: number;
  subscribers: number;
  /** Items kept for the slowest subscriber. */
  buffered: number;
  sendersWaiting: number;
  closed: boolean;
}

/**
 * A broadcast channel of `T`: `subscribe()` returns a `Subscription`, an
 * async source that gets every item sent from then on, in order. `send`
 * waits while the slowest subscription has `capacity` unread items; with no
 * subscriber an item goes nowhere. `close()` ends every subscription after
 * its unread items. Capacity is at least 1: a rendezvous with every
 * subscriber could not be undone when the sender is cancelled half-way.
 *
 * @example
 * const news = new Broadcast<string>(16);
 * const reader = news.subscribe();
 * createTask(forEach(reader, function* (headline) { console.log(headline); }));
 * yield* news.send("asyncio-ts ships channels");
 */
export class Broadcast<T> extends LoopBound {
  /** How many unread items the slowest subscription may have before `send` waits. */
  readonly capacity: number;
  // The log holds the items of absolute indices base .. base + log.length - 1.
  private readonly log = new Deque<T>();
  private base = 0;
  // How many live subscriptions have their cursor at each absolute index (base .. head).
  // Invariant: with a subscription, some cursor is at `base` (the log starts at the slowest one).
  private readonly cursors = new Map<number, number>();
  private subscriberCount = 0;
  private readonly senders = new ParkingLot<SendWaiter<T>>(SENDERS);
  private readonly waitingSubscriptions = new Set<Subscription<T>>();
  private closed = false;

  constructor(capacity: number) {
    super();
    this.capacity = checkCapacity("Broadcast", capacity, 1);
  }

  /** A new subscription that gets every item sent from now on. After `close()` it is already at its end. */
  subscribe(): Subscription<T> {
    const subscription = new Subscription<T>(this, this.head(), !this.closed);
    if (!this.closed) {
      this.subscriberCount++;
      this.moveCursor(null, subscription.cursor);
    }
    return subscription;
  }

  /** Sends `item` to every subscription, waiting FIFO while the slowest one has `capacity` unread items; `RuntimeError` once closed. */
  *send(item: T): Coro<void> {
    if (this.closed) throw new RuntimeError("send on a closed Broadcast");
    if (!this.senders.hasLive() && this.hasRoom()) {
      this.append(item);
      return;
    }
    yield* waitToSend(this.senders, new SendWaiter(this.getLoop(), item));
  }

  /** Sends `item` at once; `QueueFull` if the slowest subscription has `capacity` unread items, `RuntimeError` once closed. */
  sendNowait(item: T): void {
    if (this.closed) throw new RuntimeError("send on a closed Broadcast");
    if (this.senders.hasLive() || !this.hasRoom()) throw new QueueFull(`Broadcast is full (capacity ${this.capacity})`);
    this.append(item);
  }

  /** Closes the broadcast: later sends raise `RuntimeError`, and so do sends waiting now (unsent); subscriptions end after their unread items. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let sender = this.senders.wakeNext(); sender !== undefined; sender = this.senders.wakeNext()) {
      sender.setException(new RuntimeError("the Broadcast was closed while sending; the item was not sent"));
    }
    this.wakeSubscriptions();
  }

  /** Whether `close()` was called. */
  isClosed(): boolean {
    return this.closed;
  }

  /** Subscribers, buffered items and waiting senders. */
  statistics(): BroadcastStatistics {
    return { capacity: this.capacity, subscribers: this.subscriberCount, buffered: this.log.length, sendersWaiting: this.senders.length, closed: this.closed };
  }

  /** @internal The next item for `subscription` (moving its cursor), or `NO_ITEM`. */
  takeFor(subscription: Subscription<T>): T | typeof NO_ITEM {
    const cursor = subscription.cursor;
    if (cursor >= this.head()) return NO_ITEM;
    const item = this.log.at(cursor - this.base) as T;
    subscription.cursor = cursor + 1;
    this.moveCursor(cursor, cursor + 1);
    return item;
  }

  /** @internal Whether `subscription` has read everything and nothing more will come. */
  isExhaustedFor(subscription: Subscription<T>): boolean {
    return subscription.cursor >= this.head() && this.closed;
  }

  /** @internal `subscription` waits for the next item. */
  awaitItem(subscription: Subscription<T>): Waiter {
    const waiter = new Waiter(this.getLoop());
    subscription.waiters.join(waiter);
    this.waitingSubscriptions.add(subscription);
    return waiter;
  }

  /** @internal Removes `subscription`'s cursor: it no longer holds the log back. */
  leave(subscription: Subscription<T>): void {
    this.subscriberCount--;
    this.moveCursor(subscription.cursor, null);
    this.waitingSubscriptions.delete(subscription);
  }

  private head(): number {
    return this.base + this.log.length;
  }

  private hasRoom(): boolean {
    return this.log.length < this.capacity;
  }

  private append(item: T): void {
    if (this.subscriberCount === 0) {
      // Nobody to keep it for.
      this.base++;
      return;
    }
    this.log.push(item);
    this.wakeSubscriptions();
  }

  private wakeSubscriptions(): void {
    for (const subscription of this.waitingSubscriptions) subscription.waiters.wakeAll();
    this.waitingSubscriptions.clear();
  }

  // Moves one cursor from `from` to `to` (null: none), then drops what no cursor needs and lets senders in.
  private moveCursor(from: number | null, to: number | null): void {
    if (from !== null) {
      // Every subscribed cursor is counted, so `from` is in the map.
      const left = this.cursors.get(from)! - 1;
      if (left > 0) this.cursors.set(from, left);
      else this.cursors.delete(from);
    }
    if (to !== null) this.cursors.set(to, (this.cursors.get(to) ?? 0) + 1);
    if (from !== this.base) return;
    if (this.subscriberCount === 0) {
      this.base += this.log.length;
      this.log.clear();
    } else {
      while (this.log.length > 0 && !this.cursors.has(this.base)) {
        this.log.shift();
        this.base++;
      }
    }
    this.admitSenders();
  }

  // Appends waiting senders' items while there is room (the slowest subscription moved on or left).
  private admitSenders(): void {
    while (this.hasRoom()) {
      const sender = this.senders.wakeNext();
      if (sender === undefined) return;
      sender.taken = true;
      sender.setResult(undefined);
      this.append(sender.item);
    }
  }

  [inspectCustom](): string {
    const parts = [`capacity=${this.capacity}`, `subscribers=${this.subscriberCount}`, `buffered=${this.log.length}`];
    if (this.senders.length > 0) parts.push(`senders:${this.senders.length}`);
    if (this.closed) parts.push("closed");
    return `<Broadcast ${parts.join(" ")}>`;
  }
}

const NO_ITEM: unique symbol = Symbol("no item");

/**
 * One subscriber's view of a `Broadcast`: an async source (`forEach` takes
 * it) of every item sent after `subscribe()`. Leaving a `forEach` early, or
 * `unsubscribe()`, stops it holding the broadcast back; reaching the end of
 * a closed broadcast unsubscribes too.
 */
export class Subscription<T> implements AsyncSource<T> {
  /** @internal The absolute index of the next item to read. */
  cursor: number;
  /** @internal Tasks waiting in `receive`: woken by every new item, they re-read from their own cursor (a wake-up grants nothing). */
  readonly waiters = new ParkingLot<Waiter>(GRANT_NOTHING);
  private active: boolean;

  /** @internal Use `broadcast.subscribe()`. */
  constructor(
    private readonly broadcast: Broadcast<T>,
    cursor: number,
    active: boolean,
  ) {
    this.cursor = cursor;
    this.active = active;
  }

  /** Whether this subscription still receives (not unsubscribed, not at the end of a closed broadcast). */
  get subscribed(): boolean {
    return this.active;
  }

  /** The next item, waiting for one; `StopAsyncIteration` after `unsubscribe()` or at the end of a closed broadcast. */
  *receive(): Coro<T> {
    for (;;) {
      const item = this.receiveOrNothing();
      if (item !== NO_ITEM) return item;
      yield* this.waiters.park(this.broadcast.awaitItem(this));
    }
  }

  /** The next item at once; `QueueEmpty` if none yet, `StopAsyncIteration` at the end. */
  receiveNowait(): T {
    const item = this.receiveOrNothing();
    if (item === NO_ITEM) throw new QueueEmpty("no item for this Subscription yet");
    return item;
  }

  /** Stops receiving and releases the broadcast from waiting for this subscriber. Idempotent. */
  unsubscribe(): void {
    if (!this.active) return;
    this.active = false;
    this.broadcast.leave(this);
    this.waiters.wakeAll();
  }

  /** The async-source step: the next item, or done at the end. */
  *next(): Coro<IteratorResult<T, undefined>> {
    try {
      return { done: false, value: yield* this.receive() };
    } catch (error) {
      if (error instanceof StopAsyncIteration) return { done: true, value: undefined };
      throw error;
    }
  }

  /** Called when a `forEach` leaves early: unsubscribes. */
  *return(): Coro<void> {
    this.unsubscribe();
  }

  /** The subscription is its own async source. */
  [aiterSymbol](): this {
    return this;
  }

  private receiveOrNothing(): T | typeof NO_ITEM {
    if (!this.active) throw new StopAsyncIteration("unsubscribed");
    const item = this.broadcast.takeFor(this);
    if (item !== NO_ITEM) return item;
    if (this.broadcast.isExhaustedFor(this)) {
      this.unsubscribe();
      throw new StopAsyncIteration("the Broadcast is closed");
    }
    return NO_ITEM;
  }

  [inspectCustom](): string {
    return `<Subscription ${this.active ? "subscribed" : "unsubscribed"}>`;
  }
}
