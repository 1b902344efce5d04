/**
 * examples/http-service/server.ts, run as its README says (a Node process,
 * real HTTP on 127.0.0.1), checked behaviour by behaviour; the last test
 * stops it with SIGTERM.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpRequest } from "node:http";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
let service: ChildProcess;
let output = "";
let port = 0;
let exited: Promise<number | null>;

before(async () => {
  service = spawn(process.execPath, ["--import", "tsx", "examples/http-service/server.ts"], {
    cwd: root,
    env: { ...process.env, PORT: "0", TIMEOUT: "1", CAPACITY: "2", DEPENDENCY_SECONDS: "0.1", GRACE: "5" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  exited = new Promise((resolve) => service.on("exit", (code) => resolve(code)));
  service.stdout!.setEncoding("utf8");
  service.stdout!.on("data", (chunk: string) => (output += chunk));
  port = Number((await printed(/listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
});

after(() => {
  if (service.exitCode === null) service.kill("SIGKILL");
});

/** Resolves once the service has printed a line matching `pattern`, with the match. */
function printed(pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = pattern.exec(output);
      if (match !== null) {
        service.stdout!.off("data", check);
        resolve(match);
      }
    };
    service.stdout!.on("data", check);
    service.once("exit", () => reject(new Error(`the service exited before printing ${pattern}:\n${output}`)));
    check();
  });
}

interface Reply {
  status: number;
  body: string;
  requestId: string | undefined;
}

function get(path: string, requestId?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path, agent: false, headers: requestId === undefined ? {} : { "x-request-id": requestId } }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body, requestId: response.headers["x-request-id"] as string | undefined }));
    });
    request.on("error", reject);
    request.end();
  });
}

test("the service answers a quote as JSON, echoing the request id", async () => {
  const reply = await get("/quotes/3", "first");
  assert.equal(reply.status, 200);
  assert.deepEqual(JSON.parse(reply.body), { id: "3", quote: "quote number 3" });
  assert.equal(reply.requestId, "first");
});

test("the capacity limiter keeps the slow dependency at 2 calls at once under 6 concurrent requests", async () => {
  const replies = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => get(`/quotes/${n}`, `burst-${n}`)));
  assert.deepEqual(replies.map((reply) => reply.status), [200, 200, 200, 200, 200, 200]);
  assert.deepEqual(JSON.parse((await get("/stats")).body), { mostAtOnce: 2, capacity: 2 });
});

test("every log line of a request names its request id", async () => {
  await get("/quotes/5", "traced");
  await printed(/\[traced\] answered 200/);
  const lines = output.split("\n").filter((line) => line.includes("traced"));
  assert.deepEqual(lines, ["[traced] GET /quotes/5", "[traced] asking the dependency for quote 5", "[traced] answered 200"]);
});

test("a request past its timeout answers 503 and is cancelled", async () => {
  const reply = await get("/quotes/9?delay=30", "too-slow");
  assert.equal(reply.status, 503);
  await printed(/\[too-slow\] cancelled before answering/);
});

test("an unknown route answers 404 as JSON", async () => {
  const reply = await get("/nope", "lost");
  assert.equal(reply.status, 404);
  assert.deepEqual(JSON.parse(reply.body), { error: "no route for GET /nope" });
});

test("on SIGTERM the request in flight still gets its answer, then the service exits 0", async () => {
  const last = get("/quotes/7?delay=0.3", "last");
  await printed(/\[last\] asking the dependency/);
  service.kill("SIGTERM");
  const reply = await last;
  assert.equal(reply.status, 200);
  assert.equal(await exited, 0);
  assert.match(output, /shutting down: 1 request\(s\) in flight \(SIGTERM\)\n(.*\n)*bye\n$/);
});
