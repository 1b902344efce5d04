/**
 * The opt-in task inspector behind `asyncio-ts ps <pid>` and `pstree <pid>`
 * (Python 3.14's `python -m asyncio ps`/`pstree`). A process that opts in
 * (`run(main, { inspect: true })` or `ASYNCIO_TS_INSPECT=1`) listens on a Unix
 * socket `asyncio-ts-<pid>.sock` in its user's private directory
 * (`$XDG_RUNTIME_DIR`, else `asyncio-ts-<uid>` in the temp dir, mode 0700,
 * checked before use: see private-dir.ts). Nothing listens otherwise, and
 * never on TCP. What it exposes, and to whom: docs/security.md.
 *
 * It never takes its host down: any failure to set up (a squatted or unsafe
 * directory, a path too long, EADDRINUSE, EACCES) is one warning line on
 * stderr and the program runs on uninspected. Input is bounded: one request
 * line of at most 64 KiB (longer, and the connection is closed), at most 16
 * connections at once, an idle connection closed after 10 s. The socket file
 * is removed when the run ends and at every ending of the process (see
 * endings.ts), and not before: a SIGTERM, SIGINT or SIGHUP the program
 * handles itself leaves it in place for the shutdown that follows.
 *
 * Protocol: the client sends one line, `ps` or `pstree`, and reads one JSON
 * line back, `{ pid, tasks }` or `{ error }`.
 */
import type * as fs from "node:fs";
import type * as net from "node:net";
import type { Server, Socket } from "node:net";
import type * as path from "node:path";
import type * as workerThreads from "node:worker_threads";
import { hostEnv, lazyBuiltin } from "../host.js";
import type { EventLoop } from "../events.js";
import { GatheringFuture } from "../gather.js";
import type { Future } from "../futures.js";
import { addRunSetup } from "../runners.js";
import { sleepDeadline } from "../sleep.js";
import { Task } from "../tasks.js";
import { onEnding, warn } from "./endings.js";
import { ensurePrivateDirectory, inspectorDirectory, maxSocketPathBytes } from "./private-dir.js";

const what = "The inspector";
const fsApi = lazyBuiltin<typeof fs>("node:fs", what);
const netApi = lazyBuiltin<typeof net>("node:net", what);
const pathApi = lazyBuiltin<typeof path>("node:path", what);
const workerThreadsApi = lazyBuiltin<typeof workerThreads>("node:worker_threads", what);

/**
 * Where process `pid` of user `uid` (default: the calling user) listens, if
 * it opted in.
 */
export function inspectorSocketPath(pid: number, uid?: number): string {
  return pathApi.join(inspectorDirectory(uid), `asyncio-ts-${pid}.sock`);
}

/** One row of `ps`. */
export interface TaskRow {
  id: number;
  name: string;
  state: "pending" | "finished" | "cancelled";
  /** What the task is suspended on. */
  awaiting: string;
  /** Ids of the tasks it waits for (directly, or through a gather). */
  awaitsTasks: number[];
}

function describeWait(future: Future<unknown> | null): { text: string; tasks: Task<unknown>[] } {
  if (future === null) return { text: "ready", tasks: [] };
  if (future instanceof Task) return { text: `task ${future.getName()}`, tasks: [future] };
  if (future instanceof GatheringFuture) {
    const tasks = [...new Set(future.children)].filter((c): c is Task<unknown> => c instanceof Task);
    return { text: `gather of ${future.children.length}`, tasks };
  }
  const deadline = sleepDeadline(future);
  if (deadline !== null) return { text: `sleep until ${deadline.toFixed(3)}`, tasks: [] };
  return { text: "future", tasks: [] };
}

/** The task table of `loop`. */
export function taskTable(loop: EventLoop): TaskRow[] {
  return [...loop.liveTasks].map((task) => {
    const wait = describeWait(task.getWaitingOn());
    return {
      id: task.taskId,
      name: task.getName(),
      // liveTasks holds only tasks not yet done (a task leaves it as it finishes).
      state: "pending",
      awaiting: wait.text,
      awaitsTasks: wait.tasks.map((t) => t.taskId),
    };
  });
}

/** @internal The inspector's input limits (tests shorten the idle time). */
export interface InspectorLimits {
  /** Longest request line in bytes, newline excluded (default 64 KiB). */
  maxRequestBytes: number;
  /** Connections served at once; more are refused (default 16). */
  maxConnections: number;
  /** Milliseconds of silence after which a connection is closed (default 10 s). */
  idleMs: number;
}

/** @internal */
export const defaultInspectorLimits: Readonly<InspectorLimits> = { maxRequestBytes: 64 * 1024, maxConnections: 16, idleMs: 10_000 };

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function answer(loop: EventLoop, request: string): string {
  const command = request.trim();
  const body = command === "ps" || command === "pstree" ? { pid: process.pid, tasks: taskTable(loop) } : { error: `unknown request ${JSON.stringify(command.slice(0, 40))}` };
  return `${JSON.stringify(body)}\n`;
}

/** Serves one connection: one bounded request line, one reply, then closes. */
function serve(loop: EventLoop, socket: Socket, limits: InspectorLimits): void {
  socket.unref();
  socket.setTimeout(limits.idleMs, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  const chunks: Buffer[] = [];
  let received = 0;
  socket.on("data", (chunk: Buffer) => {
    const newline = chunk.indexOf(0x0a);
    const take = newline === -1 ? chunk.length : newline;
    if (received + take > limits.maxRequestBytes) {
      // Too long for a request: drop what we hold and stop reading at once.
      chunks.length = 0;
      socket.destroy();
      return;
    }
    received += take;
    chunks.push(newline === -1 ? chunk : chunk.subarray(0, newline));
    if (newline === -1) return;
    socket.removeAllListeners("data");
    socket.pause();
    let reply: string;
    try {
      reply = answer(loop, Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      reply = `${JSON.stringify({ error: message(error) })}\n`;
    }
    socket.end(reply);
  });
}

/**
 * @internal Starts inspecting `loop`; returns the function that stops it
 * (closes the server and its connections, removes the socket file). Never
 * throws: failures are one warning line, and the returned stop does nothing.
 */
export function startInspector(loop: EventLoop, limits: InspectorLimits = defaultInspectorLimits): () => void {
  let path: string;
  try {
    path = inspectorSocketPath(process.pid);
    if (Buffer.byteLength(path) > maxSocketPathBytes) {
      throw new Error(`socket path ${path} is longer than ${maxSocketPathBytes} bytes (set a shorter TMPDIR or XDG_RUNTIME_DIR)`);
    }
    ensurePrivateDirectory(inspectorDirectory());
  } catch (error) {
    warn(`inspector disabled: ${message(error)}`);
    return () => {};
  }
  const sockets = new Set<Socket>();
  const server: Server = netApi.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    serve(loop, socket, limits);
  });
  server.maxConnections = limits.maxConnections;
  server.unref();
  let listening = false;
  let stopped = false;
  const removeFile = (): void => {
    if (!listening) return;
    listening = false;
    try {
      fsApi.unlinkSync(path);
    } catch {
      // already gone
    }
  };
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    removeFile();
    unregister();
    server.close();
    for (const socket of sockets) socket.destroy();
  };
  const unregister = onEnding(stop);
  const fail = (error: unknown): void => {
    if (stopped) return;
    warn(`inspector disabled: ${path}: ${message(error)}`);
    stop();
  };
  let retried = false;
  server.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EADDRINUSE" || retried) return fail(error);
    // Our own private directory: only a process of ours (an earlier one with
    // this pid, or another loop of this process) can have left it. Take it
    // over if nobody answers there.
    retried = true;
    const probe = netApi.connect(path);
    probe.on("connect", () => {
      probe.destroy();
      fail(new Error(`another loop of this process is already inspected there${workerThreadsApi.isMainThread ? "" : " (this loop runs in a worker thread)"}`));
    });
    probe.on("error", () => {
      try {
        fsApi.unlinkSync(path);
      } catch {
        // gone meanwhile
      }
      if (!stopped) server.listen(path);
    });
  });
  server.on("listening", () => {
    // Never after stop(): server.close() drops the pending 'listening' (and libuv removes the file).
    listening = true;
    try {
      // The directory is private already; owner-only on the socket as well,
      // without process.umask() (unavailable in worker threads).
      fsApi.chmodSync(path, 0o600);
    } catch (error) {
      fail(error);
    }
  });
  server.listen(path);
  return stop;
}

addRunSetup((loop, options) => {
  const env = hostEnv("ASYNCIO_TS_INSPECT");
  if (options.inspect !== true && (env === undefined || env === "" || env === "0")) return;
  return startInspector(loop);
});
