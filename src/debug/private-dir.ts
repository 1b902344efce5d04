/**
 * The per-user directory that holds inspector sockets, and the checks both
 * ends make before trusting it: `$XDG_RUNTIME_DIR` when set (the session's
 * private runtime directory), else `asyncio-ts-<uid>` in the temp dir,
 * created with mode 0700. A path is trusted only if `lstat` shows it is a
 * directory (not a symlink), owned by the expected user, and not open to
 * group or others. Another local user can then neither squat the socket path
 * nor answer in our place.
 */
import type * as fs from "node:fs";
import type { Stats } from "node:fs";
import type * as os from "node:os";
import type * as path from "node:path";
import { lazyBuiltin } from "../host.js";

const what = "The inspector";
const fsApi = lazyBuiltin<typeof fs>("node:fs", what);
const osApi = lazyBuiltin<typeof os>("node:os", what);
const pathApi = lazyBuiltin<typeof path>("node:path", what);

/** The longest Unix socket path Linux accepts (`sun_path` is 108 bytes with its NUL); Node silently truncates longer ones. */
export const maxSocketPathBytes = 107;

/** The calling user's id (`-1` where the platform has none). */
export function currentUid(): number {
  // process.getuid is missing only on Windows, which this suite does not run on.
  /* c8 ignore next */
  return typeof process.getuid === "function" ? process.getuid() : -1;
}

/**
 * The directory where user `uid`'s processes put their inspector sockets.
 * `$XDG_RUNTIME_DIR` is the calling user's own, so it is used only for them.
 */
export function inspectorDirectory(uid: number = currentUid()): string {
  const runtime = process.env["XDG_RUNTIME_DIR"];
  if (uid === currentUid() && runtime !== undefined && runtime.startsWith("/")) return runtime;
  return pathApi.join(osApi.tmpdir(), `asyncio-ts-${uid}`);
}

/** Why `stats` (an `lstat` of `path`) is not a private directory of `uid`, or `null` when it is. */
export function directoryProblem(path: string, stats: Stats, uid: number): string | null {
  if (stats.isSymbolicLink()) return `${path} is a symbolic link`;
  if (!stats.isDirectory()) return `${path} is not a directory`;
  if (uid >= 0 && stats.uid !== uid) return `${path} is owned by uid ${stats.uid}, not ${uid}`;
  if ((stats.mode & 0o077) !== 0) return `${path} has mode ${(stats.mode & 0o777).toString(8).padStart(4, "0")}, wider than 0700 (chmod 700 it)`;
  return null;
}

/**
 * Creates (mode 0700) or reuses the calling user's inspector directory and
 * returns its path; throws an `Error` saying what is wrong when it cannot be
 * trusted or made.
 */
export function ensurePrivateDirectory(path: string = inspectorDirectory()): string {
  try {
    fsApi.mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const problem = directoryProblem(path, fsApi.lstatSync(path), currentUid());
  if (problem !== null) throw new Error(problem);
  return path;
}
