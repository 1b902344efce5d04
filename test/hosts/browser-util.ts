/**
 * `node:util` in the browser bundle: only `inspect`, as the library's own
 * portable formatter (a class's repr method under the registered
 * `nodejs.util.inspect.custom` symbol, which is what Node's calls too).
 */
import { formatValue, inspectCustom } from "../../src/repr.js";

export const inspect = Object.assign((value: unknown, options?: { depth?: number; breakLength?: number }) => formatValue(value, options), { custom: inspectCustom });
