/**
 * Node's `AsyncLocalStorage` and the loop: inside tasks, a task's steps see
 * the stores that were current where the task was created, whichever task
 * or callback happens to drive the loop iteration that steps it (what
 * OpenTelemetry, pino and per-request loggers rely on); outside tasks, the
 * context variables follow the host's async context (`hostContextStore`).
 *
 * Mechanism, chosen by measurement (docs/decisions.md): a task created while
 * some `AsyncLocalStorage` is in use gets an `AsyncResource`, which copies
 * the current stores when it is made, and each step runs in it
 * (`runInAsyncScope`). A resource per task is costly, so none is made until
 * a store has been used in this process: a one-shot tripwire on
 * `AsyncLocalStorage.prototype.run`/`enterWith` notes the first use and
 * takes itself out again. Tasks created before that get a store-less
 * resource of their own at their next step, so an `enterWith` in one of them
 * stays in it. Stores entered before this module was loaded are not seen (a
 * process that enters one that early can call `trackAsyncLocalStorage()`).
 *
 * Once any store is in use, each loop turn runs in one store-less resource
 * (`neutralScope`) rather than in whatever scope scheduled it, so a store
 * entered by one request's code cannot ride the chain of loop turns into
 * callbacks and native continuations that belong to no one.
 *
 * Hosts without `node:async_hooks` (browsers) get no resource and pay nothing.
 */
import { hostProcess, optionalBuiltin } from "./host.js";

/** What a task steps inside: an `AsyncResource`, seen through the one method used. */
export interface AsyncScope {
  runInAsyncScope<R>(fn: () => R, thisArg?: unknown): R;
}

type AsyncResourceClass = new (type: string) => AsyncScope;

interface Storage<T> {
  getStore(): T | undefined;
}

interface AsyncHooksModule {
  AsyncResource: AsyncResourceClass;
  executionAsyncResource?: () => object;
  AsyncLocalStorage: (new () => Storage<unknown>) & {
    prototype: { run: (...args: unknown[]) => unknown; enterWith: (...args: unknown[]) => unknown };
  };
}

/** @internal A store of the host's async context: read it, or replace it for the current async flow. */
export interface HostStore<T> {
  getStore(): T | undefined;
  /** Makes `value` the store of the running host callback and of everything it goes on to start. */
  enter(value: T): void;
}

let asyncResource: AsyncResourceClass | null = null;
/**
 * @internal True once a program's store is in use (then stays true): new
 * tasks capture the current stores.
 */
export let storesInUse = false;

/**
 * @internal A resource holding no store, made when the first store (a
 * program's, or `hostContextStore`'s) is entered, before it applies: loop
 * turns run in it, and tasks created before the first use are given
 * resources made inside it. `null` until then.
 */
export let neutralScope: AsyncScope | null = null;

// The running task's store-less resource, made now if it has none (tasks.ts registers it).
let adoptScopeForRunningTask: (() => AsyncScope | null) | null = null;

/** @internal Registers how to give the running task a resource of its own when the first `enterWith` happens in its step. */
export function setRunningTaskScopeAdopter(adopter: () => AsyncScope | null): void {
  adoptScopeForRunningTask = adopter;
}

/**
 * @internal The store the context outside tasks lives in (contextvars.ts):
 * `null` on a host without `AsyncLocalStorage`. Its use does not count as a
 * program's store in use, so tasks do not pay for capturing it.
 */
export let hostContextStore: HostStore<unknown> | null = null;

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
    // The first enterWith of the process, in a task step that has no resource
    // of its own (created before any store was in use): the task gets one now,
    // and the store lands there too, so that its later steps still see it.
    const adopted = adoptScopeForRunningTask?.() ?? null;
    if (adopted !== null) adopted.runInAsyncScope(() => originalEnterWith.apply(this, args));
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

  const store = new hooks.AsyncLocalStorage();
  hostContextStore = {
    getStore: () => store.getStore(),
    enter(value) {
      neutralScope ??= new asyncResource!("asyncio-ts.Loop");
      restoreAfterThisCallback(store, hooks.executionAsyncResource);
      originalEnterWith.call(store, value);
    },
  };
}

// `enterWith` keeps the store on the running callback's async resource, and
// Node 20 reuses one resource for every request of a keep-alive connection
// (the HTTP parser's), so the next request would start with this one's
// store. What the callback starts from now on has copied the store already;
// the resource itself gets its previous store back once the callback is
// over, as if the rest of the callback had run in `als.run(store, …)`. Only
// where the store is kept on the resource under `kResourceStore` (Node's
// async_hooks-based storage); elsewhere `enterWith` is scoped by the host.
const pendingRestores = new Map<object, unknown>();

function restoreAfterThisCallback(store: Storage<unknown>, currentResource: (() => object) | undefined): void {
  const key = (store as { kResourceStore?: unknown }).kResourceStore;
  if (typeof key !== "symbol" || typeof currentResource !== "function") return;
  const resource = currentResource();
  if (pendingRestores.has(resource)) return;
  if (pendingRestores.size === 0) {
    // nextTick: after the running callback returns, before the next I/O callback runs in the same resource.
    const host = hostProcess();
    const later = host !== null ? (fn: () => void) => host.nextTick(fn) : queueMicrotask;
    later(() => {
      for (const [owner, previous] of pendingRestores) (owner as Record<symbol, unknown>)[key] = previous;
      pendingRestores.clear();
    });
  }
  pendingRestores.set(resource, store.getStore());
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
  neutralScope ??= new asyncResource!("asyncio-ts.Loop");
}

/** @internal The scope a new task's steps run in, or `null` when no store has been used (the common, free case). */
export function captureAsyncScope(): AsyncScope | null {
  return storesInUse ? new asyncResource!("asyncio-ts.Task") : null;
}

/** @internal A new resource holding no store, for a task created before any store was in use. */
export function storelessAsyncScope(): AsyncScope {
  return neutralScope!.runInAsyncScope(() => new asyncResource!("asyncio-ts.Task"));
}
