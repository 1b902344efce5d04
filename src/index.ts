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
  OSError,
  ConnectionError,
  BrokenPipeError,
  ConnectionAbortedError,
  ConnectionRefusedError,
  ConnectionResetError,
  FileNotFoundError,
  FileExistsError,
  PermissionError,
  IsADirectoryError,
  NotADirectoryError,
  ProcessLookupError,
  type OSErrorDetails,
  type ExceptionMatch,
  DeadlockError,
  StopAsyncIteration,
  LookupError,
  KeyboardInterrupt,
  CalledProcessError,
  isCancelledError,
} from "./errors.js";

// Coroutines
export type { Coro, Awaitable, AwaitedOf } from "./coroutines.js";

// Running
export { run, Runner, type RunOptions, type RunnerOptions } from "./runners.js";
export { EventLoop, type EventLoopOptions, type ExceptionContext, type ExceptionHandler } from "./events.js";
export { type Executor, type ExecutorFunction } from "./executor.js";
export { type TaskOptions, type TaskFactory } from "./tasks.js";
export { getRunningLoop, getEventLoop } from "./running-loop.js";
export { Handle, TimerHandle } from "./handles.js";
export { RealClock, VirtualClock, type Clock, type ClockOption } from "./clocks.js";

// Future and Task
export { Future, type FutureState, type DoneCallback } from "./futures.js";
export { Task, createTask, currentTask, allTasks, eagerTaskFactory } from "./tasks.js";
export { sleep } from "./sleep.js";

// Composition
export { gather, GatheringFuture, type GatherOptions, type GatherResults, type GatherSettled } from "./gather.js";
export { wait, asCompleted, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED, type ReturnWhen, type WaitOptions, type AsCompletedOptions } from "./wait.js";
export { waitFor } from "./waitfor.js";
export { timeout, timeoutAt, Timeout, type TimeoutState } from "./timeouts.js";
export { shield } from "./shield.js";
export { TaskGroup, taskGroup, TaskStatus } from "./taskgroups.js";
export { fromPromise } from "./bridge.js";
export { ensureFuture } from "./ensure-future.js";

// Cancel scopes, shielded cleanup, graceful shutdown (Trio/AnyIO; beyond asyncio)
export { cancelScope, CancelScope, moveOnAfter, moveOnAt, failAfter, failAt, shielded, type CancelScopeOptions, type CancelScopeState, type ShieldedOptions } from "./cancel-scopes.js";
export { gracefulShutdown, Shutdown, type GracefulShutdownOptions } from "./shutdown.js";

// Synchronisation primitives
export { Lock, Event, Condition, type LockStatistics } from "./locks.js";
export { Semaphore, BoundedSemaphore } from "./semaphores.js";
export { Barrier } from "./barrier.js";

// Queues
export { Queue, PriorityQueue, LifoQueue, type QueueOptions, type PriorityQueueOptions, type QueueStatistics } from "./queues.js";

// Streams
export { StreamReader, StreamWriter, openConnection, openUnixConnection, DEFAULT_LIMIT, type OpenConnectionOptions, type StreamTlsOption, type StreamExtraInfo } from "./streams.js";
export { Server, startServer, startUnixServer, type ClientConnectedCallback, type StartServerOptions, type ServerAddress } from "./servers.js";

// Executors (also the subpath "asyncio-ts/executors")
export { ThreadPoolExecutor, ProcessPoolExecutor, ExecutorFuture, toThread, type ExecutorOptions, type MapOptions } from "./executors/index.js";

// Types that follow the runtime (issue 14): typed function references, the shutdown future
export { functionRef, ShutdownFuture } from "./executors/index.js";
export type { FunctionRef } from "./executor.js";

// Testing and debugging
export { captureCallGraph, formatCallGraph, printCallGraph, type CallGraphNode, type CallGraphKind, type CallGraphOutput } from "./debug/graph.js";
export { TaskTracer, type TraceEvent, type TraceFile } from "./debug/trace.js";
export { renderTimeline } from "./debug/timeline-html.js";
export { inspectorSocketPath, taskTable, type TaskRow } from "./debug/inspector.js";
// The stall watchdog has no public name: it is the `watchdog` option of run() and Runner (its import registers it).
import "./debug/watchdog.js";
// Inspector and trace hardening (issue 12): a tracer's streaming output
export { type TraceOutput } from "./debug/trace.js";

// Async iteration (Python's async for, aiter, anext)
export { forEach, aiter, anext, aiterSymbol, fromAsyncIterable, toAsyncIterable, type AsyncSource, type AsyncIterableSource, type AsyncSourceLike, type LoopBodyResult } from "./iteration.js";

// Context (Python's contextvars)
export { ContextVar, Context, Token, copyContext } from "./contextvars.js";
export { trackAsyncLocalStorage } from "./async-scope.js";

// Resources (Python's contextlib.AsyncExitStack)
export { exitStack, AsyncExitStack, type Cleanup } from "./exit-stacks.js";

// Limits, retries and channels (beyond asyncio: AnyIO, Trio, aiolimiter)
export { CapacityLimiter, RateLimiter, type CapacityLimiterStatistics, type RateLimiterStatistics } from "./limiters.js";
export { retry, type RetryOptions } from "./retry.js";
export { Channel, type ChannelStatistics } from "./channels.js";
export { Broadcast, Subscription, type BroadcastStatistics } from "./broadcast.js";

// Subprocesses and files (Python's asyncio.subprocess; aiofiles / AnyIO open_file)
export {
  createSubprocessExec,
  createSubprocessShell,
  runProcess,
  Process,
  CompletedProcess,
  PIPE,
  STDOUT,
  DEVNULL,
  type StdioOption,
  type SubprocessOptions,
  type RunProcessOptions,
} from "./subprocess.js";
export { openFile, readFile, writeFile, FileStream, type OpenFileOptions, type ReadFileOptions } from "./files.js";
