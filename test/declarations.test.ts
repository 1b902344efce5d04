// The published declarations hold the contract and nothing internal (as
// Trio's test_exports.py holds its namespace): the declarations are emitted
// as `npm run build` emits them (stripInternal), then read back as a consumer
// reads them. A name beyond the lists below, or one missing, fails a test;
// so do declarations that do not compile on their own.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import path from "node:path";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const entries = {
  "asyncio-ts": "src/index",
  "asyncio-ts/testing": "src/testing/index",
  "asyncio-ts/executors": "src/executors/index",
  "asyncio-ts/distributed": "src/distributed/index",
  "asyncio-ts/eslint-plugin": "src/eslint-plugin/index",
  "asyncio-ts/http": "src/http/index",
} as const;

/** Emits the package's declarations in memory, with the build's options. */
function emitDeclarations(): Map<string, string> {
  const configPath = path.join(root, "tsconfig.build.json");
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  assert.ok(config, "tsconfig.build.json parses");
  assert.equal(config.options.stripInternal, true, "the build strips @internal declarations");
  const files = Object.values(entries).map((entry) => path.join(root, `${entry}.ts`));
  const program = ts.createProgram(files, { ...config.options, emitDeclarationOnly: true, declarationMap: false, noEmit: false });
  const out = new Map<string, string>();
  program.emit(undefined, (name, text) => out.set(path.resolve(name), text));
  return out;
}

const emitted = emitDeclarations();
const outDir = path.join(root, "dist");

/** A program over the emitted declarations, as a consumer's compiler sees them. */
function consumerProgram(): ts.Program {
  const options: ts.CompilerOptions = { strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true, skipLibCheck: false, types: ["node"], typeRoots: [path.join(root, "node_modules/@types")] };
  const host = ts.createCompilerHost(options);
  const realRead = host.readFile.bind(host);
  const realExists = host.fileExists.bind(host);
  host.readFile = (name) => emitted.get(path.resolve(name)) ?? (path.resolve(name).startsWith(outDir + path.sep) ? undefined : realRead(name));
  host.fileExists = (name) => emitted.has(path.resolve(name)) || (!path.resolve(name).startsWith(outDir + path.sep) && realExists(name));
  // dist/ may not be on disk (or be stale): only the emitted files count there.
  host.directoryExists = (name) => {
    const dir = path.resolve(name);
    if (dir !== outDir && !dir.startsWith(outDir + path.sep)) return ts.sys.directoryExists(dir);
    for (const file of emitted.keys()) if (file.startsWith(dir + path.sep)) return true;
    return false;
  };
  host.getSourceFile = (name, language) => {
    const text = host.readFile(name);
    return text === undefined ? undefined : ts.createSourceFile(name, text, language);
  };
  const rootNames = Object.values(entries).map((entry) => path.join(outDir, `${entry}.d.ts`));
  return ts.createProgram(rootNames, options, host);
}

const program = consumerProgram();
const checker = program.getTypeChecker();

function exportsOf(entry: string): string[] {
  const file = program.getSourceFile(path.join(outDir, `${entry}.d.ts`));
  assert.ok(file, `${entry}.d.ts was emitted`);
  const moduleSymbol = checker.getSymbolAtLocation(file);
  assert.ok(moduleSymbol, `${entry}.d.ts is a module`);
  return checker.getExportsOfModule(moduleSymbol).map((s) => s.getName()).sort();
}

// Every name each entry point publishes: values and types.
const published: Record<keyof typeof entries, string[]> = {
  "asyncio-ts": [
    "ALL_COMPLETED", "AsCompletedOptions", "AsyncExitStack", "AsyncIterableSource", "AsyncSource",
    "AsyncSourceLike", "Awaitable", "AwaitedOf", "Barrier", "BoundedSemaphore", "Broadcast",
    "BroadcastStatistics", "BrokenBarrierError", "BrokenExecutorError", "BrokenPipeError",
    "BrokenProcessPool", "BrokenThreadPool", "CallGraphKind", "CallGraphNode", "CallGraphOutput",
    "CalledProcessError", "CancelScope", "CancelScopeOptions", "CancelScopeState", "CancelledError",
    "CapacityLimiter", "CapacityLimiterStatistics", "Channel", "ChannelStatistics", "Cleanup",
    "ClientConnectedCallback", "Clock", "ClockOption", "CompletedProcess", "Condition",
    "ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError", "Context",
    "ContextVar", "Coro", "DEFAULT_LIMIT", "DEVNULL", "DeadlockError", "DoneCallback", "Event", "EventLoop",
    "EventLoopOptions", "ExceptionContext", "ExceptionGroup", "ExceptionHandler", "ExceptionMatch",
    "Executor", "ExecutorFunction", "ExecutorFuture", "ExecutorOptions", "FIRST_COMPLETED", "FIRST_EXCEPTION",
    "FileExistsError", "FileNotFoundError", "FileStream", "FunctionRef", "Future", "FutureState",
    "GatherOptions", "GatherResults", "GatherSettled", "GatheringFuture", "GracefulShutdownOptions", "Handle",
    "IncompleteReadError", "InvalidStateError", "IsADirectoryError", "KeyboardInterrupt", "LifoQueue",
    "LimitOverrunError", "Lock", "LockStatistics", "LookupError", "LoopBodyResult", "MapOptions",
    "NotADirectoryError", "OSError", "OSErrorDetails", "OpenConnectionOptions", "OpenFileOptions", "PIPE",
    "PermissionError", "PriorityQueue", "PriorityQueueOptions", "Process", "ProcessLookupError",
    "ProcessPoolExecutor", "Queue", "QueueEmpty", "QueueFull", "QueueOptions", "QueueShutDown",
    "QueueStatistics", "RateLimiter", "RateLimiterStatistics", "ReadFileOptions", "RealClock", "RetryOptions",
    "ReturnWhen", "RunOptions", "RunProcessOptions", "Runner", "RunnerOptions", "RuntimeError", "STDOUT",
    "Semaphore", "Server", "ServerAddress", "ShieldedOptions", "Shutdown", "ShutdownFuture",
    "StartServerOptions", "StdioOption", "StopAsyncIteration", "StreamExtraInfo", "StreamReader",
    "StreamTlsOption", "StreamWriter", "SubprocessOptions", "Subscription", "Task", "TaskFactory",
    "TaskGroup", "TaskOptions", "TaskRow", "TaskStatus", "TaskTracer", "ThreadPoolExecutor", "Timeout",
    "TimeoutError", "TimeoutState", "TimerHandle", "Token", "TraceEvent", "TraceFile", "TraceOutput",
    "VirtualClock", "WaitOptions", "aiter", "aiterSymbol", "allTasks", "anext", "asCompleted", "cancelScope",
    "captureCallGraph", "copyContext", "createSubprocessExec", "createSubprocessShell", "createTask",
    "currentTask", "eagerTaskFactory", "ensureFuture", "exitStack", "failAfter", "failAt", "forEach",
    "formatCallGraph", "fromAsyncIterable", "fromPromise", "functionRef", "gather", "getEventLoop",
    "getRunningLoop", "gracefulShutdown", "inspectorSocketPath", "isCancelledError", "moveOnAfter",
    "moveOnAt", "openConnection", "openFile", "openUnixConnection", "printCallGraph", "readFile",
    "renderTimeline", "retry", "run", "runProcess", "shield", "shielded", "sleep", "startServer",
    "startUnixServer", "taskGroup", "taskTable", "timeout", "timeoutAt", "toAsyncIterable", "toThread",
    "trackAsyncLocalStorage", "wait", "waitFor", "writeFile",
  ],
  "asyncio-ts/testing": [
    "ExploreOptions", "ExploreResult", "TestOptions", "VirtualClock", "advanceTime", "asyncTest",
    "coroutineTest", "exploreSchedules",
  ],
  "asyncio-ts/executors": [
    "ExecutorFunction", "ExecutorFuture", "ExecutorOptions", "FunctionRef", "MapOptions",
    "ProcessPoolExecutor", "ShutdownFuture", "ThreadPoolExecutor", "functionRef", "toThread",
  ],
  "asyncio-ts/distributed": [
    "DistributedExecutor", "DistributedExecutorOptions", "DistributedJobOptions", "DistributedMapOptions",
    "RedisConnectionOptions", "Serializer", "WorkerOptions", "WorkerSummary", "parseRedisUrl", "serveJobs",
    "v8Serializer",
  ],
  "asyncio-ts/http": [
    "FetchInput", "HttpHandlerOptions", "RequestListener", "fetch", "fetchJson", "fetchText", "httpHandler",
  ],
  "asyncio-ts/eslint-plugin": [
    "AsyncioPlugin", "NoFloatingCoroutineOptions", "default", "noFloatingCoroutine", "rules",
  ],
};

test("the published declarations compile on their own, strict, for a NodeNext consumer", () => {
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName.startsWith(outDir));
  assert.deepEqual(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")), []);
});

for (const [specifier, entry] of Object.entries(entries) as [keyof typeof entries, string][]) {
  test(`${specifier} publishes exactly the names of the contract`, () => {
    assert.deepEqual(exportsOf(entry), [...published[specifier]].sort());
  });
}

test("the loop's and futures' internal protocol is not in the declarations", () => {
  const internal = ["state", "settleResult", "settleException", "settleCancelled", "pushReady", "scheduleTimer", "liveTasks", "instrument"];
  for (const [file, text] of emitted) {
    if (!/(futures|events|tasks)\.d\.ts$/.test(file)) continue;
    for (const name of internal) assert.doesNotMatch(text, new RegExp(`^\\s+(readonly )?${name}[(:]`, "m"), `${name} in ${path.basename(file)}`);
  }
});
