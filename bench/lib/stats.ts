/**
 * Figures of one case and the arithmetic on them. Pure functions (no timing, no I/O), so the smoke
 * test in test/bench/ can check them.
 */

/** One case: latencies in ms. */
export interface CaseResult {
  readonly median: number;
  readonly p99: number;
  readonly samples: number;
}

/** A density figure: bytes of RSS per idle environment, and how many fit in 1 GiB. */
export interface DensityResult {
  readonly count: number;
  readonly perEnvBytes: number;
  readonly perGiB: number;
}

export const GIB = 1024 * 1024 * 1024;

/** The q-quantile (0..1) of sorted values, nearest rank, as tinybench reports p99. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Median, p99 and count of raw samples (ms). */
export function summariseSamples(samples: readonly number[]): CaseResult {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n === 0 ? Number.NaN : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { median, p99: quantile(sorted, 0.99), samples: n };
}

/** A figure over its baseline; NaN when either is missing. */
export function ratio(value: number | undefined, baseline: number | undefined): number {
  if (value === undefined || baseline === undefined || !Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0) return Number.NaN;
  return value / baseline;
}

/** Environments of `perEnvBytes` that fit in 1 GiB. */
export function perGiB(perEnvBytes: number): number {
  return perEnvBytes > 0 ? Math.floor(GIB / perEnvBytes) : Number.NaN;
}

/** Latency for a table: 4 significant-ish decimals below 1 ms, 3 above. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 0.01) return ms.toPrecision(3);
  return ms < 1 ? ms.toFixed(4) : ms.toFixed(3);
}

/** A ratio for a table: `12.3x`, `0.76x`. */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value >= 100 ? `${value.toFixed(0)}x` : value >= 10 ? `${value.toFixed(1)}x` : `${value.toFixed(2)}x`;
}
