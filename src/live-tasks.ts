/**
 * A set of tasks that are not done yet (a loop's, a task group's), as an
 * array in creation order that a task joins when it is added and leaves
 * lazily: `finished` only lowers the count, and the entry is dropped at the
 * next compaction. A task therefore carries no field for the set, and creating or
 * finishing one writes no pointer into another task (a doubly linked list did
 * both: two fields per task and old-to-new pointers for the scavenger).
 * Iteration order is creation order.
 *
 * PERF: bench rows "spawn + await 100k" and "eager tasks" (docs/decisions.md,
 * "The live-task set is an array compacted lazily").
 */

/** Internal (not exported by the package): what a member must answer. */
export interface LiveMember {
  /** Whether it is done: a done entry is no longer a member. */
  done(): boolean;
}

// Compaction happens once the entries that are no longer members (dead) are
// at least as many as the members and at least this many.
const MIN_DEAD_FOR_COMPACTION = 64;

export class LiveTaskList<T extends LiveMember & object> implements Iterable<T> {
  // Invariant: every strong member (added, not yet `finished`, not deleted)
  // is in `entries` exactly once, in the order added, and `count` is how many
  // there are. The other entries are dead and `compact()` drops them; it
  // knows them by `done()`, so an owner calls `finished` when a member is
  // done or later (the loop: as the task settles, so `entries.length - count`
  // are dead; a task group: when the task's done notification runs, so a
  // member may be done a little before it stops counting).
  private entries: T[] = [];
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

  /** Appends `item`, which is not done; it must not be a member already. */
  add(item: T): void {
    const entries = this.entries;
    // Many tasks that finish within one turn must not pile up until it ends.
    if (entries.length - this.count >= this.count && entries.length >= MIN_DEAD_FOR_COMPACTION) this.compact();
    this.entries.push(item);
    this.count++;
  }

  /**
   * `item` is done (or is about to be, in the same synchronous step): it
   * stops counting as a member, and its entry is dropped at the next
   * compaction. `item` must be a member.
   */
  finished(item: T): void {
    if (this.weakRefOf !== null && this.removeWeak(item)) return;
    this.count--;
  }

  /** Removes `item` if it is a member; returns whether it was. O(n). */
  delete(item: T): boolean {
    if (this.weakRefOf !== null && this.removeWeak(item)) return true;
    if (item.done()) return false;
    const index = this.entries.indexOf(item);
    if (index < 0) return false;
    this.entries.splice(index, 1);
    this.count--;
    return true;
  }

  private removeWeak(item: T): boolean {
    const ref = this.weakRefOf!.get(item);
    if (ref === undefined) return false;
    this.weakRefOf!.delete(item);
    this.weakMembers!.delete(ref);
    return true;
  }

  /**
   * Drops the dead entries when they are at least as many as the members
   * (`whenIdle`: whenever there is one), so that finished tasks, and what
   * their results hold, are not kept: the loop calls it as a turn ends.
   */
  compactIfSparse(whenIdle: boolean): void {
    const dead = this.entries.length - this.count;
    if (dead === 0) return;
    if (whenIdle || (dead >= this.count && dead >= MIN_DEAD_FOR_COMPACTION)) this.compact();
  }

  private compact(): void {
    const kept: T[] = [];
    for (const entry of this.entries) if (!entry.done()) kept.push(entry);
    this.entries = kept;
  }

  /**
   * Throws if the entries disagree with the count: `count` entries are not
   * done, each listed once (a done entry is dead, whatever its number). Holds
   * for an owner that calls `finished` as its members become done (the loop).
   */
  checkEntries(): void {
    const seen = new Set<T>();
    for (const entry of this.entries) {
      if (entry.done()) continue;
      if (seen.has(entry)) throw new Error("live-task list: a pending member is listed twice");
      seen.add(entry);
    }
    if (seen.size !== this.count) throw new Error(`live-task list: ${seen.size} pending members listed, count says ${this.count}`);
  }

  /** Whether `item` is a member. O(n). */
  has(item: T): boolean {
    if (this.weakRefOf?.has(item) === true) return true;
    return !item.done() && this.entries.includes(item);
  }

  [Symbol.iterator](): Iterator<T> {
    return this.members();
  }

  /** The members, in creation order (weak members last). */
  *members(): Generator<T, void, undefined> {
    // The consumer may finish or add members meanwhile: walk the entries as they were.
    for (const entry of this.entries.slice()) if (!entry.done()) yield entry;
    if (this.weakMembers === null) return;
    for (const ref of [...this.weakMembers.keys()]) {
      const item = ref.deref();
      if (item === undefined) this.weakMembers.delete(ref);
      else yield item;
    }
  }
}
