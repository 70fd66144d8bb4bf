/**
 * The report: ratios to baselines, the targets (met or missed, with the margin), the
 * printed tables and the JSON written to bench/results/latest.json. Everything but `writeReport`
 * is pure.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { formatMs, formatRatio, ratio, type CaseResult, type DensityResult } from './stats.ts';

/** A ratio to show: `of` over `over`, both case names (density names for kind `density`). */
export interface RatioSpec {
  readonly of: string;
  readonly over: string;
  /** `median`: latency medians. `density`: environments per GiB (above 1 = lambdalet packs more). */
  readonly kind?: 'median' | 'density';
}

export interface RatioResult {
  readonly of: string;
  readonly over: string;
  readonly kind: 'median' | 'density';
  readonly value: number;
}

/** One of the targets. */
export type TargetSpec =
  /** The case's median is at most `limitMs`. */
  | { readonly label: string; readonly kind: 'max-ms'; readonly case: string; readonly limitMs: number }
  /** The case's median minus the baseline's median is at most `limitMs`. */
  | { readonly label: string; readonly kind: 'max-overhead-ms'; readonly case: string; readonly baseline: string; readonly limitMs: number }
  /** The baseline's median over the case's median (how many times faster) is at least `min`. */
  | { readonly label: string; readonly kind: 'min-speedup'; readonly case: string; readonly baseline: string; readonly min: number }
  /** The density figure is at least `min` environments per GiB. */
  | { readonly label: string; readonly kind: 'min-density'; readonly case: string; readonly min: number }
  /** The case's median over the baseline's median is at most `max` (e.g. cold start ≤ 1.3x raw). */
  | { readonly label: string; readonly kind: 'max-ratio'; readonly case: string; readonly baseline: string; readonly max: number }
  /** The case's density over the baseline's is at least `min` (e.g. ≥ 0.9x raw environments per GiB). */
  | { readonly label: string; readonly kind: 'min-density-ratio'; readonly case: string; readonly baseline: string; readonly min: number }
  /** Not measurable yet: printed as such, never faked. */
  | { readonly label: string; readonly kind: 'not-yet'; readonly reason: string };

export interface TargetResult {
  readonly label: string;
  readonly status: 'met' | 'missed' | 'not measured' | 'not yet';
  /** The measured figure, in the target's unit (ms, x, environments/GiB). */
  readonly value?: number;
  readonly limit?: number;
  readonly unit?: string;
  /** Human text: `met by 1.80 ms (36%)`, `missed by 32.1 µs (2.6x the limit)`. */
  readonly margin: string;
}

export interface NotYet {
  readonly case: string;
  readonly reason: string;
}

/** A case (or a whole area) that threw: the run went on without it. */
export interface Failure {
  readonly case: string;
  readonly error: string;
}

export interface Report {
  readonly node: string;
  readonly cpu: string;
  readonly cpuCount: number;
  readonly platform: string;
  readonly date: string;
  readonly mode: 'quick' | 'full';
  readonly unit: 'ms';
  readonly durationS: number;
  readonly cases: Record<string, CaseResult>;
  readonly density: Record<string, DensityResult>;
  readonly throughput: Record<string, { readonly invokesPerSecond: number; readonly batch: number }>;
  readonly ratios: readonly RatioResult[];
  readonly targets: readonly TargetResult[];
  readonly notYet: readonly NotYet[];
  readonly failures: readonly Failure[];
  readonly notes: readonly string[];
  readonly extra: Record<string, unknown>;
}

export function computeRatios(
  specs: readonly RatioSpec[],
  cases: Readonly<Record<string, CaseResult>>,
  density: Readonly<Record<string, DensityResult>>,
): RatioResult[] {
  const out: RatioResult[] = [];
  for (const spec of specs) {
    const kind = spec.kind ?? 'median';
    const value = kind === 'median' ? ratio(cases[spec.of]?.median, cases[spec.over]?.median) : ratio(density[spec.of]?.perGiB, density[spec.over]?.perGiB);
    if (Number.isFinite(value)) out.push({ of: spec.of, over: spec.over, kind, value });
  }
  return out;
}

const us = (ms: number): string => (Math.abs(ms) < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);

export function evaluateTargets(
  specs: readonly TargetSpec[],
  cases: Readonly<Record<string, CaseResult>>,
  density: Readonly<Record<string, DensityResult>>,
): TargetResult[] {
  return specs.map((spec): TargetResult => {
    switch (spec.kind) {
      case 'not-yet':
        return { label: spec.label, status: 'not yet', margin: spec.reason };
      case 'max-ms': {
        const value = cases[spec.case]?.median;
        if (value === undefined) return { label: spec.label, status: 'not measured', margin: `${spec.case} not in this run` };
        const met = value <= spec.limitMs;
        const diff = Math.abs(spec.limitMs - value);
        const margin = met
          ? `met by ${us(diff)} (${((diff / spec.limitMs) * 100).toFixed(0)}% under)`
          : `missed by ${us(diff)} (${(value / spec.limitMs).toFixed(2)}x the limit)`;
        return { label: spec.label, status: met ? 'met' : 'missed', value, limit: spec.limitMs, unit: 'ms', margin };
      }
      case 'max-overhead-ms': {
        const a = cases[spec.case]?.median;
        const b = cases[spec.baseline]?.median;
        if (a === undefined || b === undefined) return { label: spec.label, status: 'not measured', margin: `${spec.case} or ${spec.baseline} not in this run` };
        const value = a - b;
        const met = value <= spec.limitMs;
        const diff = Math.abs(spec.limitMs - value);
        const margin = met
          ? `met by ${us(diff)} (overhead ${us(value)})`
          : `missed by ${us(diff)} (overhead ${us(value)}, ${(value / spec.limitMs).toFixed(2)}x the limit)`;
        return { label: spec.label, status: met ? 'met' : 'missed', value, limit: spec.limitMs, unit: 'ms', margin };
      }
      case 'min-speedup': {
        const value = ratio(cases[spec.baseline]?.median, cases[spec.case]?.median);
        if (!Number.isFinite(value)) return { label: spec.label, status: 'not measured', margin: `${spec.case} or ${spec.baseline} not in this run` };
        const met = value >= spec.min;
        const margin = met
          ? `met: ${formatRatio(value)} faster (${formatRatio(value / spec.min)} the target)`
          : `missed: ${formatRatio(value)} faster, needs ${spec.min}x (short by ${formatRatio(spec.min / value)})`;
        return { label: spec.label, status: met ? 'met' : 'missed', value, limit: spec.min, unit: 'x', margin };
      }
      case 'max-ratio': {
        const value = ratio(cases[spec.case]?.median, cases[spec.baseline]?.median);
        if (!Number.isFinite(value)) return { label: spec.label, status: 'not measured', margin: `${spec.case} or ${spec.baseline} not in this run` };
        const met = value <= spec.max;
        const margin = met ? `met: ${formatRatio(value)} (limit ${spec.max}x)` : `missed: ${formatRatio(value)}, limit ${spec.max}x (${formatRatio(value / spec.max)} over)`;
        return { label: spec.label, status: met ? 'met' : 'missed', value, limit: spec.max, unit: 'x', margin };
      }
      case 'min-density-ratio': {
        const value = ratio(density[spec.case]?.perGiB, density[spec.baseline]?.perGiB);
        if (!Number.isFinite(value)) return { label: spec.label, status: 'not measured', margin: `${spec.case} or ${spec.baseline} not in this run` };
        const met = value >= spec.min;
        const margin = met ? `met: ${formatRatio(value)} (needs ${spec.min}x)` : `missed: ${formatRatio(value)}, needs ${spec.min}x (short by ${formatRatio(spec.min / value)})`;
        return { label: spec.label, status: met ? 'met' : 'missed', value, limit: spec.min, unit: 'x', margin };
      }
      case 'min-density': {
        const value = density[spec.case]?.perGiB;
        if (value === undefined || !Number.isFinite(value)) return { label: spec.label, status: 'not measured', margin: `${spec.case} not in this run` };
        const met = value >= spec.min;
        const diff = Math.abs(value - spec.min);
        const margin = met
          ? `met by ${diff} environments/GiB (${((value / spec.min - 1) * 100).toFixed(0)}% over)`
          : `missed by ${diff} environments/GiB (${((1 - value / spec.min) * 100).toFixed(0)}% under)`;
        return { label: spec.label, status: met ? 'met' : 'missed', value, limit: spec.min, unit: 'environments/GiB', margin };
      }
    }
  });
}

/** Left-aligned first column, right-aligned others. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The ratios column of a case: `1.75x raw-isolated-vm; 0.05x worker-threads`. */
function ratiosOf(name: string, ratios: readonly RatioResult[]): string {
  return ratios
    .filter((r) => r.of === name && r.kind === 'median')
    .map((r) => `${formatRatio(r.value)} ${r.over.split('/').pop()!}`)
    .join('; ');
}

export function renderReport(report: Report): string {
  const out: string[] = [];
  out.push(`lambdalet bench (${report.mode}): node ${report.node}, ${report.cpuCount} × ${report.cpu}, ${report.platform}, ${report.date}`);
  out.push('All latencies in ms. Absolute numbers are noisy on a shared machine: compare the ratios, which are');
  out.push('taken against baselines measured in this same run.\n');
  out.push(
    formatTable(
      ['case', 'median', 'p99', 'samples', 'ratio of medians to baseline'],
      Object.entries(report.cases).map(([name, r]) => [name, formatMs(r.median), formatMs(r.p99), String(r.samples), ratiosOf(name, report.ratios)]),
    ),
  );
  if (Object.keys(report.throughput).length > 0) {
    out.push('\nthroughput (warm invokes per second, from the median batch time):');
    out.push(
      formatTable(
        ['case', 'invokes/s', 'batch', 'ratio to baseline'],
        Object.entries(report.throughput).map(([name, t]) => [
          name,
          String(Math.round(t.invokesPerSecond)),
          String(t.batch),
          report.ratios
            .filter((r) => r.of === name)
            .map((r) => `${formatRatio(1 / r.value)} ${r.over.split('/').pop()!} (invokes/s)`)
            .join('; '),
        ]),
      ),
    );
  }
  if (Object.keys(report.density).length > 0) {
    out.push('\ndensity (idle environments, RSS delta in a child process):');
    out.push(
      formatTable(
        ['case', 'per GiB', 'KiB each', 'N', 'ratio to baseline (per GiB)'],
        Object.entries(report.density).map(([name, d]) => [
          name,
          String(d.perGiB),
          (d.perEnvBytes / 1024).toFixed(0),
          String(d.count),
          report.ratios
            .filter((r) => r.of === name && r.kind === 'density')
            .map((r) => `${formatRatio(r.value)} ${r.over.split('/').pop()!}`)
            .join('; '),
        ]),
      ),
    );
  }
  if (report.notYet.length > 0) {
    out.push('\nnot yet measured:');
    for (const n of report.notYet) out.push(`  ${n.case}: not yet: ${n.reason}`);
  }
  if (report.failures.length > 0) {
    out.push('\nfailed (the run went on without them; their targets read "not measured"):');
    for (const f of report.failures) out.push(`  ${f.case}: ${f.error}`);
  }
  out.push('\ntargets (issue 7, medians, trivial handler):');
  out.push(formatTable(['target', 'status', 'margin'], report.targets.map((t) => [t.label, t.status, t.margin])));
  if (report.notes.length > 0) {
    out.push('\nnotes:');
    for (const n of report.notes) out.push(`  - ${n}`);
  }
  return out.join('\n');
}

export async function writeReport(report: Report, url: URL): Promise<void> {
  await mkdir(new URL('.', url), { recursive: true });
  await writeFile(url, `${JSON.stringify(report, null, 2)}\n`);
}
