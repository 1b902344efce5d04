import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { ESLint, type Linter } from "eslint";
import tseslint from "typescript-eslint";
import asyncio, { rules } from "../src/eslint-plugin/index.js";

const fixture = fileURLToPath(new URL("./fixtures/floating-coroutines.ts", import.meta.url));
const root = fileURLToPath(new URL("..", import.meta.url));

function linter(fix = false, ruleOptions?: Linter.RuleEntry): ESLint {
  return new ESLint({
    cwd: root,
    overrideConfigFile: true,
    fix,
    overrideConfig: [
      {
        files: ["**/*.ts"],
        languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: root } },
      },
      asyncio.configs.recommended as Linter.Config,
      ...(ruleOptions !== undefined ? [{ rules: { "asyncio-ts/no-floating-coroutine": ruleOptions } }] : []),
    ],
  });
}

/** The fixture's lines marked with `// <marker>`, 1-based. */
function markedLines(marker: string): number[] {
  return readFileSync(fixture, "utf8")
    .split("\n")
    .flatMap((line, index) => (line.trimEnd().endsWith(`// ${marker}`) ? [index + 1] : []));
}

// Type-aware linting builds a TypeScript program: one lint run serves the checks below.
const linted = linter().lintFiles([fixture]).then(([result]) => result!);

test("no-floating-coroutine reports each floating coroutine, Future and Task call, and only those", async () => {
  const result = await linted;
  const floating = result.messages.filter((m) => m.messageId === "floating").map((m) => m.line);
  assert.deepEqual(floating, markedLines("floating"));
});

test("no-floating-coroutine reports a plain yield of an awaitable inside a coroutine, not in a plain generator", async () => {
  const result = await linted;
  const plain = result.messages.filter((m) => m.messageId === "plainYield").map((m) => m.line);
  assert.deepEqual(plain, markedLines("plain yield"));
  assert.equal(result.messages.filter((m) => m.ruleId !== "asyncio-ts/no-floating-coroutine").length, 0, JSON.stringify(result.messages));
});

test("the report names the kind of awaitable and suggests yield* inside a generator", async () => {
  const result = await linted;
  const first = result.messages.find((m) => m.messageId === "floating")!;
  assert.match(first.message, /This coroutine is never awaited/);
  assert.equal(first.suggestions?.[0]?.desc, "Wait for it with `yield*`.");
  const future = result.messages.find((m) => m.message.startsWith("This Future"));
  assert.ok(future, "a Future is named as one");
  const task = result.messages.filter((m) => m.messageId === "plainYield").at(-1)!;
  assert.match(task.message, /plain `yield` of a Task/);
  const outside = result.messages.find((m) => m.line === markedLines("floating").at(-1));
  assert.deepEqual(outside?.suggestions ?? [], [], "no yield* suggestion outside a generator");
});

test("a floating call at the top level of a module is reported, with no yield* suggestion", async () => {
  const result = await linted;
  const lines = readFileSync(fixture, "utf8").split("\n");
  const topLevel = markedLines("floating").find((line) => /^sleep\(/.test(lines[line - 1]!));
  assert.ok(topLevel !== undefined, "the fixture has a top-level floating call");
  const report = result.messages.find((m) => m.line === topLevel);
  assert.equal(report?.messageId, "floating");
  assert.deepEqual(report.suggestions ?? [], []);
});

test("no-floating-coroutine reports await of a coroutine in async code, naming run, loop.createTask and yield*", async () => {
  const result = await linted;
  const awaited = result.messages.filter((m) => m.messageId === "awaitedCoroutine");
  assert.deepEqual(awaited.map((m) => m.line), markedLines("awaited coroutine"));
  assert.match(awaited[0]!.message, /gives back the generator itself/);
  for (const fix of ["`await run(…)`", "`await loop.createTask(…)`", "`yield* …`"]) assert.ok(awaited[0]!.message.includes(fix), fix);
});

test("the fix turns a plain yield into yield*", async () => {
  const [result] = await linter(true).lintFiles([fixture]);
  assert.ok(result!.output !== undefined);
  for (const line of markedLines("plain yield")) {
    assert.match(result!.output!.split("\n")[line - 1]!, /yield\* /);
  }
});

test("an allowedCalls option set to undefined keeps the default allowed calls", async () => {
  const [result] = await linter(false, ["error", { allowedCalls: undefined }]).lintFiles([fixture]);
  const floating = result!.messages.filter((m) => m.messageId === "floating").map((m) => m.line);
  assert.deepEqual(floating, markedLines("floating"));
});

test("the plugin exposes the rule and a recommended config", () => {
  assert.equal(rules["no-floating-coroutine"], asyncio.rules["no-floating-coroutine"]);
  assert.equal(asyncio.configs.recommended.rules?.["asyncio-ts/no-floating-coroutine"], "error");
});

test("the package exports the plugin as asyncio-ts/eslint-plugin", () => {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { exports: Record<string, { import: string; types: string }> };
  assert.deepEqual(manifest.exports["./eslint-plugin"], { types: "./dist/src/eslint-plugin/index.d.ts", import: "./dist/src/eslint-plugin/index.js" });
});
