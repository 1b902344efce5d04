/**
 * Which OS-level resources (sockets, servers, pipes, child processes, worker
 * threads) were opened while a test ran and are still open at its end.
 *
 * It watches `async_hooks` init/destroy events for handle types only (not
 * requests such as a pending write): a handle is created when the resource
 * opens and destroyed after it closes. `process.getActiveResourcesInfo()`
 * would not do: it does not list worker threads.
 */
import type * as asyncHooks from "node:async_hooks";
import type { AsyncHook } from "node:async_hooks";
import { optionalBuiltin } from "../host.js";

// The async_hooks resource types watched, and how a failure names them.
const WATCHED: Readonly<Record<string, string>> = {
  TCPWRAP: "TCP socket",
  TCPSERVERWRAP: "TCP server",
  PIPEWRAP: "pipe or Unix socket",
  PIPESERVERWRAP: "Unix socket server",
  UDPWRAP: "UDP socket",
  PROCESSWRAP: "child process",
  WORKER: "worker thread",
  FSEVENTWRAP: "fs.watch watcher",
};

// Closing a handle is asynchronous: its destroy event comes a few turns of
// Node's loop after `close()`.
const SETTLE_TURNS = 10;

/** Records the watched resources opened from `start()` on. */
export class ResourceTracker {
  private readonly open = new Map<number, string>();
  private hook: AsyncHook | null = null;

  /** Starts watching. */
  start(): void {
    const open = this.open;
    // Hosts without async_hooks (a browser) have no resources to watch.
    const hooks = optionalBuiltin<typeof asyncHooks>("node:async_hooks");
    if (hooks === null) return;
    this.hook = hooks.createHook({
      init(asyncId, type) {
        const kind = WATCHED[type];
        if (kind !== undefined) open.set(asyncId, kind);
      },
      destroy(asyncId) {
        open.delete(asyncId);
      },
    }).enable();
  }

  /**
   * Lets closing resources finish closing, stops watching, and returns what
   * is still open, grouped: `["TCP socket (x2)", "worker thread"]`.
   */
  async stop(): Promise<string[]> {
    for (let turn = 0; turn < SETTLE_TURNS && this.open.size > 0; turn++) await new Promise((resolve) => setImmediate(resolve));
    this.hook?.disable();
    this.hook = null;
    const counts = new Map<string, number>();
    for (const kind of this.open.values()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    this.open.clear();
    return [...counts].map(([kind, count]) => (count === 1 ? kind : `${kind} (x${count})`));
  }
}
