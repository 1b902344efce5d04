/**
 * Subprocesses (issue 20): spawn-and-wait of 1,000 `true` children (50 at a
 * time) and 100 MB through `cat` with `communicate()`, in asyncio-ts, plain
 * `child_process` (the baseline) and Python asyncio (3.13 when pyenv has it)
 * in the same run. Python's figure is its own in-process timing (interpreter
 * start-up excluded).
 */
import { spawn, spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PIPE, Semaphore, createSubprocessExec, gather, run, type Coro } from "../src/index.js";
import { measure, report, runs, size, smoke, type Measurement } from "./harness.js";

const CHILDREN = size(1_000, 20);
const CONCURRENCY = 50;
const MEGABYTES = smoke ? 1 : 100;
const here = dirname(fileURLToPath(import.meta.url));

// --- asyncio-ts ----------------------------------------------------------------

function oursSpawnAndWait(): Promise<void> {
  return run(function* () {
    const limit = new Semaphore(CONCURRENCY);
    function* one(): Coro<void> {
      yield* limit.hold(function* () {
        const proc = yield* createSubprocessExec("true");
        yield* proc.wait();
      });
    }
    yield* gather(...Array.from({ length: CHILDREN }, () => one()));
  });
}

function oursPipe(data: Buffer): Promise<void> {
  return run(function* () {
    const proc = yield* createSubprocessExec("cat", [], { stdin: PIPE, stdout: PIPE });
    const [out] = yield* proc.communicate(data);
    if (out!.length !== data.length) throw new Error("short copy");
  });
}

// --- plain child_process --------------------------------------------------------

function plainOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("true", [], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", () => resolve());
  });
}

async function plainSpawnAndWait(): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CHILDREN) {
        next++;
        await plainOne();
      }
    }),
  );
}

function plainPipe(data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("cat", [], { stdio: ["pipe", "pipe", "inherit"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", reject);
    child.on("close", () => (Buffer.concat(chunks).length === data.length ? resolve() : reject(new Error("short copy"))));
    child.stdin.end(data);
  });
}

// --- Python asyncio ---------------------------------------------------------------

function findPython(): NodeJS.ProcessEnv | null {
  for (const env of [{ ...process.env, PYENV_VERSION: "3.13.0" }, process.env]) {
    if (spawnSync("python3", ["--version"], { env }).status === 0) return env;
  }
  return null;
}

function python(env: NodeJS.ProcessEnv, name: string, workload: "spawn" | "pipe", items: number): Measurement | null {
  const times: number[] = [];
  const sizes = JSON.stringify({ children: CHILDREN, concurrency: CONCURRENCY, megabytes: MEGABYTES });
  for (let i = 0; i < runs + (smoke ? 0 : 1); i++) {
    const result = spawnSync("python3", [join(here, "python", "subprocess_io.py"), sizes, workload], { env, encoding: "utf8" });
    if (result.status !== 0) {
      console.log(`  (Python ${workload} failed: ${result.stderr.trim().split("\n").pop()})`);
      return null;
    }
    if (i > 0 || smoke) times.push((JSON.parse(result.stdout.trim().split("\n").pop()!) as { seconds: number }).seconds);
  }
  times.sort((a, b) => a - b);
  return { name, median: times[Math.floor(times.length / 2)]!, min: times[0]!, max: times[times.length - 1]!, items };
}

const pythonEnv = findPython();

const plainSpawn = await measure("child_process spawn+exit", CHILDREN, plainSpawnAndWait);
const oursSpawn = await measure("asyncio-ts createSubprocessExec+wait", CHILDREN, oursSpawnAndWait);
const pySpawn = pythonEnv !== null ? python(pythonEnv, "Python asyncio create_subprocess_exec", "spawn", CHILDREN) : null;
report(`spawn and wait ${CHILDREN} \`true\` (${CONCURRENCY} at a time)`, plainSpawn, [oursSpawn, ...(pySpawn !== null ? [pySpawn] : [])]);

// Allocated only now: Node forks its whole address space to spawn, so a 100 MB buffer would slow the spawns.
const data = Buffer.alloc(MEGABYTES * 1024 * 1024, 0x78);
const plainCat = await measure("child_process stdin.end + data", MEGABYTES, () => plainPipe(data));
const oursCat = await measure("asyncio-ts communicate", MEGABYTES, () => oursPipe(data));
const pyCat = pythonEnv !== null ? python(pythonEnv, "Python asyncio communicate", "pipe", MEGABYTES) : null;
report(`${MEGABYTES} MB through cat (rate in MB/s)`, plainCat, [oursCat, ...(pyCat !== null ? [pyCat] : [])]);
if (pythonEnv === null) console.log("  (python3 not found: no Python figures)");
