/**
 * The running-loop registry (the part of Python's `asyncio.events` that
 * `get_running_loop` reads): which loop is iterating now, and which loops are
 * between the start and the end of `runForever`. It sits below futures,
 * tasks and the loop itself, so each of them can ask for the running loop
 * without importing the others.
 */
import { RuntimeError } from "./errors.js";
import type { EventLoop } from "./events.js";

// Invariant: `drainingLoop` is the loop whose iteration is on the call stack
// (null between iterations); it changes only in `enterIteration`/`leaveIteration`,
// which the loop calls in a try/finally around each iteration.
let drainingLoop: EventLoop | null = null;
// Invariant: holds every loop between the start and the end of its `runForever`.
const runningLoops = new Set<EventLoop>();

/** The loop running the current coroutine or callback, or `null`. */
export function getRunningLoopOrNull(): EventLoop | null {
  if (drainingLoop !== null) return drainingLoop;
  // Exactly one loop in the set: its first value is that loop.
  if (runningLoops.size === 1) return runningLoops.values().next().value as EventLoop;
  return null;
}

/** The running event loop; throws `RuntimeError` when none is running (Python's `asyncio.get_running_loop`). */
export function getRunningLoop(): EventLoop {
  const loop = getRunningLoopOrNull();
  if (loop === null) {
    throw new RuntimeError(
      runningLoops.size > 1 ? "several event loops are running; call this from inside a coroutine" : "no running event loop",
    );
  }
  return loop;
}

/** Python-compatible alias of `getRunningLoop` (asyncio's `get_event_loop` inside a coroutine). */
export function getEventLoop(): EventLoop {
  return getRunningLoop();
}

/** @internal True while some loop's iteration is on the call stack (nested `run` guard). */
export function isInsideLoopIteration(): boolean {
  return drainingLoop !== null;
}

/** @internal The loop starts an iteration; returns the loop to restore with `leaveIteration`. */
export function enterIteration(loop: EventLoop): EventLoop | null {
  const previous = drainingLoop;
  drainingLoop = loop;
  return previous;
}

/** @internal The iteration that `enterIteration` began has ended. */
export function leaveIteration(previous: EventLoop | null): void {
  drainingLoop = previous;
}

/** @internal `runForever` began (`true`) or ended (`false`) on `loop`. */
export function setLoopRunning(loop: EventLoop, running: boolean): void {
  if (running) runningLoops.add(loop);
  else runningLoops.delete(loop);
}

/**
 * @internal Throws if the registry disagrees with `loop` (its
 * `checkInvariants`): a running loop is registered, a stopped one is not, and
 * a loop whose iteration is on the stack is a running one.
 */
export function checkRegistryOf(loop: EventLoop, running: boolean): void {
  if (runningLoops.has(loop) !== running) {
    throw new RuntimeError(`running-loop registry: the loop is ${running ? "running but not registered" : "registered but not running"}`);
  }
  if (drainingLoop !== null && !runningLoops.has(drainingLoop)) throw new RuntimeError("running-loop registry: the iterating loop is not registered as running");
}

/** @internal Whether `loop`'s iteration is on the call stack (a step or callback of it is running). */
export function isIterating(loop: EventLoop): boolean {
  return drainingLoop === loop;
}
