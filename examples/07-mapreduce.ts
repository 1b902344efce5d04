/**
 * The next chapter: MapReduce. A word count over a directory of text files:
 * map (count the words of one file) runs in an executor, reduce (merge the
 * counts) runs in the driver as the results arrive, through `asCompleted`.
 *
 * The same code runs on one machine (a local `ProcessPoolExecutor`, the
 * default) or across machines (`--redis URL`: a `DistributedExecutor`, the
 * jobs run by `asyncio-ts worker` processes; `--workers N` starts N of them
 * here for the run). Notice: the same top 20 either way.
 *
 *   asyncio-ts example mapreduce --generate 50 /tmp/corpus      # write a corpus, count it
 *   asyncio-ts example mapreduce --redis unix:///tmp/r.sock --workers 2 /tmp/corpus
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ProcessPoolExecutor, asCompleted, fromPromise, run, type ClockOption, type Coro, type Future } from "asyncio-ts";
import { DistributedExecutor } from "asyncio-ts/distributed";
import { countWords, generateCorpus, mergeCounts, topWords } from "./mapreduce-tasks.js";

/** How the example was invoked (`asyncio-ts example mapreduce [options] DIR`). */
export interface MapReduceOptions {
  dir?: string;
  redis?: string;
  workers?: number;
  /** Write a corpus of this many MB into `dir` first. */
  generate?: number;
}

const fromSource = import.meta.url.endsWith(".ts");
const tasks = new URL(fromSource ? "./mapreduce-tasks.ts" : "./mapreduce-tasks.js", import.meta.url);
const cli = new URL(fromSource ? "../src/cli/main.ts" : "../src/cli/main.js", import.meta.url);
const countWordsRef = { module: tasks, name: "countWords" } as const;

/** Starts `n` `asyncio-ts worker` processes on this machine; resolves once each serves the queue. */
export async function startLocalWorkers(redis: string, queue: string, n: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const child = spawn(process.execPath, [...process.execArgv, cli.pathname, "worker", "--redis", redis, "--queue", queue, "--module", tasks.pathname, "--concurrency", "1", "--progress", "0"], {
        // The IPC channel ties them to this program: if it dies, they drain and exit.
        stdio: ["ignore", "pipe", "inherit", "ipc"],
      });
      return new Promise<ChildProcess>((ready, fail) => {
        let out = "";
        child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
          out += chunk;
          if (out.includes(" serving ")) ready(child);
        });
        child.once("exit", (code) => fail(new Error(`a worker exited with status ${code} before serving`)));
      });
    }),
  );
}

/** Stops workers the way an operator would: SIGTERM (they drain), then wait for their exits. */
export async function stopLocalWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map((w) => {
      if (w.exitCode !== null || w.signalCode !== null) return Promise.resolve();
      const exited = new Promise((done) => w.once("exit", done));
      w.kill("SIGTERM");
      return exited;
    }),
  );
}

/**
 * The word count of `files` on `executor`: map in the executor, reduce here as
 * results arrive; `onProgress` hears how many files are counted after each.
 */
export function* wordCount(executor: ProcessPoolExecutor | DistributedExecutor, files: string[], onProgress?: (filesDone: number) => void): Coro<Map<string, number>> {
  const futures: Array<Future<Map<string, number>>> = files.map((file) => executor.submit(countWordsRef, file));
  const total = new Map<string, number>();
  let done = 0;
  for (const next of asCompleted(futures)) {
    mergeCounts(total, yield* next);
    onProgress?.(++done);
  }
  return total;
}

/** A progress bar on stderr, redrawn in place (only on a terminal: stdout stays the report). */
function progressBar(total: number): ((done: number) => void) | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  return (done) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} files${done === total ? "\n" : ""}`);
  };
}

/** Sequential word count on this thread: the baseline the benchmark compares with. */
export function wordCountSequential(files: string[]): Map<string, number> {
  const total = new Map<string, number>();
  for (const file of files) mergeCounts(total, countWords(file));
  return total;
}

export async function main(_clock: ClockOption = "real", options: MapReduceOptions = {}): Promise<void> {
  let dir = options.dir;
  let scratch: string | null = null;
  if (dir === undefined) {
    // The tour passes no directory: count a small generated corpus.
    scratch = mkdtempSync(join(tmpdir(), "asyncio-ts-corpus-"));
    dir = scratch;
    options = { ...options, generate: options.generate ?? 2 };
  }
  dir = resolve(dir);
  if (options.generate !== undefined) {
    generateCorpus(dir, { megabytes: options.generate });
    console.log(`wrote a ${options.generate} MB corpus (seed 42) into ${dir}`);
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no .txt files in ${dir}`);
  const queue = "asyncio-ts-mapreduce";
  const workers = options.redis !== undefined && options.workers !== undefined ? await startLocalWorkers(options.redis, queue, options.workers) : [];
  try {
    await run(function* () {
      const executor =
        options.redis !== undefined ? new DistributedExecutor({ connection: options.redis, queue }) : new ProcessPoolExecutor(options.workers !== undefined ? { maxWorkers: options.workers } : {});
      const where = options.redis !== undefined ? `DistributedExecutor on ${options.redis}${workers.length > 0 ? ` (${workers.length} local workers started)` : ""}` : `ProcessPoolExecutor(${(executor as ProcessPoolExecutor).maxWorkers})`;
      const started = Date.now();
      try {
        const counts = yield* wordCount(executor, files, progressBar(files.length));
        const seconds = (Date.now() - started) / 1000;
        let words = 0;
        for (const n of counts.values()) words += n;
        console.log(`${files.length} files, ${words} words, ${counts.size} distinct, in ${seconds.toFixed(2)} s on ${where}`);
        console.log("top 20:");
        for (const [i, [word, n]] of topWords(counts).entries()) console.log(`${String(i + 1).padStart(3)}. ${word.padEnd(16)} ${n}`);
      } finally {
        yield* fromPromise(executor.shutdown());
      }
    });
  } finally {
    await stopLocalWorkers(workers);
    if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  await main("real", { dir: args[0] });
}
