/**
 * `npm run bench`: runs every `bench/*.bench.ts` in its own process (so one
 * workload's heap does not skew the next), in name order. `--smoke` runs
 * tiny sizes; a file name filter picks some: `npm run bench -- queue`.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith("--"));
const filters = args.filter((a) => !a.startsWith("--"));
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
let failed = 0;
for (const file of files) {
  console.log(`\n# ${file}`);
  const result = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", join(here, file), ...flags], { stdio: "inherit" });
  if (result.status !== 0) {
    failed++;
    console.log(`# ${file} failed with status ${result.status}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
