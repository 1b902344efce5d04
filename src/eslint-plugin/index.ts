/**
 * `asyncio-ts/eslint-plugin`: lint rules for code written with asyncio-ts,
 * for ESLint's flat config with typescript-eslint's typed linting.
 *
 * @example
 * // eslint.config.js
 * import tseslint from "typescript-eslint";
 * import asyncio from "asyncio-ts/eslint-plugin";
 * export default tseslint.config(
 *   ...tseslint.configs.recommended,
 *   { languageOptions: { parserOptions: { projectService: true } } },
 *   asyncio.configs.recommended,
 * );
 */
import type { TSESLint } from "@typescript-eslint/utils";
import { noFloatingCoroutine } from "./no-floating-coroutine.js";

export { noFloatingCoroutine, type NoFloatingCoroutineOptions } from "./no-floating-coroutine.js";

/** The plugin's rules, by name. */
export const rules = {
  "no-floating-coroutine": noFloatingCoroutine,
};

const meta = { name: "asyncio-ts/eslint-plugin", version: "0.1.0" };

/** The plugin object ESLint loads. */
export interface AsyncioPlugin {
  meta: { name: string; version: string };
  rules: typeof rules;
  configs: { recommended: TSESLint.FlatConfig.Config };
}

/** The plugin: `plugins: { "asyncio-ts": plugin }`, or spread `plugin.configs.recommended`. */
const plugin: AsyncioPlugin = {
  meta,
  rules,
  configs: { recommended: {} },
};
plugin.configs.recommended = {
  name: "asyncio-ts/recommended",
  plugins: { "asyncio-ts": plugin as unknown as TSESLint.FlatConfig.Plugin },
  rules: { "asyncio-ts/no-floating-coroutine": "error" },
};

export default plugin;
