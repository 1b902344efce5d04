/**
 * The `asyncio-ts` command, run as a user runs it (the built dist/ entry):
 * argument errors, help, and the pizzeria served and loaded through the CLI.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";

const cli = new URL("../dist/src/cli/main.js", import.meta.url).pathname;
const skip = existsSync(cli) ? false : "dist/ is not built (npm test builds it first)";

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

for (const args of [
  ["pizza", "order", "--count", "-3"],
  ["pizza", "order", "--concurrency", "0"],
  ["pizza", "order", "--port", "70000"],
  ["pizza", "serve", "--port", "abc"],
  ["pizza", "serve", "--bake", "-1"],
  ["no-such-command"],
  ["example", "no-such-example"],
]) {
  test(`\`asyncio-ts ${args.join(" ")}\` fails with one line and status 2`, { skip }, () => {
    const result = runCli(args);
    assert.equal(result.status, 2, result.stderr);
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.match(result.stderr, /error/);
  });
}

for (const args of [["--help"], ["tour", "--help"], ["example", "--help"], ["pizza", "--help"], ["pizza", "serve", "--help"], ["pizza", "order", "--help"]]) {
  test(`\`asyncio-ts ${args.join(" ")}\` prints help and exits 0`, { skip }, () => {
    const result = runCli(args);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /Usage: asyncio-ts/);
  });
}

test("example --list names every example", { skip }, () => {
  const result = runCli(["example", "--list"]);
  assert.equal(result.status, 0);
  assert.match(result.stdout, /toy-event-loop/);
  assert.match(result.stdout, /cpu-bound/);
});

test("pizza serve answers pizza order, logs each order, and stops cleanly on SIGTERM", { skip }, async () => {
  const server = spawn(process.execPath, [cli, "pizza", "serve", "--port", "0", "--bake", "0.2"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  server.stdout.setEncoding("utf8");
  server.stdout.on("data", (chunk: string) => (out += chunk));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no port in: ${out}`)), 20_000);
      server.stdout.on("data", () => {
        const match = /running on 127\.0\.0\.1:(\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    const load = runCli(["pizza", "order", "--port", String(port), "--count", "20", "--concurrency", "20"]);
    assert.equal(load.status, 0, load.stdout + load.stderr);
    assert.match(load.stdout, /orders: 20 served, 0 failed/);
    assert.match(load.stdout, /p50 .* p90 .* p99/);
    const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
    server.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.equal((out.match(/ served /g) ?? []).length, 20);
  } finally {
    server.kill("SIGKILL");
  }
});

test("pizza order against nothing reports the errors and exits 1", { skip }, () => {
  const result = runCli(["pizza", "order", "--port", "1", "--count", "2", "--concurrency", "2"]);
  assert.equal(result.status, 1);
  assert.match(result.stdout, /0 served, 2 failed/);
});
