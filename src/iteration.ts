/**
 * Async iteration: Python's `async for`, `aiter()` and `anext()`.
 *
 * An *async source* is what `async for` walks: anything with an
 * `[aiterSymbol]()` method returning an `AsyncSource` (whose `next()` is a
 * coroutine), or a native `AsyncIterable`. `forEach` is the loop statement:
 *
 *     async for line in reader:        yield* forEach(reader, function* (line) {
 *         ...                              ...
 *                                        });
 *
 * A native `for await` cannot be written inside a generator, which is why
 * the statement is a function taking the body.
 */
import { describeValue as describe, type Coro } from "./coroutines.js";
import { awaitReturned } from "./ensure-future.js";
import { CancelledError, StopAsyncIteration } from "./errors.js";
import { getRunningLoop } from "./running-loop.js";
import type { Future } from "./futures.js";
import { fromPromise } from "./bridge.js";

/** The method name of an async source (Python's `__aiter__`). */
export const aiterSymbol: unique symbol = Symbol.for("asyncio-ts.aiter") as never;

/**
 * An async iterator whose steps are coroutines (Python's `__anext__`, `aclose`).
 * Every iterator this package hands out also has `[aiterSymbol]()` returning
 * itself, as a Python iterator's `__aiter__` does, so it is a source too.
 */
export interface AsyncSource<T> {
  /** The next item, or `{ done: true }` at the end. */
  next(): Coro<IteratorResult<T, unknown>>;
  /** Called when a `forEach` leaves before the end (break, error, cancellation): release what the source holds. */
  return?(): Coro<void>;
  /** The iterator itself (Python's `__aiter__` of an iterator), which makes it a source `forEach` takes. */
  [aiterSymbol]?(): AsyncSource<T>;
}

/** Something `forEach` can walk: it makes an `AsyncSource` when asked (Python's `__aiter__`). */
export interface AsyncIterableSource<T> {
  /** A fresh async iterator over the items (Python's `__aiter__`). */
  [aiterSymbol](): AsyncSource<T>;
}

/** Anything `forEach`, `aiter` and `toAsyncIterable` accept. */
export type AsyncSourceLike<T> = AsyncIterableSource<T> | AsyncIterable<T>;

/** What a `forEach` body may return: `false` (or a coroutine resulting in `false`) stops the loop, like `break`. */
export type LoopBodyResult = boolean | void | Coro<boolean | void> | Future<boolean | void>;

/**
 * The async iterator of `source` (Python's `aiter()`): its `[aiterSymbol]()`,
 * or, for a native async iterable, `fromAsyncIterable(source)`. The iterator
 * is a source itself (`[aiterSymbol]()` returns it), as in Python; one made by
 * a source of your own without that method is wrapped in one that has it.
 */
export function aiter<T>(source: AsyncSourceLike<T>): AsyncSource<T> & AsyncIterableSource<T> {
  const it = iteratorOf(source, "aiter()");
  return typeof it[aiterSymbol] === "function" ? (it as AsyncSource<T> & AsyncIterableSource<T>) : new SelfSource(it);
}

// The iterator `forEach` walks: what the source makes, unwrapped.
function iteratorOf<T>(source: AsyncSourceLike<T>, caller: string): AsyncSource<T> {
  if (source !== null && typeof source === "object" || typeof source === "function") {
    const make = (source as Partial<AsyncIterableSource<T>>)[aiterSymbol];
    if (typeof make === "function") {
      const it = make.call(source);
      if (it === null || typeof it !== "object" || typeof (it as { next?: unknown }).next !== "function") {
        throw new TypeError(`${caller}: [aiterSymbol]() returned something without a next() method`);
      }
      return it;
    }
    if (typeof (source as Partial<AsyncIterable<T>>)[Symbol.asyncIterator] === "function") return fromAsyncIterable(source as AsyncIterable<T>);
  }
  throw new TypeError(`${caller}: ${describe(source)} is not an async source (no [aiterSymbol]() or [Symbol.asyncIterator]())`);
}

// An iterator of a user's source that lacked `[aiterSymbol]`, given one returning itself.
class SelfSource<T> implements AsyncSource<T> {
  constructor(private readonly iterator: AsyncSource<T>) {}

  next(): Coro<IteratorResult<T, unknown>> {
    return this.iterator.next();
  }

  *return(): Coro<void> {
    if (typeof this.iterator.return === "function") yield* this.iterator.return();
  }

  [aiterSymbol](): this {
    return this;
  }
}

/**
 * The next item of an async source (Python's `anext()`). At the end it
 * returns `dflt` when one is given, else raises `StopAsyncIteration`.
 * Also takes a native async iterator.
 */
export function anext<T>(it: AsyncSource<T> | AsyncIterator<T>): Coro<T>;
export function anext<T, D>(it: AsyncSource<T> | AsyncIterator<T>, dflt: D): Coro<T | D>;
export function* anext<T, D>(it: AsyncSource<T> | AsyncIterator<T>, ...dflt: [D?]): Coro<T | D> {
  if (it === null || typeof it !== "object" || typeof (it as { next?: unknown }).next !== "function") {
    throw new TypeError(`anext(): ${describe(it)} is not an async iterator (use aiter() on a source first)`);
  }
  const result = yield* awaitReturned((it as { next(): unknown }).next(), "next()") as Coro<IteratorResult<T, unknown>>;
  if (result.done === true) {
    if (dflt.length > 0) return dflt[0] as D;
    throw new StopAsyncIteration();
  }
  return result.value;
}

/**
 * Runs `body` for each item of `source`, one after another (Python's
 * `async for`). A body returning `false` stops the loop (`break`). Leaving
 * before the end — break, an error of the body, or cancellation — closes
 * the source (`return()`), awaited before `forEach` goes on; a source that
 * itself fails is not closed, as in Python.
 *
 * @example
 * yield* forEach(reader, function* (line) {
 *   console.log(line.toString().trimEnd());
 * });
 */
export function* forEach<T>(source: AsyncSourceLike<T>, body: (item: T) => LoopBodyResult): Coro<void> {
  if (typeof body !== "function") throw new TypeError(`forEach(): the body must be a function, got ${describe(body)}`);
  const it = iteratorOf(source, "forEach()");
  let exhausted = false;
  try {
    for (;;) {
      let step: IteratorResult<T, unknown>;
      try {
        step = yield* it.next();
      } catch (error) {
        // A source that fails is not closed (Python's async for); one cancelled while it waits is.
        if (!(error instanceof CancelledError)) exhausted = true;
        throw error;
      }
      if (step.done === true) {
        exhausted = true;
        return;
      }
      const outcome = body(step.value);
      const keepGoing = outcome === undefined || typeof outcome === "boolean" ? outcome : yield* awaitReturned(outcome, "the forEach body");
      if (keepGoing === false) return;
    }
  } finally {
    if (!exhausted && typeof it.return === "function") yield* it.return();
  }
}

/**
 * An async source over a native async iterable (an `async function*`, a
 * Node readable, ...). Each `next()` awaits the native `next()` promise. If
 * the loop body leaves early, `return()` closes the native iterator; when the
 * source is cancelled while a native `next()` is still outstanding, the
 * iterator is closed without waiting (a native iterator cannot be
 * interrupted, and its `return()` would wait behind that `next()`).
 */
export function fromAsyncIterable<T>(iterable: AsyncIterable<T>): AsyncSource<T> & AsyncIterableSource<T> {
  if (iterable === null || typeof iterable !== "object" && typeof iterable !== "function" || typeof iterable[Symbol.asyncIterator] !== "function") {
    throw new TypeError(`fromAsyncIterable(): ${describe(iterable)} is not an async iterable`);
  }
  return new NativeIteratorSource(iterable[Symbol.asyncIterator]());
}

class NativeIteratorSource<T> implements AsyncSource<T> {
  private nextInFlight = false;
  private closed = false;

  constructor(private readonly iterator: AsyncIterator<T>) {}

  [aiterSymbol](): this {
    return this;
  }

  *next(): Coro<IteratorResult<T, unknown>> {
    if (this.closed) return { done: true, value: undefined };
    this.nextInFlight = true;
    const pending = Promise.resolve(this.iterator.next());
    const settled = (): void => {
      this.nextInFlight = false;
    };
    pending.then(settled, settled);
    const result = yield* fromPromise(pending);
    this.nextInFlight = false;
    return result;
  }

  *return(): Coro<void> {
    if (this.closed) return;
    this.closed = true;
    const close = this.iterator.return;
    if (typeof close !== "function") return;
    const closing = Promise.resolve(close.call(this.iterator));
    if (this.nextInFlight) {
      closing.catch(() => undefined);
      return;
    }
    yield* fromPromise(closing);
  }
}

/**
 * A native `AsyncIterable` over any async source, for plain `async` code:
 * `for await (const item of toAsyncIterable(queue))`. Each `next()` runs as
 * a task on the loop running where `toAsyncIterable` was called; leaving a
 * `for await` early closes the source.
 */
export function toAsyncIterable<T>(source: AsyncSourceLike<T>): AsyncIterable<T> {
  const loop = getRunningLoop();
  const it = iteratorOf(source, "toAsyncIterable()");
  return {
    [Symbol.asyncIterator](): AsyncIterableIterator<T> {
      // A native async iterator is its own async iterable, as an async generator is.
      const native: AsyncIterableIterator<T> = {
        next: () => Promise.resolve(loop.createTask(it.next() as Coro<IteratorResult<T>>)),
        return: (): Promise<IteratorResult<T>> => {
          if (typeof it.return !== "function") return Promise.resolve({ done: true, value: undefined });
          const closing = loop.createTask(it.return());
          return Promise.resolve(closing).then(() => ({ done: true as const, value: undefined }));
        },
        [Symbol.asyncIterator]: () => native,
      };
      return native;
    },
  };
}
