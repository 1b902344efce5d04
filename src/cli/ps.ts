/** `asyncio-ts ps <pid>` and `asyncio-ts pstree <pid>`: the tasks of a process that opted in. */
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { InvalidArgumentError, type Command } from "commander";
import { inspectorSocketPath, type TaskRow } from "../debug/inspector.js";

/** Asks process `pid` for its task table. */
export function fetchTasks(pid: number): Promise<TaskRow[]> {
  const path = inspectorSocketPath(pid);
  if (!existsSync(path)) {
    return Promise.reject(new Error(`process ${pid} does not expose its tasks: run it with ASYNCIO_TS_INSPECT=1 or run(main, { inspect: true })`));
  }
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => socket.write("ps\n"));
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (reply += chunk));
    socket.on("end", () => {
      try {
        const body = JSON.parse(reply) as { tasks?: TaskRow[]; error?: string };
        if (body.tasks === undefined) reject(new Error(body.error ?? "bad reply"));
        else resolve(body.tasks);
      } catch (error) {
        reject(error);
      }
    });
    socket.on("error", reject);
  });
}

/** The task table, one row per task, like Python 3.14's `python -m asyncio ps`. */
export function formatTable(tasks: TaskRow[]): string {
  const awaitedBy = new Map<number, TaskRow[]>();
  for (const t of tasks) for (const child of t.awaitsTasks) awaitedBy.set(child, [...(awaitedBy.get(child) ?? []), t]);
  const rows = [["task id", "task name", "state", "awaiting", "awaiter name", "awaiter id"]];
  for (const t of tasks) {
    const awaiters = awaitedBy.get(t.id) ?? [];
    rows.push([String(t.id), t.name, t.state, t.awaiting, awaiters.map((a) => a.name).join(", "), awaiters.map((a) => a.id).join(", ")]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n");
}

/** The await tree, like Python 3.14's `python -m asyncio pstree`: roots are tasks nobody awaits. */
export function formatTree(tasks: TaskRow[]): string {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const awaited = new Set(tasks.flatMap((t) => t.awaitsTasks));
  const lines: string[] = [];
  const walk = (task: TaskRow, prefix: string, last: boolean, seen: Set<number>): void => {
    lines.push(`${prefix}${last ? "└── " : "├── "}(T) ${task.name} [${task.awaiting}]`);
    if (seen.has(task.id)) return;
    const next = new Set(seen).add(task.id);
    const children = task.awaitsTasks.map((id) => byId.get(id)).filter((t): t is TaskRow => t !== undefined);
    children.forEach((child, i) => walk(child, `${prefix}${last ? "    " : "│   "}`, i === children.length - 1, next));
  };
  const roots = tasks.filter((t) => !awaited.has(t.id));
  roots.forEach((root, i) => walk(root, "", i === roots.length - 1, new Set()));
  return lines.join("\n");
}

function pidArgument(value: string): number {
  const pid = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(pid) || pid <= 0) throw new InvalidArgumentError("expected a process id");
  return pid;
}

/** Adds `ps` and `pstree` to `program`. */
export function register(program: Command): void {
  program
    .command("ps")
    .description("list the tasks of a running asyncio-ts process that opted in (ASYNCIO_TS_INSPECT=1)")
    .argument("<pid>", "process id", pidArgument)
    .action(async (pid: number) => {
      console.log(formatTable(await fetchTasks(pid)));
    });
  program
    .command("pstree")
    .description("show the await tree of a running asyncio-ts process that opted in")
    .argument("<pid>", "process id", pidArgument)
    .action(async (pid: number) => {
      console.log(formatTree(await fetchTasks(pid)));
    });
}
