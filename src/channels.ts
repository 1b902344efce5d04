/**
 * `Channel<T>` (Trio's memory channel): a FIFO hand-off between tasks with
 * a buffer of `capacity` items; capacity 0 is a rendezvous.
 *
 * Items pass hand to hand: a sender that finds a waiting receiver gives the
 * item to it; a sender that must wait carries its item in its waiter, and a
 * receiver that makes room takes the item from there. So every item is
 * delivered exactly once or its `send` raises (unsent):
 * - a receiver cancelled after it was given an item, before it resumed,
 *   gives the item back (to the next receiver, or the buffer's front: the
 *   `ParkingLot`'s rule, waiters.ts);
 * - a sender whose item was taken has sent it: if it was cancelled in the
 *   meantime, `send` returns and the cancellation is delivered at the task's
 *   next `yield*` (Trio's rule: a completed operation is not undone).
 */
import { inspectCustom } from "./repr.js";
import { integerArg } from "./arguments.js";
import type { Coro } from "./coroutines.js";
import { Deque } from "./deque.js";
import { CancelledError, QueueEmpty, QueueFull, RuntimeError, StopAsyncIteration } from "./errors.js";
import type { EventLoop } from "./events.js";
import { aiterSymbol, type AsyncIterableSource, type AsyncSource } from "./iteration.js";
import { LoopBound } from "./loop-bound.js";
import { currentTask } from "./tasks.js";
import { ParkingLot, Waiter, type WaiterHost } from "./waiters.js";

/** Statistics of a `Channel` (Trio's `MemoryChannelStatistics`). */
export interface ChannelStatistics {
  capacity: number;
  buffered: number;
  sendersWaiting: number;
  receiversWaiting: number;
  closed: boolean;
}

/** @internal A sender waiting with its item; `taken` once a receiver (or a freed slot) has it. */
export class SendWaiter<T> extends Waiter {
  taken = false;

  constructor(
    loop: EventLoop,
    readonly item: T,
  ) {
    super(loop);
  }
}

/**
 * @internal Senders' lots grant nothing by rule: a sender is woken when its
 * item is taken (the send has completed, it is not undone) or when the
 * channel closes.
 */
export const SENDERS: WaiterHost<SendWaiter<unknown>> = { grant: () => false, revoke: () => false };

// A receiver waiting; `given` an item, or woken because the channel `closed`.
class ReceiveWaiter<T> extends Waiter {
  receipt: "waiting" | "given" | "closed" = "waiting";
  item: T | undefined = undefined;
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
export function* waitToSend<T>(senders: ParkingLot<SendWaiter<T>>, waiter: SendWaiter<T>): Coro<void> {
  try {
    yield* senders.park(waiter);
  } catch (error) {
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
  private readonly senders = new ParkingLot<SendWaiter<T>>(SENDERS);
  // A receiver given an item and then cancelled before it resumed gives it back
  // to the buffer's front, and the next live receiver is served from there.
  private readonly receivers = new ParkingLot<ReceiveWaiter<T>>({
    grant: (receiver) => {
      const item = this.take();
      if (item === NOTHING) return false;
      receiver.receipt = "given";
      receiver.item = item;
      return true;
    },
    revoke: (receiver) => {
      if (receiver.receipt !== "given") return false;
      this.buffer.unshift(receiver.item as T);
      return true;
    },
  });
  private closed = false;

  constructor(capacity = 0) {
    super();
    this.capacity = checkCapacity("Channel", capacity, 0);
  }

  /** Sends `item`, waiting while the buffer is full; `RuntimeError` once the channel is closed (also to senders waiting then: their items are unsent). */
  *send(item: T): Coro<void> {
    if (this.closed) throw new RuntimeError("send on a closed Channel");
    if (this.offer(item)) return;
    yield* waitToSend(this.senders, new SendWaiter(this.getLoop(), item));
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
    const waiter = new ReceiveWaiter<T>(this.getLoop());
    yield* this.receivers.park(waiter);
    if (waiter.receipt === "given") return waiter.item as T;
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
    for (let sender = this.senders.wakeNext(); sender !== undefined; sender = this.senders.wakeNext()) {
      sender.setException(new RuntimeError("the Channel was closed while sending; the item was not sent"));
    }
    for (let receiver = this.receivers.wakeNext(); receiver !== undefined; receiver = this.receivers.wakeNext()) {
      receiver.receipt = "closed";
      receiver.setResult(undefined);
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
    const receiver = this.receivers.wakeNext();
    if (receiver === undefined) return false;
    receiver.receipt = "given";
    receiver.item = item;
    receiver.setResult(undefined);
    return true;
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
    const sender = this.senders.wakeNext();
    if (sender === undefined) return undefined;
    sender.taken = true;
    sender.setResult(undefined);
    return sender;
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
