/**
 * Which test files are portable: those whose imports, followed through the
 * test helpers they use, reach nothing but the library's sources, `node:test`,
 * `node:assert`, `node:util` (for `inspect`) and fast-check. These are the
 * files run on every host; the others need a Node API of their own (sockets,
 * processes, files, async_hooks) and run under Node only. A file whose
 * imports look portable but whose tests need Node all the same says so in a
 * line comment of the form `hosts: node-only — why` (executors, function
 * references).
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root directory. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const ALLOWED_PACKAGES = new Set(["node:test", "node:assert/strict", "node:assert", "node:util", "fast-check"]);

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map((match) => match[1]!);
}

function sourceOf(fromFile: string, specifier: string): string {
  return resolve(dirname(fromFile), specifier).replace(/\.js$/, ".ts");
}

/** Whether `file` and the test helpers it imports use only portable imports. */
function isPortable(file: string, seen: Set<string>): boolean {
  if (seen.has(file)) return true;
  seen.add(file);
  if (/^\/\/ hosts: node-only\b/m.test(readFileSync(file, "utf8"))) return false;
  for (const specifier of importsOf(file)) {
    if (!specifier.startsWith(".")) {
      if (!ALLOWED_PACKAGES.has(specifier)) return false;
      continue;
    }
    const target = sourceOf(file, specifier);
    const inRepo = relative(root, target);
    // The library itself: its root must be portable (the bundle check proves it); Node-only subpaths are not.
    if (inRepo.startsWith("src/")) {
      if (/^src\/(cli|distributed|pizza|executors\/(thread|process)-entry)/.test(inRepo)) return false;
      continue;
    }
    if (!isPortable(target, seen)) return false;
  }
  return true;
}

/** The portable test files, relative to the root, in a stable order. */
export function portableTestFiles(): string[] {
  const candidates = [
    ...readdirSync(join(root, "test")).filter((name) => name.endsWith(".test.ts")).map((name) => `test/${name}`),
    ...readdirSync(join(root, "test/conformance")).filter((name) => name.endsWith(".test.ts")).map((name) => `test/conformance/${name}`),
  ].sort();
  return candidates.filter((file) => isPortable(join(root, file), new Set()));
}
