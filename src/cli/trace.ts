/** `asyncio-ts trace <file> -o timeline.html`: a trace file as a self-contained HTML timeline. */
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import { renderTimeline } from "../debug/timeline-html.js";
import type { TraceFile } from "../debug/trace.js";

/** Adds the `trace` command to `program`. */
export function register(program: Command): void {
  program
    .command("trace")
    .description("render a trace written by run(main, { trace }) or ASYNCIO_TS_TRACE as an HTML timeline")
    .argument("<file>", "the trace file (Trace Event Format JSON)")
    .option("-o, --output <file>", "where to write the HTML", "timeline.html")
    .action((file: string, options: { output: string }) => {
      const trace = JSON.parse(readFileSync(file, "utf8")) as TraceFile;
      if (!Array.isArray(trace.traceEvents)) throw new Error(`${file} is not a trace file (no traceEvents)`);
      writeFileSync(options.output, renderTimeline(trace, `asyncio-ts timeline: ${basename(file)}`));
      console.log(`wrote ${options.output} (${trace.traceEvents.length} events)`);
    });
}
