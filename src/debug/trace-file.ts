/**
 * A Trace Event Format file written as the run goes: events are appended to
 * a bounded buffer, and each full chunk (64 KiB) is written in the background
 * (libuv's thread pool) at its reserved offset; with two chunks already in
 * flight, the next one is written synchronously, so memory stays bounded
 * however long the run and however slow the disk.
 *
 * `checkpoint()` makes the file complete, valid JSON now — it writes what is
 * buffered (and again, synchronously, what is still in flight, an idempotent
 * rewrite of the same bytes at the same offsets) followed by the closing
 * `]}` — without closing it: later events overwrite the closing and the next
 * checkpoint writes it again. Every ending of the run calls it.
 *
 * A failure (a bad path, a full disk) is one warning line on stderr; the
 * writer then drops everything and the run goes on untraced.
 */
import type * as fs from "node:fs";
import { lazyBuiltin } from "../host.js";
import { warn } from "./endings.js";

const fsApi = lazyBuiltin<typeof fs>("node:fs", "Trace files");

const header = '{"displayTimeUnit":"ms","traceEvents":[\n';
const trailer = "\n]}\n";
/** Buffered characters that make a chunk. */
const chunkChars = 64 * 1024;
/** Chunks written in the background at once; more are written synchronously. */
const maxInFlight = 2;

// What fails here is the fs (open, write): always an Error.
function message(error: unknown): string {
  return (error as Error).message;
}

/** Appends JSON events to a trace file, streaming. */
export class TraceFileWriter {
  private fd: number | null;
  /** Bytes of the file before the closing (header and events written or in flight). */
  private position = 0;
  /** Events not yet handed to a write (a V8 rope: appending is cheap, flattened once per chunk). */
  private pending = "";
  private first = true;
  private readonly inFlight = new Map<number, Buffer>();
  private closing = false;
  private failed = false;
  private readonly whenClosed: Array<() => void> = [];

  /**
   * Opens (truncates) `path` and writes its opening; on failure warns and
   * returns a writer that ignores everything (`ok` false).
   */
  constructor(
    readonly path: string,
    private readonly onFailure: () => void = () => {},
  ) {
    try {
      this.fd = fsApi.openSync(path, "w");
    } catch (error) {
      this.fd = null;
      this.fail(error);
      return;
    }
    this.writeNow(Buffer.from(header + trailer), 0);
    this.position = Buffer.byteLength(header);
  }

  /** False once the file could not be opened or written. */
  get ok(): boolean {
    return !this.failed;
  }

  /** Appends one event (its JSON text). */
  append(json: string): void {
    if (this.failed || this.closing) return;
    if (this.first) {
      this.first = false;
      this.pending = json;
    } else {
      this.pending += ",\n" + json;
    }
    if (this.pending.length >= chunkChars) this.flush();
  }

  /** Starts writing the buffered events (in the background while few writes are in flight). */
  // Called by append() only: with events pending, and an fd (append ignores
  // everything once failed or closing, the only states without one).
  private flush(): void {
    const fd = this.fd!;
    const chunk = Buffer.from(this.pending);
    this.pending = "";
    const at = this.position;
    this.position += chunk.length;
    if (this.inFlight.size >= maxInFlight) return this.writeNow(chunk, at);
    this.inFlight.set(at, chunk);
    fsApi.write(fd, chunk, 0, chunk.length, at, (error) => {
      this.inFlight.delete(at);
      if (error !== null) this.fail(error);
      this.closeIfDone();
    });
  }

  private writeNow(bytes: Buffer, at: number): void {
    if (this.failed || this.fd === null) return;
    try {
      let done = 0;
      while (done < bytes.length) done += fsApi.writeSync(this.fd, bytes, done, bytes.length - done, at + done);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Makes the file complete, valid JSON now, synchronously; the writer stays open. */
  checkpoint(): void {
    if (this.failed || this.fd === null) return;
    for (const [at, chunk] of [...this.inFlight].sort((a, b) => a[0] - b[0])) this.writeNow(chunk, at);
    if (this.pending.length > 0) {
      const chunk = Buffer.from(this.pending);
      this.pending = "";
      this.writeNow(chunk, this.position);
      this.position += chunk.length;
    }
    this.writeNow(Buffer.from(trailer), this.position);
  }

  /** Checkpoints and closes the file (once the background writes are done); later events are ignored. */
  close(): void {
    if (this.closing) return;
    this.checkpoint();
    this.closing = true;
    this.closeIfDone();
  }

  /** Resolves once every background write has finished and the file is closed. */
  closed(): Promise<void> {
    if (this.fd === null) return Promise.resolve();
    return new Promise((resolve) => this.whenClosed.push(resolve));
  }

  private closeIfDone(): void {
    // Never close under a background write: the number could be reused by another open and written to.
    if (!(this.closing || this.failed) || this.inFlight.size > 0 || this.fd === null) return;
    try {
      fsApi.closeSync(this.fd);
    } catch {
      // closed already
    }
    this.fd = null;
    for (const resolve of this.whenClosed.splice(0)) resolve();
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.pending = "";
    warn(`trace ${this.path}: ${message(error)}; tracing stopped, the run goes on`);
    this.onFailure();
    this.closeIfDone();
  }
}
