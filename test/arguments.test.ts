/**
 * One table over the public API: every numeric or option argument given a
 * value of the wrong type raises a TypeError, and a number out of range
 * (NaN, a fraction where a count is expected, negative where that is not
 * allowed) a RangeError; each message names the argument.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  asCompleted,
  Barrier,
  BoundedSemaphore,
  Condition,
  fromPromise,
  LifoQueue,
  PriorityQueue,
  ProcessPoolExecutor,
  Queue,
  Semaphore,
  StreamReader,
  ThreadPoolExecutor,
  Timeout,
  VirtualClock,
  getRunningLoop,
  openConnection,
  sleep,
  startServer,
  timeout,
  timeoutAt,
  wait,
  waitFor,
  type Coro,
} from "../src/index.js";
import { isCoroutine } from "../src/coroutines.js";
import { runVirtual } from "./support.js";

type ErrorClass = typeof TypeError | typeof RangeError;

interface Row {
  /** The call, as a user writes it. */
  api: string;
  /** The word the error message must contain. */
  argument: string;
  /** Makes the call with `bad`; a coroutine it returns is awaited. */
  call: (bad: never) => unknown;
  /** Bad values and the error each must raise. */
  bad: [unknown, ErrorClass][];
  skip?: string;
}

const T = TypeError;
const R = RangeError;

/** Bad values of an integer count that must be at least `min`. */
function count(min: number): [unknown, ErrorClass][] {
  return [
    ["5", T],
    [null, T],
    [true, T],
    [NaN, R],
    [2.5, R],
    [min - 1, R],
  ];
}

/** Bad values of a number of seconds (any real number is allowed). */
const SECONDS: [unknown, ErrorClass][] = [
  ["1", T],
  [{}, T],
  [NaN, R],
];

/** The same for a required argument that takes `null` for "none". */
const NULLABLE_SECONDS: [unknown, ErrorClass][] = [...SECONDS, [undefined, T]];

function* noop(): Coro<void> {}

const rows: Row[] = [
  // Queues
  { api: "new Queue(maxsize)", argument: "maxsize", call: (v) => new Queue(v), bad: [["5", T], [true, T], [NaN, R], [2.5, R]] },
  { api: "new Queue({ maxsize })", argument: "maxsize", call: (v) => new Queue({ maxsize: v }), bad: [["5", T], [NaN, R], [1.5, R]] },
  { api: "new LifoQueue(maxsize)", argument: "maxsize", call: (v) => new LifoQueue(v), bad: [["5", T], [NaN, R], [2.5, R]] },
  { api: "new PriorityQueue(maxsize)", argument: "maxsize", call: (v) => new PriorityQueue(v), bad: [["5", T], [NaN, R], [2.5, R]] },
  { api: "new PriorityQueue({ compare })", argument: "compare", call: (v) => new PriorityQueue({ compare: v }), bad: [[5, T], ["<", T]] },
  // Primitives
  { api: "new Semaphore(value)", argument: "value", call: (v) => new Semaphore(v), bad: count(0) },
  { api: "new BoundedSemaphore(value)", argument: "value", call: (v) => new BoundedSemaphore(v), bad: count(0) },
  { api: "new Barrier(parties)", argument: "parties", call: (v) => new Barrier(v), bad: count(1) },
  {
    api: "condition.notify(n)",
    argument: "n",
    call: (v) =>
      (function* (): Coro<void> {
        const cond = new Condition();
        yield* cond.hold(function* () {
          cond.notify(v);
        });
      })(),
    bad: count(0),
  },
  // Time
  { api: "sleep(delay)", argument: "delay", call: (v) => sleep(v), bad: SECONDS },
  { api: "timeout(delay, body)", argument: "delay", call: (v) => timeout(v, noop), bad: NULLABLE_SECONDS },
  { api: "timeoutAt(when, body)", argument: "when", call: (v) => timeoutAt(v, noop), bad: NULLABLE_SECONDS },
  { api: "new Timeout(when)", argument: "when", call: (v) => new Timeout(v), bad: NULLABLE_SECONDS },
  {
    api: "cm.reschedule(when)",
    argument: "when",
    call: (v) => timeout(10, function* (cm) {
      cm.reschedule(v);
    }),
    bad: NULLABLE_SECONDS,
  },
  { api: "waitFor(aw, timeout)", argument: "timeout", call: (v) => waitFor(sleep(0), v), bad: NULLABLE_SECONDS },
  { api: "wait(fs, { timeout })", argument: "timeout", call: (v) => wait([getRunningLoop().createFuture()], { timeout: v }), bad: SECONDS },
  { api: "wait(fs, { returnWhen })", argument: "returnWhen", call: (v) => wait([getRunningLoop().createFuture()], { returnWhen: v }), bad: [["FIRST", R], [1, R]] },
  { api: "wait(fs, options)", argument: "options", call: (v) => wait([getRunningLoop().createFuture()], v), bad: [["x", T], [5, T]] },
  { api: "loop.callLater(delay, cb)", argument: "delay", call: (v) => getRunningLoop().callLater(v, () => undefined), bad: SECONDS },
  { api: "loop.callAt(when, cb)", argument: "when", call: (v) => getRunningLoop().callAt(v, () => undefined), bad: SECONDS },
  { api: "new VirtualClock(start)", argument: "start", call: (v) => new VirtualClock(v), bad: [...SECONDS, [Infinity, R]] },
  { api: "clock.advance(seconds)", argument: "seconds", call: (v) => new VirtualClock().advance(v), bad: [...SECONDS, [-1, R], [Infinity, R]] },
  // Streams and servers
  { api: "new StreamReader({ limit })", argument: "limit", call: (v) => new StreamReader({ limit: v }), bad: count(1) },
  { api: "reader.read(n)", argument: "n", call: (v) => new StreamReader().read(v), bad: [["1", T], [null, T], [NaN, R], [2.5, R], [Infinity, R]] },
  { api: "reader.readexactly(n)", argument: "n", call: (v) => new StreamReader().readexactly(v), bad: [["1", T], [NaN, R], [2.5, R], [-1, R]] },
  { api: "openConnection(host, port)", argument: "port", call: (v) => openConnection("127.0.0.1", v), bad: [["80", T], [NaN, R], [1.5, R], [-1, R], [65536, R]] },
  { api: "openConnection(host, port, { limit })", argument: "limit", call: (v) => openConnection("127.0.0.1", 1, { limit: v }), bad: count(1) },
  { api: "startServer(cb, host, port)", argument: "port", call: (v) => startServer(noop, "127.0.0.1", v), bad: [["80", T], [NaN, R], [1.5, R], [-1, R], [65536, R]] },
  { api: "startServer(cb, host, port, { limit })", argument: "limit", call: (v) => startServer(noop, "127.0.0.1", 0, { limit: v }), bad: count(1) },
  { api: "startServer(cb, host, port, { backlog })", argument: "backlog", call: (v) => startServer(noop, "127.0.0.1", 0, { backlog: v }), bad: count(0) },
  // Executors (the constructor checks its options before starting any worker)
  { api: "new ThreadPoolExecutor({ maxWorkers })", argument: "maxWorkers", call: (v) => new ThreadPoolExecutor({ maxWorkers: v }), bad: count(1).filter(([v]) => v !== null) }, // null means the default
  { api: "new ThreadPoolExecutor({ maxTasksPerChild })", argument: "maxTasksPerChild", call: (v) => new ThreadPoolExecutor({ maxTasksPerChild: v }), bad: count(1).filter(([v]) => v !== null) }, // null means the default
  { api: "new ProcessPoolExecutor({ maxWorkers })", argument: "maxWorkers", call: (v) => new ProcessPoolExecutor({ maxWorkers: v }), bad: count(1).filter(([v]) => v !== null) }, // null means the default
  {
    api: "executor.map(fn, items, { chunksize })",
    argument: "chunksize",
    call: (v) =>
      (function* (): Coro<void> {
        const pool = new ThreadPoolExecutor({ maxWorkers: 1 });
        try {
          yield* pool.map((x: number) => x, [1], { chunksize: v });
        } finally {
          yield* fromPromise(pool.shutdown());
        }
      })(),
    bad: count(1).filter(([v]) => v !== null), // null, like undefined, means the default
  },
  { api: "asCompleted(aws, { timeout })", argument: "timeout", call: (v) => asCompleted([getRunningLoop().createFuture()], { timeout: v }), bad: SECONDS },
];

for (const row of rows) {
  for (const [value, errorClass] of row.bad) {
    const shown = typeof value === "string" ? JSON.stringify(value) : typeof value === "object" && value !== null ? "{}" : String(value);
    test(`${row.api} with ${row.argument} = ${shown} is a ${errorClass.name} naming ${row.argument}`, row.skip !== undefined ? { skip: row.skip } : {}, async () => {
      await runVirtual(function* () {
        let raised: unknown = null;
        try {
          const result = row.call(value as never);
          if (isCoroutine(result)) yield* result;
        } catch (error) {
          raised = error;
        }
        assert.ok(raised instanceof errorClass, `expected a ${errorClass.name}, got ${String(raised)}`);
        // A RangeError must not be a TypeError in disguise and vice versa.
        assert.equal(raised.constructor, errorClass, String(raised));
        assert.ok(raised.message.includes(row.argument), `the message names ${row.argument}: ${raised.message}`);
      });
    });
  }
}

// StreamReader holds Node Buffers; a host without Buffer (a browser) has no streams to read.
const noBuffer = typeof Buffer === "undefined" ? "StreamReader needs Buffer (Node, Bun, Deno)" : false;

test("a bad count given to read() or readexactly() leaves the buffered bytes alone", { skip: noBuffer }, async () => {
  await runVirtual(function* () {
    const reader = new StreamReader();
    reader.feedData(Buffer.from("abcdef"));
    for (const n of [NaN, 2.5]) {
      for (const read of [(k: number) => reader.read(k), (k: number) => reader.readexactly(k)]) {
        try {
          yield* read(n);
          assert.fail("no error");
        } catch (error) {
          assert.ok(error instanceof RangeError);
        }
        assert.equal(reader.statistics().buffered, 6);
      }
    }
    assert.equal((yield* reader.read(6)).toString(), "abcdef");
  });
});

test("new Queue(\"5\") is refused rather than unbounded", () => {
  assert.throws(() => new Queue("5" as unknown as number), TypeError);
});

test("the good values next to the bad ones are accepted", { skip: noBuffer }, async () => {
  await runVirtual(function* () {
    assert.equal(new Queue(Infinity).maxsize, Infinity);
    assert.equal(new Queue(-1).full(), false); // Python: maxsize <= 0 is unbounded
    assert.equal(new Semaphore(0).locked(), true);
    assert.equal(new Barrier(1).parties, 1);
    yield* sleep(-1); // a delay <= 0 yields once
    assert.equal(yield* waitFor(sleep(0, "ok"), null), "ok");
    yield* timeout(null, function* () {});
    const reader = new StreamReader({ limit: 1 });
    reader.feedData(Buffer.from("xy"));
    reader.feedEof();
    assert.equal((yield* reader.read(-5)).toString(), "xy"); // any negative n reads to the end
  });
});

test("a bad argument's message shows a bigint, a symbol, a function or an array by kind", () => {
  const shown = (value: unknown): string => {
    try {
      new VirtualClock(value as number);
    } catch (error) {
      return (error as Error).message;
    }
    return "accepted";
  };
  assert.match(shown(5n), /got 5n$/);
  assert.match(shown(Symbol("tag")), /got Symbol\(tag\)$/);
  assert.match(shown(() => 1), /got a function$/);
  assert.match(shown([1]), /got an array$/);
});
