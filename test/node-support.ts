/**
 * Helpers shared by the Node-only test files (they import `node:*`, so the
 * portable files keep to test/support.ts).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

/** Runs `body` with a fresh temporary directory, removed when `body` settles. */
export function withTempDir<T>(body: (dir: string) => Promise<T>, prefix = "asyncio-ts-"): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** How a child program ended, and what it wrote. */
export interface ChildEnding {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node --import tsx program mode`, sends `signal` each time its stdout
 * shows the next of `triggers` (in order), and returns how it ended
 * (SIGKILLed after 30 s, so a hung child fails the test instead of hanging it).
 */
export function signalOnOutput(program: string, mode: string, signal: NodeJS.Signals, triggers: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildEnding> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", program, mode], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    const pending = [...triggers];
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      while (pending.length > 0 && stdout.includes(pending[0]!)) {
        pending.shift();
        child.kill(signal);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, exitSignal) => {
      clearTimeout(killer);
      resolve({ code, signal: exitSignal, stdout, stderr });
    });
  });
}

/** Captures this process's stderr for the rest of test `t`; returns a reader of what was written so far. */
export function captureStderr(t: TestContext): () => string {
  const write = process.stderr.write;
  let captured = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    captured += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stderr.write;
  t.after(() => {
    process.stderr.write = write;
  });
  return () => captured;
}
