/**
 * Where Redis is: the `--redis` URLs the worker takes and the `connection`
 * option of `DistributedExecutor`, turned into ioredis options.
 */

/** ioredis connection options (what BullMQ's `connection` takes); only the common fields are typed. */
export interface RedisConnectionOptions {
  host?: string;
  port?: number;
  /** A Unix socket path (instead of host and port). */
  path?: string;
  db?: number;
  username?: string;
  password?: string;
  /** Other ioredis options, passed through. */
  [option: string]: unknown;
}

/**
 * Parses `redis://[user:password@]host[:port][/db]` or
 * `unix:///absolute/path.sock` (`?db=N` allowed) into ioredis options;
 * `TypeError` for anything else.
 *
 * @example
 * parseRedisUrl("redis://10.0.0.5:6379/2"); // { host: "10.0.0.5", port: 6379, db: 2 }
 * parseRedisUrl("unix:///run/redis.sock");  // { path: "/run/redis.sock" }
 */
export function parseRedisUrl(text: string): RedisConnectionOptions {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`not a Redis URL: ${JSON.stringify(text)} (expected redis://host:port[/db] or unix:///path.sock)`);
  }
  const options: RedisConnectionOptions = {};
  if (url.username !== "") options.username = decodeURIComponent(url.username);
  if (url.password !== "") options.password = decodeURIComponent(url.password);
  const db = (value: string): number => {
    if (!/^\d+$/.test(value)) throw new TypeError(`the database in ${JSON.stringify(text)} must be a whole number`);
    return Number(value);
  };
  if (url.protocol === "unix:") {
    if (url.host !== "" || !url.pathname.startsWith("/")) throw new TypeError(`a unix URL needs an absolute path, as unix:///run/redis.sock: ${JSON.stringify(text)}`);
    options.path = decodeURIComponent(url.pathname);
    const dbParam = url.searchParams.get("db");
    if (dbParam !== null) options.db = db(dbParam);
    return options;
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new TypeError(`unsupported Redis URL scheme ${url.protocol} in ${JSON.stringify(text)} (expected redis:// or unix://)`);
  }
  options.host = url.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  options.port = url.port === "" ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, "");
  if (path !== "") options.db = db(path);
  if (url.protocol === "rediss:") options.tls = {};
  return options;
}

/** Options from a URL or from options (copied, never mutated). */
export function toConnectionOptions(connection: string | RedisConnectionOptions): RedisConnectionOptions {
  return typeof connection === "string" ? parseRedisUrl(connection) : { ...connection };
}

/** How a connection is named in messages: its URL-like address. */
export function describeConnection(options: RedisConnectionOptions): string {
  if (typeof options.path === "string") return `unix://${options.path}${options.db !== undefined ? `?db=${options.db}` : ""}`;
  return `redis://${options.host ?? "127.0.0.1"}:${options.port ?? 6379}${options.db !== undefined ? `/${options.db}` : ""}`;
}

/**
 * ioredis's retry schedule (50 ms more per try, at most 2 s) that stops once
 * `stopped()` says so: a client disconnected while a retry was due would
 * otherwise keep the process alive until that retry.
 */
export function retryUntil(stopped: () => boolean): (times: number) => number | null {
  return (times) => (stopped() ? null : Math.min(times * 50, 2000));
}

/**
 * Milliseconds ioredis waits for a closing socket before destroying it
 * (default 2000: a worker told to stop while Redis is away would linger).
 */
export const DISCONNECT_TIMEOUT_MS = 200;
