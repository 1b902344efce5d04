/**
 * What travels through Redis between a `DistributedExecutor` and its
 * workers: the job data (a function reference and serialised arguments),
 * the result envelope, and the keys of cancellation.
 *
 * A job's data is JSON (BullMQ stores it so); its arguments are serialised
 * bytes inside it, base64-encoded, so `bigint`, `Map`, `Set`, `Date` and typed
 * arrays survive (v8 serialisation by default).
 *
 * A job's end never travels through the queue's event stream (Redis trims it,
 * and it would keep every result): the worker pushes a reply frame onto the
 * submitter's own reply list, in the same script that checks the job is still
 * in Redis, before BullMQ marks the job finished. So a submitter that sees
 * a job gone or finished and then finds no reply in its list knows the reply
 * will never come.
 */
import { deserialize as v8Deserialize, serialize as v8Serialize } from "node:v8";
import type { RemoteError } from "../executors/protocol.js";

/** Turns values into bytes and back; both sides of a queue must use the same one. */
export interface Serializer {
  /** Turns a value into bytes. */
  serialize(value: unknown): Uint8Array;
  /** Turns bytes made by `serialize` back into the value. */
  deserialize(bytes: Uint8Array): unknown;
}

/** Node's structured serialisation (`node:v8`): the default. */
export const v8Serializer: Serializer = {
  serialize: (value) => v8Serialize(value),
  deserialize: (bytes) => v8Deserialize(bytes) as unknown,
};

/** How a job names its function: the module as the submitter wrote it, its resolved URL, the export name. */
export interface JobFunction {
  module: string;
  url: string;
  name: string;
}

/** The data of one job: one call (`run`) or one chunk of a `map` (`map`). */
export interface JobData {
  v: 1;
  kind: "run" | "map";
  fn: JobFunction;
  /** base64 of the serialised argument list (`run`) or item list (`map`). */
  payload: string;
  /** The submitter's reply list (`replyListKey`); a job without one (added by hand) gets no reply. */
  reply?: string;
}

/** What a job returns (serialised, base64): the function's outcome, so a user error never counts as a failed attempt. */
export type JobOutcome = { ok: true; value: unknown } | { ok: false; error: RemoteError };

/**
 * What a worker pushes onto the reply list: the outcome, or the reason the job
 * failed for good (its attempts spent, cancelled, refused).
 */
export type JobReply = JobOutcome | { ok: false; failed: string };

/** One reply list entry: the job id, a newline, the serialised reply. */
export function encodeReplyFrame(serializer: Serializer, jobId: string, reply: JobReply): Buffer {
  return Buffer.concat([Buffer.from(`${jobId}\n`), serializer.serialize(reply)]);
}

/** The job id and the still-serialised reply of a frame. */
export function splitReplyFrame(frame: Buffer): { jobId: string; body: Buffer } {
  const newline = frame.indexOf(10);
  if (newline < 0) return { jobId: "", body: frame };
  return { jobId: frame.subarray(0, newline).toString(), body: frame.subarray(newline + 1) };
}

export function encode(serializer: Serializer, value: unknown): string {
  return Buffer.from(serializer.serialize(value)).toString("base64");
}

export function decode(serializer: Serializer, text: string): unknown {
  return serializer.deserialize(Buffer.from(text, "base64"));
}

/** What a message names a thrown value by: its `message`, else the value itself. */
export function messageOf(error: unknown): string {
  return String((error as Error).message ?? error);
}

/** A thrown value, as data that keeps name, message, stack (and `code`). */
export function toRemoteError(error: unknown): RemoteError {
  if (error instanceof Error) {
    const remote: RemoteError = { name: error.name, message: error.message, stack: error.stack };
    const code = (error as { code?: unknown }).code;
    if (code !== undefined) remote.fields = { code };
    return remote;
  }
  return { name: "Error", message: `non-error thrown: ${String(error)}`, stack: undefined };
}

export { fromRemoteError } from "../executors/protocol.js";

/** BullMQ's default key prefix. */
export const DEFAULT_PREFIX = "bull";

/** The key that marks a job cancelled (checked by a worker when it takes the job). */
export function cancelKey(prefix: string, queue: string, jobId: string): string {
  return `${prefix}:${queue}:asyncio-ts:cancelled:${jobId}`;
}

/** The channel on which submitters announce cancellations of running jobs. */
export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:asyncio-ts:cancel`;
}

/** The hash in which BullMQ keeps a job (and its data). */
export function jobKey(prefix: string, queue: string, jobId: string): string {
  return `${prefix}:${queue}:${jobId}`;
}

/** Where a submitter's replies arrive: one list per `DistributedExecutor`. */
export function replyListKey(prefix: string, queue: string, submitter: string): string {
  return `${prefix}:${queue}:asyncio-ts:replies:${submitter}`;
}

/** Whether `key` is a reply list of `queue` (a worker pushes nowhere else). */
export function isReplyListKey(prefix: string, queue: string, key: string): boolean {
  return key.startsWith(`${prefix}:${queue}:asyncio-ts:replies:`);
}

/**
 * Pushes a reply frame, but only while the job is still in Redis: a job run
 * again after it ended, or one a restarted Redis forgot, leaves nothing
 * behind. The list expires `REPLY_TTL_MS` after its last push, in case its
 * submitter died. KEYS: job hash, reply list; ARGV: frame, ttl.
 */
export const DELIVER_SCRIPT = `if redis.call("exists", KEYS[1]) == 0 then return 0 end
redis.call("rpush", KEYS[2], ARGV[1])
redis.call("pexpire", KEYS[2], ARGV[2])
return 1`;

/** Milliseconds a reply list outlives its last push (a dead submitter's replies then go). */
export const REPLY_TTL_MS = 3_600_000;

/** For each job hash of KEYS: 0 gone, 1 in the queue or running, 2 finished (completed or failed). */
export const JOB_STATES_SCRIPT = `local states = {}
for i, key in ipairs(KEYS) do
  if redis.call("exists", key) == 0 then states[i] = 0
  elseif redis.call("hexists", key, "finishedOn") == 1 then states[i] = 2
  else states[i] = 1 end
end
return states`;

/** Seconds a cancellation mark lives (long enough for any worker to see it). */
export const CANCEL_MARK_TTL = 120;
