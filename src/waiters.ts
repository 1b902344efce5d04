/**
 * The waiter protocol every primitive stands on (Trio's `ParkingLot`): a
 * FIFO lot of waiters, each a future a task parks on until the primitive
 * wakes it.
 *
 * One rule for cancellation, written here once: a waiter woken (granted a
 * permit, a token, an item, room...) and then cancelled before its task
 * resumed gives its grant back through its primitive's `revoke`, and the
 * wake-up passes on to the next live waiter. A waiter cancelled while still
 * parked was never granted anything; it just leaves.
 *
 * One convention for membership: a woken waiter leaves the lot's queue when
 * it is woken (it is counted as `woken` until its task resumes); a parked
 * waiter whose future was cancelled stays in the queue, skipped by every
 * wake, until its task resumes and leaves.
 */
import { CancelledError, RuntimeError } from "./errors.js";
import type { Awaitable, Coro } from "./coroutines.js";
import { Deque } from "./deque.js";
import type { EventLoop } from "./events.js";
import { Future } from "./futures.js";

/**
 * @internal Where a waiter stands: `new` before it joins a lot; `parked`
 * (a task awaits it in `park`) or `queued` (handed to the caller, nobody
 * parks on it here) while in the lot's queue; `woken` from its wake-up until
 * its task resumes; `gone` after.
 */
export type WaiterState = "new" | "parked" | "queued" | "woken" | "gone";

/** @internal One waiter: the future its task parks on, and its place in the lot. Primitives subclass it to carry their grant. */
export class Waiter<T = void> extends Future<T> {
  /** @internal Written only by the lot that holds the waiter. */
  lotState: WaiterState = "new";

  constructor(loop: EventLoop) {
    super(loop);
  }
}

/** @internal What a primitive decides for its lot: whether a waiter can be granted now, and how a grant is given back. */
export interface WaiterHost<W> {
  /**
   * Called for the first live waiter before `serve` wakes it: takes its
   * grant on its behalf (a permit, a token, room in a bucket) and returns
   * `true`, or returns `false` if it cannot be served now (it stays parked,
   * and so does everyone behind it: FIFO).
   */
  grant(waiter: W): boolean;
  /**
   * Called when `waiter` was woken and then cancelled before its task
   * resumed: gives its grant back, and returns whether the wake-up passes on
   * (`serve(1)`). `false` for a wake-up that granted nothing or that the
   * primitive passes on by its own rule.
   */
  revoke(waiter: W): boolean;
}

/** @internal A FIFO lot of waiters with cancellation and pass-on (Trio's `ParkingLot`). */
export class ParkingLot<W extends Waiter<unknown>> {
  // Invariant: every waiter here is `parked` or `queued` and, when not done, is live
  // (pending); a done one here was cancelled and leaves when its task resumes.
  private readonly parked = new Deque<W>();
  // Invariant: the number of `parked` waiters woken whose task has not left `park` yet (>= 0).
  private wokenCount = 0;

  constructor(private readonly host: WaiterHost<W>) {}

  /** Waiters in the queue, not yet woken (cancelled ones included until their task resumes). */
  get length(): number {
    return this.parked.length;
  }

  /** Woken waiters whose task has not resumed yet. */
  get woken(): number {
    return this.wokenCount;
  }

  /** Waiters that have not left: in the queue, or woken and not resumed yet (CPython's `len(lock._waiters)`). */
  get waiting(): number {
    return this.parked.length + this.wokenCount;
  }

  /** Whether a waiter in the queue is still pending (not cancelled). */
  hasLive(): boolean {
    return this.firstLiveIndex() >= 0;
  }

  /** The first pending waiter in the queue, not removed. */
  firstLive(): W | undefined {
    const index = this.firstLiveIndex();
    return index < 0 ? undefined : this.parked.at(index);
  }

  /** The waiters in the queue, front to back. */
  [Symbol.iterator](): IterableIterator<W> {
    return this.parked[Symbol.iterator]();
  }

  /**
   * Parks the current task on `waiter` until it is woken, and leaves the lot
   * on the way out, whatever the way. Woken and then cancelled (or closed)
   * before resuming: the grant goes back and the wake-up passes on.
   */
  park(waiter: W): Coro<void> {
    // PERF: a small iterator, not a generator: no generator object and no
    // generator resumption per wait (bench row "Lock 1000x100"; every
    // primitive parks here).
    return new Parking(this, waiter);
  }

  /** @internal Where `park` starts: joins a new waiter; a parked or woken one may park. */
  parkStart(waiter: W): void {
    if (waiter.lotState === "new") this.join(waiter);
    else if (waiter.lotState !== "parked" && waiter.lotState !== "woken") throw new RuntimeError(`a ${waiter.lotState} waiter cannot park`);
  }

  /**
   * Puts `waiter` at the back of the queue as parked, for the caller to
   * `park` on at once (a primitive that serves its queue in between, as the
   * rate limiter arms its timer, joins first).
   */
  join(waiter: W): void {
    if (waiter.lotState !== "new") throw new RuntimeError("a waiter joins a lot once");
    waiter.lotState = "parked";
    this.parked.push(waiter);
  }

  /** Queues `waiter` without parking on it (a future handed to the caller); it leaves when woken or found cancelled. */
  enqueue(waiter: W): void {
    if (waiter.lotState !== "new") throw new RuntimeError("a waiter joins a lot once");
    waiter.lotState = "queued";
    this.parked.push(waiter);
  }

  /** Wakes up to `n` first live waiters, in order, while the host grants them; returns how many. */
  serve(n = Infinity): number {
    let count = 0;
    while (count < n) {
      const index = this.firstLiveIndex();
      if (index < 0 || !this.host.grant(this.parked.at(index)!)) break;
      this.wakeAt(index).setResult(undefined);
      count++;
    }
    return count;
  }

  /** Wakes up to `n` first live waiters whatever the host's state (an event set, a notify); with `error`, they raise it. Returns how many. */
  wake(n = 1, error?: Error): number {
    let count = 0;
    while (count < n) {
      const waiter = this.wakeNext();
      if (waiter === undefined) break;
      if (error === undefined) waiter.setResult(undefined);
      else waiter.setException(error);
      count++;
    }
    return count;
  }

  /** Wakes every live waiter (see `wake`). */
  wakeAll(error?: Error): number {
    return this.wake(Infinity, error);
  }

  /**
   * Takes the first live waiter out of the queue as woken, without settling
   * it: the caller settles it at once (after giving it an item, a completion).
   */
  wakeNext(): W | undefined {
    const index = this.firstLiveIndex();
    return index < 0 ? undefined : this.wakeAt(index);
  }

  /** Checks the invariants written on the fields; throws `RuntimeError` naming the first one broken. */
  checkInvariants(): void {
    if (!Number.isInteger(this.wokenCount) || this.wokenCount < 0) throw new RuntimeError(`ParkingLot: woken count ${this.wokenCount} is not a count`);
    for (const waiter of this.parked) {
      if (waiter.lotState !== "parked" && waiter.lotState !== "queued") throw new RuntimeError(`ParkingLot: a ${waiter.lotState} waiter is in the queue`);
      if (waiter.done() && !waiter.cancelled()) throw new RuntimeError("ParkingLot: a settled waiter is in the queue");
    }
  }

  private firstLiveIndex(): number {
    const parked = this.parked;
    for (let i = 0; i < parked.length; i++) {
      const waiter = parked.at(i)!;
      if (!waiter.done()) return i;
      // A queued waiter has no task to remove it: drop it once it is found cancelled.
      if (waiter.lotState === "queued") {
        parked.remove(waiter);
        waiter.lotState = "gone";
        i--;
      }
    }
    return -1;
  }

  private wakeAt(index: number): W {
    const parked = this.parked;
    const waiter = index === 0 ? parked.shift()! : parked.at(index)!;
    if (index !== 0) parked.remove(waiter);
    if (waiter.lotState === "parked") {
      waiter.lotState = "woken";
      this.wokenCount++;
    } else {
      waiter.lotState = "gone";
    }
    return waiter;
  }

  /** @internal Where `park` ends: `cancelled` when the wait ended by a cancellation or by closing the coroutine. */
  leave(waiter: W, cancelled: boolean): void {
    if (waiter.lotState === "parked") {
      this.parked.remove(waiter);
    } else if (waiter.lotState === "woken") {
      this.wokenCount--;
      waiter.lotState = "gone";
      if (cancelled && this.host.revoke(waiter)) this.serve(1);
      return;
    }
    waiter.lotState = "gone";
  }
}

const parkingDone: IteratorResult<Future<unknown>, void> = Object.freeze({ value: undefined, done: true });

/**
 * What `park` returns: what a generator written as
 * `lot.parkStart(w); try { yield* w } finally { lot.leave(w, cancelled) }`
 * would do, by hand. Started by the first `next()`, as a generator is; the
 * wait ends cancelled when a `CancelledError` comes out of the waiter or the
 * coroutine is closed (`return()`), and not cancelled otherwise.
 */
class Parking<W extends Waiter<unknown>> implements Coro<void> {
  // Invariant: non-null exactly while the task waits (between the first
  // next() and the wait's end); the wait has left the lot once it is null
  // again, or never joined it.
  private awaiting: Iterator<Future<unknown>, unknown, unknown> | null = null;
  private started = false;

  constructor(
    private readonly lot: ParkingLot<W>,
    private readonly waiter: W,
  ) {}

  next(value?: unknown): IteratorResult<Future<unknown>, void> {
    let awaiting = this.awaiting;
    if (awaiting === null) {
      if (this.started) return parkingDone;
      this.started = true;
      // Outside the wait: a waiter that cannot park has nothing to leave.
      this.lot.parkStart(this.waiter);
    }
    let step: IteratorResult<Future<unknown>, unknown>;
    try {
      awaiting ??= this.awaiting = this.waiter[Symbol.iterator]();
      step = awaiting.next(value);
    } catch (error) {
      this.leave(error instanceof CancelledError);
      throw error;
    }
    if (step.done !== true) return step as IteratorResult<Future<unknown>, void>;
    this.leave(false);
    return parkingDone;
  }

  // A future's iterator throws an error straight back and has nothing to
  // close, so throw() and return() end the wait without calling it.
  throw(error: unknown): never {
    this.started = true;
    if (this.awaiting !== null) this.leave(error instanceof CancelledError);
    throw error;
  }

  return(value?: void): IteratorResult<Future<unknown>, void> {
    this.started = true;
    // Closed while waiting counts as cancelled: a wake-up it got passes on.
    if (this.awaiting !== null) this.leave(true);
    return { value, done: true };
  }

  [Symbol.iterator](): this {
    return this;
  }

  private leave(cancelled: boolean): void {
    this.awaiting = null;
    this.lot.leave(this.waiter, cancelled);
  }
}

/** @internal A lot whose waiters are granted nothing: `serve` wakes whoever is first. */
export const GRANT_NOTHING: WaiterHost<Waiter<unknown>> = {
  grant: () => true,
  revoke: () => false,
};

/** @internal What `holding` needs: a way in and, unless nothing is given back (a rate limiter), a way out. */
export interface Holdable {
  acquire(): Coro<unknown>;
  release?(): void;
}

/** @internal `async with primitive:` for every `hold()`: acquires, runs `body`, and always releases. */
export function* holding<T>(primitive: Holdable, body: () => Awaitable<T>): Coro<T> {
  yield* primitive.acquire();
  if (primitive.release === undefined) return yield* body();
  try {
    return yield* body();
  } finally {
    primitive.release();
  }
}
