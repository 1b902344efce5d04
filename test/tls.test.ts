/**
 * TLS streams with a self-signed certificate made by the openssl CLI at test
 * time (skipped, saying so, when openssl is absent).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { LookupFunction } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import type { AddressInfo } from "node:net";
import { RuntimeError, openConnection, openUnixConnection, startServer, startUnixServer, type Coro, type Server, type StreamTlsOption } from "../src/index.js";
import { runCapturing } from "./support.js";

function makeCertificate(): { key: string; cert: string } | null {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-tls-"));
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "ignore" });
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const credentials = makeCertificate();
const skip = credentials === null ? "openssl is not installed: no certificate for the TLS tests" : false;

function* tlsEcho(reader: import("../src/index.js").StreamReader, writer: import("../src/index.js").StreamWriter): Coro<void> {
  const line = yield* reader.readline();
  writer.write(`secure ${line.toString()}`);
  yield* writer.drain();
  writer.close();
}

/** The echo server on 127.0.0.1 with `tls` (default: the test certificate and key); the server and its port. */
function* startTlsEcho(tls: StreamTlsOption = { key: credentials!.key, cert: credentials!.cert }): Coro<[Server, number]> {
  const server = yield* startServer(tlsEcho, "127.0.0.1", 0, { tls });
  return [server, (server.sockets[0] as AddressInfo).port];
}

test("a TLS server and client exchange data over a self-signed certificate", { skip }, async () => {
  const outcome = await runCapturing(function* () {
    const [server, port] = yield* startTlsEcho();
    const [reader, writer] = yield* openConnection("127.0.0.1", port, { tls: { ca: credentials!.cert } });
    assert.equal(writer.canWriteEof(), false);
    assert.ok(writer.getExtraInfo("peercert"));
    assert.match(writer.getExtraInfo("cipher")?.version ?? "", /^TLS/);
    assert.equal(writer.getExtraInfo("ssl_object"), writer.getExtraInfo("socket"));
    writer.write("hello\n");
    const reply = (yield* reader.read()).toString();
    writer.close();
    server.close();
    yield* server.waitClosed();
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, "secure hello\n");
});

test("a TLS server accepts a SecureContext", { skip }, async () => {
  const outcome = await runCapturing(function* () {
    const context = createSecureContext({ key: credentials!.key, cert: credentials!.cert });
    const [server, port] = yield* startTlsEcho(context);
    const [reader, writer] = yield* openConnection("127.0.0.1", port, { tls: { ca: credentials!.cert } });
    writer.write("ctx\n");
    const reply = (yield* reader.read()).toString();
    writer.close();
    server.close();
    yield* server.waitClosed();
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, "secure ctx\n");
});

test("a client that does not trust the certificate fails to connect", { skip }, async () => {
  const outcome = await runCapturing(function* () {
    const [server, port] = yield* startTlsEcho();
    try {
      yield* openConnection("127.0.0.1", port, { tls: true });
      return "connected";
    } catch (e) {
      return (e as NodeJS.ErrnoException).code;
    } finally {
      server.close();
      yield* server.waitClosed();
    }
  }, { clock: "real" });
  assert.equal(outcome.value, "DEPTH_ZERO_SELF_SIGNED_CERT");
});

test("a TLS client accepts a SecureContext carrying the trusted CA", { skip }, async () => {
  const outcome = await runCapturing(function* () {
    const [server, port] = yield* startTlsEcho();
    const [reader, writer] = yield* openConnection("127.0.0.1", port, { tls: createSecureContext({ ca: credentials!.cert }) });
    writer.write("context\n");
    const reply = (yield* reader.read()).toString();
    writer.close();
    server.close();
    yield* server.waitClosed();
    return reply;
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.value, "secure context\n");
});

// Resolves every name to 127.0.0.1, so a host name reaches the loopback server.
const loopbackLookup = ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
  if (options.all === true) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
}) as unknown as LookupFunction;

test("connecting by host name sends it as the TLS server name and checks the certificate against it", { skip }, async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(
      function* (reader, writer) {
        const socket = writer.getExtraInfo("socket") as import("node:tls").TLSSocket;
        yield* reader.readline();
        writer.write(`servername ${String(socket.servername)}\n`);
        writer.close();
      },
      "127.0.0.1",
      0,
      { tls: { key: credentials!.key, cert: credentials!.cert } },
    );
    const port = (server.sockets[0] as AddressInfo).port;
    const [reader, writer] = yield* openConnection("localhost", port, { tls: { ca: credentials!.cert, lookup: loopbackLookup } });
    writer.write("hi\n");
    const reply = (yield* reader.read()).toString();
    writer.close();
    let mismatch: unknown = null;
    try {
      yield* openConnection("pizza.invalid", port, { tls: { ca: credentials!.cert, lookup: loopbackLookup } });
    } catch (e) {
      mismatch = e;
    }
    server.close();
    yield* server.waitClosed();
    return [reply, (mismatch as NodeJS.ErrnoException | null)?.code];
  }, { clock: "real" });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.value, ["servername localhost\n", "ERR_TLS_CERT_ALTNAME_INVALID"]);
});

test("TLS works over a Unix socket", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-tls-"));
  const path = join(dir, "tls.sock");
  try {
    const outcome = await runCapturing(function* () {
      const server = yield* startUnixServer(tlsEcho, path, { tls: { key: credentials!.key, cert: credentials!.cert } });
      const [reader, writer] = yield* openUnixConnection(path, { tls: { ca: credentials!.cert, servername: "localhost" } });
      writer.write("unix\n");
      const reply = (yield* reader.read()).toString();
      writer.close();
      server.close();
      yield* server.waitClosed();
      return reply;
    }, { clock: "real" });
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.value, "secure unix\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeEof on a TLS connection is a RuntimeError (TLS cannot half-close)", { skip }, async () => {
  const outcome = await runCapturing(function* () {
    const [server, port] = yield* startTlsEcho();
    const [, writer] = yield* openConnection("127.0.0.1", port, { tls: { ca: credentials!.cert } });
    try {
      writer.writeEof();
      return "half-closed";
    } catch (e) {
      return e instanceof RuntimeError ? e.message : e;
    } finally {
      writer.close();
      server.close();
      yield* server.waitClosed();
    }
  }, { clock: "real" });
  assert.equal(outcome.value, "this connection cannot half-close (TLS)");
});
