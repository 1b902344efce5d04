/**
 * What a coroutine is here: a generator object whose `yield*` delegates to
 * futures (Python's `async def` is `function*`, `await x` is `yield* x`).
 */
import type { Future } from "./futures.js";

/**
 * A coroutine returning `T`: the generator object a `function*` returns.
 * It yields the futures it waits on (through `yield*`) and returns its result.
 *
 * @example
 * function* fetchData(url: string): Coro<string> {
 *   yield* sleep(1);
 *   return `data from ${url}`;
 * }
 */
export type Coro<T> = Generator<Future<unknown>, T, unknown>;

/** Anything `yield*` accepts: a coroutine, a `Future` or a `Task` (a Task is a Future). */
export type Awaitable<T> = Coro<T> | Future<T>;

/** The result type of an awaitable. */
export type AwaitedOf<A> = A extends Future<infer R> ? R : A extends Generator<unknown, infer R, unknown> ? R : never;

/**
 * @internal `%GeneratorPrototype%`, where every generator object finds
 * `next`/`throw`/`return`. Each `function*` has a prototype object of its
 * own, so generator objects from different (inline) `function*`s have
 * different shapes: reading `coro.next` on them goes megamorphic, while
 * calling these through `.call` stays monomorphic.
 */
export const generatorPrototype = Object.getPrototypeOf(function* () {}).prototype as Generator<unknown, unknown, unknown>;

const isPrototypeOf = Object.prototype.isPrototypeOf;

/** True for a native generator object (made by a `function*`). */
export function isNativeGenerator(value: object): boolean {
  return isPrototypeOf.call(generatorPrototype, value);
}

/** True when `value` is a generator object (a coroutine not yet wrapped in a task). */
export function isCoroutine(value: unknown): value is Coro<unknown> {
  if (typeof value !== "object" || value === null) return false;
  if (isPrototypeOf.call(generatorPrototype, value)) return true;
  return (
    typeof (value as { next?: unknown }).next === "function" &&
    typeof (value as { throw?: unknown }).throw === "function" &&
    typeof (value as { return?: unknown }).return === "function"
  );
}

/** True when `value` has a `then` method (a native promise or any thenable). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Describes a value for an error message without dumping it whole. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") return `${value.constructor?.name ?? "Object"} object`;
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return String(value);
}
