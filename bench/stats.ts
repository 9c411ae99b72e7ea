/** Latency figures over all samples of a run, in milliseconds. */
export interface LatencySummary {
  count: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

/**
 * The nearest-rank percentile of ascending `sorted` samples: the smallest sample with at least
 * p % of all samples at or below it.
 *
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarizes latency samples (any order). */
export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const list = Array.from(sorted);
  const sum = list.reduce((s, v) => s + v, 0);
  return {
    count: list.length,
    mean_ms: list.length ? sum / list.length : Number.NaN,
    p50_ms: percentile(list, 50),
    p95_ms: percentile(list, 95),
    p99_ms: percentile(list, 99),
    max_ms: list.length ? list[list.length - 1]! : Number.NaN,
  };
}

/** Renders rows as a left-aligned text table with a header rule. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
