/**
 * Imported first by a host bundle: makes the harness the registrar of the
 * testing kit's `asyncTest` (which otherwise asks `node:test`).
 */
import { test } from "./harness.js";

(globalThis as Record<symbol, unknown>)[Symbol.for("asyncio-ts.testRegistrar")] = test;
