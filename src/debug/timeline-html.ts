/**
 * Renders a trace file as a self-contained HTML page: one row per task,
 * steps as solid bars, waits as light bars labelled with what they waited
 * for, and a time axis. Inline SVG only: no script, no network.
 */
import type { TraceEvent, TraceFile } from "./trace.js";

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The HTML page for `trace`, titled `title`. */
export function renderTimeline(trace: TraceFile, title = "asyncio-ts timeline"): string {
  const events = trace.traceEvents;
  const names = new Map<number, string>();
  for (const e of events) if (e.ph === "M" && e.name === "thread_name") names.set(e.tid, String(e.args?.["name"] ?? e.tid));
  const tids = [...names.keys()].sort((a, b) => a - b);
  const spans = events.filter((e): e is TraceEvent & { dur: number } => e.ph === "X" && e.dur !== undefined);
  const end = Math.max(1, ...spans.map((e) => e.ts + e.dur), ...events.filter((e) => e.ph === "i").map((e) => e.ts));
  const left = 160;
  const width = 1100;
  const plot = width - left - 20;
  const rowHeight = 26;
  const top = 40;
  const height = top + tids.length * rowHeight + 40;
  const x = (ts: number): number => left + (ts / end) * plot;
  const rowOf = new Map(tids.map((tid, i) => [tid, i]));
  const svg: string[] = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  const ticks = 10;
  for (let i = 0; i <= ticks; i++) {
    const ts = (end / ticks) * i;
    svg.push(`<line x1="${x(ts)}" y1="${top - 6}" x2="${x(ts)}" y2="${height - 30}" stroke="#eee"/>`);
    svg.push(`<text x="${x(ts)}" y="${height - 14}" text-anchor="middle">${(ts / 1e6).toFixed(3)} s</text>`);
  }
  tids.forEach((tid, i) => {
    const y = top + i * rowHeight;
    svg.push(`<text class="track" x="${left - 8}" y="${y + 16}" text-anchor="end">${escape(names.get(tid)!)}</text>`);
    svg.push(`<line x1="${left}" y1="${y + rowHeight - 2}" x2="${width - 20}" y2="${y + rowHeight - 2}" stroke="#f3f3f3"/>`);
  });
  for (const e of spans) {
    const row = rowOf.get(e.tid);
    if (row === undefined) continue;
    const y = top + row * rowHeight;
    const x0 = x(e.ts);
    const w = Math.max(1, x(e.ts + e.dur) - x0);
    if (e.cat === "wait") {
      svg.push(`<rect class="wait" x="${x0}" y="${y + 6}" width="${w}" height="12" fill="#cfe0fb"><title>${escape(e.name)} (${(e.dur / 1e6).toFixed(3)} s)</title></rect>`);
      if (w > 60) svg.push(`<text x="${x0 + 3}" y="${y + 16}" fill="#234">${escape(e.name.replace(/^wait: /, ""))}</text>`);
    } else {
      svg.push(`<rect class="step" x="${x0}" y="${y + 4}" width="${w}" height="16" fill="#2f6fdf"><title>step (${e.dur} µs)</title></rect>`);
    }
  }
  for (const e of events.filter((ev) => ev.ph === "i")) {
    const row = rowOf.get(e.tid);
    if (row === undefined) continue;
    const color = e.name === "failed" ? "#d33" : e.name === "cancelled" ? "#e90" : e.name === "done" ? "#2a2" : "#888";
    svg.push(`<circle cx="${x(e.ts)}" cy="${top + row * rowHeight + 12}" r="3" fill="${color}"><title>${escape(e.name)}</title></circle>`);
  }
  svg.push("</svg>");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;margin:16px;color:#222}h1{font-size:16px}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}</style>
</head><body>
<h1>${escape(title)}</h1>
<p class="legend">${tids.length} tasks, ${(end / 1e6).toFixed(3)} s of loop time.
<span style="background:#2f6fdf"></span>step (the task ran)
<span style="background:#cfe0fb"></span>wait (hover for what it waited on)
<span style="background:#2a2;border-radius:6px"></span>done
<span style="background:#e90;border-radius:6px"></span>cancelled
<span style="background:#d33;border-radius:6px"></span>failed</p>
${svg.join("\n")}
</body></html>
`;
}
