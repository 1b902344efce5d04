/**
 * Lesson 7: a polite crawler — at most 5 requests at once (`CapacityLimiter`),
 * at most 10 a second (`RateLimiter`), and `retry` with backoff for a page
 * that fails at first. A small HTTP server on 127.0.0.1 stands in for the web:
 * 30 pages linking to each other, each taking a moment to answer.
 *
 * Notice: the crawl fans out to every page it finds, yet the server never
 * sees more than 5 requests at once, no second-long window holds more than
 * 10 requests, and /page/7 succeeds on its third try.
 */
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import {
  CapacityLimiter,
  RateLimiter,
  getRunningLoop,
  openConnection,
  retry,
  run,
  sleep,
  startServer,
  taskGroup,
  type ClockOption,
  type Coro,
  type StreamReader,
  type StreamWriter,
  type TaskGroup,
} from "asyncio-ts";

const PAGES = 30;
const FLAKY_PAGE = 7;

// ---------------------------------------------------------------- the server
interface ServerLog {
  inFlight: number;
  mostInFlight: number;
  hits: Map<number, number>;
}

function linksOf(page: number): number[] {
  return [2 * page + 1, 2 * page + 2, (page + 7) % PAGES].filter((n) => n < PAGES);
}

function serve(log: ServerLog) {
  return function* (reader: StreamReader, writer: StreamWriter): Coro<void> {
    log.inFlight++;
    log.mostInFlight = Math.max(log.mostInFlight, log.inFlight);
    try {
      const requestLine = Buffer.from(yield* reader.readline()).toString();
      while (Buffer.from(yield* reader.readline()).toString().trim() !== "");
      const page = Number(/GET \/page\/(\d+)/.exec(requestLine)?.[1] ?? -1);
      const hits = (log.hits.get(page) ?? 0) + 1;
      log.hits.set(page, hits);
      // Each page takes 0.3 to 0.7 s to answer; the flaky one is down for its first two requests.
      yield* sleep(0.3 + (page % 5) * 0.1);
      if (page === FLAKY_PAGE && hits <= 2) {
        writer.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      } else {
        const body = linksOf(page).map((n) => `<a href="/page/${n}">page ${n}</a>`).join("\n");
        writer.write(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
      yield* writer.drain();
    } finally {
      log.inFlight--;
      writer.close();
    }
  };
}

// --------------------------------------------------------------- the crawler
/** GET `path` from 127.0.0.1:`port`; the body, or an error for a status other than 200. */
function* get(port: number, path: string): Coro<string> {
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  try {
    writer.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const response = Buffer.from(yield* reader.read()).toString();
    const status = /^HTTP\/1\.1 (\d+)/.exec(response)?.[1];
    if (status !== "200") throw new Error(`${path}: HTTP ${status ?? "?"}`);
    return response.slice(response.indexOf("\r\n\r\n") + 4);
  } finally {
    writer.close();
    yield* writer.waitClosed();
  }
}

export async function main(clock: ClockOption = "real"): Promise<void> {
  await run(
    function* () {
      const loop = getRunningLoop();
      const log: ServerLog = { inFlight: 0, mostInFlight: 0, hits: new Map() };
      const server = yield* startServer(serve(log), "127.0.0.1", 0);
      const { port } = server.sockets[0] as AddressInfo;

      const atOnce = new CapacityLimiter(5);
      // A bucket of 1 that drains in 0.1 s: requests at least 0.1 s apart, 10 a second.
      const perSecond = new RateLimiter(1, 0.1);
      const seen = new Set<string>();
      const sentAt: number[] = [];
      const start = loop.time();

      function* fetchPage(path: string): Coro<string> {
        // The token is held for the whole request; the rate is taken last, right before the request goes out.
        return yield* atOnce.hold(function* () {
          yield* perSecond.acquire();
          sentAt.push(loop.time());
          return yield* get(port, path);
        });
      }

      function* crawl(group: TaskGroup, path: string): Coro<void> {
        // Waits between tries hold no token: retry wraps the limiters.
        const body = yield* retry(() => fetchPage(path), { attempts: 4, delay: 0.2, backoff: 2 });
        for (const [, link] of body.matchAll(/href="([^"]+)"/g)) {
          if (link === undefined || seen.has(link)) continue;
          seen.add(link);
          group.createTask(crawl(group, link));
        }
      }

      seen.add("/page/0");
      yield* taskGroup(function* (group) {
        group.createTask(crawl(group, "/page/0"));
      });
      server.close();
      yield* server.waitClosed();

      let busiest = 0;
      for (const t of sentAt) busiest = Math.max(busiest, sentAt.filter((u) => u >= t && u < t + 1).length);
      console.log(`crawled ${seen.size} pages with ${sentAt.length} requests in ${(loop.time() - start).toFixed(1)} s`);
      console.log(`at most ${log.mostInFlight} requests at once at the server (limit 5)`);
      console.log(`busiest second: ${busiest} requests (limit 10)`);
      console.log(`/page/${FLAKY_PAGE} was requested ${log.hits.get(FLAKY_PAGE)} times (503 twice, then retried with backoff)`);
    },
    { clock },
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
