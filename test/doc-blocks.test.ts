/**
 * Every ```ts block of README.md and docs/**\/*.md (the generated docs/api
 * aside) is a complete program: it is typechecked against the sources and
 * run, so the docs cannot drift from the code (Trio runs its docs' examples
 * the same way). A block preceded by `<!-- doc-test: typecheck -->` is only
 * typechecked (it needs something a test cannot have: a fixed port, the
 * network, a Ctrl-C); `<!-- doc-test: skip -->` leaves it out entirely.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format, promisify } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const workDir = join(root, ".doc-blocks");

interface DocBlock {
  source: string;
  line: number;
  mode: "run" | "typecheck";
  code: string;
  file: string;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, "docs"), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".md"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .filter((path) => !path.startsWith(join("docs", "api")));
  return ["README.md", ...docs.sort()];
}

function extractBlocks(source: string): DocBlock[] {
  const lines = readFileSync(join(root, source), "utf8").split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i]!)) continue;
    let previous = i - 1;
    while (previous >= 0 && lines[previous]!.trim() === "") previous--;
    const marker = previous >= 0 ? /<!--\s*doc-test:\s*(skip|typecheck)\b/.exec(lines[previous]!)?.[1] : undefined;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    assert.ok(end < lines.length, `${source}:${i + 1}: unclosed code block`);
    if (marker !== "skip") {
      const name = `${source.replace(/[^A-Za-z0-9]+/g, "-")}-${start}.ts`;
      blocks.push({ source, line: start, mode: marker === "typecheck" ? "typecheck" : "run", code: lines.slice(start, end).join("\n") + "\n", file: join(workDir, name) });
    }
    i = end;
  }
  return blocks;
}

const blocks = markdownFiles().flatMap(extractBlocks);
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
// Every block is a module of its own (top-level await, its own imports).
for (const block of blocks) writeFileSync(block.file, block.code.includes("import ") || block.code.includes("export ") ? block.code : `${block.code}export {};\n`);
writeFileSync(join(workDir, "tsconfig.json"), JSON.stringify({ extends: "../tsconfig.json", compilerOptions: { noEmit: true }, include: ["*.ts"] }));
after(() => rmSync(workDir, { recursive: true, force: true }));

const where = (block: DocBlock): string => `${block.source}:${block.line}`;

test("the docs have code blocks to check", () => {
  assert.ok(blocks.length >= 10, `only ${blocks.length} blocks found`);
  for (const source of ["README.md", "docs/guide/01-running.md", "docs/guide/08-debugging.md"]) {
    assert.ok(blocks.some((block) => block.source === source), `no block in ${source}`);
  }
});

test("every code block of the docs typechecks", async () => {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-p", join(workDir, "tsconfig.json")], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const output = String((error as { stdout?: string }).stdout ?? error);
    // Name the markdown line of each error, not the scratch file.
    const located = output.replace(/\.doc-blocks\/([A-Za-z0-9-]+)-(\d+)\.ts\((\d+),(\d+)\)/g, (_all, _name: string, start: string, line: string) => {
      const block = blocks.find((b) => b.file.endsWith(`-${start}.ts`) && b.file.includes(_name));
      return `${block ? block.source : _name}:${Number(start) + Number(line) - 1}`;
    });
    assert.fail(`a docs code block does not typecheck:\n${located}`);
  }
});

for (const block of blocks.filter((b) => b.mode === "run")) {
  test(`the code block at ${where(block)} runs`, { timeout: 30_000 }, async () => {
    const printed: string[] = [];
    const original = { log: console.log, error: console.error, warn: console.warn };
    // The test runner reports through stdout: keep the block's printing for the failure message.
    console.log = console.error = console.warn = (...args: unknown[]) => void printed.push(format(...args));
    try {
      await import(pathToFileURL(block.file).href);
    } catch (error) {
      assert.fail(`${where(block)} threw ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nit printed:\n${printed.join("\n")}`);
    } finally {
      Object.assign(console, original);
    }
  });
}
