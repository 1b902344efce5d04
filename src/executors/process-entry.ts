/** The entry module of a ProcessPoolExecutor child process. */
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
