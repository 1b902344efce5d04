/**
 * Serves the browser example on 127.0.0.1: the page, its bundle (esbuild,
 * from the TypeScript sources) and the endpoints its tasks fetch:
 * `/data?delay=<s>&name=<n>` answers after `delay` seconds, `/hang` never
 * (until the browser aborts the request). Run it with
 * `node --import tsx examples/browser/server.ts [port]` and open the URL.
 */
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** A running example server: its origin, the requests the browser aborted, and how to stop it. */
export interface ExampleServer {
  readonly origin: string;
  /** Names (`name=` of the query) of requests whose connection the browser closed before an answer. */
  readonly aborted: string[];
  close(): Promise<void>;
}

/** Bundles the example for the browser (platform "browser": a Node built-in would fail the build). */
export async function bundleExample(): Promise<string> {
  const result = await build({ entryPoints: [join(here, "app.ts")], bundle: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "silent" });
  return result.outputFiles[0]!.text;
}

/** Starts the example server on `port` (0: any free port). */
export async function startExampleServer(port = 0): Promise<ExampleServer> {
  const page = readFileSync(join(here, "index.html"), "utf8");
  const app = await bundleExample();
  const aborted: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const name = url.searchParams.get("name") ?? "";
    if (url.pathname === "/") response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    else if (url.pathname === "/app.js") response.writeHead(200, { "content-type": "text/javascript" }).end(app);
    else if (url.pathname === "/data" || url.pathname === "/hang") {
      const delay = url.pathname === "/data" ? Math.min(Number(url.searchParams.get("delay") ?? 0), 10) : null;
      const timer = delay === null ? null : setTimeout(() => response.writeHead(200, { "content-type": "text/plain" }).end(`${name} answered after ${delay} s`), delay * 1000);
      response.on("close", () => {
        if (timer !== null) clearTimeout(timer);
        if (!response.writableEnded) aborted.push(name);
      });
    } else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${address.port}`,
    aborted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const server = await startExampleServer(Number(process.argv[2] ?? 8080));
  console.log(`asyncio-ts browser example: ${server.origin}/ (Ctrl-C stops)`);
}
