/**
 * Lesson 1: a coroutine is a function that can pause. Here is the whole idea
 * of an event loop in a few lines, with plain generators and no library: each
 * `yield` hands control back to the loop, which resumes the next coroutine.
 *
 * Notice: the loop prints "Event loop cycle." before every step, and the
 * Fibonacci coroutine advances exactly one step per cycle.
 */
import { pathToFileURL } from "node:url";

type Coroutine = Generator<undefined, number, undefined>;

class ToyEventLoop {
  private readonly tasks: Coroutine[] = [];
  private head = 0;

  addCoroutine(task: Coroutine): void {
    this.tasks.push(task);
  }

  /** Runs one step of `task`: until its next `yield`, or to its end. */
  private runCoroutine(task: Coroutine): void {
    const step = task.next();
    if (step.done) console.log("Task completed");
    else this.addCoroutine(task); // not finished: back in the queue
  }

  runForever(): void {
    while (this.head < this.tasks.length) {
      console.log("Event loop cycle.");
      this.runCoroutine(this.tasks[this.head++]!);
    }
  }
}

function* fibonacci(n: number): Coroutine {
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) {
    [a, b] = [b, a + b];
    console.log(`Fibonacci(${i}): ${a}`);
    yield; // give control back to the loop
  }
  return a;
}

export function main(): void {
  const loop = new ToyEventLoop();
  loop.addCoroutine(fibonacci(5));
  loop.runForever();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
