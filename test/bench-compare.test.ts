/**
 * `npm run bench:compare` in smoke mode (tiny sizes, one run, output to a
 * temp dir), so the comparison harness and every workload cannot rot.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

test("the comparison harness runs every workload and writes the report and chart", () => {
  const out = mkdtempSync(join(tmpdir(), "asyncio-ts-bench-"));
  try {
    const harness = new URL("../bench/compare/index.ts", import.meta.url).pathname;
    const result = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", harness, "--smoke", "--out", out], { encoding: "utf8", timeout: 400_000 });
    assert.equal(result.status, 0, result.stderr);
    const report = readFileSync(join(out, "benchmarks.md"), "utf8");
    for (const workload of [
      "spawn and await", "sleep(0)", "three coroutine levels deep", "gather of", "TaskGroup of", "bounded queue", "lock acquisitions", "concurrent",
      "finished tasks the caller still holds", "line echo", "pizza server", "cpu_bound_task",
    ]) {
      assert.match(report, new RegExp(`^\\|.*${workload.replace(/[()]/g, "\\$&")}.*\\|`, "m"), workload);
    }
    assert.match(report, /^\| workload \| asyncio-ts \| native \| effection \| effect \|/m, "an Effect column");
    assert.ok(existsSync(join(out, "benchmarks.svg")));
    assert.match(readFileSync(join(out, "benchmarks.svg"), "utf8"), /^<svg /);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
