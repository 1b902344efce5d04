/**
 * The hand-written promise mutex a Node engineer would write (FIFO waiters,
 * no queue shifting): the baseline of the lock benchmarks.
 */
export class PromiseMutex {
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

/** The lock workload's native side: `tasks` async functions each taking the mutex `rounds` times around one `await null`. */
export async function promiseMutexContention(tasks: number, rounds: number): Promise<void> {
  const mutex = new PromiseMutex();
  await Promise.all(
    Array.from({ length: tasks }, async () => {
      for (let i = 0; i < rounds; i++) {
        await mutex.acquire();
        try {
          await null;
        } finally {
          mutex.release();
        }
      }
    }),
  );
}
