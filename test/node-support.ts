/**
 * Helpers shared by the Node-only test files (they import `node:*`, so the
 * portable files keep to test/support.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs `body` with a fresh temporary directory, removed when `body` settles. */
export function withTempDir<T>(body: (dir: string) => Promise<T>, prefix = "asyncio-ts-"): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}
