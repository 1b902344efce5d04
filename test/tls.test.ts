/**
 * TLS streams with a self-signed certificate made by the openssl CLI at test
 * time (skipped, saying so, when openssl is absent).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import type { AddressInfo } from "node:net";
import { openConnection, startServer, type Coro } from "../src/index.js";
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

test("a TLS server and client exchange data over a self-signed certificate", { skip }, async () => {
  const outcome = await runCapturing(function* () {
    const server = yield* startServer(tlsEcho, "127.0.0.1", 0, { tls: { key: credentials!.key, cert: credentials!.cert } });
    const port = (server.sockets[0] as AddressInfo).port;
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
    const server = yield* startServer(tlsEcho, "127.0.0.1", 0, { tls: context });
    const port = (server.sockets[0] as AddressInfo).port;
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
    const server = yield* startServer(tlsEcho, "127.0.0.1", 0, { tls: { key: credentials!.key, cert: credentials!.cert } });
    const port = (server.sockets[0] as AddressInfo).port;
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
