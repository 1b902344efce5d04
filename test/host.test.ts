/**
 * src/host.ts and src/repr.ts: how the library finds what the host offers
 * (Node built-ins, `process`, a way to yield a macrotask) and formats reprs
 * without `node:util`. Hosts without these are simulated by hiding
 * `globalThis.process` for the length of one synchronous check.
 */
// hosts: node-only — these tests hide and fake Node's globals.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as net from "node:net";
import { RuntimeError } from "../src/index.js";
import { hostEnv, hostProcess, lazyBuiltin, messageChannelTurns, optionalBuiltin, pickHostTurn, requireBuiltin, requireHostProcess } from "../src/host.js";
import { formatValue, inspectCustom, portableFormat } from "../src/repr.js";

/** Runs `check` with `globalThis.process` set to `value` (undefined: no process), then restores it. */
function withProcess<T>(value: unknown, check: () => T): T {
  const saved = Object.getOwnPropertyDescriptor(globalThis, "process")!;
  Object.defineProperty(globalThis, "process", { value, configurable: true, writable: true });
  try {
    return check();
  } finally {
    Object.defineProperty(globalThis, "process", saved);
  }
}

test("optionalBuiltin gives the host's module, the same object each time", () => {
  assert.equal(optionalBuiltin<typeof net>("node:net")?.isIP, net.isIP);
  assert.equal(optionalBuiltin("node:net"), optionalBuiltin("node:net"));
});

test("optionalBuiltin of a module the host lacks is null", () => {
  assert.equal(optionalBuiltin("node:no-such-module"), null);
});

test("optionalBuiltin is null when getBuiltinModule throws", () => {
  const fake = { getBuiltinModule: () => { throw new Error("refused"); }, on: () => undefined };
  assert.equal(withProcess(fake, () => optionalBuiltin("node:refused-by-host")), null);
});

test("optionalBuiltin is null on a host without process.getBuiltinModule", () => {
  assert.equal(withProcess(undefined, () => optionalBuiltin("node:never-asked")), null);
});

test("requireBuiltin names the module and the feature when the host lacks it", () => {
  assert.throws(
    () => requireBuiltin("node:no-such-module", "Teleportation"),
    (e: unknown) => e instanceof RuntimeError && e.message === "Teleportation needs node:no-such-module, which this JavaScript host does not provide (Node.js, Bun and Deno do)",
  );
});

test("a lazy built-in loads nothing until a member is used, then is the module", () => {
  const lazy = lazyBuiltin<typeof net>("node:net", "Sockets");
  assert.equal(lazy.isIP("127.0.0.1"), 4);
  assert.ok("createServer" in lazy);
});

test("using a lazy built-in the host lacks is a RuntimeError; making it is not", () => {
  const lazy = lazyBuiltin<{ connect(): void }>("node:missing-here", "Wormholes");
  assert.throws(() => lazy.connect(), (e: unknown) => e instanceof RuntimeError && /Wormholes needs node:missing-here/.test(e.message));
  assert.throws(() => "connect" in lazy, RuntimeError);
});

test("hostProcess is Node's process, and null where there is none or it is not a process", () => {
  assert.equal(hostProcess(), process);
  assert.equal(withProcess(undefined, hostProcess), null);
  assert.equal(withProcess({ env: {} }, hostProcess), null);
  assert.equal(withProcess(null, hostProcess), null);
});

test("hostEnv reads the environment, and is undefined without a process", () => {
  process.env["ASYNCIO_TS_HOST_TEST"] = "yes";
  try {
    assert.equal(hostEnv("ASYNCIO_TS_HOST_TEST"), "yes");
    assert.equal(withProcess(undefined, () => hostEnv("ASYNCIO_TS_HOST_TEST")), undefined);
  } finally {
    delete process.env["ASYNCIO_TS_HOST_TEST"];
  }
});

test("hostEnv counts a variable the host refuses to read as unset", () => {
  // Deno without --allow-env throws NotCapable from the env read itself.
  const env = new Proxy({}, { get: () => { throw new Error("NotCapable: Requires env access"); } });
  assert.equal(withProcess({ on: () => undefined, env }, () => hostEnv("ASYNCIO_TS_DEBUG")), undefined);
});

test("requireHostProcess names what needed it on a host without a process", () => {
  assert.equal(requireHostProcess("signals"), process);
  assert.throws(
    () => withProcess(undefined, () => requireHostProcess("addSignalHandler()")),
    (e: unknown) => e instanceof RuntimeError && e.message === "addSignalHandler() needs a host process object (Node.js, Bun or Deno)",
  );
});

test("the host turn is setImmediate itself where the host has it", () => {
  const setImmediate = (): void => undefined;
  assert.equal(pickHostTurn({ setImmediate, MessageChannel, setTimeout: () => undefined }), setImmediate);
});

test("without setImmediate the host turn is a MessageChannel message, in the order posted", async () => {
  const channels: InstanceType<typeof MessageChannel>[] = [];
  class TrackedChannel extends MessageChannel {
    constructor() {
      super();
      channels.push(this);
    }
  }
  const turn = pickHostTurn({ MessageChannel: TrackedChannel, setTimeout: () => assert.fail("setTimeout was used") });
  const order: number[] = [];
  try {
    await new Promise<void>((resolve) => {
      turn(() => order.push(1));
      turn(() => order.push(2));
      turn(() => {
        order.push(3);
        turn(() => {
          order.push(4);
          resolve();
        });
      });
    });
    assert.deepEqual(order, [1, 2, 3, 4]);
  } finally {
    for (const channel of channels) {
      channel.port1.close();
      channel.port2.close();
    }
  }
});

test("a message that finds no callback waiting does nothing", async () => {
  const channel = new MessageChannel();
  try {
    const turn = messageChannelTurns(channel);
    channel.port2.postMessage(null); // a stray message: the queue is empty
    await new Promise<void>((resolve) => turn(resolve));
  } finally {
    channel.port1.close();
    channel.port2.close();
  }
});

test("with neither setImmediate nor MessageChannel the host turn is setTimeout(0)", () => {
  const calls: number[] = [];
  const turn = pickHostTurn({ setTimeout: (_callback, ms) => calls.push(ms) });
  turn(() => undefined);
  assert.deepEqual(calls, [0]);
});

test("formatValue uses the host's util.inspect where there is one", () => {
  assert.equal(formatValue({ a: [1, { b: 2 }] }, { depth: 0 }), "{ a: [Array] }");
  assert.equal(formatValue("text"), "'text'");
});

test("the portable formatter writes primitives as util.inspect does", () => {
  assert.equal(portableFormat("abc", 2), "'abc'");
  assert.equal(portableFormat(12n, 2), "12n");
  assert.equal(portableFormat(Symbol("s"), 2), "Symbol(s)");
  assert.equal(portableFormat(1.5, 2), "1.5");
  assert.equal(portableFormat(true, 2), "true");
  assert.equal(portableFormat(null, 2), "null");
  assert.equal(portableFormat(undefined, 2), "undefined");
});

test("the portable formatter names functions, anonymous ones too", () => {
  assert.equal(portableFormat(function named() {}, 2), "[Function: named]");
  assert.equal(portableFormat(Object.defineProperty(() => undefined, "name", { value: "" }), 2), "[Function: (anonymous)]");
});

test("the portable formatter uses an object's own repr method", () => {
  const value = { [inspectCustom]: () => "<Custom>" };
  assert.equal(portableFormat(value, 2), "<Custom>");
});

test("the portable formatter gives an error's stack, or its name and message without one", () => {
  const error = new Error("boom");
  assert.equal(portableFormat(error, 2), error.stack);
  const bare = new TypeError("bad");
  bare.stack = undefined;
  assert.equal(portableFormat(bare, 2), "TypeError: bad");
});

test("the portable formatter writes arrays and objects to the given depth", () => {
  assert.equal(portableFormat([1, "a", [2, [3]]], 1), "[ 1, 'a', [ 2, [Array] ] ]");
  assert.equal(portableFormat({ a: 1, b: { c: { d: 1 } } }, 1), "{ a: 1, b: { c: [Object] } }");
  assert.equal(portableFormat({}, 2), "{}");
});
