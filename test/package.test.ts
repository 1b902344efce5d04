/**
 * The package as a user receives it: `npm pack` from a checkout with nothing
 * built, checked with publint and arethetypeswrong, then installed into an
 * empty project whose strict `NodeNext` code (the README's examples and
 * test/types/consumer.ts) must compile with TypeScript 6 and TypeScript 7.
 *
 * Installing the tarball asks npm for its dependencies (from its cache when it
 * has them, as after `npm ci`; else from the registry).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "asyncio-ts-package-"));
const bin = (name: string): string => join(root, "node_modules", ".bin", name);
const TYPESCRIPT = {
  6: join(root, "node_modules", "typescript", "bin", "tsc"),
  7: join(root, "test", "types", "typescript-7", "node_modules", "typescript", "bin", "tsc"),
};

interface PackedFile {
  path: string;
}

let tarball = "";
let shipped: string[] = [];
const unpacked = join(work, "unpacked");
const consumer = join(work, "consumer");

/** `command args` in `cwd`; rejects with its output when it exits non-zero. */
async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
    return stdout + stderr;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}${stderr}`, { cause: error });
  }
}

before(async () => {
  // A checkout as `git clone` leaves it: sources, no dist/ (node_modules shared, as `npm ci` would make it).
  const checkout = join(work, "checkout");
  mkdirSync(checkout);
  for (const entry of ["package.json", "tsconfig.json", "tsconfig.build.json", "README.md", "CHANGELOG.md", "src", "examples"]) {
    cpSync(join(root, entry), join(checkout, entry), { recursive: true, filter: (source) => !/[\\/](node_modules|dist)$/.test(source) });
  }
  symlinkSync(join(root, "node_modules"), join(checkout, "node_modules"), "dir");
  const packed = JSON.parse(await sh("npm", ["pack", "--json", "--silent", "--pack-destination", work], checkout)) as [{ filename: string; files: PackedFile[] }];
  tarball = join(work, packed[0].filename);
  shipped = packed[0].files.map((file) => file.path);
  mkdirSync(unpacked);
  await sh("tar", ["-xzf", tarball, "-C", unpacked], work);
});

after(() => rmSync(work, { recursive: true, force: true }));

test("npm pack from a checkout with nothing built ships every entry point the package exports", () => {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: Record<string, string | Record<string, string>>; bin: Record<string, string> };
  const targets = Object.values(manifest.exports).flatMap((entry) => (typeof entry === "string" ? [entry] : Object.values(entry)));
  for (const target of [...targets, ...Object.values(manifest.bin)]) {
    assert.ok(shipped.includes(target.replace(/^\.\//, "")), `${target} is not in the tarball`);
  }
});

test("every source map in the tarball carries the sources it points at", () => {
  const maps = shipped.filter((path) => path.endsWith(".map"));
  assert.ok(maps.length > 0);
  for (const path of maps) {
    const map = JSON.parse(readFileSync(join(unpacked, "package", path), "utf8")) as { sources: string[]; sourcesContent?: (string | null)[] };
    assert.equal(map.sourcesContent?.length, map.sources.length, `${path} has no sourcesContent`);
    assert.ok(map.sourcesContent.every((content) => typeof content === "string" && content.length > 0), `${path} lacks a source's content`);
  }
  assert.deepEqual(shipped.filter((path) => path.endsWith(".ts") && !path.endsWith(".d.ts")), [], "TypeScript sources are not shipped");
});

test("the tarball passes publint with no errors or warnings", async () => {
  const output = await sh(process.execPath, [bin("publint"), "run", tarball, "--level", "warning", "--strict"], work);
  assert.match(output, /All good!/);
});

test("the tarball passes arethetypeswrong for an ESM-only package", async () => {
  // "esm-only": the package has no CommonJS entry by design (Node >= 20; CommonJS users `await import()` it).
  await sh(process.execPath, [bin("attw"), tarball, "--profile", "esm-only", "--format", "table"], work);
});

/** Installs the tarball into an empty project once, as `npm install ./asyncio-ts-x.y.z.tgz` does. */
let installed: Promise<void> | null = null;
function installConsumer(): Promise<void> {
  installed ??= (async () => {
    mkdirSync(consumer);
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
    const typesNode = (JSON.parse(readFileSync(join(root, "node_modules", "@types", "node", "package.json"), "utf8")) as { version: string }).version;
    await sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball, `@types/node@${typesNode}`], consumer);
  })();
  return installed;
}

test("installing the tarball installs no Redis client and no native add-on", async () => {
  await installConsumer();
  const modules = readdirSync(join(consumer, "node_modules"));
  for (const name of ["bullmq", "ioredis", "msgpackr", "msgpackr-extract"]) assert.ok(!modules.includes(name), `${name} was installed`);
  assert.ok(existsSync(join(consumer, "node_modules", "asyncio-ts", "dist", "src", "index.js")));
});

/** Writes the consumer's tsconfig and sources: each ```ts block of the README, and test/types/consumer.ts. */
function writeConsumerSources(): void {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  assert.ok(blocks.length >= 2, "the README has its examples");
  mkdirSync(join(consumer, "src"), { recursive: true });
  blocks.forEach((code, index) => writeFileSync(join(consumer, "src", `readme-${index + 1}.ts`), code));
  const checks = readFileSync(join(root, "test", "types", "consumer.ts"), "utf8");
  writeFileSync(join(consumer, "src", "consumer.ts"), checks);
  const compilerOptions = {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    types: ["node"],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  };
  writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["src"] }, null, 2));
}

for (const major of [6, 7] as const) {
  test(`a strict NodeNext project compiles the README's examples against the installed package with TypeScript ${major}`, async () => {
    await installConsumer();
    writeConsumerSources();
    const version = await sh(process.execPath, [TYPESCRIPT[major], "--version"], consumer);
    assert.match(version, new RegExp(`Version ${major}\\.`));
    const output = await sh(process.execPath, [TYPESCRIPT[major], "-p", "tsconfig.json"], consumer);
    assert.equal(output.trim(), "");
  });
}
