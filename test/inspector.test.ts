/**
 * `asyncio-ts ps` / `pstree` against a child process that opted in: the
 * socket is owner-only, answers with the task table and await tree, and is
 * removed when the process exits.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { test } from "node:test";
import { inspectorSocketPath } from "../src/index.js";

const cli = new URL("../dist/src/cli/main.js", import.meta.url).pathname;
const fixture = new URL("./fixtures/inspected.ts", import.meta.url).pathname;
const skip = existsSync(cli) ? false : "dist/ is not built (npm test builds it first)";

function startInspected(): Promise<{ child: ChildProcess; pid: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no ready line: ${out}`)), 30_000);
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      out += chunk;
      const match = /ready (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, pid: Number(match[1]) });
      }
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  return exited;
}

test("ps and pstree show the tasks of a process that opted in; the socket is 0600 and removed at exit", { skip }, async () => {
  const { child, pid } = await startInspected();
  const path = inspectorSocketPath(pid);
  try {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const ps = spawnSync(process.execPath, [cli, "ps", String(pid)], { encoding: "utf8" });
    assert.equal(ps.status, 0, ps.stderr);
    assert.match(ps.stdout, /task id +task name +state +awaiting/);
    assert.match(ps.stdout, /kitchen +pending +gather of 2/);
    assert.match(ps.stdout, /oven-1 +pending +sleep until \d+\.\d{3} +kitchen/);
    const tree = spawnSync(process.execPath, [cli, "pstree", String(pid)], { encoding: "utf8" });
    assert.equal(tree.status, 0, tree.stderr);
    assert.match(tree.stdout, /\(T\) kitchen \[gather of 2\]\n\s+├── \(T\) oven-1 \[sleep until/);
  } finally {
    assert.equal(await stop(child), 0);
  }
  assert.equal(existsSync(path), false);
});

test("ps of a process that did not opt in says how to opt in", { skip }, () => {
  const result = spawnSync(process.execPath, [cli, "ps", String(process.pid)], { encoding: "utf8" });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /ASYNCIO_TS_INSPECT=1/);
});

test("nothing listens when a run did not opt in", () => {
  assert.equal(existsSync(inspectorSocketPath(process.pid)), false);
});
