/** The entry module of a ProcessPoolExecutor child process. */
import { Worker } from "node:worker_threads";
import type { FromWorker, ToWorker } from "./protocol.js";
import { serve } from "./worker-runtime.js";

if (typeof process.send !== "function") throw new Error("process-entry must run in a child process with an IPC channel");
const send = process.send.bind(process);
const handle = serve((message: FromWorker) => {
  send(message);
});
process.on("message", (message: ToWorker) => handle(message));
// The parent going away ends the child.
process.on("disconnect", () => process.exit(0));

// 'disconnect' needs this thread's event loop, which a CPU-bound job holds for
// as long as it runs; and a parent killed with SIGKILL may take the channel's
// end with it unnoticed. So a thread of its own watches the parent: when this
// process is reparented (its parent died, however), it kills the whole process,
// job included, within a poll. A parent's death never leaves a job running.
const PARENT_POLL_MS = 200;
const parentWatch = new Worker(
  `const { workerData: parent } = require("node:worker_threads");
  const check = () => { if (process.ppid !== parent) process.kill(process.pid, "SIGKILL"); };
  check();
  setInterval(check, ${PARENT_POLL_MS});`,
  // The parent as this thread saw it first: one that died before the watch started is caught too.
  { eval: true, workerData: process.ppid, execArgv: [], env: {} },
);
parentWatch.unref();
