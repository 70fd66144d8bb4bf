import { describe, expect, it, vi } from 'vitest';
import { computeRatios, evaluateTargets, formatTable, renderReport, type Report } from '../../bench/lib/report.ts';
import { formatMs, formatRatio, perGiB, quantile, summariseSamples } from '../../bench/lib/stats.ts';
import { Suite } from '../../bench/lib/suite.ts';
import { interleave, roundOrder, roundRatioSpread } from '../../bench/lib/interleave.ts';

describe('bench/lib stats', () => {
  it('summarises samples as median, p99 and count', () => {
    expect(summariseSamples([3, 1, 2])).toEqual({ median: 2, p99: 3, samples: 3 });
    expect(summariseSamples([4, 1, 3, 2]).median).toBe(2.5);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toBe(99);
    expect(summariseSamples([]).samples).toBe(0);
  });

  it('formats figures', () => {
    expect(formatMs(3.14159)).toBe('3.142');
    expect(formatMs(0.07)).toBe('0.0700');
    expect(formatMs(0.000189)).toBe('0.000189');
    expect(formatRatio(1.754)).toBe('1.75x');
    expect(formatRatio(27.93)).toBe('27.9x');
    expect(formatRatio(Number.NaN)).toBe('—');
    expect(perGiB(1024 * 1024)).toBe(1024);
  });
});

describe('bench/lib interleave', () => {
  it('rotates which case goes first, round by round', () => {
    expect([0, 1, 2, 3].map((r) => roundOrder(['a', 'b'], r).join(''))).toEqual(['ab', 'ba', 'ab', 'ba']);
    expect([0, 1, 2, 3].map((r) => roundOrder(['a', 'b', 'c'], r).join(''))).toEqual(['abc', 'bca', 'cab', 'abc']);
  });

  it('runs the cases in alternating rounds, drops the warm-up rounds, and keeps per-round medians', async () => {
    // A manual clock: each run advances it by its case's next cost, so every sample is known.
    let clock = 0;
    const order: string[] = [];
    const costs: Record<string, number[]> = { a: [9, 9, 1, 2, 3, 4, 5, 6], b: [9, 9, 10, 20, 30, 40, 50, 60] };
    const run = (name: string) => async () => {
      order.push(name);
      clock += costs[name]!.shift()!;
    };
    const result = await interleave([{ name: 'a', run: run('a') }, { name: 'b', run: run('b') }], { rounds: 3, perRound: 2, warmupRounds: 1, now: () => clock });
    expect(order.join('')).toBe('aabbbbaaaabbbbaa');
    expect(result.samples).toEqual({ a: [1, 2, 3, 4, 5, 6], b: [10, 20, 30, 40, 50, 60] });
    expect(result.roundMedians).toEqual({ a: [1.5, 3.5, 5.5], b: [15, 35, 55] });
  });

  it('gives the spread of per-round ratios', () => {
    const spread = roundRatioSpread([2, 4, 6, 8], [1, 1, 2, 1]);
    expect(spread).toEqual({ p25: 2, median: 3.5, p75: 4, min: 2, max: 8, rounds: 4 });
    expect(roundRatioSpread([], []).rounds).toBe(0);
  });
});

describe('bench/lib report', () => {
  const cases = {
    'cold/trivial/v8': { median: 3, p99: 4, samples: 10 },
    'cold/trivial/worker-threads': { median: 30, p99: 40, samples: 10 },
    'warm/trivial/v8': { median: 0.07, p99: 0.1, samples: 10 },
    'warm/trivial/raw-isolated-vm': { median: 0.035, p99: 0.05, samples: 10 },
  };
  const density = { 'density/idle/v8': { count: 10, perEnvBytes: 1024 * 1024, perGiB: 1024 } };

  it('computes ratios of medians and of densities, skipping missing cases', () => {
    const ratios = computeRatios(
      [
        { of: 'cold/trivial/v8', over: 'cold/trivial/worker-threads' },
        { of: 'cold/trivial/v8', over: 'cold/trivial/absent' },
        { of: 'density/idle/v8', over: 'density/idle/v8', kind: 'density' },
      ],
      cases,
      density,
    );
    expect(ratios).toEqual([
      { of: 'cold/trivial/v8', over: 'cold/trivial/worker-threads', kind: 'median', value: 0.1 },
      { of: 'density/idle/v8', over: 'density/idle/v8', kind: 'density', value: 1 },
    ]);
  });

  it('evaluates targets with their margins', () => {
    const [max, overhead, speedup, dens, notYet, absent] = evaluateTargets(
      [
        { label: 'a', kind: 'max-ms', case: 'cold/trivial/v8', limitMs: 5 },
        { label: 'b', kind: 'max-overhead-ms', case: 'warm/trivial/v8', baseline: 'warm/trivial/raw-isolated-vm', limitMs: 0.02 },
        { label: 'c', kind: 'min-speedup', case: 'cold/trivial/v8', baseline: 'cold/trivial/worker-threads', min: 20 },
        { label: 'd', kind: 'min-density', case: 'density/idle/v8', min: 700 },
        { label: 'e', kind: 'not-yet', reason: 'SnapStart not implemented' },
        { label: 'f', kind: 'max-ms', case: 'cold/trivial/absent', limitMs: 1 },
      ],
      cases,
      density,
    );
    expect(max).toMatchObject({ status: 'met', value: 3, margin: 'met by 2.00 ms (40% under)' });
    expect(overhead!.status).toBe('missed');
    expect(overhead!.margin).toContain('missed by 15.0 µs');
    expect(speedup).toMatchObject({ status: 'missed', value: 10 });
    expect(dens).toMatchObject({ status: 'met', value: 1024 });
    expect(notYet).toMatchObject({ status: 'not yet', margin: 'SnapStart not implemented' });
    expect(absent!.status).toBe('not measured');
  });

  it('evaluates ratio targets (issue 21) at, just under and just over their limits', () => {
    const c = {
      'cold/trivial/v8': { median: 1.3, p99: 2, samples: 10 },
      'cold/trivial/raw-isolated-vm': { median: 1, p99: 1, samples: 10 },
    };
    const d = {
      'density/idle/v8': { count: 10, perEnvBytes: 1, perGiB: 900 },
      'density/idle/raw-isolated-vm': { count: 10, perEnvBytes: 1, perGiB: 1000 },
    };
    const at = (max: number, min: number) =>
      evaluateTargets(
        [
          { label: 'r', kind: 'max-ratio', case: 'cold/trivial/v8', baseline: 'cold/trivial/raw-isolated-vm', max },
          { label: 'd', kind: 'min-density-ratio', case: 'density/idle/v8', baseline: 'density/idle/raw-isolated-vm', min },
        ],
        c,
        d,
      ).map((t) => t.status);
    expect(at(1.3, 0.9)).toEqual(['met', 'met']); // at the limit
    expect(at(1.31, 0.89)).toEqual(['met', 'met']); // the figure just inside
    expect(at(1.29, 0.91)).toEqual(['missed', 'missed']); // just outside
    const [ratioResult, densityResult] = evaluateTargets(
      [
        { label: 'r', kind: 'max-ratio', case: 'cold/trivial/v8', baseline: 'cold/trivial/absent', max: 1 },
        { label: 'd', kind: 'min-density-ratio', case: 'density/idle/v8', baseline: 'density/idle/raw-isolated-vm', min: 0.95 },
      ],
      c,
      d,
    );
    expect(ratioResult!.status).toBe('not measured');
    expect(densityResult).toMatchObject({ status: 'missed', value: 0.9, margin: 'missed: 0.90x, needs 0.95x (short by 1.06x)' });
  });

  it('renders a table and a whole report', () => {
    // Middle columns are right-aligned; the first and the last (a text column) left-aligned.
    expect(formatTable(['case', 'median', 'note'], [['x', '1.000', 'ok']]).split('\n')).toEqual(['case  median  note', '----  ------  ----', 'x      1.000  ok']);
    const report: Report = {
      node: 'v24',
      cpu: 'cpu',
      cpuCount: 2,
      platform: 'linux x64',
      date: '2026-11-24T00:00:00.000Z',
      mode: 'quick',
      unit: 'ms',
      durationS: 1,
      cases,
      density,
      throughput: {},
      ratios: computeRatios([{ of: 'cold/trivial/v8', over: 'cold/trivial/worker-threads' }], cases, density),
      targets: [],
      notYet: [{ case: 'cold/trivial/v8-snapstart', reason: 'SnapStart not implemented' }],
      failures: [{ case: 'burst/objects-init/quickjs', error: 'Error: INIT timed out' }],
      notes: [],
      extra: {},
    };
    const text = renderReport(report);
    expect(text).toContain('0.10x worker-threads');
    expect(text).toContain('cold/trivial/v8-snapstart: not yet: SnapStart not implemented');
    expect(text).toContain('burst/objects-init/quickjs: Error: INIT timed out');
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('a case that throws is recorded with its causes and the run goes on', async () => {
    const suite = new Suite(true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await suite.attempt('burst/objects-init/quickjs', () => Promise.reject(new Error('case failed', { cause: new TypeError('INIT timed out') })));
      let ran = false;
      await suite.attempt('burst/objects-init/v8', async () => {
        ran = true;
      });
      expect(ran).toBe(true);
    } finally {
      stderr.mockRestore();
    }
    expect(suite.failures).toEqual([{ case: 'burst/objects-init/quickjs', error: 'Error: case failed <- TypeError: INIT timed out' }]);
  });
});

