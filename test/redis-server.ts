/**
 * A real `redis-server` for the distributed tests: started on a Unix socket
 * in a temporary directory with persistence off, stopped after. Without the
 * binary the tests skip, except under `CI=true`, where that is a failure.
 * Also: `asyncio-ts worker` processes started from the sources.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";

const available = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).status === 0;

/** `false` when the tests can run, else why they skip. Under CI a missing server is not a skip: the tests fail. */
export const redisSkip: string | false = available || process.env.CI === "true" ? false : "redis-server is not installed (apt-get install redis-server)";

/** One running `redis-server`. */
export interface RedisServer {
  /** The socket path. */
  path: string;
  /** `unix://` URL of the socket. */
  url: string;
  /** SIGKILLs the server (as a crash would) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same socket (empty: persistence is off). */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

function ping(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path, () => socket.write("PING\r\n"));
    socket.setEncoding("utf8");
    socket.on("data", (reply: string) => {
      socket.destroy();
      resolve(reply.startsWith("+PONG"));
    });
    socket.on("error", () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts a `redis-server` on a fresh socket; throws (failing the test) when it cannot. */
export async function startRedis(): Promise<RedisServer> {
  if (!available) throw new Error("redis-server is not installed: CI=true requires it (apt-get install redis-server)");
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-redis-"));
  const path = join(dir, "redis.sock");
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn("redis-server", ["--save", "", "--appendonly", "no", "--port", "0", "--unixsocket", path, "--unixsocketperm", "700", "--dir", dir], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    const deadline = Date.now() + 10_000;
    while (!(await ping(path))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with status ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error("redis-server did not answer PING within 10 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await launch();
  return {
    path,
    url: `unix://${path}`,
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
    restart: launch,
    pause() {
      child.kill("SIGSTOP");
    },
    resume() {
      child.kill("SIGCONT");
    },
    async stop() {
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const main = new URL("../src/cli/main.ts", import.meta.url).pathname;

/** A worker process started from the sources. */
export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote on stdout so far. */
  output(): string;
  /** Everything it wrote on stderr so far. */
  errorOutput(): string;
  /** Resolves with its exit status (or signal). */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /**
   * SIGTERM (the worker drains and exits 0), then wait for the exit; SIGKILL
   * after 10 s. Stopped so, the worker also writes its V8 coverage, which a
   * SIGKILLed process never does.
   */
  stop(): Promise<void>;
}

/** Starts `asyncio-ts worker` and waits until it serves the queue. */
export async function startWorker(url: string, queue: string, module: string | URL, extra: string[] = []): Promise<WorkerProcess> {
  const modulePath = module instanceof URL ? module.pathname : module;
  const args = ["--import", "tsx", main, "worker", "--redis", url, "--queue", queue, "--module", modulePath, "--progress", "0", "--lock-duration", "1000", "--stalled-interval", "500", ...extra];
  // With an IPC channel: if this test process dies, the worker drains and exits.
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start within 20 s: ${stderr}`)), 20_000);
    child.stdout!.on("data", (chunk: string) => {
      stdout += chunk;
      if (stdout.includes(" serving ")) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exit.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with status ${code} before serving: ${stderr}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    output: () => stdout,
    errorOutput: () => stderr,
    exit,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exit;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
