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
