/**
 * The internal data structures under the loop and the primitives, tested on
 * their own: the ring-buffer deque, the timer heap and the live-task list.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Deque } from "../src/deque.js";
import { TimerHeap } from "../src/heap.js";
import { LiveTaskList, type LiveMember } from "../src/live-tasks.js";
import type { Timer } from "../src/handles.js";

test("a deque pops from the back and peeks at both ends", () => {
  const deque = new Deque<number>();
  assert.equal(deque.pop(), undefined);
  assert.equal(deque.peekBack(), undefined);
  for (const n of [1, 2, 3]) deque.push(n);
  assert.equal(deque.peekFront(), 1);
  assert.equal(deque.peekBack(), 3);
  assert.equal(deque.pop(), 3);
  assert.deepEqual([...deque], [1, 2]);
});

test("a deque grows when items are added at the front beyond its capacity", () => {
  const deque = new Deque<number>(4);
  for (let n = 0; n < 10; n++) deque.unshift(n);
  assert.deepEqual([...deque], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  assert.equal(deque.length, 10);
});

test("a deque grows when items are pushed beyond its capacity, and shifts undefined once empty", () => {
  const deque = new Deque<number>(4);
  for (let n = 0; n < 9; n++) deque.push(n);
  const out: (number | undefined)[] = [];
  for (let i = 0; i < 10; i++) out.push(deque.shift());
  assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, undefined]);
});

test("a deque's at() is undefined outside its range", () => {
  const deque = new Deque<string>();
  deque.push("a");
  deque.push("b");
  assert.equal(deque.at(1), "b");
  assert.equal(deque.at(-1), undefined);
  assert.equal(deque.at(2), undefined);
});

test("a deque removes an item from its middle, keeping the others in order, and reports a missing one", () => {
  const deque = new Deque<number>();
  for (const n of [1, 2, 3, 4]) deque.push(n);
  assert.equal(deque.remove(3), true);
  assert.equal(deque.remove(7), false);
  assert.deepEqual([...deque], [1, 2, 4]);
});

test("a deque that empties by shifting after growing past 4096 slots goes back to its initial capacity", () => {
  const deque = new Deque<number>(16);
  for (let n = 0; n < 5000; n++) deque.push(n);
  assert.equal(deque.capacity, 8192);
  for (let n = 0; n < 4999; n++) deque.shift();
  assert.equal(deque.capacity, 8192);
  assert.equal(deque.shift(), 4999);
  assert.equal(deque.capacity, 16);
  deque.push(1);
  assert.deepEqual([...deque], [1]);
});

test("a deque that empties by popping or clearing after growing past 4096 slots goes back to its initial capacity", () => {
  const popped = new Deque<number>(16);
  for (let n = 0; n < 5000; n++) popped.push(n);
  while (popped.length > 0) popped.pop();
  assert.equal(popped.capacity, 16);
  const cleared = new Deque<number>(16);
  for (let n = 0; n < 5000; n++) cleared.push(n);
  cleared.clear();
  assert.equal(cleared.capacity, 16);
  assert.equal(cleared.length, 0);
  assert.equal(cleared.shift(), undefined);
});

test("a small deque keeps its grown buffer when it empties", () => {
  const deque = new Deque<number>(4);
  for (let n = 0; n < 100; n++) deque.push(n);
  while (deque.length > 0) deque.shift();
  assert.equal(deque.capacity, 128);
});

function timer(deadline: number, sequence: number): Timer {
  return { deadline, sequence, inHeap: true, isCancelled: false } as unknown as Timer;
}

test("a timer heap lists every timer it holds", () => {
  const heap = new TimerHeap();
  const timers = [timer(3, 1), timer(1, 2), timer(2, 3)];
  for (const t of timers) heap.push(t);
  assert.deepEqual(new Set(heap.values()), new Set(timers));
  assert.equal(heap.pop(), timers[1]);
});

interface Member extends LiveMember {
  name: string;
  finished: boolean;
}

function member(name: string): Member {
  return {
    name,
    finished: false,
    done() {
      return this.finished;
    },
  };
}

test("a live-task list counts and recognises its members, strong and weak", () => {
  const list = new LiveTaskList<Member>();
  const strong = member("strong");
  const weak = member("weak");
  const outsider = member("outsider");
  list.add(strong);
  list.addWeak(weak);
  assert.equal(list.size, 2);
  assert.equal(list.has(strong), true);
  assert.equal(list.has(weak), true);
  assert.equal(list.has(outsider), false);
  assert.deepEqual([...list].map((m) => m.name), ["strong", "weak"]);
});

test("deleting a non-member from a live-task list returns false and leaves the list alone", () => {
  const list = new LiveTaskList<Member>();
  const first = member("first");
  const second = member("second");
  list.add(first);
  list.add(second);
  assert.equal(list.delete(member("stranger")), false);
  assert.deepEqual([...list].map((m) => m.name), ["first", "second"]);
  assert.equal(list.delete(first), true);
  assert.deepEqual([...list].map((m) => m.name), ["second"]);
});

test("a finished member of a live-task list is no longer counted, listed or found", () => {
  const list = new LiveTaskList<Member>();
  const first = member("first");
  const second = member("second");
  list.add(first);
  list.add(second);
  first.finished = true;
  list.finished(first);
  assert.equal(list.size, 1);
  assert.equal(list.has(first), false);
  assert.deepEqual([...list].map((m) => m.name), ["second"]);
  assert.equal(list.delete(first), false);
  list.checkEntries();
});

test("a live-task list drops finished entries once they are as many as the members, and all of them when told the loop is idle", () => {
  const list = new LiveTaskList<Member>();
  const kept = member("kept");
  list.add(kept);
  const entries = (): number => (list as unknown as { entries: Member[] }).entries.length;
  for (let i = 0; i < 100; i++) {
    const quick = member(`quick-${i}`);
    list.add(quick);
    quick.finished = true;
    list.finished(quick);
  }
  // Compacted while adding: never more than twice the members plus the threshold.
  assert.ok(entries() <= 65, `${entries()} entries`);
  const last = member("last");
  list.add(last);
  last.finished = true;
  list.finished(last);
  list.compactIfSparse(false);
  assert.ok(entries() > 1, "a few finished entries stay while the loop is busy");
  list.compactIfSparse(true);
  assert.equal(entries(), 1);
  assert.deepEqual([...list].map((m) => m.name), ["kept"]);
});

test("a weak member of a live-task list leaves it when it finishes", () => {
  const list = new LiveTaskList<Member>();
  const weak = member("weak");
  list.addWeak(weak);
  weak.finished = true;
  list.finished(weak);
  assert.equal(list.size, 0);
  assert.equal(list.has(weak), false);
});

test("a live-task list reports a pending member listed twice and a count that disagrees with its entries", () => {
  const list = new LiveTaskList<Member>();
  const twice = member("twice");
  list.add(twice);
  list.add(twice);
  assert.throws(() => list.checkEntries(), /a pending member is listed twice/);
  const miscounted = new LiveTaskList<Member>();
  miscounted.add(member("one"));
  (miscounted as unknown as { count: number }).count = 2;
  assert.throws(() => miscounted.checkEntries(), /1 pending members listed, count says 2/);
});

test("a deque cleared after wrapping around holds none of its items and takes new ones from the front", () => {
  const deque = new Deque<object>(4);
  const kept = [{}, {}, {}];
  for (const item of kept) deque.push(item);
  deque.shift();
  deque.shift();
  deque.push({});
  deque.push({}); // wraps around the ring
  deque.clear();
  assert.equal(deque.length, 0);
  assert.equal(deque.shift(), undefined);
  assert.deepEqual([...deque], []);
  for (let i = 0; i < 4; i++) assert.equal(deque.at(i), undefined);
  deque.push(kept[0]!);
  assert.equal(deque.peekFront(), kept[0]);
  assert.equal(deque.length, 1);
});
