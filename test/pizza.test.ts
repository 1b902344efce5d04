/**
 * The pizzeria end to end over loopback, on the virtual clock: bake times are
 * virtual seconds, so concurrency shows as exact totals, never as flaky timings.
 */
import assert from "node:assert/strict";
import { Socket, connect } from "node:net";
import { test } from "node:test";
import { createTask, fromPromise, gather, getRunningLoop, openConnection, sleep, startServer, type Coro } from "../src/index.js";
import { orderPizza, placeOrders } from "../src/pizza/order.js";
import { PIZZA_REPLY, startPizzeria, type OrderOutcome, type Pizzeria } from "../src/pizza/server.js";
import { formatSummary, percentile, summarise } from "../src/pizza/stats.js";
import { collectGarbage, runCapturing, runVirtual } from "./support.js";

test("500 concurrent orders are all served in about one bake time", async () => {
  const outcome = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 2 });
    const summary = yield* placeOrders({ port: pizzeria.port, count: 500, concurrency: 500 });
    yield* pizzeria.shutdown(1);
    return { summary, served: pizzeria.outcomes.served };
  });
  assert.equal(outcome.summary.ok, 500);
  assert.equal(outcome.summary.failed, 0);
  assert.equal(outcome.served, 500);
  // Sequential baking would take 1,000 s; concurrency makes it one bake (a wide margin).
  assert.ok(outcome.summary.seconds < 10, `took ${outcome.summary.seconds} s`);
});

test("each order gets the chapter's reply", async () => {
  assert.equal(await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1 });
    const reply = yield* orderPizza("127.0.0.1", pizzeria.port, "margherita");
    yield* pizzeria.shutdown(1);
    return reply;
  }), PIZZA_REPLY);
});

test("ovens limit how many pizzas bake at once", async () => {
  const seconds = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1, ovens: 2 });
    const summary = yield* placeOrders({ port: pizzeria.port, count: 6, concurrency: 6 });
    yield* pizzeria.shutdown(1);
    return summary.seconds;
  });
  assert.ok(seconds >= 3 && seconds < 4, `6 pizzas in 2 ovens took ${seconds} s`);
});

test("a client that resets mid-bake cancels its pizza and frees its oven", async () => {
  const outcome = await runVirtual(function* () {
    const loop = getRunningLoop();
    const pizzeria = yield* startPizzeria({ bake: 5, ovens: 1 });
    // The first customer orders, then hangs up (a reset) after one second.
    const [, quitter] = yield* openConnection("127.0.0.1", pizzeria.port);
    quitter.write("changed my mind");
    yield* sleep(0.5);
    const patient = createTask(orderPizza("127.0.0.1", pizzeria.port, "patient"));
    yield* sleep(0.5);
    (quitter.getExtraInfo("socket") as Socket).resetAndDestroy();
    const reply = yield* patient;
    const at = loop.time();
    yield* pizzeria.shutdown(1);
    return { reply, at, cancelled: pizzeria.outcomes.cancelled };
  });
  assert.equal(outcome.reply, PIZZA_REPLY);
  assert.equal(outcome.cancelled, 1);
  // With the oven freed at 1 s the patient pizza is ready at 6 s, not 10 s.
  assert.ok(outcome.at < 7, `patient pizza at ${outcome.at} s`);
});

test("a client that sends nothing is dropped after the read timeout", async () => {
  const outcome = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1, readTimeout: 3 });
    const [reader, writer] = yield* openConnection("127.0.0.1", pizzeria.port);
    const data = yield* reader.read();
    const at = getRunningLoop().time();
    writer.close();
    yield* pizzeria.shutdown(1);
    return { bytes: data.length, at, timeouts: pizzeria.outcomes.timeout };
  });
  assert.deepEqual(outcome, { bytes: 0, at: 3, timeouts: 1 });
});

test("an oversized order gets a clear error line", async () => {
  const reply = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1 });
    const [reader, writer] = yield* openConnection("127.0.0.1", pizzeria.port);
    writer.write("x".repeat(5000));
    const text = Buffer.from(yield* reader.read()).toString();
    writer.close();
    yield* pizzeria.shutdown(1);
    return text;
  });
  assert.equal(reply, "Error: order too large (at most 1024 bytes)\n");
});

test("shutdown lets orders in flight finish within the grace period", async () => {
  const outcome = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 2 });
    const orders = gather(...Array.from({ length: 3 }, (_, i) => orderPizza("127.0.0.1", pizzeria.port, `#${i}`)));
    yield* sleep(1);
    yield* pizzeria.shutdown(5);
    return { replies: yield* orders, served: pizzeria.outcomes.served, serving: pizzeria.server.isServing() };
  });
  assert.deepEqual(outcome, { replies: [PIZZA_REPLY, PIZZA_REPLY, PIZZA_REPLY], served: 3, serving: false });
});

test("shutdown cancels the orders still baking after the grace period", async () => {
  const outcome = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 10 });
    const orders = gather(...Array.from({ length: 2 }, (_, i) => orderPizza("127.0.0.1", pizzeria.port, `#${i}`)), { returnExceptions: true });
    yield* sleep(1);
    yield* pizzeria.shutdown(2);
    const at = getRunningLoop().time();
    yield* orders;
    return { cancelled: pizzeria.outcomes.cancelled, at };
  });
  assert.equal(outcome.cancelled, 2);
  assert.ok(outcome.at >= 3 && outcome.at < 4);
});

test("percentiles use the nearest rank", () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual([percentile(values, 50), percentile(values, 90), percentile(values, 99)], [50, 90, 99]);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test("the summary reports orders per second, percentiles and errors by kind", () => {
  const summary = summarise([0.1, 0.2, 0.3], { ECONNREFUSED: 2 }, 2);
  assert.equal(summary.ordersPerSecond, 1.5);
  assert.equal(summary.failed, 2);
  assert.match(formatSummary(summary), /errors: ECONNREFUSED x2/);
});

test("orders to a closed port are counted as errors by kind", async () => {
  const summary = await runVirtual(function* (): Coro<ReturnType<typeof summarise>> {
    const pizzeria = yield* startPizzeria({ bake: 0 });
    const port = pizzeria.port;
    yield* pizzeria.shutdown(0);
    return yield* placeOrders({ port, count: 3, concurrency: 3 });
  });
  assert.equal(summary.ok, 0);
  assert.deepEqual(summary.errors, { ECONNREFUSED: 3 });
});

// ------------------------------------------------------------ hardening (issue 12, section 3)

/** One order sent by `send`, then the whole reply (until the server closes). */
function* orderWith(port: number, send: (writer: import("../src/index.js").StreamWriter) => Coro<void>): Coro<string> {
  const [reader, writer] = yield* openConnection("127.0.0.1", port);
  try {
    yield* send(writer);
    return Buffer.from(yield* reader.read()).toString("utf8");
  } finally {
    writer.close();
  }
}

test("an order sent in two writes 20 ms apart gets its pizza, all 20 of them", async () => {
  const outcome = await runVirtual(function* () {
    const lines: string[] = [];
    const pizzeria = yield* startPizzeria({ bake: 2, log: (line) => lines.push(line) });
    const replies = yield* gather(
      ...Array.from({ length: 20 }, () =>
        orderWith(pizzeria.port, function* (writer) {
          writer.write("marg");
          yield* writer.drain();
          yield* sleep(0.02);
          writer.write("herita");
          yield* writer.drain();
        }),
      ),
    );
    yield* pizzeria.shutdown(1);
    return { replies, served: pizzeria.outcomes.served, lines };
  });
  assert.deepEqual(outcome.replies, Array.from({ length: 20 }, () => PIZZA_REPLY));
  assert.equal(outcome.served, 20);
  assert.ok(outcome.lines.every((line) => line.includes('order="margherita"')), outcome.lines.join("\n"));
});

test("a client that half-closes after sending its order (nc -N) gets its pizza, all 20 of them", async () => {
  const outcome = await runVirtual(function* () {
    const pizzeria = yield* startPizzeria({ bake: 2 });
    const replies = yield* gather(
      ...Array.from({ length: 20 }, (_, i) =>
        orderWith(pizzeria.port, function* (writer) {
          writer.write(`quattro stagioni #${i}`);
          writer.writeEof();
          yield* writer.drain();
        }),
      ),
    );
    yield* pizzeria.shutdown(1);
    return { replies, served: pizzeria.outcomes.served };
  });
  assert.deepEqual(outcome.replies, Array.from({ length: 20 }, () => PIZZA_REPLY));
  assert.equal(outcome.served, 20);
});

test("a reset mid-bake reports nothing to the exception handler, not even after garbage collection", async () => {
  const outcome = await runCapturing(function* () {
    const pizzeria = yield* startPizzeria({ bake: 5 });
    const [, writer] = yield* openConnection("127.0.0.1", pizzeria.port);
    writer.write("margherita");
    yield* writer.drain();
    yield* sleep(1);
    (writer.getExtraInfo("socket") as Socket).resetAndDestroy();
    while (pizzeria.outcomes.cancelled === 0) yield* sleep(0.1);
    yield* fromPromise(collectGarbage());
    yield* sleep(0.1);
    yield* pizzeria.shutdown(1);
    return pizzeria.outcomes;
  });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value?.cancelled, 1);
  assert.deepEqual(outcome.reports.map((r) => `${r.message}: ${String(r.exception)}`), []);
});

test("a client that half-closes, then closes without reading its pizza, is no server error", async () => {
  const outcome = await runCapturing(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1 });
    // Order, half-close, then close without reading: the server only learns of it when its reply fails.
    const [, writer] = yield* openConnection("127.0.0.1", pizzeria.port);
    writer.write("margherita");
    writer.writeEof();
    yield* writer.drain();
    writer.close();
    yield* writer.waitClosed();
    yield* sleep(3);
    yield* pizzeria.shutdown(1);
    return pizzeria.outcomes;
  });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value!.error, 0);
  assert.equal(outcome.value!.served + outcome.value!.cancelled, 1);
  assert.deepEqual(outcome.reports.map((r) => r.message), []);
});

test("maxConnections closes the connections beyond it and reports them in one warning with the count", async () => {
  const outcome = await runCapturing(function* () {
    const pizzeria = yield* startPizzeria({ bake: 1, maxConnections: 2 });
    const summary = yield* placeOrders({ port: pizzeria.port, count: 5, concurrency: 5 });
    yield* sleep(2);
    yield* pizzeria.shutdown(1);
    return { summary, served: pizzeria.outcomes.served, dropped: pizzeria.server.droppedConnections };
  });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value!.summary.ok, 2);
  assert.equal(outcome.value!.summary.failed, 3);
  assert.equal(outcome.value!.dropped, 3);
  const messages = outcome.reports.map((r) => r.message);
  assert.equal(messages.length, 1, messages.join("\n"));
  assert.match(messages[0]!, /dropped 3 connections \(3 at the limit of 2 connections\)/);
});

// --- edge cases ------------------------------------------------------------
// Pizzeria edge cases on the virtual clock. Connections whose exact timing
// matters (gone before the handler looked, failing mid-read) are handed to
// the server as unconnected sockets driven by hand, so no packet timing is
// involved.

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
