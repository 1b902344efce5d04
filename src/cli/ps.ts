/**
 * `asyncio-ts ps <pid>` and `asyncio-ts pstree <pid>`: the tasks of a process
 * that opted in. Before connecting, the client checks that the socket's
 * directory and the socket itself belong to the process's user (and that the
 * caller is that user, or root), so another local user cannot answer in its
 * place; everything it prints from the reply has its control characters
 * escaped; and it gives up after `--timeout` seconds (default 5) when the
 * process does not answer (a blocked event loop).
 */
import { lstatSync, statSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { InvalidArgumentError, type Command } from "commander";
import { inspectorSocketPath, type TaskRow } from "../debug/inspector.js";
import { currentUid, directoryProblem } from "../debug/private-dir.js";

/** Options of `fetchTasks`. */
export interface FetchOptions {
  /** Seconds to wait for the answer (default 5). */
  timeout?: number;
}

/** The largest reply read (a task table of about a million tasks). */
const maxReplyBytes = 256 * 1024 * 1024;

/** The user running process `pid` (the owner of `/proc/<pid>` on Linux), else the caller. */
function ownerOf(pid: number): number {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return currentUid();
  }
}

/** Where to look for `pid`'s socket: its user's directory, then the temp-dir fallback. */
function candidates(pid: number, uid: number): string[] {
  return [...new Set([inspectorSocketPath(pid, uid), join(tmpdir(), `asyncio-ts-${uid}`, `asyncio-ts-${pid}.sock`)])];
}

/**
 * The socket of `pid` after the ownership checks; throws an `Error` saying
 * what is wrong (not opted in, or a socket or directory that is not the
 * process owner's).
 */
export function trustedSocketPath(pid: number): string {
  const me = currentUid();
  const uid = ownerOf(pid);
  if (me >= 0 && me !== 0 && uid !== me) {
    throw new Error(`process ${pid} belongs to uid ${uid}: only that user or root may inspect it`);
  }
  for (const path of candidates(pid, uid)) {
    let socket;
    try {
      socket = lstatSync(path);
    } catch {
      continue;
    }
    const problem = directoryProblem(dirname(path), lstatSync(dirname(path)), uid);
    if (problem !== null) throw new Error(`refusing to talk to ${path}: ${problem}`);
    if (!socket.isSocket()) throw new Error(`refusing to talk to ${path}: not a socket`);
    if (uid >= 0 && socket.uid !== uid) throw new Error(`refusing to talk to ${path}: owned by uid ${socket.uid}, not ${uid}`);
    return path;
  }
  throw new Error(`process ${pid} does not expose its tasks: run it with ASYNCIO_TS_INSPECT=1 or run(main, { inspect: true })`);
}

function isRow(value: unknown): value is TaskRow {
  if (typeof value !== "object" || value === null) return false;
  const row = value as Record<string, unknown>;
  return (
    typeof row["id"] === "number" &&
    typeof row["name"] === "string" &&
    typeof row["state"] === "string" &&
    typeof row["awaiting"] === "string" &&
    Array.isArray(row["awaitsTasks"]) &&
    row["awaitsTasks"].every((id) => typeof id === "number")
  );
}

/** Asks process `pid` for its task table. */
export function fetchTasks(pid: number, options: FetchOptions = {}): Promise<TaskRow[]> {
  const seconds = options.timeout ?? 5;
  let path: string;
  try {
    path = trustedSocketPath(pid);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => socket.write("ps\n"));
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`process ${pid} did not answer within ${seconds} s (is its event loop blocked?)`)), seconds * 1000);
    socket.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxReplyBytes) fail(new Error(`process ${pid} sent a reply larger than ${maxReplyBytes} bytes`));
      else chunks.push(chunk);
    });
    socket.on("end", () => {
      clearTimeout(timer);
      socket.destroy();
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return reject(new Error(`process ${pid} sent a reply that is not JSON`));
      }
      const reply = (typeof body === "object" && body !== null ? body : {}) as { tasks?: unknown; error?: unknown };
      if (Array.isArray(reply.tasks) && reply.tasks.every(isRow)) resolve(reply.tasks);
      else reject(new Error(typeof reply.error === "string" ? printable(reply.error) : `process ${pid} sent a malformed reply`));
    });
    socket.on("error", (error) => fail(error));
  });
}

/**
 * `text` safe for a terminal: C0 and C1 control characters, DEL and the
 * Unicode bidirectional overrides shown as `\xNN`/`\uNNNN` escapes.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** The task table, one row per task, like Python 3.14's `python -m asyncio ps`. */
export function formatTable(tasks: TaskRow[]): string {
  const awaitedBy = new Map<number, TaskRow[]>();
  for (const t of tasks) for (const child of t.awaitsTasks) awaitedBy.set(child, [...(awaitedBy.get(child) ?? []), t]);
  const rows = [["task id", "task name", "state", "awaiting", "awaiter name", "awaiter id"]];
  for (const t of tasks) {
    const awaiters = awaitedBy.get(t.id) ?? [];
    rows.push([String(t.id), t.name, t.state, t.awaiting, awaiters.map((a) => a.name).join(", "), awaiters.map((a) => a.id).join(", ")].map(printable));
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
    lines.push(`${prefix}${last ? "└── " : "├── "}(T) ${printable(task.name)} [${printable(task.awaiting)}]`);
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

function secondsArgument(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > 2_000_000) throw new InvalidArgumentError("expected a number of seconds > 0");
  return n;
}

/** Adds `ps` and `pstree` to `program`. */
export function register(program: Command): void {
  program
    .command("ps")
    .description("list the tasks of a running asyncio-ts process that opted in (ASYNCIO_TS_INSPECT=1)")
    .argument("<pid>", "process id", pidArgument)
    .option("--timeout <seconds>", "give up when the process does not answer within this time", secondsArgument, 5)
    .action(async (pid: number, options: { timeout: number }) => {
      console.log(formatTable(await fetchTasks(pid, options)));
    });
  program
    .command("pstree")
    .description("show the await tree of a running asyncio-ts process that opted in")
    .argument("<pid>", "process id", pidArgument)
    .option("--timeout <seconds>", "give up when the process does not answer within this time", secondsArgument, 5)
    .action(async (pid: number, options: { timeout: number }) => {
      console.log(formatTree(await fetchTasks(pid, options)));
    });
}
