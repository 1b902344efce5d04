/**
 * The pizza server at bake 0 (issue 15): orders per second through the
 * chapter's server written with asyncio-ts, through the production pizzeria
 * (`asyncio-ts pizza serve`: read timeout, hang-up watcher, outcomes), through
 * a plain `net` server (the native baseline) and through the chapter's Python
 * server (when python3 is here), with the same 50-connection load of the
 * same size, interleaved in one run; medians of RUNS, each a ratio.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "../src/index.js";
import { startPizzeria } from "../src/pizza/server.js";
import { fullSizes, placeChapterOrders, smokeSizes, workloads, type Sample } from "./compare/workloads.js";
import { runs, smoke } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const sizes = smoke ? smokeSizes : fullSizes;
const ORDERS = sizes.orders;

async function pizzeria(): Promise<Sample> {
  const start = performance.now();
  await run(function* () {
    const shop = yield* startPizzeria({ host: "127.0.0.1", port: 0, bake: 0 });
    yield* placeChapterOrders(shop.port, ORDERS);
    if (shop.outcomes.served !== ORDERS) throw new Error(`served ${shop.outcomes.served} of ${ORDERS}`);
    yield* shop.shutdown(1);
  });
  return { seconds: (performance.now() - start) / 1000 };
}

function python(): Sample | null {
  for (const env of [{ ...process.env, PYENV_VERSION: "3.13.0" }, process.env]) {
    const result = spawnSync("python3", [join(here, "python", "pizza.py"), JSON.stringify(sizes)], { encoding: "utf8", cwd: join(here, "python"), env, timeout: 300_000 });
    if (result.status === 0) return JSON.parse(result.stdout.trim().split("\n").pop()!) as Sample;
  }
  return null;
}

const systems: Record<string, () => Promise<Sample | null>> = {
  "plain net (native)": () => workloads["pizza"]!.native!(sizes),
  "asyncio-ts, the chapter's server": () => workloads["pizza"]!["asyncio-ts"]!(sizes),
  "asyncio-ts pizza serve (production)": pizzeria,
  "Python asyncio, the chapter's server": async () => python(),
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(systems).map((name) => [name, []]));
if (!smoke) for (const run of Object.values(systems)) await run(); // warm-up
for (let i = 0; i < runs; i++) {
  for (const [name, run] of Object.entries(systems)) {
    const sample = await run();
    if (sample !== null) times[name]!.push(sample.seconds);
  }
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`\n## pizza server at bake 0, ${ORDERS} orders, 50 connections at once`);
const rate = (name: string): number | null => (times[name]!.length === 0 ? null : ORDERS / median(times[name]!));
for (const name of Object.keys(systems)) {
  const r = rate(name);
  console.log(`  ${name.padEnd(40)} ${r === null ? "not available" : `${Math.round(r).toLocaleString("en")} orders/s`}`);
}
const chapter = rate("asyncio-ts, the chapter's server")!;
const production = rate("asyncio-ts pizza serve (production)")!;
const native = rate("plain net (native)")!;
const py = rate("Python asyncio, the chapter's server");
console.log(`  chapter's server: ${(chapter / native).toFixed(2)}x plain net's rate${py === null ? "" : `, ${(chapter / py).toFixed(2)}x Python's`}`);
console.log(`  pizza serve: ${(production / chapter).toFixed(2)}x the chapter's (minimal) server's rate${py === null ? "" : `, ${(production / py).toFixed(2)}x Python's`}`);
