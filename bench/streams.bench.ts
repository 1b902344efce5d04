/**
 * Streams (issue 5): a line-echo server and a connect-write-read-close server,
 * each written with asyncio-ts and with plain `net`, driven by the same
 * plain-`net` load generator in the same run. 127.0.0.1 only.
 */
import * as net from "node:net";
import { fromPromise, run, startServer, type Coro, type Server } from "../src/index.js";
import { measure, report, size } from "./harness.js";
import { lineClient, plainLineServer } from "./net-baselines.js";

const CLIENTS = size(50, 5);
const LINES = size(20_000, 100);
const CONNECTIONS = size(5_000, 50);
const CONNECT_CONCURRENCY = 50;

// --- load generators (shared) ------------------------------------------------

async function connectionLoad(port: number): Promise<void> {
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write("ping\n"));
      socket.on("data", () => socket.end());
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
  await Promise.all(
    Array.from({ length: CONNECT_CONCURRENCY }, async () => {
      while (next < CONNECTIONS) {
        next++;
        await one();
      }
    }),
  );
}

// --- plain net servers -------------------------------------------------------------

function plainPingServer(): net.Server {
  return net.createServer((socket) => {
    socket.once("data", () => socket.end("pong\n"));
    socket.on("error", () => socket.destroy());
  });
}

async function withPlainServer(server: net.Server, load: (port: number) => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await load((server.address() as net.AddressInfo).port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

// --- asyncio-ts servers -------------------------------------------------------------

function* lineHandler(reader: import("../src/index.js").StreamReader, writer: import("../src/index.js").StreamWriter): Coro<void> {
  for (;;) {
    const line = yield* reader.readline();
    if (line.length === 0) break;
    writer.write(line);
    yield* writer.drain();
  }
  writer.close();
}

function* pingHandler(reader: import("../src/index.js").StreamReader, writer: import("../src/index.js").StreamWriter): Coro<void> {
  yield* reader.readline();
  writer.write("pong\n");
  writer.close();
}

async function withOurServer(handler: typeof lineHandler, load: (port: number) => Promise<void>): Promise<void> {
  await run(function* () {
    const server: Server = yield* startServer(handler, "127.0.0.1", 0);
    const port = (server.sockets[0] as net.AddressInfo).port;
    yield* fromPromise(load(port));
    server.close();
    yield* server.waitClosed();
  });
}

const lineTotal = CLIENTS * LINES;
const plainLines = await measure("plain net line echo", lineTotal, () =>
  withPlainServer(plainLineServer(), (port) => Promise.all(Array.from({ length: CLIENTS }, () => lineClient(port, LINES))).then(() => undefined)),
);
const ourLines = await measure("asyncio-ts readline/write/drain", lineTotal, () =>
  withOurServer(lineHandler, (port) => Promise.all(Array.from({ length: CLIENTS }, () => lineClient(port, LINES))).then(() => undefined)),
);
report(`line echo, ${CLIENTS} clients x ${LINES} lines (lines/s)`, plainLines, [ourLines]);

const plainConnections = await measure("plain net connect/write/read/close", CONNECTIONS, () => withPlainServer(plainPingServer(), connectionLoad));
const ourConnections = await measure("asyncio-ts startServer handler", CONNECTIONS, () => withOurServer(pingHandler, connectionLoad));
report(`connections, ${CONNECTIONS} at concurrency ${CONNECT_CONCURRENCY} (connections/s)`, plainConnections, [ourConnections]);
console.log(`  throughput vs plain net: lines ${(plainLines.median / ourLines.median).toFixed(2)}x, connections ${(plainConnections.median / ourConnections.median).toFixed(2)}x (target >= 0.95x)`);
