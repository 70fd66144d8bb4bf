/**
 * node:perf_hooks: `performance` is the sandbox's global one; PerformanceObserver accepts
 * observers (no entries are produced: the sandbox records no timeline); the event-loop delay
 * monitor and histograms have Node's shape with empty statistics.
 */

function histogram(): Record<string, unknown> {
  const empty = {
    min: 9223372036854776000, max: 0, mean: NaN, stddev: NaN, exceeds: 0, count: 0,
    percentiles: new Map<number, number>(), minBigInt: 9223372036854775807n, maxBigInt: 0n, countBigInt: 0n, exceedsBigInt: 0n,
    percentile: (): number => 0,
    percentileBigInt: (): bigint => 0n,
    reset: (): void => {},
    record: (): void => {},
    recordDelta: (): void => {},
    add: (): void => {},
    enable: (): boolean => true,
    disable: (): boolean => true,
  };
  return empty;
}

class PerformanceObserver {
  static readonly supportedEntryTypes = Object.freeze(['function', 'gc', 'mark', 'measure']);
  /** The callback is kept, never called: no entries are recorded. */
  readonly callback: unknown;
  constructor(callback: unknown) {
    this.callback = callback;
  }
  observe(): void {}
  disconnect(): void {}
  takeRecords(): unknown[] {
    return [];
  }
}

export const perfHooks = {
  get performance(): unknown {
    return (globalThis as { performance?: unknown }).performance;
  },
  PerformanceObserver,
  PerformanceEntry: class PerformanceEntry {},
  PerformanceMark: class PerformanceMark {},
  PerformanceMeasure: class PerformanceMeasure {},
  monitorEventLoopDelay: histogram,
  createHistogram: histogram,
  constants: { NODE_PERFORMANCE_GC_MAJOR: 4, NODE_PERFORMANCE_GC_MINOR: 1, NODE_PERFORMANCE_GC_INCREMENTAL: 8, NODE_PERFORMANCE_GC_WEAKCB: 16 },
};
