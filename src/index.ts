/**
 * asyncio-ts: Python's asyncio for TypeScript. The public names, in the
 * order of the API contract (shared/API.md). This module only re-exports.
 */

// Errors
export {
  CancelledError,
  InvalidStateError,
  TimeoutError,
  IncompleteReadError,
  LimitOverrunError,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  BrokenBarrierError,
  ExceptionGroup,
  BrokenExecutorError,
  BrokenThreadPool,
  BrokenProcessPool,
  RuntimeError,
  isCancelledError,
} from "./errors.js";

// Coroutines
export type { Coro, Awaitable, AwaitedOf } from "./coroutines.js";

// Running
export { run, type RunOptions } from "./runners.js";
export {
  EventLoop,
  getRunningLoop,
  getEventLoop,
  type EventLoopOptions,
  type ExceptionContext,
  type ExceptionHandler,
  type Executor,
  type ExecutorFunction,
} from "./events.js";
export { Handle, TimerHandle } from "./handles.js";
export { RealClock, VirtualClock, type Clock, type ClockOption } from "./clocks.js";

// Future and Task
export { Future, type FutureState, type DoneCallback } from "./futures.js";
export { Task, createTask, currentTask, allTasks } from "./tasks.js";
export { sleep } from "./sleep.js";

// Composition
export { fromPromise } from "./bridge.js";
