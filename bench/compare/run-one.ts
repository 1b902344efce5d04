/** Child process entry: runs one system's workload once and prints one JSON line. */
import { fullSizes, smokeSizes, workloads, type System } from "./workloads.js";

const [system, workload, mode] = process.argv.slice(2) as [System, string, string];
const body = workloads[workload]?.[system];
if (body === undefined) {
  console.log(JSON.stringify({ error: `no ${system} version of ${workload}` }));
  process.exit(2);
}
const sample = await body(mode === "smoke" ? smokeSizes : fullSizes);
console.log(JSON.stringify(sample));
