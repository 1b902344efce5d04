/**
 * The set of a loop's tasks that are not done yet, as an intrusive doubly
 * linked list: adding and removing a task is two pointer writes, with no hash
 * table to grow (spawning 100,000 tasks through a `Set` spent a tenth of its
 * time there). Iteration order is creation order.
 */

/** Internal (not exported by the package): The two fields a member carries. */
export interface LiveLink {
  livePrev: LiveLink | null;
  liveNext: LiveLink | null;
}

export class LiveTaskList<T extends LiveLink & object> implements Iterable<T> {
  // Invariant: head..tail, following liveNext, links exactly `count` strong
  // members, each member's livePrev is the one before it, and a non-member's
  // livePrev and liveNext are null.
  private head: LiveLink | null = null;
  private tail: LiveLink | null = null;
  private count = 0;
  // Debug mode holds members weakly, so that an unreachable pending task can
  // be collected and reported ("Task was destroyed but it is pending!").
  private weakMembers: Map<WeakRef<T>, true> | null = null;
  private weakRefOf: WeakMap<T, WeakRef<T>> | null = null;

  /** How many members there are (weak members counted while alive). */
  get size(): number {
    let weak = 0;
    if (this.weakMembers !== null) for (const ref of this.weakMembers.keys()) if (ref.deref() !== undefined) weak++;
    return this.count + weak;
  }

  /** Adds `item` without keeping it alive (debug mode). */
  addWeak(item: T): void {
    this.weakMembers ??= new Map();
    this.weakRefOf ??= new WeakMap();
    const ref = new WeakRef(item);
    this.weakMembers.set(ref, true);
    this.weakRefOf.set(item, ref);
  }

  /** Appends `item`; it must not be a member already. */
  add(item: T): void {
    item.livePrev = this.tail;
    item.liveNext = null;
    if (this.tail === null) this.head = item;
    else this.tail.liveNext = item;
    this.tail = item;
    this.count++;
  }

  /** Removes `item` if it is a member; returns whether it was. */
  delete(item: T): boolean {
    const ref = this.weakRefOf?.get(item);
    if (ref !== undefined) {
      this.weakRefOf!.delete(item);
      this.weakMembers!.delete(ref);
      return true;
    }
    if (item.livePrev === null && this.head !== item) return false;
    if (item.livePrev === null) this.head = item.liveNext;
    else item.livePrev.liveNext = item.liveNext;
    if (item.liveNext === null) this.tail = item.livePrev;
    else item.liveNext.livePrev = item.livePrev;
    item.livePrev = null;
    item.liveNext = null;
    this.count--;
    return true;
  }

  /** Throws if the links are broken: each strong member's neighbours point back at it, and `count` of them run head to tail. */
  checkLinks(): void {
    let seen = 0;
    let previous: LiveLink | null = null;
    for (let node = this.head; node !== null; node = node.liveNext) {
      if (node.livePrev !== previous) throw new Error("live-task list: a member's livePrev is not the member before it");
      previous = node;
      if (++seen > this.count) throw new Error(`live-task list: more members linked than its count (${this.count})`);
    }
    if (previous !== this.tail) throw new Error("live-task list: the tail is not the last member linked");
    if (seen !== this.count) throw new Error(`live-task list: ${seen} members linked, count says ${this.count}`);
  }

  /** Whether `item` is a member. */
  has(item: T): boolean {
    return item.livePrev !== null || this.head === item || this.weakRefOf?.has(item) === true;
  }

  [Symbol.iterator](): Iterator<T> {
    return this.members();
  }

  /** The members, in creation order (weak members last). */
  *members(): Generator<T, void, undefined> {
    // Read the next link before yielding: the consumer may remove the member.
    let node = this.head;
    while (node !== null) {
      const next = node.liveNext;
      yield node as T;
      node = next;
    }
    if (this.weakMembers === null) return;
    for (const ref of [...this.weakMembers.keys()]) {
      const item = ref.deref();
      if (item === undefined) this.weakMembers.delete(ref);
      else yield item;
    }
  }
}
