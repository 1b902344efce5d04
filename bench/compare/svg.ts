/**
 * A horizontal bar chart as a standalone SVG (no browser, no library): for
 * each workload, each system's time relative to asyncio-ts on a log scale.
 */
export interface ChartRow {
  workload: string;
  /** system -> time ratio to asyncio-ts (1 = same), or null when absent. */
  ratios: Record<string, number | null>;
}

const COLORS: Record<string, string> = { "asyncio-ts": "#2f6fdf", native: "#888888", effection: "#e39b21", python: "#3a9a4a" };

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function renderChart(rows: ChartRow[], systems: string[]): string {
  const barHeight = 14;
  const groupGap = 14;
  const left = 110;
  const width = 720;
  const plot = width - left - 70;
  const minLog = Math.log10(0.1);
  const maxLog = Math.log10(100);
  const x = (ratio: number): number => left + ((Math.log10(Math.min(100, Math.max(0.1, ratio))) - minLog) / (maxLog - minLog)) * plot;
  const groupHeight = systems.length * barHeight + groupGap;
  const height = 60 + rows.length * groupHeight + 30;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${left}" y="18" font-size="13" font-weight="bold">Time relative to asyncio-ts (log scale; left of 1x = faster)</text>`);
  for (const tick of [0.1, 0.3, 1, 3, 10, 30, 100]) {
    const tx = x(tick);
    parts.push(`<line x1="${tx}" y1="32" x2="${tx}" y2="${height - 28}" stroke="${tick === 1 ? "#333" : "#ddd"}"/>`);
    parts.push(`<text x="${tx}" y="${height - 12}" text-anchor="middle">${tick}x</text>`);
  }
  rows.forEach((row, i) => {
    const top = 40 + i * groupHeight;
    parts.push(`<text x="${left - 6}" y="${top + (systems.length * barHeight) / 2 + 4}" text-anchor="end">${escape(row.workload)}</text>`);
    systems.forEach((system, j) => {
      const ratio = row.ratios[system];
      const y = top + j * barHeight;
      if (ratio === null || ratio === undefined) return;
      const x0 = x(1);
      const x1 = x(ratio);
      parts.push(`<rect x="${Math.min(x0, x1)}" y="${y + 1}" width="${Math.max(1, Math.abs(x1 - x0))}" height="${barHeight - 3}" fill="${COLORS[system] ?? "#999"}"/>`);
      parts.push(`<text x="${Math.max(x0, x1) + 4}" y="${y + barHeight - 4}">${escape(system)} ${ratio.toFixed(2)}x</text>`);
    });
  });
  parts.push(`</svg>`);
  return parts.join("\n");
}
