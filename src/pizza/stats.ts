/** Latency statistics for the load generator: percentiles and a summary line. */

/** The p-th percentile (0–100) of `values` by nearest rank; `NaN` when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** What a load run measured. */
export interface LoadSummary {
  ok: number;
  failed: number;
  seconds: number;
  ordersPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  errors: Record<string, number>;
}

/** Summarises latencies (seconds) and error kinds over a run of `seconds`. */
export function summarise(latencies: readonly number[], errors: Record<string, number>, seconds: number): LoadSummary {
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    ok: latencies.length,
    failed,
    seconds,
    ordersPerSecond: seconds > 0 ? latencies.length / seconds : 0,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    errors,
  };
}

/** The summary as the lines `pizza order` prints. */
export function formatSummary(summary: LoadSummary): string {
  const ms = (s: number): string => (Number.isNaN(s) ? "-" : `${(s * 1000).toFixed(1)} ms`);
  const lines = [
    `orders: ${summary.ok} served, ${summary.failed} failed in ${summary.seconds.toFixed(2)} s (${summary.ordersPerSecond.toFixed(1)} orders/s)`,
    `latency: p50 ${ms(summary.p50)}, p90 ${ms(summary.p90)}, p99 ${ms(summary.p99)}`,
  ];
  const kinds = Object.entries(summary.errors);
  if (kinds.length > 0) lines.push(`errors: ${kinds.map(([kind, n]) => `${kind} x${n}`).join(", ")}`);
  return lines.join("\n");
}
