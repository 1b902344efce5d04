/**
 * Lesson 4: the asynchronous pizza server. Each client is handled by its own
 * task; while one pizza bakes (`sleep`), the server serves everyone else.
 *
 * Notice: ten clients ordering at once all get their pizza after about one
 * bake time, not ten.
 */
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { gather, getRunningLoop, openConnection, run, sleep, startServer, type ClockOption, type Coro, type StreamReader, type StreamWriter } from "asyncio-ts";

const BAKE_SECONDS = 2;

function* handleClient(reader: StreamReader, writer: StreamWriter): Coro<void> {
  const order = Buffer.from(yield* reader.read(1024)).toString();
  console.log(`Order received: ${order}`);
  yield* sleep(BAKE_SECONDS); // bake without blocking anyone else
  writer.write("Here's your pizza!");
  yield* writer.drain();
  writer.close();
  yield* writer.waitClosed();
}

function* customer(port: number, name: string): Coro<string> {
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  writer.write(`pizza for ${name}`);
  yield* writer.drain();
  const reply = Buffer.from(yield* reader.read()).toString();
  writer.close();
  return `${name}: ${reply}`;
}

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const server = yield* startServer(handleClient, "127.0.0.1", 0);
      const { port } = server.sockets[0] as AddressInfo;
      console.log(`Pizza server running on 127.0.0.1:${port}`);
      const loop = getRunningLoop();
      const start = loop.time();
      const names = ["Ada", "Alan", "Grace", "Linus", "Barbara", "Dennis", "Ken", "Margaret", "Edsger", "Donald"];
      const replies = yield* gather(...names.map((name) => customer(port, name)));
      for (const reply of replies) console.log(reply);
      console.log(`${replies.length} pizzas in ${(loop.time() - start).toFixed(1)} s (one bake is ${BAKE_SECONDS} s)`);
      // Python's `async with server:` closes the server at the end of the block.
      server.close();
      yield* server.waitClosed();
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
