/**
 * `Channel<T>` (Trio's memory channel): a FIFO hand-off between tasks with
 * a buffer of `capacity` items; capacity 0 is a rendezvous.
 *
 * Items pass hand to hand: a sender that finds a waiting receiver gives the
 * item to it; a sender that must wait carries its item in its waiter, and a
 * receiver that makes room takes the item from there. So every item is
 * delivered exactly once or its `send` raises (unsent):
 * - a receiver cancelled after it was given an item, before it resumed,
 *   gives the item back (to the next receiver, or the buffer's front);
 * - a sender whose item was taken has sent it: if it was cancelled in the
 *   meantime, `send` returns and the cancellation is delivered at the task's
 *   next `yield*` (Trio's rule: a completed operation is not undone).
 */
import { inspectCustom } from "./repr.js";
import { integerArg } from "./arguments.js";
import type { Coro } from "./coroutines.js";
import { Deque } from "./deque.js";
import { CancelledError, QueueEmpty, QueueFull, RuntimeError, StopAsyncIteration } from "./errors.js";
import type { Future } from "./futures.js";
import { aiterSymbol, type AsyncIterableSource, type AsyncSource } from "./iteration.js";
import { LoopBound } from "./loop-bound.js";
import { currentTask } from "./tasks.js";

/** Statistics of a `Channel` (Trio's `MemoryChannelStatistics`). */
export interface ChannelStatistics {
  capacity: number;
  buffered: number;
  sendersWaiting: number;
  receiversWaiting: number;
  closed: boolean;
}

/** @internal A sender waiting with its item; `taken` once a receiver (or a freed slot) has it. */
export interface SendWaiter<T> {
  readonly future: Future<void>;
  readonly item: T;
  taken: boolean;
}

interface ReceiveWaiter<T> {
  readonly future: Future<void>;
  state: "waiting" | "given" | "closed";
  item?: T;
}

/** @internal Checks a channel or broadcast capacity: an integer >= `min`, or Infinity. */
export function checkCapacity(owner: string, value: unknown, min: number): number {
  return integerArg(value, `${owner}(): capacity`, { min, infinite: true });
}

/**
 * @internal A send whose item was taken has completed: a cancellation that
 * arrived after that is re-armed for the task's next suspension instead of
 * being raised here (the `cancelling()` count is unchanged).
 */
export function deliverCancellationLater(error: CancelledError): void {
  const task = currentTask();
  if (task === null) throw error;
  task.uncancel();
  task.cancel(error.cancelMessage);
}

/**
 * @internal Queues `item` in `senders` and waits until a receiver takes it
 * (`taken`). Cancelled before that, the send is withdrawn and raises;
 * cancelled after, the send has happened and the cancellation is re-armed
 * for the task's next suspension (Channel and Broadcast share this rule).
 */
export function* waitToSend<T>(senders: Deque<SendWaiter<T>>, future: Future<void>, item: T): Coro<void> {
  const waiter: SendWaiter<T> = { future, item, taken: false };
  senders.push(waiter);
  try {
    yield* future;
  } catch (error) {
    senders.remove(waiter);
    if (waiter.taken && error instanceof CancelledError) {
      deliverCancellationLater(error);
      return;
    }
    throw error;
  }
}

/**
 * A channel of `T` between tasks (Trio's `open_memory_channel`): `send`
 * waits while `capacity` items are buffered (with capacity 0, until a
 * receiver takes the item); `receive` waits for an item. Both are FIFO.
 * `close()` closes the sending side: the buffered items are still received,
 * then `receive()` raises `StopAsyncIteration` and a `forEach` over the
 * channel ends.
 *
 * @example
 * const channel = new Channel<string>(10);
 * createTask(producer(channel)); // yield* channel.send(x) ..., then channel.close()
 * yield* forEach(channel, function* (x) { console.log(x); });
 */
export class Channel<T> extends LoopBound {
  /** How many items may wait in the buffer for a receiver; 0: none (a rendezvous). */
  readonly capacity: number;
  // Invariant: receivers wait only while the buffer is empty and no sender waits;
  // senders wait only while the buffer is full (or over, after a give-back) and no receiver waits.
  private readonly buffer = new Deque<T>();
  private readonly senders = new Deque<SendWaiter<T>>();
  private readonly receivers = new Deque<ReceiveWaiter<T>>();
  private closed = false;

  constructor(capacity = 0) {
    super();
    this.capacity = checkCapacity("Channel", capacity, 0);
  }

  /** Sends `item`, waiting while the buffer is full; `RuntimeError` once the channel is closed (also to senders waiting then: their items are unsent). */
  *send(item: T): Coro<void> {
    if (this.closed) throw new RuntimeError("send on a closed Channel");
    if (this.offer(item)) return;
    yield* waitToSend(this.senders, this.getLoop().createFuture<void>(), item);
  }

  /** Sends `item` at once: to a waiting receiver or into the buffer; `QueueFull` (Trio's `WouldBlock`) if neither can take it, `RuntimeError` once closed. */
  sendNowait(item: T): void {
    if (this.closed) throw new RuntimeError("send on a closed Channel");
    if (!this.offer(item)) throw new QueueFull(`Channel is full (capacity ${this.capacity})`);
  }

  /** The next item, waiting for one; `StopAsyncIteration` once the channel is closed and drained. */
  *receive(): Coro<T> {
    const ready = this.take();
    if (ready !== NOTHING) return ready;
    if (this.closed) throw new StopAsyncIteration("the Channel is closed");
    const waiter: ReceiveWaiter<T> = { future: this.getLoop().createFuture<void>(), state: "waiting" };
    this.receivers.push(waiter);
    try {
      yield* waiter.future;
    } catch (error) {
      this.receivers.remove(waiter);
      // Given an item but cancelled before resuming: the item goes to the next receiver.
      if (waiter.state === "given") this.giveBack(waiter.item as T);
      throw error;
    }
    if (waiter.state === "given") return waiter.item as T;
    throw new StopAsyncIteration("the Channel is closed");
  }

  /** The next item at once; `QueueEmpty` (Trio's `WouldBlock`) if none, `StopAsyncIteration` once closed and drained. */
  receiveNowait(): T {
    const ready = this.take();
    if (ready !== NOTHING) return ready;
    if (this.closed) throw new StopAsyncIteration("the Channel is closed");
    throw new QueueEmpty("Channel is empty");
  }

  /**
   * Closes the sending side (Trio's `send_channel.close()`): later sends
   * raise `RuntimeError`, and so do sends waiting now (their items unsent);
   * receivers get the buffered items, then `StopAsyncIteration`. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let sender = this.senders.shift(); sender !== undefined; sender = this.senders.shift()) {
      if (!sender.future.done()) sender.future.setException(new RuntimeError("the Channel was closed while sending; the item was not sent"));
    }
    for (let receiver = this.receivers.shift(); receiver !== undefined; receiver = this.receivers.shift()) {
      if (!receiver.future.done()) {
        receiver.state = "closed";
        receiver.future.setResult(undefined);
      }
    }
  }

  /** Whether `close()` was called. */
  isClosed(): boolean {
    return this.closed;
  }

  /** The channel as an async source: `forEach(channel, body)` receives until the channel is closed and drained. */
  [aiterSymbol](): AsyncSource<T> & AsyncIterableSource<T> {
    return new ChannelItems(this);
  }

  /** Buffer use and waiting tasks. */
  statistics(): ChannelStatistics {
    return {
      capacity: this.capacity,
      buffered: this.buffer.length,
      sendersWaiting: this.senders.length,
      receiversWaiting: this.receivers.length,
      closed: this.closed,
    };
  }

  // Hands `item` to the first live receiver, or buffers it if there is room.
  private offer(item: T): boolean {
    if (this.handToReceiver(item)) return true;
    if (this.buffer.length < this.capacity) {
      this.buffer.push(item);
      return true;
    }
    return false;
  }

  private handToReceiver(item: T): boolean {
    for (let receiver = this.receivers.shift(); receiver !== undefined; receiver = this.receivers.shift()) {
      if (receiver.future.done()) continue;
      receiver.state = "given";
      receiver.item = item;
      receiver.future.setResult(undefined);
      return true;
    }
    return false;
  }

  // Takes the next item: the buffer's front (refilled from waiting senders), else a waiting sender's.
  private take(): T | typeof NOTHING {
    if (this.buffer.length > 0) {
      const item = this.buffer.shift() as T;
      while (this.buffer.length < this.capacity) {
        const sender = this.firstLiveSender();
        if (sender === undefined) break;
        this.buffer.push(sender.item);
      }
      return item;
    }
    const sender = this.firstLiveSender();
    return sender === undefined ? NOTHING : sender.item;
  }

  // Marks the first live sender's item taken and wakes it.
  private firstLiveSender(): SendWaiter<T> | undefined {
    for (let sender = this.senders.shift(); sender !== undefined; sender = this.senders.shift()) {
      if (sender.future.done()) continue;
      sender.taken = true;
      sender.future.setResult(undefined);
      return sender;
    }
    return undefined;
  }

  private giveBack(item: T): void {
    if (!this.handToReceiver(item)) this.buffer.unshift(item);
  }

  [inspectCustom](): string {
    const parts = [`capacity=${this.capacity}`, `buffered=${this.buffer.length}`];
    if (this.senders.length > 0) parts.push(`senders:${this.senders.length}`);
    if (this.receivers.length > 0) parts.push(`receivers:${this.receivers.length}`);
    if (this.closed) parts.push("closed");
    return `<Channel ${parts.join(" ")}>`;
  }
}

const NOTHING: unique symbol = Symbol("nothing");

// The async source of a channel: receive() until StopAsyncIteration.
class ChannelItems<T> implements AsyncSource<T> {
  constructor(private readonly channel: Channel<T>) {}

  /** The iterator itself: it is a source too (Python's `__aiter__`). */
  [aiterSymbol](): this {
    return this;
  }

  *next(): Coro<IteratorResult<T, undefined>> {
    try {
      return { done: false, value: yield* this.channel.receive() };
    } catch (error) {
      if (error instanceof StopAsyncIteration) return { done: true, value: undefined };
      throw error;
    }
  }
}
