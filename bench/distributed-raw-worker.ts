/**
 * The baseline of bench/distributed.bench.ts: a plain BullMQ worker in its
 * own process, running the trivial job inline. Prints "ready" once serving;
 * SIGTERM closes it.
 */
import { Worker } from "bullmq";

const [path, queue, concurrency] = process.argv.slice(2);
const worker = new Worker(queue!, async (job) => (job.data as { x: number }).x + 1, { connection: { path: path!, maxRetriesPerRequest: null }, concurrency: Number(concurrency ?? 1) });
await worker.waitUntilReady();
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
