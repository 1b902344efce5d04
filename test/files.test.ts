import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { closeSync, createReadStream, mkdtempSync, openSync, promises as fsPromises, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { inspect } from "node:util";
import {
  CancelledError,
  FileExistsError,
  FileNotFoundError,
  FileStream,
  IncompleteReadError,
  IsADirectoryError,
  createTask,
  forEach,
  fromPromise,
  openFile,
  readFile,
  sleep,
  writeFile,
  type Coro,
} from "../src/index.js";
import { collectGarbage, runCapturing } from "./support.js";

const openFds = (): number => readdirSync("/proc/self/fd").length;
const fdsAtStart = openFds();
const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-files-"));

// 200 MiB of 1 KiB lines: line i is its number, padding, and "\n".
const BIG_LINES = 200 * 1024;
const LINE = 1024;
const bigPath = join(dir, "big.txt");

before(() => {
  const fd = openSync(bigPath, "w");
  const block = Buffer.alloc(1024 * LINE, 0x78);
  for (let first = 0; first < BIG_LINES; first += 1024) {
    for (let j = 0; j < 1024; j++) {
      block.write(String(first + j).padStart(10, "0"), j * LINE);
      block[j * LINE + LINE - 1] = 0x0a;
    }
    writeSync(fd, block);
  }
  closeSync(fd);
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.equal(openFds(), fdsAtStart, "a file descriptor leaked");
});

/** Runs on the real clock (the fs takes real time) and fails on any exception-handler report. */
async function runReal<T>(main: () => Coro<T>): Promise<T> {
  const outcome = await runCapturing(main, { clock: "real" });
  if (outcome.reports.length > 0) throw new Error(`unexpected reports: ${outcome.reports.map((r) => `${r.message} ${String(r.exception)}`).join("; ")}`);
  if ("error" in outcome) throw outcome.error;
  return outcome.value as T;
}

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}

test("a 200 MB file copied reader to writer keeps memory bounded and the bytes equal", async () => {
  const copyPath = join(dir, "copy.txt");
  await collectGarbage();
  const baseline = process.memoryUsage.rss();
  const peak = await runReal(function* () {
    const source = yield* openFile(bigPath);
    const target = yield* openFile(copyPath, { flags: "w" });
    let peak = 0;
    let chunks = 0;
    for (;;) {
      const chunk = yield* source.reader!.read(65536);
      if (chunk.length === 0) break;
      target.writer!.write(chunk);
      yield* target.writer!.drain();
      if (++chunks % 64 === 0) peak = Math.max(peak, process.memoryUsage.rss());
    }
    yield* target.close();
    yield* source.close();
    return peak;
  });
  assert.ok(peak - baseline < 64 * 1024 * 1024, `RSS grew ${((peak - baseline) / 2 ** 20).toFixed(1)} MB`);
  assert.equal(await sha256(copyPath), await sha256(bigPath));
  rmSync(copyPath);
});

test("forEach over a file's reader gives its lines in order", async () => {
  const [count, first, last, wrong] = await runReal(function* () {
    const file = yield* openFile(bigPath);
    let count = 0;
    let wrong = 0;
    let first = "";
    let last = "";
    yield* forEach(file.reader!, (line) => {
      if (line.length !== LINE || Number(line.subarray(0, 10).toString()) !== count) wrong++;
      if (count === 0) first = line.subarray(0, 10).toString();
      last = line.subarray(0, 10).toString();
      count++;
    });
    yield* file.close();
    return [count, first, last, wrong] as const;
  });
  assert.equal(count, BIG_LINES);
  assert.equal(first, "0000000000");
  assert.equal(last, String(BIG_LINES - 1).padStart(10, "0"));
  assert.equal(wrong, 0);
});

test("a cancelled readFile of a large file aborts the read: no result, the task cancelled", async () => {
  const original = fsPromises.readFile;
  const seen: { signal: AbortSignal | undefined; outcome: Promise<string> }[] = [];
  // A spy on the real call: the read runs, and we see its signal and how it ended.
  fsPromises.readFile = ((...args: Parameters<typeof original>) => {
    const promise = original(...args);
    const options = args[1] as { signal?: AbortSignal };
    seen.push({ signal: options.signal, outcome: promise.then(() => "completed", (error: Error) => error.name) });
    return promise;
  }) as typeof original;
  try {
    const [cancelled, result] = await runReal(function* () {
      const task = createTask(readFile(bigPath));
      yield* sleep(0);
      task.cancel();
      try {
        return [false, yield* task] as const;
      } catch (error) {
        return [error instanceof CancelledError && task.cancelled(), null] as const;
      }
    });
    assert.ok(cancelled);
    assert.equal(result, null);
  } finally {
    fsPromises.readFile = original;
  }
  assert.equal(seen.length, 1);
  assert.ok(seen[0]!.signal?.aborted, "the fs read's signal was not aborted");
  assert.equal(await seen[0]!.outcome, "AbortError");
});

test("a missing file is ENOENT naming the path, from openFile and readFile", async () => {
  const missing = join(dir, "no-such-file.txt");
  const calls: (() => Coro<unknown>)[] = [() => openFile(missing), () => readFile(missing)];
  for (const call of calls) {
    const outcome = await runCapturing(call, { clock: "real" });
    const error = outcome.error as NodeJS.ErrnoException;
    assert.equal(error.code, "ENOENT");
    assert.equal(error.path, missing);
    assert.ok(error.message.includes(missing));
  }
});

test("a missing file is a FileNotFoundError naming the path, from openFile, readFile and writeFile", async () => {
  const missing = join(dir, "no-such-dir", "no-such-file.txt");
  const calls: (() => Coro<unknown>)[] = [() => openFile(missing), () => readFile(missing), () => writeFile(missing, "x"), () => openFile(missing, { flags: "w" })];
  for (const call of calls) {
    const outcome = await runCapturing(call, { clock: "real" });
    const error = outcome.error;
    assert.ok(error instanceof FileNotFoundError, String(error));
    assert.equal(error.name, "FileNotFoundError");
    assert.equal(error.code, "ENOENT");
    assert.equal(error.path, missing);
    assert.ok(error.message.includes(missing), error.message);
    assert.equal((error.cause as NodeJS.ErrnoException).code, "ENOENT");
  }
});

test("exclusive creation of an existing file is a FileExistsError, reading a directory an IsADirectoryError naming it", async () => {
  const existing = join(dir, "exists.txt");
  await runReal(() => writeFile(existing, "here"));
  const exists = await runCapturing(() => openFile(existing, { flags: "wx" }), { clock: "real" });
  assert.ok(exists.error instanceof FileExistsError, String(exists.error));
  const directory = await runCapturing(() => readFile(dir), { clock: "real" });
  assert.ok(directory.error instanceof IsADirectoryError, String(directory.error));
  assert.equal(directory.error.path, dir, "named though Node's error does not");
  assert.equal(directory.error.message, `EISDIR: illegal operation on a directory, read: '${dir}'`);
});

test("writeFile then readFile round-trips bytes and strings", async () => {
  const path = join(dir, "round.txt");
  const [text, bytes] = await runReal(function* () {
    yield* writeFile(path, "héllo\n");
    const text = yield* readFile(path, { encoding: "utf8" });
    yield* writeFile(path, new Uint8Array([1, 2, 3]));
    const bytes = yield* readFile(path);
    return [text, bytes] as const;
  });
  assert.equal(text, "héllo\n");
  assert.deepEqual([...bytes], [1, 2, 3]);
});

test("a cancelled writeFile aborts the write", async () => {
  const original = fsPromises.writeFile;
  let signal: AbortSignal | undefined;
  fsPromises.writeFile = ((...args: Parameters<typeof original>) => {
    signal = (args[2] as { signal?: AbortSignal }).signal;
    return original(...args);
  }) as typeof original;
  try {
    const outcome = await runCapturing(
      function* () {
        const task = createTask(writeFile(join(dir, "big-write.bin"), Buffer.alloc(64 * 1024 * 1024)));
        yield* sleep(0);
        task.cancel();
        yield* task;
      },
      { clock: "real" },
    );
    assert.ok(outcome.error instanceof CancelledError);
  } finally {
    fsPromises.writeFile = original;
  }
  assert.ok(signal?.aborted);
});

test("a file's reader has readexactly and readuntil, and IncompleteReadError at its end", async () => {
  const path = join(dir, "small.txt");
  const parts = await runReal(function* () {
    yield* writeFile(path, "header;body\ntail");
    const file = yield* openFile(path, { limit: 1024, highWaterMark: 4 });
    assert.equal(file.writer, null);
    const header = (yield* file.reader!.readuntil(";")).toString();
    const body = (yield* file.reader!.readexactly(5)).toString();
    const tail = (yield* file.reader!.readline()).toString();
    let partial = "";
    try {
      yield* file.reader!.readexactly(10);
    } catch (error) {
      assert.ok(error instanceof IncompleteReadError);
      partial = Buffer.from(error.partial).toString();
    }
    yield* file.close();
    return [header, body, tail, partial];
  });
  assert.deepEqual(parts, ["header;", "body\n", "tail", ""]);
});

test("a writer's data is on disk once close() returns; append mode appends", async () => {
  const path = join(dir, "log.txt");
  await runReal(function* () {
    const file = yield* openFile(path, { flags: "w" });
    assert.equal(file.reader, null);
    file.writer!.writelines(["a\n", "b\n"]);
    yield* file.close();
    const more = yield* openFile(path, { flags: "a" });
    more.writer!.write("c\n");
    // Disposal is the same close, as an exit stack's use(file) calls it.
    yield* fromPromise(more[Symbol.asyncDispose]());
    yield* more.close();
  });
  assert.equal(readFileSync(path, "utf8"), "a\nb\nc\n");
});

test("a read-write file has both a reader and a writer and closes once", async () => {
  const path = join(dir, "rw.txt");
  const first = await runReal(function* () {
    yield* writeFile(path, "one\ntwo\n");
    const file = yield* openFile(path, { flags: "r+" });
    const line = (yield* file.reader!.readline()).toString();
    yield* file.writer!.drain();
    yield* file.close();
    yield* file.close();
    return line;
  });
  assert.equal(first, "one\n");
});

test("bad arguments are a TypeError or a RangeError", async () => {
  await runReal(function* () {
    const cases: [() => Coro<unknown>, new (...args: never[]) => Error][] = [
      [() => openFile(42 as never), TypeError],
      [() => openFile(bigPath, { flags: "q" }), RangeError],
      [() => openFile(bigPath, { limit: 0 }), RangeError],
      [() => openFile(bigPath, { highWaterMark: -1 }), RangeError],
      [() => readFile(bigPath, { encoding: "klingon" as BufferEncoding }), RangeError],
      [() => writeFile(join(dir, "x"), 42 as never), TypeError],
      [() => readFile(""), TypeError],
      [() => writeFile("", "data"), TypeError],
    ];
    for (const [call, kind] of cases) {
      try {
        yield* call();
        assert.fail("accepted bad arguments");
      } catch (error) {
        assert.ok(error instanceof kind, String(error));
      }
    }
  });
});

test("FileStream describes itself with its path", async () => {
  await runReal(function* () {
    const file = yield* openFile(bigPath);
    assert.ok(file instanceof FileStream);
    assert.equal(inspect(file), `<FileStream ${JSON.stringify(bigPath)}>`);
    yield* file.close();
    assert.equal(inspect(file), `<FileStream ${JSON.stringify(bigPath)} closed>`);
  });
});

test("an empty path is a TypeError that says so", async () => {
  const outcome = await runCapturing(() => openFile(""), { clock: "real" });
  assert.ok(outcome.error instanceof TypeError);
  assert.equal(outcome.error.message, "openFile() takes a path, got an empty string");
});

test("close() raises the error of a write that failed (ENOSPC on /dev/full)", { skip: readdirSync("/dev").includes("full") ? false : "no /dev/full on this host" }, async () => {
  const outcome = await runCapturing(function* () {
    const file = yield* openFile("/dev/full", { flags: "w" });
    file.writer!.write("no room for this");
    yield* file.close();
  }, { clock: "real" });
  assert.equal((outcome.error as NodeJS.ErrnoException).code, "ENOSPC");
});

test("closing a file whose write stream was destroyed is not an error", async () => {
  const path = join(dir, "destroyed.txt");
  await runReal(function* () {
    const file = yield* openFile(path, { flags: "w" });
    (file.writer!.getExtraInfo("pipe") as NodeJS.WritableStream & { destroy(): void }).destroy();
    yield* file.close();
  });
});

test("a file opened by a task cancelled while opening is closed when the open completes", async () => {
  const path = join(dir, "cancelled-open.txt");
  await fsPromises.writeFile(path, "x");
  const fdsOnPath = (): number => readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === realpathSync(path);
    } catch {
      return false;
    }
  }).length;
  // Keep the handle the cancelled open produces: only openFile can close it (not the GC).
  const realOpen = fsPromises.open;
  let opened: Promise<fsPromises.FileHandle> | null = null;
  fsPromises.open = ((...args: Parameters<typeof realOpen>) => (opened = realOpen(...args))) as typeof realOpen;
  let outcome;
  try {
    outcome = await runCapturing(function* () {
      const opening = createTask(openFile(path), { eagerStart: true });
      opening.cancel();
      try {
        yield* opening;
      } catch (error) {
        return error;
      }
      return "opened";
    }, { clock: "real" });
  } finally {
    fsPromises.open = realOpen;
  }
  assert.ok(outcome.value instanceof CancelledError, String(outcome.value));
  const handle = await opened!;
  for (let waited = 0; fdsOnPath() > 0 && waited < 10_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(fdsOnPath(), 0);
  assert.equal(handle.fd, -1, "the handle is closed");
});
