/**
 * What travels through Redis between a `DistributedExecutor` and its
 * workers: the job data (a function reference and serialised arguments),
 * the result envelope, and the keys of cancellation.
 *
 * A job's data is JSON (BullMQ stores it so); arguments and results are
 * serialised bytes inside it, base64-encoded, so `bigint`, `Map`, `Set`,
 * `Date` and typed arrays survive (v8 serialisation by default).
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
}

/** What a job returns (serialised, base64): the function's outcome, so a user error never counts as a failed attempt. */
export type JobOutcome = { ok: true; value: unknown } | { ok: false; error: RemoteError };

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

/** An `Error` rebuilt from its data, with the remote name and stack. */
export function fromRemoteError(remote: RemoteError): Error {
  const error = new Error(remote.message);
  Object.defineProperty(error, "name", { value: remote.name, configurable: true, writable: true });
  if (remote.stack !== undefined) error.stack = remote.stack;
  if (remote.fields !== undefined) {
    for (const [key, value] of Object.entries(remote.fields)) Object.defineProperty(error, key, { value, configurable: true, writable: true, enumerable: true });
  }
  return error;
}

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

/** Seconds a cancellation mark lives (long enough for any worker to see it). */
export const CANCEL_MARK_TTL = 120;
