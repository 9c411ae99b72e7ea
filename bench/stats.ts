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

/** How the slow samples of a run lined up with episodes of some other activity. */
export interface Overlap {
  /** Samples slower than the threshold. */
  slow: number;
  /** Share of the slow samples, in %, in flight during an episode. */
  slow_overlapping_pct: number;
  /** Share of all samples, in %, in flight during an episode: what chance alone gives. */
  all_overlapping_pct: number;
}

/**
 * Which samples (each from `startedAt[i]` for `latencies[i]` ms) were in flight during an episode
 * ([from, to], ascending and apart, on the same clock), for the slow ones (over `slowerThanMs`) and
 * for all. A slow share well above the overall share says the episodes made the slow samples.
 *
 * @example overlap([0, 100], [50, 5], [[40, 45]], 20) // { slow: 1, slow_overlapping_pct: 100, all_overlapping_pct: 50 }
 */
export function overlap(
  startedAt: readonly number[],
  latencies: readonly number[],
  episodes: readonly (readonly [number, number])[],
  slowerThanMs: number,
): Overlap {
  const ends = episodes.map((e) => e[1]);
  const during = (from: number, to: number): boolean => {
    // The first episode ending after `from`; the sample overlaps it if it starts before `to`.
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! <= from) lo = mid + 1;
      else hi = mid;
    }
    const episode = episodes[lo];
    return episode !== undefined && episode[0] < to;
  };
  let slow = 0;
  let slowDuring = 0;
  let allDuring = 0;
  latencies.forEach((latency, i) => {
    const from = startedAt[i]!;
    const hit = during(from, from + latency);
    if (hit) allDuring++;
    if (latency > slowerThanMs) {
      slow++;
      if (hit) slowDuring++;
    }
  });
  const pct = (n: number, of: number) => (of === 0 ? 0 : (100 * n) / of);
  return {
    slow,
    slow_overlapping_pct: pct(slowDuring, slow),
    all_overlapping_pct: pct(allDuring, latencies.length),
  };
}

/**
 * Intervals ([from, to], any order, overlapping or not) as ascending episodes apart from each
 * other, as `overlap` needs them: the ones that overlap or touch become one.
 *
 * @example mergeEpisodes([[5, 8], [1, 3], [2, 4]]) // [[1, 4], [5, 8]]
 */
export function mergeEpisodes(intervals: readonly (readonly [number, number])[]): [number, number][] {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}
