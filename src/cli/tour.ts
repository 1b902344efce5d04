/**
 * `asyncio-ts tour` (and `npm start`): every example of the chapter in
 * order, each with a heading and what to notice, then the pizzeria under
 * load: 100 concurrent orders served in about one bake time.
 */
import { run, type Coro } from "../index.js";
import { placeOrders } from "../pizza/order.js";
import { startPizzeria } from "../pizza/server.js";
import { formatSummary } from "../pizza/stats.js";

/** One runnable example, as examples/index.ts lists them. */
export interface TourExample {
  name: string;
  title: string;
  notice: string;
  run(clock?: "real" | "virtual", invocation?: { args: string[]; redis?: string; workers?: number; generate?: number }): Promise<void> | void;
}

/** Loads the chapter's examples (compiled next to this module in dist/). */
export async function loadExamples(): Promise<TourExample[]> {
  const here = new URL(import.meta.url);
  const extension = here.pathname.endsWith(".ts") ? "ts" : "js";
  const module = (await import(new URL(`../../examples/index.${extension}`, here).href)) as { examples: TourExample[] };
  return module.examples;
}

function heading(index: number, total: number, title: string, notice: string): void {
  console.log(`\n=== ${index}/${total} ${title} ===`);
  console.log(`(notice: ${notice})\n`);
}

/** The pizzeria part of the tour: ephemeral port, 100 concurrent orders, clean shutdown. */
export function* pizzeriaUnderLoad(orders = 100, bake = 1): Coro<void> {
  const pizzeria = yield* startPizzeria({ bake });
  console.log(`pizzeria listening on 127.0.0.1:${pizzeria.port}, bake ${bake} s, ovens unlimited`);
  const summary = yield* placeOrders({ port: pizzeria.port, count: orders, concurrency: orders });
  console.log(formatSummary(summary));
  console.log(`${summary.ok} orders in ${summary.seconds.toFixed(2)} s: about one bake time, not ${orders} of them`);
  yield* pizzeria.shutdown(5);
  console.log("pizzeria shut down cleanly");
}

/** Runs the whole tour. */
export async function tour(): Promise<void> {
  const examples = await loadExamples();
  const total = examples.length + 1;
  for (const [i, example] of examples.entries()) {
    heading(i + 1, total, example.title, example.notice);
    await example.run("real");
  }
  heading(total, total, "The pizzeria under load", "100 concurrent orders take about one bake time");
  await run(() => pizzeriaUnderLoad());
  console.log("\nThat was the chapter. Read docs/chapter.md for the Python-to-TypeScript mapping.");
}
