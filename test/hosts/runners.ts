/**
 * Runs a host bundle of the portable tests on Bun, on Deno (both from their
 * npm packages, which ship the binary) and in headless Chromium (Debian's
 * `chromium`, driven by playwright-core), and returns the harness's report.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunReport } from "./harness.js";
import { root } from "./portable-files.js";

/** Where each host's binary is, or `null` when it is missing. */
export function hostBinary(host: "bun" | "deno" | "chromium"): string | null {
  const candidates = host === "chromium" ? ["/usr/bin/chromium", "/usr/bin/chromium-browser"] : [join(root, "node_modules/.bin", host)];
  return candidates.find((path) => existsSync(path)) ?? null;
}

/** Where a bundle leaves its result: a `MARKER {json}` line on stdout, or a property of `globalThis` in a page. */
export interface BundleResult {
  /** The stdout line prefix (default `"HOST-REPORT "`, the test harness's). */
  marker?: string;
  /** The `globalThis` property a page sets (default `"__asyncioTsHostReport"`). */
  global?: string;
  timeoutMs?: number;
}

function parseMarked<T>(output: string, marker: string): T | null {
  const line = output.split("\n").find((text) => text.startsWith(marker));
  return line === undefined ? null : (JSON.parse(line.slice(marker.length)) as T);
}

/** Runs `code` (a bundle) with `binary` and `args` before the file; rejects with the output if no result came. */
export async function runBundleWith<T = RunReport>(binary: string, args: readonly string[], code: string, result: BundleResult = {}): Promise<T> {
  const marker = result.marker ?? "HOST-REPORT ";
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-host-"));
  const file = join(dir, "portable.mjs");
  writeFileSync(file, code);
  try {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(binary, [...args, file], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      const timer = setTimeout(() => child.kill("SIGKILL"), result.timeoutMs ?? 300_000);
      child.on("error", reject);
      child.on("close", () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    const parsed = parseMarked<T>(output, marker);
    if (parsed === null) throw new Error(`no result from ${binary}:\n${output.slice(-4000)}`);
    return parsed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The flags Chromium needs on this closed network, as root, without a GPU.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--js-flags=--expose-gc",
];

/** Serves `files` (path → content) on 127.0.0.1; returns its origin and a close function. */
export async function serveFiles(files: Record<string, { type: string; body: string | Buffer }>): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const file = files[new URL(request.url ?? "/", "http://127.0.0.1").pathname];
    if (file === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": file.type, "cache-control": "no-store" }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Launches headless Chromium with the flags this machine needs; the caller closes it. */
export async function launchChromium(binary: string): Promise<import("playwright-core").Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: binary, args: CHROMIUM_ARGS, headless: true });
}

/** Loads `code` as a module script in a Chromium page and waits for the result it leaves on `globalThis`. */
export async function runBundleInChromium<T = RunReport>(binary: string, code: string, result: BundleResult = {}): Promise<T> {
  const global = result.global ?? "__asyncioTsHostReport";
  const site = await serveFiles({
    "/": { type: "text/html", body: '<!doctype html><meta charset="utf-8"><title>asyncio-ts on this host</title><script type="module" src="/bundle.js"></script>' },
    "/bundle.js": { type: "text/javascript", body: code },
  });
  const browser = await launchChromium(binary);
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.stack ?? error.message));
    await page.goto(site.origin);
    const handle = await page
      .waitForFunction((name) => (globalThis as Record<string, unknown>)[name], global, { timeout: result.timeoutMs ?? 300_000, polling: 200 })
      .catch((error: unknown) => {
        throw new Error(`no result from Chromium (${String(error)}); page errors:\n${errors.join("\n")}`);
      });
    return (await handle.jsonValue()) as T;
  } finally {
    await browser.close();
    await site.close();
  }
}
