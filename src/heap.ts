/**
 * A binary min-heap of timers ordered by deadline, then by insertion order,
 * so timers with equal deadlines fire first-in first-out (asyncio leaves that
 * order undefined; FIFO is strictly stronger).
 */
import type { Timer } from "./handles.js";

function before(a: Timer, b: Timer): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.sequence < b.sequence);
}

export class TimerHeap {
  // Invariant: items[i] never sorts before items[(i - 1) >> 1] (`isOrdered`).
  private items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The earliest timer, or `undefined`. */
  peek(): Timer | undefined {
    return this.items[0];
  }

  push(timer: Timer): void {
    const items = this.items;
    let index = items.length;
    items.push(timer);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(timer, items[parent]!)) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = timer;
  }

  /** Removes and returns the earliest timer. */
  pop(): Timer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) this.siftDown(last, 0);
    return top;
  }

  /** Keeps only the timers `keep` accepts, then restores heap order: O(n). */
  filter(keep: (timer: Timer) => boolean): void {
    this.items = this.items.filter(keep);
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(this.items[i]!, i);
  }

  /** Whether every timer sorts at or after its parent (the heap's invariant; `checkInvariants`). */
  isOrdered(): boolean {
    const items = this.items;
    for (let i = 1; i < items.length; i++) if (before(items[i]!, items[(i - 1) >> 1]!)) return false;
    return true;
  }

  /** Every timer, in no particular order. */
  values(): readonly Timer[] {
    return this.items;
  }

  private siftDown(timer: Timer, start: number): void {
    const items = this.items;
    const size = items.length;
    let index = start;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size && before(items[right]!, items[child]!)) child = right;
      if (!before(items[child]!, timer)) break;
      items[index] = items[child]!;
      index = child;
    }
    items[index] = timer;
  }
}
