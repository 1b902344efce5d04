/**
 * Files (issue 20): copying a 200 MB file through `openFile` (reader.read →
 * writer.write/drain) against `stream.promises.pipeline` of fs streams (the
 * baseline) in the same run; and `readFile` against `fs.promises.readFile`.
 */
import { createReadStream, createWriteStream, mkdtempSync, promises as fsPromises, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { openFile, readFile, run } from "../src/index.js";
import { measure, report, smoke } from "./harness.js";

const MEGABYTES = smoke ? 2 : 200;
const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-bench-files-"));
const source = join(dir, "source.bin");
const target = join(dir, "target.bin");

try {
  const block = Buffer.alloc(1024 * 1024, 0x61);
  const handle = await fsPromises.open(source, "w");
  for (let i = 0; i < MEGABYTES; i++) await handle.write(block);
  await handle.close();

  const baseline = await measure("fs streams + stream.pipeline", MEGABYTES, () => pipeline(createReadStream(source), createWriteStream(target)));
  const ours = await measure("openFile reader -> writer", MEGABYTES, () =>
    run(function* () {
      const from = yield* openFile(source);
      const to = yield* openFile(target, { flags: "w" });
      for (;;) {
        const chunk = yield* from.reader!.read(65536);
        if (chunk.length === 0) break;
        to.writer!.write(chunk);
        yield* to.writer!.drain();
      }
      yield* to.close();
      yield* from.close();
    }),
  );
  report(`copy a ${MEGABYTES} MB file (rate in MB/s)`, baseline, [ours]);

  const plainRead = await measure("fs.promises.readFile", MEGABYTES, () => fsPromises.readFile(source));
  const oursRead = await measure("asyncio-ts readFile", MEGABYTES, () => run(() => readFile(source)));
  report(`read a ${MEGABYTES} MB file whole (rate in MB/s)`, plainRead, [oursRead]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
