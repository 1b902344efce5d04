/**
 * What the inspector's test files share: a sandbox TMPDIR per test, the
 * private directory inside it, a raw request to the socket, waiting for the
 * socket to listen, and a loop running an inspector of its own.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fromPromise, getRunningLoop, inspectorSocketPath, run, sleep, type Coro } from "../src/index.js";
import { defaultInspectorLimits, startInspector } from "../src/debug/inspector.js";

/** This process's uid. */
export const uid = process.getuid!();
/** The temp dir before any sandbox replaced TMPDIR. */
export const realTmp = tmpdir();

/** A fresh TMPDIR for this process (os.tmpdir() reads it at each call) and its children; removed after the test. */
export function sandbox(t: TestContext): string {
  const dir = mkdtempSync(join(realTmp, "aio-insp-"));
  process.env["TMPDIR"] = dir;
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
    process.env["TMPDIR"] = realTmp;
  });
  return dir;
}

/** The inspector's private directory under the current TMPDIR. */
export function privateDir(): string {
  return join(tmpdir(), `asyncio-ts-${uid}`);
}

/** Sends `data` and resolves with everything read until the server closes; `hold` collects the socket. */
export function request(path: string, data: string | Buffer, hold?: Socket[]): Promise<string> {
  return new Promise((resolve) => {
    let reply = "";
    const socket = connect(path, () => socket.write(data));
    hold?.push(socket);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (reply += chunk));
    socket.on("error", () => {});
    socket.on("close", () => resolve(reply));
  });
}

/** Sleeps (real time) until `path` accepts connections. */
export function* waitForSocket(path: string): Coro<void> {
  for (let i = 0; i < 500; i++) {
    const up = yield* fromPromise(
      new Promise<boolean>((resolve) => {
        const probe = connect(path, () => {
          probe.destroy();
          resolve(true);
        });
        probe.on("error", () => resolve(false));
      }),
    );
    if (up) return;
    yield* sleep(0.01);
  }
  throw new Error(`${path} never listened`);
}

/** Runs `body` with an inspector of the running loop (idle time `idleMs`) listening on this process's path. */
export function withInspector<T>(t: TestContext, body: (path: string) => Coro<T>, idleMs = defaultInspectorLimits.idleMs): Promise<T> {
  sandbox(t);
  return run(function* () {
    const stop = startInspector(getRunningLoop(), { ...defaultInspectorLimits, idleMs });
    try {
      const path = inspectorSocketPath(process.pid);
      yield* waitForSocket(path);
      return yield* body(path);
    } finally {
      stop();
    }
  });
}
