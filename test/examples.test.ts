/**
 * Every example of the chapter runs and prints what it should. Examples that
 * sleep run on the virtual clock (their printed timings are then exact); the
 * CPU-bound one needs real time for its ticker.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { examples } from "../examples/index.js";

async function output(name: string, clock: "real" | "virtual" = "virtual"): Promise<string> {
  const example = examples.find((e) => e.name === name);
  assert.ok(example, `no example ${name}`);
  const lines: string[] = [];
  // Only console.log: the test runner itself reports through stdout.
  const originalLog = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ") + "\n");
  try {
    await example.run(clock);
  } finally {
    console.log = originalLog;
  }
  return lines.join("");
}

// The output of the chapter's own toy loop. (The chapter's printed listing
// omits the last "Event loop cycle." line, but its code prints it.)
const CHAPTER_TOY_OUTPUT = [
  "Event loop cycle.", "Fibonacci(0): 1", "Event loop cycle.", "Fibonacci(1): 1", "Event loop cycle.", "Fibonacci(2): 2",
  "Event loop cycle.", "Fibonacci(3): 3", "Event loop cycle.", "Fibonacci(4): 5", "Event loop cycle.", "Task completed", "",
].join("\n");

test("the toy event loop prints the chapter's output byte for byte", async () => {
  assert.equal(await output("toy-event-loop"), CHAPTER_TOY_OUTPUT);
});

test("the toy event loop matches the chapter's Python program when python3 is here", async (t) => {
  const program = readFileSync(new URL("./fixtures/chapter-toy-loop.py", import.meta.url), "utf8");
  let python: string;
  try {
    python = execFileSync("python3", ["-c", program], { encoding: "utf8" });
  } catch {
    t.skip("python3 is not available");
    return;
  }
  assert.equal(await output("toy-event-loop"), python);
});

test("sequential fetches take 2 s and gather takes 1 s", async () => {
  const text = await output("fetch-data");
  assert.match(text, /Data from url1 Data from url2\nsequential: 2\.0 s\n/);
  assert.match(text, /\["Data from url1","Data from url2","Data from url3"\]\ngather: 1\.0 s\n/);
});

test("the futures example shows done() before and after, the states and a cancellation", async () => {
  const text = await output("futures");
  assert.match(text, /^Task done: false\nTask done: true\nResult: Operation completed\n/);
  assert.match(text, /future is pending\nfuture is finished with result 42\n/);
  assert.match(text, /doomed task is cancelled: no longer needed\n/);
});

test("the pizza example serves ten clients in one bake time", async () => {
  const text = await output("pizza-server");
  assert.equal((text.match(/: Here's your pizza!/g) ?? []).length, 10);
  assert.match(text, /10 pizzas in 2\.\d s \(one bake is 2 s\)/);
});

test("the lock example loses updates without the lock and none with it", async () => {
  const text = await output("lock");
  assert.match(text, /without a lock: balance 1\n/);
  assert.match(text, /with a lock: {4}balance 10\n/);
});

test("the semaphore example never bakes more than two at once", async () => {
  assert.match(await output("semaphore"), /at most 2 pizzas baked at once/);
});

test("the event example lets every guest in after the door opens", async () => {
  assert.match(await output("event"), /opening the door\nAda comes in\nAlan comes in\nGrace comes in\n/);
});

test("the queue example cooks every order and join returns", async () => {
  const text = await output("queue");
  assert.equal((text.match(/ cooked /g) ?? []).length, 5);
  assert.match(text, /all orders cooked\n$/);
});

test("the wait example reports the fastest courier first", async () => {
  assert.match(await output("wait"), /first to arrive: drone\nstill on the way: bike, van\n/);
});

test("the openConnection example echoes two lines", async () => {
  assert.equal(await output("open-connection"), "echo: hello\necho: asyncio-ts\n");
});

test("the CPU-bound example prints the exact result while the loop keeps ticking", async () => {
  const text = await output("cpu-bound", "real");
  assert.match(text, /^Result: 333333283333335000000\n/);
  assert.match(text, /kept ticking while the pool computed: yes/);
});
