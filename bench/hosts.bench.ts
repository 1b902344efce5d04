/**
 * The core on each host (issue 18): `sleep(0)` switches and spawn on Node, Bun,
 * Deno and headless Chromium, each as a ratio to that host's own native
 * promises measured in the same run. The workload (bench/hosts/workload.ts)
 * is bundled once per host with esbuild; a host that is not installed is
 * reported as missing.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { smoke } from "./harness.js";
import { hostBinary, runBundleInChromium, runBundleWith } from "../test/hosts/runners.js";

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

// A failed host is reported in the table, not thrown: the other hosts' figures still count.
async function timingsOf(run: () => Promise<{ timings: Timing[] }>): Promise<Timing[] | string> {
  try {
    return (await run()).timings;
  } catch (error) {
    return `no result: ${String(error).slice(0, 300)}`;
  }
}

const bench = { marker: "HOST-BENCH ", global: "__asyncioTsHostBench", timeoutMs: 600_000 };

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
print(`Node ${process.version}`, await timingsOf(() => runBundleWith(process.execPath, ["--expose-gc"], nodeCode, bench)));
const bun = hostBinary("bun");
print("Bun", bun === null ? "missing (npm ci installs the bun package)" : await timingsOf(async () => runBundleWith(bun, [], await bundle("bun"), bench)));
const deno = hostBinary("deno");
print("Deno", deno === null ? "missing (npm ci installs the deno package)" : await timingsOf(async () => runBundleWith(deno, ["run", "--allow-all", "--v8-flags=--expose-gc"], await bundle("deno"), bench)));
const chromium = hostBinary("chromium");
print("Chromium (headless)", chromium === null ? "missing (.ci/run installs Debian's chromium)" : await timingsOf(async () => runBundleInChromium(chromium, await bundle("browser"), bench)));
