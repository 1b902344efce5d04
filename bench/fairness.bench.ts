/**
 * Fairness (issue 15): the loop runs several iterations per Node macrotask;
 * how late does a socket read get while a task spins on `sleep(0)`? Measured
 * as the worst and median delay of a ping-pong over loopback with a spinner
 * running, against the same ping-pong with no spinner, in the same run.
 */
import { createServer, type AddressInfo } from "node:net";
import { createTask, openConnection, run, sleep } from "../src/index.js";
import { size } from "./harness.js";

const PINGS = size(2_000, 20);

async function pingPong(spin: boolean): Promise<number[]> {
  const server = createServer((socket) => socket.on("data", (chunk) => socket.write(chunk)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const delays: number[] = [];
  await run(function* () {
    let spinning = spin;
    const spinner = createTask((function* () {
      while (spinning) yield* sleep(0);
    })());
    const [reader, writer] = yield* openConnection("127.0.0.1", port);
    for (let i = 0; i < PINGS; i++) {
      const start = performance.now();
      writer.write("p");
      yield* reader.readexactly(1);
      delays.push(performance.now() - start);
    }
    spinning = false;
    yield* spinner;
    writer.close();
    yield* writer.waitClosed();
  });
  server.close();
  return delays.sort((a, b) => a - b);
}

const quiet = await pingPong(false);
const spinning = await pingPong(true);
const at = (xs: number[], q: number): string => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!.toFixed(3);
console.log(`\n## socket round trip while a task spins on sleep(0), ${PINGS} pings`);
console.log(`  no spinner (baseline)   median ${at(quiet, 0.5)} ms  p99 ${at(quiet, 0.99)} ms  worst ${at(quiet, 1)} ms`);
console.log(`  with a spinner          median ${at(spinning, 0.5)} ms  p99 ${at(spinning, 0.99)} ms  worst ${at(spinning, 1)} ms (goal: worst <= 2 ms)`);
