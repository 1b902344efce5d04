/**
 * Reads the events of a Trace Event Format file one at a time, in bounded
 * memory: the file is read in chunks and scanned for the objects of its
 * `traceEvents` array (or of a top-level array, the format's other form),
 * each parsed on its own, so a trace of any size is never one string or one
 * parsed tree. Memory is a chunk plus the event being read.
 *
 * The scan needs no line structure: the files `run(main, { trace })` writes
 * have one event per line, but a trace re-saved by another tool on one line
 * reads the same.
 */
import type * as fs from "node:fs";
import { lazyBuiltin } from "../host.js";
import type { TraceEvent } from "./trace.js";

const fsApi = lazyBuiltin<typeof fs>("node:fs", "Reading trace files");

/** Bytes read at once. */
const chunkBytes = 1 << 20;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The scanner's state between chunks. Depth counts the open objects and
 * arrays outside strings; the events are the objects that open at
 * `eventDepth` (2 inside `{"traceEvents":[...]}`, 1 inside a top-level array).
 */
class EventScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Depth at which an event object opens; -1 while not inside the events array. */
  private eventDepth = -1;
  /** The text of the last string closed at depth 1 (the root object's last key). */
  private lastKey = "";
  private keyStart = -1;
  private keyCarry = "";
  /** The event being read when the previous chunk ended (its text so far), or null. */
  private carry: string | null = null;
  /** Whether the events array was found. */
  foundEvents = false;
  events = 0;

  constructor(private readonly visit: (event: TraceEvent) => void) {}

  /** Scans the next piece of the file's text. */
  scan(chunk: string): void {
    let text = chunk;
    let eventStart = -1;
    let from = 0;
    if (this.carry !== null) {
      text = this.carry + chunk;
      from = this.carry.length;
      eventStart = 0;
      this.carry = null;
    }
    if (this.keyStart >= 0) this.keyStart = 0;
    for (let i = from; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (code === BACKSLASH) this.escaped = true;
        else if (code === QUOTE) {
          this.inString = false;
          if (this.keyStart >= 0) {
            this.lastKey = this.keyCarry + text.slice(this.keyStart, i);
            this.keyStart = -1;
            this.keyCarry = "";
          }
        }
        continue;
      }
      if (code === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && this.eventDepth === -1) this.keyStart = i + 1;
      } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        if (code === OPEN_BRACKET && (this.depth === 0 || (this.depth === 1 && this.lastKey === "traceEvents"))) {
          this.eventDepth = this.depth + 1;
          this.foundEvents = true;
        }
        if (code === OPEN_BRACE && this.depth === this.eventDepth) eventStart = i;
        this.depth++;
      } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        this.depth--;
        if (code === CLOSE_BRACE && this.depth === this.eventDepth && eventStart >= 0) {
          this.events++;
          this.visit(JSON.parse(text.slice(eventStart, i + 1)) as TraceEvent);
          eventStart = -1;
        } else if (code === CLOSE_BRACKET && this.depth === this.eventDepth - 1) {
          this.eventDepth = -1;
        }
      }
    }
    if (eventStart >= 0) this.carry = text.slice(eventStart);
    if (this.keyStart >= 0) this.keyCarry += text.slice(this.keyStart);
  }

  /** Checks that the file ended where a trace may end. */
  finish(path: string): void {
    if (this.carry !== null || this.inString || this.depth !== 0) throw new SyntaxError(`${path}: the trace ends in the middle of an event (a truncated file?)`);
  }
}

/**
 * Calls `visit` with each event of the trace file at `path`, in file order,
 * reading it in chunks; returns how many events there were. Throws
 * `SyntaxError` for a file that is not a trace (no `traceEvents` array and
 * not an array) or that ends inside an event.
 */
export function readTraceEvents(path: string, visit: (event: TraceEvent) => void): number {
  const fd = fsApi.openSync(path, "r");
  const scanner = new EventScanner(visit);
  const decoder = new TextDecoder("utf-8");
  const buffer = Buffer.allocUnsafe(chunkBytes);
  try {
    for (;;) {
      const read = fsApi.readSync(fd, buffer, 0, chunkBytes, null);
      if (read === 0) break;
      const text = decoder.decode(buffer.subarray(0, read), { stream: true });
      scanner.scan(text);
    }
    scanner.scan(decoder.decode());
  } finally {
    fsApi.closeSync(fd);
  }
  scanner.finish(path);
  if (!scanner.foundEvents) throw new SyntaxError(`${path} is not a trace file (no traceEvents)`);
  return scanner.events;
}
