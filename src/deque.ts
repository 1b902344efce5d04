/**
 * A double-ended queue on a growable ring buffer: O(1) amortised push and
 * shift at both ends, no `Array.shift()`. Used by the loop's ready queue, the
 * primitives' waiter lists and `Queue`.
 */
// A deque that empties with a buffer larger than this many slots shrinks back.
const SHRINK_ABOVE = 4096;

export class Deque<T> {
  // Invariant: capacity (buffer.length) is a power of two, so `& mask` wraps.
  private buffer: (T | undefined)[];
  private mask: number;
  private head = 0;
  private count = 0;
  // The capacity it starts with and shrinks back to once empty.
  private readonly initialCapacity: number;

  constructor(initialCapacity = 16) {
    let capacity = 4;
    while (capacity < initialCapacity) capacity <<= 1;
    this.initialCapacity = capacity;
    this.buffer = new Array<T | undefined>(capacity);
    this.mask = capacity - 1;
  }

  /** How many items fit before the buffer grows. */
  get capacity(): number {
    return this.buffer.length;
  }

  /** The number of items. */
  get length(): number {
    return this.count;
  }

  /** Adds `item` at the back. */
  push(item: T): void {
    if (this.count === this.buffer.length) this.grow();
    this.buffer[(this.head + this.count) & this.mask] = item;
    this.count++;
  }

  /** Adds `item` at the front. */
  unshift(item: T): void {
    if (this.count === this.buffer.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.buffer[this.head] = item;
    this.count++;
  }

  /** Removes and returns the front item; `undefined` when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.buffer[this.head];
    this.buffer[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    if (--this.count === 0 && this.buffer.length > SHRINK_ABOVE) this.shrink();
    return item;
  }

  /** Removes and returns the back item; `undefined` when empty. */
  pop(): T | undefined {
    if (this.count === 0) return undefined;
    this.count--;
    const index = (this.head + this.count) & this.mask;
    const item = this.buffer[index];
    this.buffer[index] = undefined;
    if (this.count === 0 && this.buffer.length > SHRINK_ABOVE) this.shrink();
    return item;
  }

  /** The front item without removing it. */
  peekFront(): T | undefined {
    return this.count === 0 ? undefined : this.buffer[this.head];
  }

  /** The back item without removing it. */
  peekBack(): T | undefined {
    return this.count === 0 ? undefined : this.buffer[(this.head + this.count - 1) & this.mask];
  }

  /** The item at `index` from the front (0-based); `undefined` out of range. */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.count) return undefined;
    return this.buffer[(this.head + index) & this.mask];
  }

  /** Exchanges the items at `i` and `j` from the front (both in range). */
  swap(i: number, j: number): void {
    const buffer = this.buffer;
    const a = (this.head + i) & this.mask;
    const b = (this.head + j) & this.mask;
    const item = buffer[a];
    buffer[a] = buffer[b];
    buffer[b] = item;
  }

  /**
   * Removes the first item identical to `item`; O(n). Returns whether one was
   * found. Waiter lists use it when a waiter is cancelled.
   */
  remove(item: T): boolean {
    if (this.count > 0 && this.buffer[this.head] === item) {
      this.shift();
      return true;
    }
    for (let i = 1; i < this.count; i++) {
      if (this.buffer[(this.head + i) & this.mask] === item) {
        for (let j = i; j < this.count - 1; j++) {
          this.buffer[(this.head + j) & this.mask] = this.buffer[(this.head + j + 1) & this.mask];
        }
        this.count--;
        this.buffer[(this.head + this.count) & this.mask] = undefined;
        return true;
      }
    }
    return false;
  }

  /** Removes every item. */
  clear(): void {
    if (this.buffer.length > SHRINK_ABOVE) {
      this.shrink();
      this.count = 0;
      return;
    }
    // Only occupied slots hold anything (shift and pop clear theirs). PERF: a
    // drained ready queue that grew to 100k slots is not swept when its loop
    // closes (bench row "spawn"; docs/decisions.md, "The spawn path").
    for (let i = 0; i < this.count; i++) this.buffer[(this.head + i) & this.mask] = undefined;
    this.head = 0;
    this.count = 0;
  }

  /** Iterates front to back. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.buffer[(this.head + i) & this.mask] as T;
  }

  // Empty after a burst: back to the initial buffer, so a ready queue that
  // once held 100k tasks does not keep 1 MB for the rest of the loop's life.
  // PERF: checked only when the deque empties (bench row "heap per finished
  // task its caller still holds"; docs/decisions.md, "A drained deque gives
  // its buffer back").
  private shrink(): void {
    this.buffer = new Array<T | undefined>(this.initialCapacity);
    this.mask = this.initialCapacity - 1;
    this.head = 0;
  }

  private grow(): void {
    const old = this.buffer;
    const capacity = old.length * 2;
    const next = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & this.mask];
    this.buffer = next;
    this.mask = capacity - 1;
    this.head = 0;
  }
}
