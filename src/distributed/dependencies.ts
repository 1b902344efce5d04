/**
 * BullMQ and ioredis, loaded on first use: they are optional peer
 * dependencies, so importing `asyncio-ts/distributed` (or running another
 * command of the CLI) never needs them; using a `DistributedExecutor` or
 * `asyncio-ts worker` without them fails with one error that says what to
 * install.
 */
import type * as BullMQ from "bullmq";
import type * as IORedis from "ioredis";

/** The two modules the distributed executor stands on. */
export interface RedisLibraries {
  bullmq: typeof BullMQ;
  ioredis: typeof IORedis;
}

/** The command that installs what is missing. */
export const INSTALL_COMMAND = "npm install bullmq ioredis";

let loading: Promise<RedisLibraries> | null = null;

function isMissing(error: unknown, specifier: string): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && typeof message === "string" && message.includes(specifier);
}

async function importOrExplain<T>(specifier: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissing(error, specifier)) throw error;
    throw new Error(`asyncio-ts/distributed needs the packages bullmq and ioredis, and ${specifier} is not installed: run \`${INSTALL_COMMAND}\``, { cause: error });
  }
}

/** BullMQ and ioredis (imported once); an `Error` naming `npm install bullmq ioredis` when either is missing. */
export function loadRedisLibraries(): Promise<RedisLibraries> {
  loading ??= Promise.all([importOrExplain("bullmq", () => import("bullmq")), importOrExplain("ioredis", () => import("ioredis"))]).then(
    ([bullmq, ioredis]) => ({ bullmq, ioredis }),
    (error: unknown) => {
      // Not cached: installing the packages and trying again works.
      loading = null;
      throw error;
    },
  );
  return loading;
}
