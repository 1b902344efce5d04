/**
 * HTTP where services live (subpath `asyncio-ts/http`, Node only): a request
 * listener that runs each request as a task, and the host's `fetch` as
 * coroutines. This module only re-exports.
 */
export { httpHandler, type HttpHandlerOptions, type RequestListener } from "./handler.js";
export { fetch, fetchText, fetchJson, type FetchInput } from "./fetch.js";
