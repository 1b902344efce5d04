/**
 * Lesson 5f: `openConnection` — a TCP client with a reader and a writer.
 * A tiny line-echo server stands in for a remote service.
 *
 * Notice: `writer.write` never waits; `drain()` is where backpressure
 * happens; `readline()` waits for a whole line.
 */
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { openConnection, run, startServer, type ClockOption, type Coro, type StreamReader, type StreamWriter } from "asyncio-ts";

function* echo(reader: StreamReader, writer: StreamWriter): Coro<void> {
  for (;;) {
    const line = yield* reader.readline();
    if (line.length === 0) break;
    writer.write(`echo: ${Buffer.from(line).toString()}`);
    yield* writer.drain();
  }
  writer.close();
}

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const server = yield* startServer(echo, "127.0.0.1", 0);
      const { port } = server.sockets[0] as AddressInfo;
      const [reader, writer] = yield* openConnection("127.0.0.1", port);
      for (const line of ["hello", "asyncio-ts"]) {
        writer.write(`${line}\n`);
        yield* writer.drain();
        console.log(Buffer.from(yield* reader.readline()).toString().trimEnd());
      }
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
