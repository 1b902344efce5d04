/**
 * Lesson 8: a pipeline of two child processes, read line by line (the
 * chapter's "I/O-bound" work beyond sockets: `createSubprocessExec`).
 *
 * Notice: each line of the first child (an order generator) is passed to the
 * second (`grep diavola`) as it arrives, with `drain()` as backpressure;
 * grep's lines are read with `forEach` while the first child may still be
 * writing; closing grep's stdin is what lets it finish; both exit 0.
 */
import { pathToFileURL } from "node:url";
import { PIPE, createSubprocessExec, forEach, gather, run, type ClockOption, type Coro } from "asyncio-ts";

const ORDERS = 'i=1; while [ $i -le 9 ]; do if [ $((i % 3)) -eq 0 ]; then echo "order $i: diavola"; else echo "order $i: margherita"; fi; i=$((i + 1)); done';

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const orders = yield* createSubprocessExec("sh", ["-c", ORDERS], { stdout: PIPE });
      const grep = yield* createSubprocessExec("grep", ["--line-buffered", "diavola"], { stdin: PIPE, stdout: PIPE });

      // The pump: every line of `orders` goes into grep's stdin; drain() waits while its pipe is full.
      function* pump(): Coro<number> {
        let passed = 0;
        yield* forEach(orders.stdout!, function* (line) {
          grep.stdin!.write(line);
          yield* grep.stdin!.drain();
          passed++;
        });
        grep.stdin!.close(); // grep sees the end of its input and exits
        return passed;
      }

      // The reader: grep's output, one line at a time (Python's `async for line in proc.stdout`).
      function* readMatches(): Coro<void> {
        yield* forEach(grep.stdout!, (line) => {
          console.log(`grep: ${line.toString().trimEnd()}`);
        });
      }

      const [passed] = yield* gather(pump(), readMatches());
      console.log(`passed ${passed} lines to grep`);
      console.log(`orders exited ${yield* orders.wait()}, grep exited ${yield* grep.wait()}`);
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
