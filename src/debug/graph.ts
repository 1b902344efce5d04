/**
 * The await graph (Python 3.14's `asyncio.capture_call_graph` and
 * `format_call_graph`): for a task, what it is suspended on — a future, a
 * task, a gather, a sleep with its deadline — followed downwards, and which
 * tasks await it, followed upwards.
 */
import { GatheringFuture } from "../gather.js";
import { hostProcess } from "../host.js";
import { getRunningLoopOrNull } from "../running-loop.js";
import { setPendingTasksDescriber } from "../runners.js";
import type { Future } from "../futures.js";
import { QueueWaiter } from "../queues.js";
import { sleepDeadline } from "../sleep.js";
import { taskGroupWaitingOn } from "../taskgroups.js";
import { Task, currentTask } from "../tasks.js";

/** What a node of the graph is. */
export type CallGraphKind = "task" | "gather" | "taskgroup" | "queue" | "sleep" | "future";

/** One future or task in the await graph. */
export interface CallGraphNode {
  kind: CallGraphKind;
  /** A task's name, or a description of the future. */
  name: string;
  future: Future<unknown>;
  state: "pending" | "finished" | "cancelled";
  /** For a sleep: its deadline in loop time. */
  deadline?: number;
  /** Where the task was created (debug mode records it). */
  createdAt?: string;
  /** What this node waits for: a task's awaited future, a gather's children. */
  awaits: CallGraphNode[];
  /** Tasks waiting for this node (filled for the captured node and its ancestors). */
  awaitedBy: CallGraphNode[];
}

function stateOf(future: Future<unknown>): CallGraphNode["state"] {
  return !future.done() ? "pending" : future.cancelled() ? "cancelled" : "finished";
}

function creationSite(task: Task<unknown>): string | undefined {
  const stack = task.sourceTraceback;
  if (stack === undefined) return undefined;
  // The first frame outside the library is the user's createTask call.
  return stack
    .split("\n")
    .slice(1)
    .map((line) => line.trim())
    .find((line) => !/\/src\/(tasks|events|gather|taskgroups|ensure-future|runners)\.[jt]s/.test(line) && !line.includes("node:"));
}

function describe(future: Future<unknown>, seen: Set<Future<unknown>>, depth: number): CallGraphNode {
  const node: CallGraphNode = { kind: "future", name: "Future", future, state: stateOf(future), awaits: [], awaitedBy: [] };
  // A task met again (a cycle of tasks awaiting each other) or too deep still shows as itself, unexpanded.
  if (future instanceof Task) {
    node.kind = "task";
    node.name = future.getName();
  }
  if (seen.has(future) || depth > 64) return node;
  seen.add(future);
  if (future instanceof Task) {
    const createdAt = creationSite(future as Task<unknown>);
    if (createdAt !== undefined) node.createdAt = createdAt;
    const waitingOn = future.getWaitingOn();
    if (waitingOn !== null) node.awaits.push(describe(waitingOn, seen, depth + 1));
  } else if (future instanceof GatheringFuture) {
    node.kind = "gather";
    node.name = `gather of ${future.children.length}`;
    for (const child of new Set(future.children)) node.awaits.push(describe(child, seen, depth + 1));
  } else if (future instanceof QueueWaiter) {
    node.kind = "queue";
    node.name = `${future.queue.constructor.name}.${future.operation}()`;
  } else {
    const group = taskGroupWaitingOn(future);
    const deadline = sleepDeadline(future);
    if (group !== undefined) {
      const tasks = group.pendingTasks();
      node.kind = "taskgroup";
      node.name = `task group of ${tasks.length}`;
      for (const task of tasks) node.awaits.push(describe(task, seen, depth + 1));
    } else if (deadline !== null) {
      node.kind = "sleep";
      node.name = "sleep";
      node.deadline = deadline;
    }
  }
  return node;
}

function waitingTasks(future: Future<unknown>): Task<unknown>[] {
  return future.getWaiters().filter((w): w is Task<unknown> => w instanceof Task);
}

/**
 * The await graph around `task` (the current task by default): what it
 * awaits, recursively, and which tasks await it, recursively. `null` outside
 * a task.
 *
 * @example
 * console.log(formatCallGraph(captureCallGraph(slowTask)!));
 */
export function captureCallGraph(task?: Future<unknown>): CallGraphNode | null {
  const target = task ?? currentTask();
  if (target === null) return null;
  const root = describe(target, new Set(), 0);
  const seenUp = new Set<Future<unknown>>([target]);
  const fillAwaitedBy = (node: CallGraphNode, depth: number): void => {
    if (depth > 64) return;
    for (const waiter of waitingTasks(node.future)) {
      if (seenUp.has(waiter)) continue;
      seenUp.add(waiter);
      const parent = describe(waiter, new Set([node.future]), 0);
      parent.awaits = [];
      node.awaitedBy.push(parent);
      fillAwaitedBy(parent, depth + 1);
    }
  };
  fillAwaitedBy(root, 0);
  return root;
}

function label(node: CallGraphNode, now?: number): string {
  switch (node.kind) {
    case "task":
      return `Task ${JSON.stringify(node.name)} [${node.state}]${node.createdAt !== undefined ? ` created ${node.createdAt}` : ""}`;
    case "sleep":
      return `sleep until ${node.deadline!.toFixed(3)}${now !== undefined ? ` (in ${(node.deadline! - now).toFixed(3)} s)` : ""}`;
    case "gather":
    case "taskgroup":
      return `${node.name} [${node.state}]`;
    case "queue":
      return `waiting in ${node.name}`;
    default:
      return `Future [${node.state}]`;
  }
}

/**
 * Renders a graph as an indented tree: the node, what it awaits below it,
 * then the chain of tasks awaiting it. `now` (loop time) adds the time left
 * to each sleep.
 *
 * @example
 * * Task "worker" [pending]
 *   └─ sleep until 10.000 (in 9.000 s)
 * awaited by:
 *   Task "main" [pending]
 */
export function formatCallGraph(node: CallGraphNode, options: { now?: number } = {}): string {
  const lines: string[] = [];
  const down = (n: CallGraphNode, indent: string, prefix: string): void => {
    lines.push(`${indent}${prefix}${label(n, options.now)}`);
    n.awaits.forEach((child, i) => down(child, `${indent}  `, i === n.awaits.length - 1 ? "└─ " : "├─ "));
  };
  down(node, "", "* ");
  const up = (n: CallGraphNode, indent: string): void => {
    for (const parent of n.awaitedBy) {
      lines.push(`${indent}${label(parent, options.now)}`);
      up(parent, `${indent}  `);
    }
  };
  if (node.awaitedBy.length > 0) {
    lines.push("awaited by:");
    up(node, "  ");
  }
  return lines.join("\n");
}

/** Where `printCallGraph` writes: anything with a `write(text)` method (a Node stream, a file wrapper). */
export interface CallGraphOutput {
  /** Writes `text` (the whole graph, newline-terminated, in one call). */
  write(text: string): unknown;
}

/**
 * Prints the await graph of `future` (default: the current task) — what
 * `formatCallGraph(captureCallGraph(future))` renders, with the time left to
 * each sleep — to `file` (default: standard output). Python 3.14's
 * `asyncio.print_call_graph`. Prints nothing outside a task when no future
 * is given.
 *
 * @example
 * printCallGraph(stuckTask, { file: process.stderr });
 */
export function printCallGraph(future?: Future<unknown>, options: { file?: CallGraphOutput } = {}): void {
  const graph = captureCallGraph(future);
  if (graph === null) return;
  const now = getRunningLoopOrNull()?.time();
  const text = `${formatCallGraph(graph, now === undefined ? {} : { now })}\n`;
  const file = options.file ?? hostProcess()?.stdout;
  if (file !== undefined) file.write(text);
  else console.log(text.slice(0, -1));
}
/**
 * @internal The await graphs of `tasks`, each rendered by `formatCallGraph`:
 * only the tasks no other task awaits, as the others appear below them (the
 * testing kit's failure messages, a deadlock's message).
 */
export function formatTaskGraphs(tasks: readonly Task<unknown>[], now: number): string {
  const graphs = tasks.map((task) => captureCallGraph(task)!);
  const roots = graphs.filter((graph) => graph.awaitedBy.length === 0);
  return (roots.length > 0 ? roots : graphs).map((graph) => formatCallGraph(graph, { now })).join("\n");
}

setPendingTasksDescriber(formatTaskGraphs);
