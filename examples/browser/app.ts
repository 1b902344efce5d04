/**
 * The browser example: a few fetches run as tasks of one `run()`, each inside
 * `timeout(seconds, ...)`; the Cancel button cancels the main task, which
 * cancels the task group's children at their `yield*`, and the cancellation
 * aborts each fetch through its `AbortSignal` (`fromPromise`'s factory form).
 *
 * Bundled with esbuild (`examples/browser/server.ts` does it and serves it);
 * it imports the package root, which pulls in no Node built-in.
 */
import { CancelledError, TimeoutError, currentTask, fromPromise, run, taskGroup, timeout, type Coro, type Task } from "../../src/index.js";

/** One fetch to make: a label, the path on the example server, its timeout in seconds. */
interface Job {
  label: string;
  path: string;
  seconds: number;
}

// The server answers /data?delay=<s> after that many seconds, and /hang never.
const jobs: Job[] = [
  { label: "quick", path: "/data?delay=0.05&name=quick", seconds: 5 },
  { label: "slow", path: "/data?delay=0.3&name=slow", seconds: 5 },
  { label: "too slow", path: "/hang?name=too-slow", seconds: 0.5 },
  { label: "waits for Cancel", path: "/hang?name=cancel-me", seconds: 600 },
];

const rows = new Map<string, HTMLTableRowElement>();

function show(job: Job, state: string, detail = ""): void {
  const row = rows.get(job.label)!;
  row.dataset["state"] = state;
  row.querySelector("td.state")!.textContent = detail === "" ? state : `${state}: ${detail}`;
}

function* fetchText(path: string): Coro<string> {
  const response = yield* fromPromise((signal) => fetch(path, { signal }));
  return yield* fromPromise(response.text());
}

function* runJob(job: Job): Coro<void> {
  show(job, "fetching");
  try {
    const text = yield* timeout(job.seconds, () => fetchText(job.path));
    show(job, "done", text);
  } catch (error) {
    if (error instanceof TimeoutError) show(job, "timed out", `after ${job.seconds} s`);
    else if (error instanceof CancelledError) {
      show(job, "cancelled");
      throw error;
    } else show(job, "failed", String(error));
  }
}

function* main(onStarted: (task: Task<unknown>) => void): Coro<string> {
  onStarted(currentTask()!);
  yield* taskGroup(function* (group) {
    for (const job of jobs) group.createTask(runJob(job), { name: job.label });
  });
  return "all tasks finished";
}

function setUp(): void {
  const body = document.querySelector("#jobs")!;
  for (const job of jobs) {
    const row = document.createElement("tr");
    row.innerHTML = `<td></td><td><code></code></td><td></td><td class="state">waiting</td>`;
    row.cells[0]!.textContent = job.label;
    row.cells[1]!.querySelector("code")!.textContent = job.path;
    row.cells[2]!.textContent = `${job.seconds} s`;
    body.append(row);
    rows.set(job.label, row);
  }
  const start = document.querySelector<HTMLButtonElement>("#start")!;
  const cancel = document.querySelector<HTMLButtonElement>("#cancel")!;
  const summary = document.querySelector("#summary")!;
  start.addEventListener("click", async () => {
    start.disabled = true;
    let mainTask: Task<unknown> | null = null;
    cancel.onclick = () => mainTask?.cancel();
    const started = (task: Task<unknown>): void => {
      mainTask = task;
      cancel.disabled = false;
    };
    try {
      summary.textContent = await run(main(started));
    } catch (error) {
      summary.textContent = error instanceof CancelledError ? "run() ended: the main task was cancelled" : `run() failed: ${String(error)}`;
    } finally {
      cancel.disabled = true;
      document.body.dataset["finished"] = "true";
    }
  });
}

setUp();
