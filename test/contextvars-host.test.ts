/**
 * Context variables outside tasks follow the host's async context
 * (AsyncLocalStorage): a `set` in a request handler, a timer or the
 * continuation of a native `await` stays with that callback and what it
 * starts. Node-only: it serves HTTP and needs the host's async context.
 */
import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { ContextVar, copyContext, createTask, fromPromise, getRunningLoop, run, sleep, type Coro } from "../src/index.js";

const user = new ContextVar<string>("user", { default: "nobody" });

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function get(port: number, path: string, agent: import("node:http").Agent | false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a ContextVar set in one HTTP request's handler is not seen by the next request, on a new connection or the same one", async () => {
  // Each handler reports the value it starts with, then sets its own user;
  // the task its request runs sees the handler's value.
  const server = createServer((req, res) => {
    const before = user.get();
    user.set(new URL(req.url ?? "/", "http://x").searchParams.get("user") ?? "?");
    void run(function* () {
      yield* sleep(0);
      return user.get();
    }).then((inTask) => res.end(`${before}/${inTask}/${user.get()}`));
  });
  const port = await listen(server);
  const { Agent } = await import("node:http");
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal(await get(port, "/?user=alice", false), "nobody/alice/alice");
    assert.equal(await get(port, "/?user=bob", false), "nobody/bob/bob");
    assert.equal(await get(port, "/?user=carol", keepAlive), "nobody/carol/carol");
    assert.equal(await get(port, "/?user=dave", keepAlive), "nobody/dave/dave");
    assert.equal(user.get(), "nobody");
  } finally {
    keepAlive.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("a set after a native await inside fromPromise stays in that async function", async () => {
  const seen = await run(function* (): Coro<string[]> {
    user.set("main");
    const inside = yield* fromPromise(
      (async () => {
        await null;
        user.set("leaked?");
        await new Promise((resolve) => setImmediate(resolve));
        return user.get();
      })(),
    );
    const later = yield* createTask((function* () {
      yield* fromPromise((async () => await null)());
      return user.get();
    })());
    const callback = getRunningLoop().createFuture<string>();
    getRunningLoop().callSoon(() => callback.setResult(user.get()));
    const afterNative = yield* fromPromise((async () => {
      await null;
      return user.get();
    })());
    return [inside, user.get(), later, yield* callback, afterNative];
  });
  assert.deepEqual(seen.slice(0, 4), ["leaked?", "main", "main", "main"]);
  // After a native await outside the task's step, the context is the host's: never the other function's value.
  assert.notEqual(seen[4], "leaked?");
  assert.equal(user.get(), "nobody");
  const fresh = await run(function* () {
    return user.get();
  });
  assert.equal(fresh, "nobody");
});

test("a set in a host timer callback is seen by its own continuations, not by the next timer", async () => {
  const first = await new Promise<string[]>((resolve) => {
    setTimeout(async () => {
      user.set("timer-1");
      await null;
      const copy = copyContext();
      resolve([user.get(), copy.get(user) ?? "none"]);
    }, 1);
  });
  const second = await new Promise<string>((resolve) => setTimeout(() => resolve(user.get()), 1));
  assert.deepEqual(first, ["timer-1", "timer-1"]);
  assert.equal(second, "nobody");
});

test("a reset outside tasks puts the value back for that host callback", async () => {
  const seen = await new Promise<string[]>((resolve) => {
    setImmediate(() => {
      const token = user.set("temp");
      const during = user.get();
      user.reset(token);
      resolve([during, user.get()]);
    });
  });
  assert.deepEqual(seen, ["temp", "nobody"]);
});
