/**
 * `node:assert/strict` in the browser bundle: the npm `assert` package (a
 * port of Node's), strict mode, so the same assertions mean the same there.
 */
import assert from "assert";

const strict = assert.strict;
export default strict;
