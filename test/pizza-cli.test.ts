/**
 * `asyncio-ts pizza serve` out of file descriptors: run from the sources
 * under `ulimit -n 128`, it must count and report every connection it turns
 * away, never drop one silently.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { test } from "node:test";
import { PIZZA_REPLY } from "../src/pizza/server.js";

const main = new URL("../src/cli/main.ts", import.meta.url).pathname;
const hasBash = spawnSync("bash", ["-c", "true"]).status === 0;
const skip = !hasBash || !existsSync("/proc/self/limits") ? "needs bash and /proc (Linux)" : false;
const CLIENTS = 300;

/** One order over a raw socket; resolves with the whole reply ("" when the server closed or reset it). */
function order(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write("margherita"));
    socket.on("data", (chunk: string) => (reply += chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(reply));
  });
}

test(`pizza serve under ulimit -n 128 reports every one of ${CLIENTS} connections it turns away`, { skip, timeout: 120_000 }, async () => {
  const server = spawn("bash", ["-c", `ulimit -n 128 && exec "${process.execPath}" --import tsx "${main}" pizza serve --port 0 --bake 0.3`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  server.stdout.setEncoding("utf8");
  server.stderr.setEncoding("utf8");
  server.stdout.on("data", (chunk: string) => (out += chunk));
  server.stderr.on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no port in: ${out} ${err}`)), 60_000);
      server.stdout.on("data", () => {
        const match = /running on 127\.0\.0\.1:(\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    assert.match(out, /max connections 64\)/);
    const replies = await Promise.all(Array.from({ length: CLIENTS }, () => order(port)));
    const served = replies.filter((reply) => reply === PIZZA_REPLY).length;
    assert.ok(served > 0 && served < CLIENTS, `${served} of ${CLIENTS} served`);
    // The warning of the last burst comes at most a second after it.
    const reported = (): number => [...err.matchAll(/dropped (\d+) connections?/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    for (let i = 0; i < 100 && reported() < CLIENTS - served; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(reported(), CLIENTS - served, err);
    // One warning line per burst, each naming the limit.
    for (const line of err.trim().split("\n")) assert.match(line, /^server 127\.0\.0\.1:\d+ dropped \d+ connections? \(\d+ at the limit of 64 connections\)$/);
    server.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.match(out, new RegExp(`served ${served}, .* turned away ${CLIENTS - served}`));
  } finally {
    server.kill("SIGKILL");
    await exited;
  }
});

/** Starts `pizza serve` from the sources; resolves with the child, its port and a reader of its output so far. */
async function startServe(args: string[]): Promise<{ server: ReturnType<typeof spawn>; port: number; output: () => string; exited: Promise<number | null> }> {
  const server = spawn(process.execPath, ["--import", "tsx", main, "pizza", "serve", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  server.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  server.stderr!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port in: ${out}`)), 20_000);
    server.stdout!.on("data", () => {
      const match = /running on 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return { server, port, output: () => out, exited };
}

/** Resolves once `output()` matches `pattern`. */
async function outputMatches(output: () => string, pattern: RegExp): Promise<void> {
  while (!pattern.test(output())) await new Promise((resolve) => setTimeout(resolve, 20));
}

test("pizza serve: the first SIGTERM stops new orders and lets the one in flight finish, then exits 0", async () => {
  const { server, port, output, exited } = await startServe(["--bake", "0.5", "--grace", "30"]);
  try {
    const reply = order(port);
    await outputMatches(output, /running on/);
    // The order is being baked once the connection is accepted; give the server its first read.
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.kill("SIGTERM");
    assert.equal(await reply, PIZZA_REPLY);
    assert.equal(await exited, 0, output());
    assert.match(output(), /stopping \(SIGTERM\): no new orders; 1 in flight/);
    assert.match(output(), /served 1, cancelled 0/);
  } finally {
    server.kill("SIGKILL");
  }
});

test("pizza serve: a second signal during the grace period cancels the orders in flight at once and exits 0", async () => {
  const { server, port, output, exited } = await startServe(["--bake", "60", "--grace", "60"]);
  try {
    const reply = order(port);
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.kill("SIGTERM");
    await outputMatches(output, /stopping \(SIGTERM\)/);
    server.kill("SIGINT");
    assert.equal(await exited, 0, output());
    assert.equal(await reply, "");
    assert.match(output(), /served 0, cancelled 1/);
  } finally {
    server.kill("SIGKILL");
  }
});
