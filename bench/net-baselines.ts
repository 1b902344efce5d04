/**
 * Plain-`net` pieces shared by the stream benchmarks: the line-echo server
 * written without the library (the baseline), and the line-echo client that
 * loads either server.
 */
import * as net from "node:net";

const LINE = "the quick brown fox jumps over the lazy dog\n";

/** A line-echo server on plain `net`: writes each complete line back. */
export function plainLineServer(): net.Server {
  return net.createServer((socket) => {
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
        socket.write(data.subarray(start, nl + 1));
        start = nl + 1;
      }
      pending = data.subarray(start);
    });
    socket.on("end", () => socket.end());
    socket.on("error", () => socket.destroy());
  });
}

/** Sends `lines` lines at once, resolves when all came back and the socket closed. */
export function lineClient(port: number, lines: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = 0;
    socket.on("data", (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) received++;
      if (received === lines) socket.end();
    });
    socket.on("close", () => (received === lines ? resolve() : reject(new Error(`echo got ${received}/${lines} lines`))));
    socket.on("error", reject);
    socket.write(LINE.repeat(lines));
  });
}
