// Vitest runs test/kit/example.test.mjs against the built package (dist/).
import { URL, fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const dist = (path) => fileURLToPath(new URL(`../../dist/src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^asyncio-ts\/testing$/, replacement: dist("testing/index.js") },
      { find: /^asyncio-ts$/, replacement: dist("index.js") },
    ],
  },
  test: {
    include: ["test/kit/*.test.mjs"],
    root: fileURLToPath(new URL("../..", import.meta.url)),
    pool: "forks",
  },
});
