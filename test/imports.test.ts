// hosts: node-only — reads the source tree.
/**
 * The module graph of src/ has no import circle: no module loads, through
 * value imports, a module that loads it back (madge --circular's check, on
 * what runs; type-only imports are erased and may be mutual, as
 * `Future.getLoop(): EventLoop` and `EventLoop.createFuture(): Future` are).
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../src", import.meta.url));

function valueImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const deps: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(?!type\b)([^;]*?)\s+from\s+"(\.[^"]+)"/gms)) {
    const clause = match[1]!.trim();
    const names = /^\{([^}]*)\}$/s.exec(clause)?.[1]?.split(",").map((n) => n.trim()).filter(Boolean);
    if (names !== undefined && names.every((name) => name.startsWith("type "))) continue;
    deps.push(path.join(path.dirname(file), match[2]!.replace(/\.js$/, ".ts")));
  }
  for (const match of text.matchAll(/^import\s+"(\.[^"]+)"/gm)) deps.push(path.join(path.dirname(file), match[1]!.replace(/\.js$/, ".ts")));
  return deps;
}

test("no module of src/ imports itself back through value imports", () => {
  const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => path.join(src, f));
  const graph = new Map(files.map((file) => [file, valueImports(file)]));
  const cycles: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "visiting");
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === "visiting") cycles.push([...stack.slice(stack.indexOf(dep)), dep].map((f) => path.relative(src, f)).join(" -> "));
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});

test("the running-loop registry is its own module, below futures, tasks and the loop", () => {
  const registry = path.join(src, "running-loop.ts");
  for (const module of ["futures.ts", "tasks.ts", "events.ts"]) assert.ok(valueImports(path.join(src, module)).includes(registry), module);
  assert.deepEqual(valueImports(registry).map((f) => path.relative(src, f)), ["errors.ts"]);
});
