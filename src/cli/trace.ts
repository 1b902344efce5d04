/** `asyncio-ts trace <file> -o timeline.html`: a trace file as a self-contained HTML timeline. */
import { basename } from "node:path";
import type { Command } from "commander";
import { renderTimelineFile } from "../debug/timeline-html.js";

/** Adds the `trace` command to `program`. */
export function register(program: Command): void {
  program
    .command("trace")
    .description("render a trace written by run(main, { trace }) or ASYNCIO_TS_TRACE as an HTML timeline (streamed: any size)")
    .argument("<file>", "the trace file (Trace Event Format JSON)")
    .option("-o, --output <file>", "where to write the HTML", "timeline.html")
    .action((file: string, options: { output: string }) => {
      const { events, tasks, rows } = renderTimelineFile(file, options.output, `asyncio-ts timeline: ${basename(file)}`);
      console.log(`wrote ${options.output} (${events} events, ${tasks} tasks${rows < tasks ? `, a row for the ${rows} that spent longest stepping` : ""})`);
    });
}
