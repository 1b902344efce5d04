import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const committed = join(root, "docs/api");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

test("TypeDoc validation passes: every public name has a doc comment, and docs/api is current", async () => {
  const config = JSON.parse(readFileSync(join(root, "typedoc.json"), "utf8")) as { validation: { notDocumented: boolean }; treatValidationWarningsAsErrors: boolean };
  assert.equal(config.validation.notDocumented, true);
  assert.equal(config.treatValidationWarningsAsErrors, true);
  const out = mkdtempSync(join(tmpdir(), "asyncio-ts-api-"));
  try {
    const typedoc = join(root, "node_modules/typedoc/bin/typedoc");
    try {
      await promisify(execFile)(process.execPath, [typedoc, "--out", out], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout: string; stderr: string };
      // eslint-disable-next-line no-control-regex
      assert.fail(`TypeDoc failed (document the names it lists):\n${`${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, "")}`);
    }
    const generated = filesUnder(out);
    assert.deepEqual(filesUnder(committed), generated, "docs/api is stale: run npm run docs");
    for (const file of generated) {
      assert.equal(readFileSync(join(committed, file), "utf8"), readFileSync(join(out, file), "utf8"), `docs/api/${file} is stale: run npm run docs`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

// Coroutines the reference's examples call as a user's own (a download, a transfer, a stop condition), not as the package's.
const userCoroutinesInExamples = new Set(["download", "transferConcurrently", "waitForShutdown"]);

test("every coroutine the API reference's examples call with yield* exists: exported, defined in the example, or a user's own", async () => {
  const exported = new Set<string>();
  for (const entry of ["../src/index.js", "../src/testing/index.js", "../src/executors/index.js", "../src/distributed/index.js", "../src/http/index.js"]) {
    for (const name of Object.keys((await import(entry)) as object)) exported.add(name);
  }
  const unknown: string[] = [];
  for (const file of filesUnder(committed).filter((f) => f.endsWith(".md"))) {
    for (const [, code] of readFileSync(join(committed, file), "utf8").matchAll(/```ts\n([\s\S]*?)```/g)) {
      const defined = new Set([...code!.matchAll(/(?:function\*?|const|let)\s+(\w+)/g)].map((m) => m[1]!));
      for (const [, name] of code!.matchAll(/yield\*\s+(\w+)\(/g)) {
        if (!exported.has(name!) && !defined.has(name!) && !userCoroutinesInExamples.has(name!)) unknown.push(`${file}: ${name}`);
      }
    }
  }
  assert.deepEqual(unknown, []);
});
