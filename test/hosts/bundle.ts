/**
 * Builds the portable test files into one ES module bundle for a host, with
 * esbuild: `node:test` becomes our harness (./harness.ts), and for the
 * browser `node:assert` and `node:util` become the npm `assert` package and
 * a small `inspect` stand-in. The library is bundled from its sources, so a
 * browser bundle also proves that the root pulls in no Node built-in.
 */
import { build, type Plugin } from "esbuild";
import { join } from "node:path";
import { portableTestFiles, root } from "./portable-files.js";

/** The hosts the bundle is made for. */
export type BundleHost = "bun" | "deno" | "browser";

/** A finished bundle: its code, and the test files in it. */
export interface HostBundle {
  readonly code: string;
  readonly files: readonly string[];
}

/**
 * An esbuild plugin for a browser build: each `node:*` import in `standIns`
 * resolves to that file; any other fails the build, naming the importer.
 */
export function browserNodeImports(standIns: Record<string, string> = {}): Plugin {
  return {
    name: "browser-node-imports",
    setup(builder) {
      builder.onResolve({ filter: /^node:/ }, (args) => {
        const target = standIns[args.path];
        return target !== undefined ? { path: target } : { errors: [{ text: `${args.path} is not available in the browser (imported by ${args.importer})` }] };
      });
    },
  };
}

// The browser has no node:* modules; these stand in for the three the portable tests use.
const browserStandIns: Record<string, string> = {
  "node:test": join(root, "test/hosts/harness.ts"),
  "node:assert/strict": join(root, "test/hosts/browser-assert.ts"),
  "node:assert": join(root, "test/hosts/browser-assert.ts"),
  "node:util": join(root, "test/hosts/browser-util.ts"),
};

function entrySource(host: BundleHost, files: readonly string[]): string {
  const imports = files.map((file) => `import ${JSON.stringify(`./${file}`)};`).join("\n");
  return `import "./test/hosts/install-harness.ts";
${imports}
import { runRegistered } from "./test/hosts/harness.ts";
const report = await runRegistered(${JSON.stringify(host)});
globalThis.__asyncioTsHostReport = report;
if (${JSON.stringify(host)} !== "browser") {
  console.log("HOST-REPORT " + JSON.stringify(report));
  process.exitCode = report.fail === 0 ? 0 : 1;
}
`;
}

/** Bundles the portable tests for `host`. */
export async function bundlePortableTests(host: BundleHost): Promise<HostBundle> {
  const files = portableTestFiles();
  const result = await build({
    stdin: { contents: entrySource(host, files), resolveDir: root, sourcefile: "portable-entry.ts", loader: "ts" },
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: host === "browser" ? "browser" : "node",
    // On Bun and Deno the node: built-ins are the host's own; only node:test is ours.
    ...(host === "browser" ? { plugins: [browserNodeImports(browserStandIns)] } : { alias: { "node:test": join(root, "test/hosts/harness.ts") } }),
    write: false,
    logLevel: "silent",
    sourcemap: "inline",
    define: { "process.env.NODE_DEBUG": "undefined" },
  });
  return { code: result.outputFiles[0]!.text, files };
}
