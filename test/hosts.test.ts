/**
 * The portable tests (test/hosts/portable-files.ts picks them) on every host
 * beside Node: bundled by esbuild, run on Bun and Deno from their npm
 * packages and in headless Chromium. Node runs the same files directly in
 * the rest of `npm test`. Under CI=true a missing host fails, never skips.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { build } from "esbuild";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { browserNodeImports, bundlePortableTests, type BundleHost } from "./hosts/bundle.js";
import type { RunReport } from "./hosts/harness.js";
import { root } from "./hosts/portable-files.js";
import { hostBinary, runBundleInChromium, runBundleWith } from "./hosts/runners.js";

const ci = process.env["CI"] === "true";

function skipWithout(binary: string | null, what: string): string | false {
  if (binary !== null) return false;
  if (ci) return false; // under CI the test runs and fails on the missing host
  return `${what} is not installed (npm ci installs bun and deno; .ci/run installs Debian's chromium)`;
}

function assertAllPassed(report: RunReport, host: string): void {
  const failures = report.failures.map((failure) => `- ${failure.name}\n${(failure.detail ?? "").split("\n").slice(0, 12).join("\n")}`).join("\n");
  assert.equal(report.fail, 0, `${report.fail} portable tests failed on ${host}:\n${failures}`);
  assert.ok(report.pass > 500, `only ${report.pass} tests ran on ${host}`);
}

async function bundle(host: BundleHost): Promise<string> {
  return (await bundlePortableTests(host)).code;
}

test("the package root bundles for the browser without a single node: built-in", async () => {
  const result = await build({
    entryPoints: [join(root, "src/index.ts")],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
    plugins: [browserNodeImports()],
  });
  assert.equal(result.errors.length, 0);
  assert.match(result.outputFiles[0]!.text, /\bEventLoop\b/);
});

test("for a browser bundle the package resolves its root and refuses the Node-only subpaths by their export conditions", async () => {
  // As a user's project sees the built package: node_modules/asyncio-ts -> this repository (npm test builds dist/ first).
  const project = mkdtempSync(join(tmpdir(), "asyncio-ts-conditions-"));
  try {
    mkdirSync(join(project, "node_modules"));
    symlinkSync(root, join(project, "node_modules", "asyncio-ts"), "dir");
    const bundleFor = (specifier: string) =>
      build({ stdin: { contents: `export * from ${JSON.stringify(specifier)};`, resolveDir: project }, bundle: true, platform: "browser", format: "esm", write: false, logLevel: "silent" });
    const rootBundle = await bundleFor("asyncio-ts");
    assert.equal(rootBundle.errors.length, 0);
    for (const subpath of ["asyncio-ts/executors", "asyncio-ts/distributed", "asyncio-ts/http"]) {
      await assert.rejects(bundleFor(subpath), (error: { errors?: { notes?: { text: string }[] }[] }) =>
        (error.errors ?? []).some((e) => (e.notes ?? []).some((note) => /is not currently exported by package "asyncio-ts"/.test(note.text))),
      );
    }
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

const bun = hostBinary("bun");
test("the portable tests pass on Bun", { skip: skipWithout(bun, "bun"), timeout: 300_000 }, async () => {
  assert.ok(bun !== null, "bun is missing: it comes from the bun npm package (npm ci)");
  assertAllPassed(await runBundleWith(bun, [], await bundle("bun")), "Bun");
});

const deno = hostBinary("deno");
test("the portable tests pass on Deno", { skip: skipWithout(deno, "deno"), timeout: 300_000 }, async () => {
  assert.ok(deno !== null, "deno is missing: it comes from the deno npm package (npm ci)");
  assertAllPassed(await runBundleWith(deno, ["run", "--allow-all", "--v8-flags=--expose-gc"], await bundle("deno")), "Deno");
});

test("the package root runs on Deno with no permission flags: an environment variable it may not read counts as unset", { skip: skipWithout(deno, "deno"), timeout: 120_000 }, async () => {
  assert.ok(deno !== null, "deno is missing: it comes from the deno npm package (npm ci)");
  // The root reads ASYNCIO_TS_DEBUG (and more) as it starts a loop; without --allow-env Deno throws NotCapable on each read.
  const program = `import { run, sleep, getRunningLoop } from "./src/index.ts";
const result = await run(function* () { yield* sleep(0.001); return { value: 42, debug: getRunningLoop().getDebug() }; });
console.log("DENO-ROOT " + JSON.stringify(result));
`;
  const built = await build({ stdin: { contents: program, resolveDir: root, sourcefile: "deno-root.ts", loader: "ts" }, bundle: true, format: "esm", platform: "node", write: false, logLevel: "silent" });
  const result = await runBundleWith<{ value: number; debug: boolean }>(deno, ["run"], built.outputFiles[0]!.text, { marker: "DENO-ROOT ", timeoutMs: 60_000 });
  assert.deepEqual(result, { value: 42, debug: false });
});

const chromium = hostBinary("chromium");
test("the portable tests pass in headless Chromium", { skip: skipWithout(chromium, "chromium"), timeout: 300_000 }, async () => {
  assert.ok(chromium !== null, "chromium is missing: .ci/run installs Debian's chromium");
  assertAllPassed(await runBundleInChromium(chromium, await bundle("browser")), "Chromium");
});
