/**
 * Files as streams (aiofiles, AnyIO's and Trio's `open_file`): `openFile`
 * gives a file's `StreamReader` / `StreamWriter`, with the same reads,
 * `drain()` flow control and line iteration as a socket's; `readFile` and
 * `writeFile` are whole-file helpers that abort the fs operation when the
 * task is cancelled.
 */
import type * as fs from "node:fs";
import type { ReadStream, WriteStream } from "node:fs";
import type * as streamPromises from "node:stream/promises";
import { lazyBuiltin } from "./host.js";
import { inspectCustom } from "./repr.js";
import { fromPromise } from "./bridge.js";
import type { Coro } from "./coroutines.js";
import type { Future } from "./futures.js";
import { CancelledError, toOSError } from "./errors.js";
import { getRunningLoop } from "./running-loop.js";
import { DEFAULT_LIMIT, readerOver, writerOver, type StreamReader, type StreamWriter } from "./streams.js";

const fsApi = lazyBuiltin<typeof fs>("node:fs", "Files");
const streamApi = lazyBuiltin<typeof streamPromises>("node:stream/promises", "Files");

/** Options of `openFile`. */
export interface OpenFileOptions {
  /** Node's open flags: `"r"` (default), `"w"`, `"a"`, `"r+"`, `"w+"`, `"wx"`, ... */
  flags?: string;
  /** Reader buffer limit in bytes (default 65536). */
  limit?: number;
  /** Bytes per fs read and the writer's high-water mark (Node's default: 64 KiB reads, 16 KiB writes). */
  highWaterMark?: number;
}

const FLAGS = new Set(["r", "rs", "sr", "r+", "rs+", "sr+", "w", "wx", "xw", "w+", "wx+", "xw+", "a", "ax", "xa", "as", "sa", "a+", "ax+", "xa+", "as+", "sa+"]);

function checkPositive(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * An open file's reader and writer (aiofiles' file object). Close it with
 * `yield* file.close()`, or hand it to an exit stack (`[Symbol.asyncDispose]`).
 */
export class FileStream {
  /** The path the file was opened with. */
  readonly path: string;
  /** Reads the file, when opened for reading (`"r"`, `"r+"`, `"w+"`, `"a+"`, ...). */
  readonly reader: StreamReader | null;
  /** Writes the file, when opened for writing (`"w"`, `"a"`, `"r+"`, ...). */
  readonly writer: StreamWriter | null;
  private readonly handle: fs.promises.FileHandle;
  private readonly readStream: ReadStream | null;
  private readonly writeStream: WriteStream | null;
  private closing: Promise<void> | null = null;

  /** @internal Made by `openFile`. */
  constructor(path: string, handle: fs.promises.FileHandle, readStream: ReadStream | null, writeStream: WriteStream | null, limit: number) {
    const loop = getRunningLoop();
    this.path = path;
    this.handle = handle;
    this.readStream = readStream;
    this.writeStream = writeStream;
    this.reader = readStream !== null ? readerOver(readStream, loop, limit) : null;
    this.writer = writeStream !== null ? writerOver(writeStream, null, loop) : null;
  }

  /**
   * Flushes what was written, then closes the file. Raises the error of a
   * failed write. Closing twice is harmless.
   */
  *close(): Coro<void> {
    yield* fromPromise(this.closeFile());
  }

  /** `await using`-style disposal (an exit stack's `use(file)`): the same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.closeFile();
  }

  private closeFile(): Promise<void> {
    this.closing ??= (async () => {
      let writeError: unknown = null;
      const writeStream = this.writeStream;
      if (writeStream !== null) {
        this.writer!.flushBatch();
        if (!writeStream.writableEnded && !writeStream.destroyed) writeStream.end();
        try {
          await streamApi.finished(writeStream);
        } catch (error) {
          if ((error as { code?: unknown }).code !== "ERR_STREAM_PREMATURE_CLOSE") writeError = error;
        }
        await destroyed(writeStream);
      }
      if (this.readStream !== null) await destroyed(this.readStream);
      // The streams close the handle when they own it; closing again is a no-op.
      await this.handle.close();
      if (writeError !== null) throw toOSError(writeError);
    })();
    return this.closing;
  }

  [inspectCustom](): string {
    return `<FileStream ${JSON.stringify(this.path)}${this.closing !== null ? " closed" : ""}>`;
  }
}

function destroyed(stream: ReadStream | WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => {
    (stream as NodeJS.EventEmitter).once("close", () => resolve());
    stream.destroy();
  });
}

/**
 * Opens a file and returns its `FileStream` (AnyIO's `open_file`). A missing
 * file raises `FileNotFoundError` naming the path (`code: "ENOENT"`); other
 * system errors raise their `OSError` class (`PermissionError`, ...).
 *
 * @example
 * const file = yield* openFile("data.csv");
 * yield* forEach(file.reader!, (line) => console.log(line.toString()));
 * yield* file.close();
 */
export function* openFile(path: string, options: OpenFileOptions = {}): Coro<FileStream> {
  if (typeof path !== "string" || path.length === 0) throw new TypeError(`openFile() takes a path, got ${typeof path === "string" ? "an empty string" : typeof path}`);
  const flags = options.flags ?? "r";
  if (typeof flags !== "string" || !FLAGS.has(flags)) throw new RangeError(`openFile(): invalid flags ${JSON.stringify(flags)}`);
  const limit = checkPositive("limit", options.limit) ?? DEFAULT_LIMIT;
  const highWaterMark = checkPositive("highWaterMark", options.highWaterMark);
  const readable = flags.includes("r") || flags.includes("+");
  const writable = !flags.includes("r") || flags.includes("+");
  const opening = fsApi.promises.open(path, flags);
  let handle: fs.promises.FileHandle;
  try {
    handle = yield* fromPromise(opening);
  } catch (error) {
    // Cancelled while opening: the handle arrives later and must not leak.
    if (error instanceof CancelledError) opening.then((h) => h.close(), () => undefined);
    throw fileError(error, path);
  }
  // One stream alone owns the handle (closes it at its end); two share it, and close() closes it.
  const both = readable && writable;
  const hwm = highWaterMark !== undefined ? { highWaterMark } : {};
  const readStream = readable ? fsApi.createReadStream("", { fd: handle, autoClose: !both, ...hwm }) : null;
  const writeStream = writable ? fsApi.createWriteStream("", { fd: handle, autoClose: !both, ...hwm }) : null;
  return new FileStream(path, handle, readStream, writeStream, limit);
}

/** Options of `readFile`. */
export interface ReadFileOptions {
  /** Decode the contents (`"utf8"`, ...) and return a string; without it, bytes. */
  encoding?: BufferEncoding;
}

/**
 * Reads a whole file (bytes, or a string with `encoding`). Cancelling the
 * task aborts the read. A missing file raises `FileNotFoundError` (`ENOENT`,
 * naming the path); other system errors their `OSError` class.
 */
export function readFile(path: string, options?: { encoding?: undefined }): Coro<Buffer>;
export function readFile(path: string, options: { encoding: BufferEncoding }): Coro<string>;
export function readFile(path: string, options?: ReadFileOptions): Coro<Buffer | string>;
export function* readFile(path: string, options: ReadFileOptions = {}): Coro<Buffer | string> {
  if (typeof path !== "string" || path.length === 0) throw new TypeError("readFile() takes a path");
  const encoding = options.encoding;
  if (encoding !== undefined && !Buffer.isEncoding(encoding)) throw new RangeError(`readFile(): unknown encoding ${JSON.stringify(encoding)}`);
  return yield* withOSErrors(path, fromPromise<Buffer | string>((signal) => (encoding !== undefined ? fsApi.promises.readFile(path, { encoding, signal }) : fsApi.promises.readFile(path, { signal }))));
}

/**
 * Writes `data` (bytes, or a string as UTF-8) to a file, replacing it.
 * Cancelling the task aborts the write (the file may be left partly written).
 * A system error raises its `OSError` class (`FileNotFoundError` for a
 * missing directory, `PermissionError`, ...).
 */
export function* writeFile(path: string, data: Uint8Array | string, options: { flags?: string } = {}): Coro<void> {
  if (typeof path !== "string" || path.length === 0) throw new TypeError("writeFile() takes a path");
  if (typeof data !== "string" && !(data instanceof Uint8Array)) throw new TypeError(`writeFile() takes bytes (Uint8Array) or a string, got ${typeof data}`);
  const flag = options.flags ?? "w";
  yield* withOSErrors(path, fromPromise((signal) => fsApi.promises.writeFile(path, data, { signal, flag })));
}

// Waits for an operation on `path`, raising its system error as Python's OSError class for the code.
function* withOSErrors<T>(path: string, operation: Future<T>): Coro<T> {
  try {
    return yield* operation;
  } catch (error) {
    throw fileError(error, path);
  }
}

// A system error about `path`, which it names even where the host did not (EISDIR from a read).
function fileError(error: unknown, path: string): unknown {
  const host = error as { code?: unknown; path?: unknown; message?: unknown } | null;
  if (host === null || typeof host !== "object" || typeof host.path === "string" || typeof host.code !== "string") return toOSError(error);
  return toOSError(error, { path, message: `${String(host.message)}: '${path}'` });
}
