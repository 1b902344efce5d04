/**
 * Lock contention (issue 4): T tasks x K acquisitions, each holding the lock
 * across one `sleep(0)`, against async-mutex and a minimal hand-written
 * promise mutex in the same run.
 */
import { Mutex } from "async-mutex";
import { Lock, createTask, run, sleep, type Coro } from "../src/index.js";
import { measure, report, size } from "./harness.js";
import { PromiseMutex } from "./promise-mutex.js";

const TASKS = size(1_000, 10);
const ROUNDS = size(100, 5);
const TOTAL = TASKS * ROUNDS;

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
