// The fast loop (`npm run test:core`): the library's own tests without c8 and
// without the integration files below, which drive browsers, Bun and Deno,
// Redis, TypeDoc, the bench harness, the built package or whole CLI programs.
// `npm test` runs everything; this is for the edit-test cycle.
import { spawn } from "node:child_process";
import process from "node:process";
import { readdirSync } from "node:fs";

const integration = new Set([
  "bench-compare", "browser-example", "hosts", "docs-api", "doc-blocks", "declarations",
  "distributed", "distributed-recovery", "examples", "cli", "pizza-cli",
  "crawler-example", "pipeline-example", "endings", "eslint-plugin",
]);
const files = [
  ...readdirSync("test").filter((f) => f.endsWith(".test.ts") && !integration.has(f.slice(0, -".test.ts".length))).map((f) => `test/${f}`),
  ...readdirSync("test/conformance").filter((f) => f.endsWith(".test.ts")).map((f) => `test/conformance/${f}`),
];
const extra = process.argv.slice(2);
const reporter = extra.some((arg) => arg.startsWith("--test-reporter")) ? [] : ["--test-reporter=dot"];
const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", "--test", ...reporter, ...extra, ...files], { stdio: "inherit" });
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
