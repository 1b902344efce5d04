/**
 * `gather(...aws)`: run awaitables concurrently and collect their results in
 * argument order (Python's `asyncio.gather`).
 */
import { inspectCustom } from "./repr.js";
import { isCoroutine, type Awaitable, type AwaitedOf } from "./coroutines.js";
import { CancelledError } from "./errors.js";
import { type EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";
import { ensureFuture } from "./ensure-future.js";
import { Future } from "./futures.js";
import { ChildWatcher } from "./handles.js";

/** Options of `gather`, passed as the last argument. */
export interface GatherOptions {
  /** Put exceptions (and `CancelledError`s) in the result list instead of failing. */
  returnExceptions?: boolean;
}

/** The results of `gather(...aws)`: a tuple of each awaitable's result type. */
export type GatherResults<A extends readonly unknown[]> = { -readonly [K in keyof A]: AwaitedOf<A[K]> };

/** The results of `gather(...aws, { returnExceptions: true })`. */
export type GatherSettled<A extends readonly unknown[]> = { -readonly [K in keyof A]: AwaitedOf<A[K]> | Error };

/**
 * The future `gather` returns. Cancelling it cancels every child that is not
 * done; once they all are, awaiting it throws `CancelledError`.
 */
export class GatheringFuture<T> extends Future<T> {
  /** @internal Set when cancel() reached at least one child. */
  cancelRequested = false;

  /** @internal */
  constructor(
    loop: EventLoop,
    /** The children, in argument order (a child passed twice appears twice). */
    readonly children: readonly Future<unknown>[],
  ) {
    super(loop);
  }

  /** Cancels every unfinished child; returns whether any accepted. */
  override cancel(message?: unknown): boolean {
    if (this.done()) return false;
    let accepted = false;
    for (const child of this.children) if (child.cancel(message)) accepted = true;
    if (accepted) this.cancelRequested = true;
    return accepted;
  }

  override [inspectCustom](): string {
    return `<GatheringFuture ${this.describeState()} children=${this.children.length}>`;
  }
}

// One per gather: counts its distinct children as they end and settles the outer future.
class GatherWatcher extends ChildWatcher<Future<unknown>> {
  private finished = 0;
  // The done callback for children the caller gave as futures (made on first need).
  #onDone: ((child: Future<unknown>) => void) | null = null;

  constructor(
    private readonly outer: GatheringFuture<unknown[]>,
    private readonly children: readonly Future<unknown>[],
    private readonly distinct: number,
    private readonly returnExceptions: boolean,
  ) {
    super();
  }

  get onDone(): (child: Future<unknown>) => void {
    return (this.#onDone ??= (child) => this.childDone(child));
  }

  childDone(child: Future<unknown>): void {
    this.finished++;
    const outer = this.outer;
    if (outer.done()) {
      // Too late to matter: mark a failure as seen so it is not reported.
      if (!child.cancelled()) child.exception();
      return;
    }
    if (!this.returnExceptions) {
      if (child.cancelled()) {
        outer.settleException(child.makeCancelledError());
        return;
      }
      if (child.exception() !== null) {
        outer.settleException(child.exception());
        return;
      }
    }
    if (this.finished < this.distinct) return;
    if (outer.cancelRequested) {
      // Cancelling the gather propagates whatever returnExceptions says,
      // with the message the last child was cancelled with (Python's
      // `fut._make_cancelled_error()`, test_cancel_gather_2).
      outer.settleException(child.cancelled() ? child.makeCancelledError() : new CancelledError());
      return;
    }
    const children = this.children;
    const results = new Array<unknown>(children.length);
    if (this.returnExceptions) {
      for (let i = 0; i < children.length; i++) {
        const c = children[i]!;
        results[i] = c.cancelled() ? c.makeCancelledError() : (c.exception() ?? c.result());
      }
    } else {
      // Every child succeeded: the first that did not settled the gather already.
      for (let i = 0; i < children.length; i++) results[i] = children[i]!.result();
    }
    outer.setResult(results);
  }
}

function isOptions(value: unknown): value is GatherOptions {
  return typeof value === "object" && value !== null && !(value instanceof Future) && !isCoroutine(value) && typeof (value as { then?: unknown }).then !== "function";
}

/**
 * Runs the awaitables concurrently (coroutines become tasks) and returns a
 * future of their results in argument order. The first exception (or a
 * child's cancellation, as `CancelledError`) fails the gather at once while
 * the other children keep running; with `{ returnExceptions: true }` errors
 * take their places in the results instead. Cancelling the gather cancels
 * every child. The same coroutine or future passed twice runs once.
 *
 * @example
 * const [a, b] = yield* gather(fetchData("url1"), fetchData("url2"));
 * const settled = yield* gather(mayFail(), sleep(1, "ok"), { returnExceptions: true });
 */
export function gather<A extends readonly Awaitable<unknown>[]>(...aws: A): GatheringFuture<GatherResults<A>>;
export function gather<A extends readonly Awaitable<unknown>[]>(...args: [...A, GatherOptions & { returnExceptions: true }]): GatheringFuture<GatherSettled<A>>;
export function gather<A extends readonly Awaitable<unknown>[]>(...args: [...A, GatherOptions]): GatheringFuture<GatherResults<A> | GatherSettled<A>>;
export function gather(...args: unknown[]): GatheringFuture<unknown[]> {
  let returnExceptions = false;
  if (args.length > 0 && isOptions(args[args.length - 1])) {
    returnExceptions = Boolean((args.pop() as GatherOptions).returnExceptions);
  }
  if (args.length === 0) {
    const loop = getRunningLoop();
    const empty = new GatheringFuture<unknown[]>(loop, []);
    empty.setResult([]);
    return empty;
  }
  let loop: EventLoop | null = null;
  for (const arg of args) {
    if (arg instanceof Future) {
      loop = arg.getLoop();
      break;
    }
  }
  loop ??= getRunningLoop();
  const count = args.length;
  const children = new Array<Future<unknown>>(count);
  // The same coroutine or future passed twice is one child (Python's
  // `arg_to_fut`). PERF: a set answers "seen before?" with one hash
  // operation per argument, and the map from argument to child is built only
  // at the first duplicate (bench row "gather of 100k").
  const seen = new Set<unknown>();
  let byArgument: Map<unknown, Future<unknown>> | null = null;
  for (let i = 0; i < count; i++) {
    const arg = args[i];
    if (byArgument === null) {
      const before = seen.size;
      seen.add(arg);
      if (seen.size > before) {
        children[i] = ensureFuture(arg as Awaitable<unknown>, loop);
        continue;
      }
      // The arguments before this one are distinct.
      byArgument = new Map<unknown, Future<unknown>>();
      for (let k = 0; k < i; k++) byArgument.set(args[k], children[k]!);
    }
    let child = byArgument.get(arg);
    if (child === undefined) {
      child = ensureFuture(arg as Awaitable<unknown>, loop);
      byArgument.set(arg, child);
    }
    children[i] = child;
  }
  const outer = new GatheringFuture<unknown[]>(loop, children);
  const watcher = new GatherWatcher(outer, children, byArgument === null ? count : byArgument.size, returnExceptions);
  const done: Future<unknown>[] = [];
  if (byArgument !== null) {
    byArgument.forEach((child, arg) => watchChild(watcher, child, arg, done));
  } else {
    // Without duplicates the children are the distinct ones, in order.
    for (let i = 0; i < count; i++) watchChild(watcher, children[i]!, args[i], done);
  }
  for (const child of done) watcher.childDone(child);
  return outer;
}

// Registers `watcher` with a distinct child, or adds it to `done`.
function watchChild(watcher: GatherWatcher, child: Future<unknown>, arg: unknown, done: Future<unknown>[]): void {
  if (child.done()) done.push(child);
  else if (child !== arg) {
    // A future made here (a task, a bridged promise). PERF: the watcher as a
    // waiter, not a done callback (no Handle, argument list and spread per
    // child); bench row "gather of 100k"; docs/decisions.md, "Task groups
    // and gather watch their children through a link". A future given by the
    // caller keeps addDoneCallback, which a subclass may override
    // (asCompleted's slots do).
    child.addWaiter(watcher);
  } else {
    child.addDoneCallback(watcher.onDone);
  }
}
