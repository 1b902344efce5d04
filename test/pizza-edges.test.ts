/**
 * Pizzeria edge cases on the virtual clock. Connections whose exact timing
 * matters (gone before the handler looked, failing mid-read) are handed to
 * the server as unconnected sockets driven by hand, so no packet timing is
 * involved.
 */
import assert from "node:assert/strict";
import { Socket, connect } from "node:net";
import { test } from "node:test";
import { getRunningLoop, sleep, startServer, type Coro } from "../src/index.js";
import { placeOrders } from "../src/pizza/order.js";
import { startPizzeria, type OrderOutcome, type Pizzeria } from "../src/pizza/server.js";
import { formatSummary, summarise } from "../src/pizza/stats.js";
import { runCapturing, runVirtual } from "./support.js";

/** Hands the pizzeria a connection it did not accept from the network: a socket driven by the test. */
function handConnection(pizzeria: Pizzeria): Socket {
  const socket = new Socket();
  pizzeria.server["nodeServer"].emit("connection", socket);
  return socket;
}

/** Waits (virtual time, up to 60 s) until the pizzeria counted an order with `outcome`. */
function* untilCounted(pizzeria: Pizzeria, outcome: OrderOutcome): Coro<void> {
  for (let waited = 0; pizzeria.outcomes[outcome] === 0; waited += 0.01) {
    if (waited > 60) throw new Error(`no ${outcome} order after 60 s: ${JSON.stringify(pizzeria.outcomes)}`);
    yield* sleep(0.01);
  }
}

test("bake must be a number of seconds >= 0", async () => {
  const outcome = await runCapturing(() => startPizzeria({ bake: -1 }));
  assert.ok(outcome.error instanceof RangeError);
  assert.match(outcome.error.message, /bake must be >= 0 seconds/);
});

test("ovens must be a whole number >= 0", async () => {
  const outcome = await runCapturing(() => startPizzeria({ ovens: 1.5 }));
  assert.ok(outcome.error instanceof RangeError);
  assert.match(outcome.error.message, /ovens must be a whole number/);
});

test("without a bake option a pizza bakes for 2 seconds", async () => {
  const seconds = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria();
    const summary = yield* placeOrders({ port: pizzeria.port, count: 1, concurrency: 1 });
    yield* pizzeria.shutdown(1);
    assert.equal(summary.ok, 1);
    return summary.p50;
  });
  assert.ok(seconds >= 2 && seconds < 2.5, `one order took ${seconds} s`);
});

test("a client that closes without ordering is counted as empty", async () => {
  const outcomes = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1 });
    const client = connect(pizzeria.port, "127.0.0.1", () => client.end());
    yield* untilCounted(pizzeria, "empty");
    client.destroy();
    yield* pizzeria.shutdown(1);
    return pizzeria.outcomes;
  });
  assert.equal(outcomes.empty, 1);
  assert.equal(outcomes.error, 0);
});

test("a connection already gone when its order is read cancels the pizza at once, logged without a peer address", async () => {
  const lines: string[] = [];
  const outcome = await runVirtual(function* () {
    const loop = getRunningLoop();
    const pizzeria = yield* startPizzeria({ bake: 5, log: (line) => lines.push(line) });
    const socket = handConnection(pizzeria);
    socket.push("margherita");
    socket.destroy();
    const start = loop.time();
    yield* untilCounted(pizzeria, "cancelled");
    const elapsed = loop.time() - start;
    yield* pizzeria.shutdown(1);
    return { elapsed, outcomes: pizzeria.outcomes };
  });
  assert.equal(outcome.outcomes.cancelled, 1);
  assert.ok(outcome.elapsed < 1, `the pizza baked on for ${outcome.elapsed} s`);
  assert.match(lines[0]!, /^undefined order="margherita" cancelled /);
});

test("a connection closed mid-bake cancels the pizza", async () => {
  const outcome = await runVirtual(function* () {
    const loop = getRunningLoop();
    const pizzeria = yield* startPizzeria({ bake: 5 });
    const socket = handConnection(pizzeria);
    socket.push("quattro stagioni");
    yield* sleep(1);
    assert.equal(pizzeria.inFlight(), 1);
    socket.destroy();
    yield* untilCounted(pizzeria, "cancelled");
    const at = loop.time();
    yield* pizzeria.shutdown(1);
    return { at, outcomes: pizzeria.outcomes };
  });
  assert.equal(outcome.outcomes.cancelled, 1);
  assert.equal(outcome.outcomes.served, 0);
  assert.ok(outcome.at < 2, `cancelled at ${outcome.at} s, after the bake`);
});

test("a reset before the order arrives counts as a cancelled order, not a server error", async () => {
  const outcome = await runCapturing(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1 });
    const socket = handConnection(pizzeria);
    yield* sleep(0.1);
    socket.destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
    yield* untilCounted(pizzeria, "cancelled");
    yield* pizzeria.shutdown(1);
    return pizzeria.outcomes;
  });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.reports, []);
  assert.equal(outcome.value!.cancelled, 1);
});

test("a read that fails for another reason is an order error, reported to the exception handler", async () => {
  const outcome = await runCapturing(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1 });
    const socket = handConnection(pizzeria);
    yield* sleep(0.1);
    socket.destroy(new Error("disk on fire"));
    yield* untilCounted(pizzeria, "error");
    yield* pizzeria.shutdown(1);
    return pizzeria.outcomes;
  });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value!.error, 1);
  assert.deepEqual(outcome.reports.map((r) => [r.message, String(r.exception)]), [["Unhandled exception in client_connected_cb", "Error: disk on fire"]]);
});

// --- the load generator ------------------------------------------------------

function* otherShop(reply: string): Coro<import("../src/index.js").Server> {
  return yield* startServer(
    function* (reader, writer) {
      yield* reader.read(1024);
      writer.write(reply);
      writer.close();
    },
    "127.0.0.1",
    0,
  );
}

test("an order answered with something other than a pizza counts as a bad reply", async () => {
  const summary = await runVirtual(function* () {
    const shop = yield* otherShop("We only sell kebabs");
    const summary = yield* placeOrders({ port: (shop.sockets[0] as { port: number }).port, count: 2, concurrency: 1 });
    shop.close();
    yield* shop.waitClosed();
    return summary;
  });
  assert.equal(summary.ok, 0);
  assert.deepEqual(summary.errors, { "bad-reply": 2 });
});

test("an order that outlasts the timeout counts as a timeout", async () => {
  const summary = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 5 });
    const summary = yield* placeOrders({ port: pizzeria.port, count: 1, concurrency: 1, timeout: 1 });
    yield* pizzeria.shutdown(0);
    return summary;
  });
  assert.deepEqual(summary.errors, { timeout: 1 });
});

test("an error without a code counts under its name", async () => {
  const summary = await runVirtual(() => placeOrders({ port: 70000, count: 1, concurrency: 1 }));
  assert.deepEqual(summary.errors, { RangeError: 1 });
});

test("placeOrders reports its progress after each order", async () => {
  const progress: string[] = [];
  await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1 });
    yield* placeOrders({ port: pizzeria.port, count: 3, concurrency: 3, onProgress: (done, total) => progress.push(`${done}/${total}`) });
    yield* pizzeria.shutdown(1);
  });
  assert.deepEqual(progress, ["1/3", "2/3", "3/3"]);
});

test("a summary without a single served order shows its latencies as dashes", () => {
  assert.equal(formatSummary(summarise([], { timeout: 3 }, 2)).split("\n")[1], "latency: p50 -, p90 -, p99 -");
});
