/**
 * Lock contention (issue 4): T tasks x K acquisitions, each holding the lock
 * across one `sleep(0)`, against async-mutex and a minimal hand-written
 * promise mutex in the same run.
 */
import { Mutex } from "async-mutex";
import { Lock, createTask, run, sleep, type Coro } from "../src/index.js";
import { measure, report, size } from "./harness.js";

const TASKS = size(1_000, 10);
const ROUNDS = size(100, 5);
const TOTAL = TASKS * ROUNDS;

class PromiseMutex {
  private locked = false;
  private waiters: Array<() => void> = [];
  private head = 0;
  async acquire(): Promise<void> {
    if (!this.locked) {
      this.locked = true;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    if (this.head < this.waiters.length) this.waiters[this.head++]!();
    else {
      this.locked = false;
      this.waiters = [];
      this.head = 0;
    }
  }
}

const handWritten = await measure("hand-written promise mutex", TOTAL, async () => {
  const mutex = new PromiseMutex();
  await Promise.all(
    Array.from({ length: TASKS }, async () => {
      for (let i = 0; i < ROUNDS; i++) {
        await mutex.acquire();
        try {
          await null;
        } finally {
          mutex.release();
        }
      }
    }),
  );
});
const asyncMutex = await measure("async-mutex Mutex", TOTAL, async () => {
  const mutex = new Mutex();
  await Promise.all(
    Array.from({ length: TASKS }, async () => {
      for (let i = 0; i < ROUNDS; i++) await mutex.runExclusive(async () => void (await null));
    }),
  );
});
const ours = await measure("asyncio-ts Lock.hold + sleep(0)", TOTAL, () =>
  run(function* () {
    const lock = new Lock();
    const worker = function* (): Coro<void> {
      for (let i = 0; i < ROUNDS; i++) yield* lock.hold(() => sleep(0));
    };
    const tasks = Array.from({ length: TASKS }, () => createTask(worker()));
    for (const t of tasks) yield* t;
  }),
);
report(`${TASKS} tasks x ${ROUNDS} lock acquisitions, a yield inside`, handWritten, [asyncMutex, ours]);
