/**
 * The opt-in task inspector behind `asyncio-ts ps <pid>` and `pstree <pid>`
 * (Python 3.14's `python -m asyncio ps`/`pstree`). A process that opts in
 * (`run(main, { inspect: true })` or `ASYNCIO_TS_INSPECT=1`) listens on a Unix
 * socket in the temp dir, readable and writable by its owner only (0600),
 * removed when the loop closes or the process exits. Nothing listens
 * otherwise, and never on TCP.
 *
 * Protocol: the client sends one line, `ps` or `pstree`, and reads one JSON
 * line back.
 */
import { unlinkSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventLoop } from "../events.js";
import { GatheringFuture } from "../gather.js";
import type { Future } from "../futures.js";
import { addRunSetup } from "../runners.js";
import { sleepDeadline } from "../sleep.js";
import { Task } from "../tasks.js";

/** Where process `pid` listens, if it opted in. */
export function inspectorSocketPath(pid: number): string {
  return join(tmpdir(), `asyncio-ts-${pid}.sock`);
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
      state: !task.done() ? "pending" : task.cancelled() ? "cancelled" : "finished",
      awaiting: wait.text,
      awaitsTasks: wait.tasks.map((t) => t.taskId),
    };
  });
}

function startInspector(loop: EventLoop): () => void {
  const path = inspectorSocketPath(process.pid);
  try {
    unlinkSync(path);
  } catch {
    // no stale socket from an earlier run of this pid
  }
  const server: Server = createServer((socket) => {
    let request = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      request += chunk;
      if (!request.includes("\n")) return;
      const command = request.trim();
      const body = command === "ps" || command === "pstree" ? { pid: process.pid, tasks: taskTable(loop) } : { error: `unknown request ${JSON.stringify(command)}` };
      socket.end(`${JSON.stringify(body)}\n`);
    });
    socket.on("error", () => socket.destroy());
  });
  // Created with owner-only permissions from the start (no window with a wider mode).
  const previousMask = process.umask(0o177);
  try {
    server.listen(path);
  } finally {
    process.umask(previousMask);
  }
  server.unref();
  const remove = (): void => {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.once("exit", remove);
  return () => {
    server.close();
    remove();
    process.removeListener("exit", remove);
  };
}

addRunSetup((loop, options) => {
  const env = process.env["ASYNCIO_TS_INSPECT"];
  if (options.inspect !== true && (env === undefined || env === "" || env === "0")) return;
  return startInspector(loop);
});
