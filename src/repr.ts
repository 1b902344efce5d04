/**
 * Python-style reprs (`<Lock [unlocked]>`) without importing `node:util`.
 *
 * Classes name their repr method with {@link inspectCustom}, the registered
 * symbol that Node's `util.inspect` (and so `console.log`) looks for; Bun and
 * Deno honour the same symbol. {@link formatValue} formats a value inside a
 * repr with the host's `util.inspect` where there is one, else with a small
 * portable formatter.
 */
import { optionalBuiltin } from "./host.js";

/** `util.inspect.custom`: a method under this key gives an object's repr. */
export const inspectCustom: unique symbol = Symbol.for("nodejs.util.inspect.custom");

/** The options of `util.inspect` that reprs use. */
export interface FormatOptions {
  depth?: number;
  breakLength?: number;
}

type Inspect = (value: unknown, options?: FormatOptions) => string;

let hostInspect: Inspect | null | undefined;

/** A value as it appears inside a repr (`result=42`, `exception=Error: boom`). */
export function formatValue(value: unknown, options: FormatOptions = {}): string {
  // The arms without node:util run on browsers only (the portable tests in Chromium), never under c8.
  /* c8 ignore next 2 */
  if (hostInspect === undefined) hostInspect = optionalBuiltin<{ inspect: Inspect }>("node:util")?.inspect ?? null;
  return hostInspect !== null ? hostInspect(value, options) : portableFormat(value, options.depth ?? 2);
}

/** @internal The formatter of hosts without `util.inspect` (exported for its tests). */
export function portableFormat(value: unknown, depth: number): string {
  if (typeof value === "string") return `'${value}'`;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol" || typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  if (typeof value === "function") return `[Function: ${value.name || "(anonymous)"}]`;
  const custom = (value as { [inspectCustom]?: unknown })[inspectCustom];
  if (typeof custom === "function") return String(custom.call(value, depth, {}, formatValue));
  if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
  if (depth < 0) return Array.isArray(value) ? "[Array]" : "[Object]";
  if (Array.isArray(value)) return `[ ${value.map((item) => portableFormat(item, depth - 1)).join(", ")} ]`;
  const entries = Object.entries(value).map(([key, item]) => `${key}: ${portableFormat(item, depth - 1)}`);
  return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
}
