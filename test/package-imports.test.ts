// hosts: node-only — it starts Node processes on the built package.
/**
 * What `import "asyncio-ts"` costs: the built root entry, imported by a child
 * process as a user's program imports it, loads only the package's own
 * modules and host built-ins. Every module the child loads is recorded twice
 * over: ESM imports through a loader `resolve` hook, and CommonJS modules
 * (what `require`/`createRequire` load, which do not pass through the ESM
 * hooks on Node 20) from the CommonJS module cache.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const skip = existsSync(new URL("../dist/src/index.js", import.meta.url)) ? false : "dist/ is not built (npm test builds it first)";

/** The packages that must wait for the feature that needs them. */
const LAZY_PACKAGES = ["acorn", "eslint-scope", "esrecurse", "estraverse", "bullmq", "ioredis", "commander", "cli-progress"];

// A resolve hook, run on the loader thread, that sends each resolved URL back to the main thread.
const RESOLVE_HOOK = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;

/**
 * Runs `body` (an ES module's text, with `asyncio` being the package root)
 * in a fresh Node process and returns every package under node_modules that
 * the process loaded, by name.
 */
function packagesLoadedBy(body: string): string[] {
  const program = `
import { register, createRequire } from "node:module";
import { MessageChannel } from "node:worker_threads";
const { port1, port2 } = new MessageChannel();
const urls = [];
port1.on("message", (url) => urls.push(url));
port1.unref();
register("data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}", { data: { port: port2 }, transferList: [port2] });
const asyncio = await import("asyncio-ts");
${body}
// Let the loader thread's last messages arrive.
await new Promise((resolve) => setTimeout(resolve, 50));
const required = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify([...urls, ...required]));
`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", program], { cwd: root, encoding: "utf8", timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  const loaded = JSON.parse(child.stdout) as string[];
  const names = new Set<string>();
  for (const entry of loaded) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(entry.replaceAll("\\", "/"));
    if (match !== null) names.add(match[1]!);
  }
  return [...names].sort();
}

test("importing the package root loads no parser, no Redis client and no CLI library", { skip }, () => {
  const loaded = packagesLoadedBy("void asyncio.run;");
  assert.deepEqual(loaded.filter((name) => LAZY_PACKAGES.includes(name)), []);
});

test("importing the executors and http subpaths loads no parser and no Redis client either", { skip }, () => {
  const loaded = packagesLoadedBy(`await import("asyncio-ts/executors"); await import("asyncio-ts/http");`);
  assert.deepEqual(loaded.filter((name) => LAZY_PACKAGES.includes(name)), []);
});

test("the probe sees the parser once a function is checked for shipping by its source", { skip }, () => {
  // The control for the test above: the same probe notices acorn and eslint-scope when they are used.
  // (A function that closes over \`process\` is refused at submit, before any worker starts.)
  const loaded = packagesLoadedBy(`
const pool = new asyncio.ThreadPoolExecutor({ maxWorkers: 1 });
let refused = null;
try { pool.submit(() => process.pid); } catch (error) { refused = error; }
await pool.shutdown();
if (!(refused instanceof TypeError)) throw new Error("the function was not checked");`);
  assert.ok(loaded.includes("acorn"), `loaded: ${loaded.join(", ")}`);
  assert.ok(loaded.includes("eslint-scope"), `loaded: ${loaded.join(", ")}`);
});
