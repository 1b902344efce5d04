/**
 * The core on each host (issue 18): `sleep(0)` switches and spawn on Node, Bun,
 * Deno and headless Chromium, each as a ratio to that host's own native
 * promises measured in the same run. The workload (bench/hosts/workload.ts)
 * is bundled once per host with esbuild; a host that is not installed is
 * reported as missing.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { smoke } from "./harness.js";
import { hostBinary, launchChromium, serveFiles } from "../test/hosts/runners.js";

interface Timing {
  name: string;
  median: number;
  items: number;
}

const here = dirname(fileURLToPath(import.meta.url));

async function bundle(host: string): Promise<string> {
  const result = await build({
    entryPoints: [join(here, "hosts/workload.ts")],
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: host === "browser" ? "browser" : "node",
    define: { SMOKE: String(smoke), HOST: JSON.stringify(host) },
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

function runProcess(binary: string, args: string[], code: string): Timing[] | string {
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-host-bench-"));
  try {
    const file = join(dir, "workload.mjs");
    writeFileSync(file, code);
    const out = spawnSync(binary, [...args, file], { encoding: "utf8", timeout: 600_000 });
    const line = `${out.stdout}`.split("\n").find((text) => text.startsWith("HOST-BENCH "));
    if (line === undefined) return `no result (status ${out.status}): ${`${out.stderr}`.slice(-300)}`;
    return (JSON.parse(line.slice("HOST-BENCH ".length)) as { timings: Timing[] }).timings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runChromium(binary: string, code: string): Promise<Timing[] | string> {
  const site = await serveFiles({
    "/": { type: "text/html", body: '<!doctype html><meta charset="utf-8"><script type="module" src="/w.js"></script>' },
    "/w.js": { type: "text/javascript", body: code },
  });
  const browser = await launchChromium(binary);
  try {
    const page = await browser.newPage();
    await page.goto(site.origin);
    const handle = await page.waitForFunction(() => (globalThis as { __asyncioTsHostBench?: unknown }).__asyncioTsHostBench, null, { timeout: 600_000, polling: 500 });
    return ((await handle.jsonValue()) as { timings: Timing[] }).timings;
  } finally {
    await browser.close();
    await site.close();
  }
}

function print(host: string, timings: Timing[] | string): void {
  console.log(`\n## ${host}`);
  if (typeof timings === "string") {
    console.log(`  ${timings}`);
    return;
  }
  for (let i = 0; i < timings.length; i += 2) {
    const native = timings[i]!;
    const ours = timings[i + 1]!;
    for (const t of [native, ours]) {
      console.log(`  ${t.name.padEnd(40)} ${(t.median * 1000).toFixed(1).padStart(9)} ms  ${((t.items / t.median) / 1e6).toFixed(2).padStart(7)} M/s`);
    }
    console.log(`  ${"".padEnd(40)} ${(ours.median / native.median).toFixed(2)}x the host's native promises`);
  }
}

const nodeCode = await bundle("node");
print(`Node ${process.version}`, runProcess(process.execPath, ["--expose-gc"], nodeCode));
const bun = hostBinary("bun");
print("Bun", bun === null ? "missing (npm ci installs the bun package)" : runProcess(bun, [], await bundle("bun")));
const deno = hostBinary("deno");
print("Deno", deno === null ? "missing (npm ci installs the deno package)" : runProcess(deno, ["run", "--allow-all", "--v8-flags=--expose-gc"], await bundle("deno")));
const chromium = hostBinary("chromium");
print("Chromium (headless)", chromium === null ? "missing (.ci/run installs Debian's chromium)" : await runChromium(chromium, await bundle("browser")));
