// Jest runs test/kit/example.test.mjs as native ESM (node --experimental-vm-modules)
// against the built package (dist/), without a transform.
export default {
  rootDir: "../..",
  testEnvironment: "node",
  testMatch: ["<rootDir>/test/kit/*.test.mjs"],
  transform: {},
  moduleNameMapper: {
    "^asyncio-ts$": "<rootDir>/dist/src/index.js",
    "^asyncio-ts/testing$": "<rootDir>/dist/src/testing/index.js",
  },
};
