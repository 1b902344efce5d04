/**
 * Node's `AsyncLocalStorage` inside tasks: a task's steps see the stores
 * that were current where the task was created, whichever task or callback
 * happens to drive the loop iteration that steps it (what OpenTelemetry,
 * pino and per-request loggers rely on).
 *
 * Mechanism, chosen by measurement (docs/decisions.md): a task created while
 * some `AsyncLocalStorage` is in use gets an `AsyncResource`, which copies
 * the current stores when it is made, and each step runs in it
 * (`runInAsyncScope`). A resource per task is costly, so none is made until
 * a store has been used in this process: a one-shot tripwire on
 * `AsyncLocalStorage.prototype.run`/`enterWith` notes the first use and
 * takes itself out again. Stores entered before this module was loaded are
 * not seen (a process that enters one that early can call
 * `trackAsyncLocalStorage()`).
 *
 * Hosts without `node:async_hooks` (browsers) get no resource and pay nothing.
 */
import { optionalBuiltin } from "./host.js";

/** What a task steps inside: an `AsyncResource`, seen through the one method used. */
export interface AsyncScope {
  runInAsyncScope<R>(fn: () => R, thisArg?: unknown): R;
}

type AsyncResourceClass = new (type: string) => AsyncScope;

interface AsyncHooksModule {
  AsyncResource: AsyncResourceClass;
  AsyncLocalStorage: { prototype: { run: (...args: unknown[]) => unknown; enterWith: (...args: unknown[]) => unknown } };
}

let asyncResource: AsyncResourceClass | null = null;
// Invariant: once true, stays true (a store may exist from then on).
let storesInUse = false;

/**
 * @internal The scope of tasks created before any store was in use: made
 * when the first store is entered, so it holds none. Their steps run in it
 * rather than in whatever scope drives the loop iteration. `null` until then.
 */
export let storelessScope: AsyncScope | null = null;

// null on a host without node:async_hooks (a browser): tasks then carry no stores.
const hooks = optionalBuiltin<AsyncHooksModule>("node:async_hooks");
if (hooks !== null) {
  asyncResource = hooks.AsyncResource;
  const proto = hooks.AsyncLocalStorage.prototype;
  const originalRun = proto.run;
  const originalEnterWith = proto.enterWith;
  const trippedRun = function (this: unknown, ...args: unknown[]): unknown {
    noteStoresInUse();
    return originalRun.apply(this, args);
  };
  const trippedEnterWith = function (this: unknown, ...args: unknown[]): unknown {
    noteStoresInUse();
    return originalEnterWith.apply(this, args);
  };
  const noteStoresInUse = (): void => {
    startCapturing();
    // Take the tripwire out, unless someone wrapped the methods after us.
    if (proto.run === trippedRun) proto.run = originalRun;
    if (proto.enterWith === trippedEnterWith) proto.enterWith = originalEnterWith;
  };
  proto.run = trippedRun;
  proto.enterWith = trippedEnterWith;
}

/**
 * Makes every task created from now on capture `AsyncLocalStorage` stores,
 * for a program that entered a store before asyncio-ts was loaded.
 * Harmless to call more than once; a no-op on hosts without async hooks.
 */
export function trackAsyncLocalStorage(): void {
  if (asyncResource !== null) startCapturing();
}

function startCapturing(): void {
  if (storesInUse) return;
  storesInUse = true;
  storelessScope = new asyncResource!("asyncio-ts.Task");
}

/** @internal The scope a new task's steps run in, or `null` when no store has been used (the common, free case). */
export function captureAsyncScope(): AsyncScope | null {
  return storesInUse ? new asyncResource!("asyncio-ts.Task") : null;
}
