// Lint rules: the recommended sets, plus the few that guard this codebase's
// own hazards (a catch-all that would swallow CancelledError, stray `any`),
// and our own plugin's no-floating-coroutine (typed: it reads the types).
import js from "@eslint/js";
import { tsImport } from "tsx/esm/api";
import tseslint from "typescript-eslint";

// The plugin is TypeScript in src/; loaded from source so lint needs no build.
const { default: asyncio } = await tsImport("./src/eslint-plugin/index.ts", import.meta.url);

export default tseslint.config(
  { ignores: ["dist/", "dist-check/", "node_modules/", "scratch/", ".doc-blocks/", "bench/python/", "docs/api/", "**/*.py"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "no-constant-condition": ["error", { checkLoops: false }],
      "require-yield": "off",
    },
  },
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    ...asyncio.configs.recommended,
    rules: {
      // takeAwaitedFuture() is read-and-clear: the scheduler drops its result on purpose.
      "asyncio-ts/no-floating-coroutine": ["error", { allowedCalls: ["createTask", "takeAwaitedFuture"] }],
    },
  },
  // The rule's own test fixture floats coroutines on purpose.
  { files: ["test/fixtures/floating-coroutines.ts"], rules: { "asyncio-ts/no-floating-coroutine": "off" } },
);
