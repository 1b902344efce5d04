/**
 * The host's `fetch` as coroutines. Each call makes a fresh `AbortSignal`
 * (through `fromPromise`) that aborts when the calling task is cancelled,
 * combined with `init.signal` when one is given: a timeout or a retry around
 * the call never reuses a signal that already fired.
 */
import { RuntimeError, fromPromise, type Coro } from "../index.js";

/** What the host's `fetch` takes as its first argument. */
export type FetchInput = string | URL | Request;

type HostFetch = (input: FetchInput, init?: RequestInit) => Promise<Response>;

/** Checks the arguments at the call, so a mistake is named before any request is made. */
function checkedArguments(input: unknown, init: unknown, what: string): { hostFetch: HostFetch; outer: AbortSignal | null } {
  if (typeof input !== "string" && !(input instanceof URL) && !(input instanceof Request)) {
    throw new TypeError(`${what}() takes a URL string, a URL or a Request, got ${input === null ? "null" : typeof input}`);
  }
  if (init !== undefined && (init === null || typeof init !== "object")) {
    throw new TypeError(`${what}(): init must be an object (fetch's RequestInit), got ${init === null ? "null" : typeof init}`);
  }
  const outer = (init as RequestInit | undefined)?.signal ?? null;
  if (outer !== null && !(outer instanceof AbortSignal)) throw new TypeError(`${what}(): init.signal must be an AbortSignal`);
  const hostFetch = (globalThis as { fetch?: unknown }).fetch;
  if (typeof hostFetch !== "function") throw new RuntimeError(`${what}() needs the host's fetch, which this JavaScript host does not provide`);
  return { hostFetch: hostFetch as HostFetch, outer };
}

/** Runs `read(response)` on the host's fetch of `input`, all of it under one signal the task's cancellation aborts. */
function fetchThen<T>(input: FetchInput, init: RequestInit | undefined, what: string, read: (response: Response) => Promise<T> | T): Coro<T> {
  const { hostFetch, outer } = checkedArguments(input, init, what);
  return (function* (): Coro<T> {
    return yield* fromPromise(async (cancelled: AbortSignal) => {
      const signal = outer === null ? cancelled : AbortSignal.any([cancelled, outer]);
      const response = await hostFetch(input, { ...init, signal });
      return read(response);
    });
  })();
}

/**
 * The host's `fetch(input, init)` as a coroutine: cancelling the calling task
 * aborts the request. `init.signal`, if given, still aborts it too (raising
 * that signal's reason, as `fetch` does). Read the body with
 * `yield* fromPromise(response.text())`, or use `fetchText` / `fetchJson`,
 * which keep the body's reading under the same cancellation.
 *
 * @example
 * const response = yield* fetch("https://example.com/", { headers: { accept: "text/html" } });
 * if (!response.ok) throw new Error(`HTTP ${response.status}`);
 */
export function fetch(input: FetchInput, init?: RequestInit): Coro<Response> {
  return fetchThen(input, init, "fetch", (response) => response);
}

/**
 * `fetch` and read the whole body as text, cancellable throughout. The status
 * is not checked (as `fetch` does not): a 404 page is returned as text.
 */
export function fetchText(input: FetchInput, init?: RequestInit): Coro<string> {
  return fetchThen(input, init, "fetchText", (response) => response.text());
}

/**
 * `fetch` and parse the body as JSON, cancellable throughout; `T` is what the
 * caller asserts the JSON to be (it is not validated). A body that is not
 * JSON raises the host's `SyntaxError`; the status is not checked.
 */
export function fetchJson<T = unknown>(input: FetchInput, init?: RequestInit): Coro<T> {
  return fetchThen(input, init, "fetchJson", (response) => response.json() as Promise<T>);
}
