/** The entry module of a ThreadPoolExecutor worker thread. */
import { parentPort } from "node:worker_threads";
import type { FromWorker, ToWorker } from "./protocol.js";
import { serve } from "./worker-runtime.js";

if (parentPort === null) throw new Error("thread-entry must run in a worker thread");
const port = parentPort;
const handle = serve((message: FromWorker) => port.postMessage(message));
port.on("message", (message: ToWorker) => handle(message));
