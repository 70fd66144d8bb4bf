import { describe, expect, it } from 'vitest';
import { HOST_DEFAULTS, hostDefaults, minUnreservedConcurrency } from '../../src/config/index.ts';

describe('host defaults', () => {
  it.each([
    // [total MB, CPUs] → concurrency, memory budget, scale-up rate
    [24_105, 2, 188, 24_105, 100],
    [4_096, 2, 32, 4_096, 100],
    [1_024, 1, 10, 1_024, 50],
    [262_144, 64, 1_000, 262_144, 100],
    [65_536, 4, 400, 65_536, 100],
    [512, 1, 10, 512, 50],
  ])('%i MB, %i CPUs → concurrency %i, budget %i MB, scale-up %i/s', (totalMemoryMb, cpus, concurrency, memoryBudgetMb, scaleUpRate) => {
    expect(hostDefaults({ totalMemoryMb, cpus })).toEqual({ concurrency, memoryBudgetMb, scaleUpRate });
  });

  it('keeps a tenth of the account limit unreserved, as Lambda keeps 100 of 1000', () => {
    expect(minUnreservedConcurrency(1000)).toBe(100);
    expect(minUnreservedConcurrency(188)).toBe(19);
    expect(minUnreservedConcurrency(5)).toBe(1);
    expect(minUnreservedConcurrency(1)).toBe(1);
  });

  it('on this host, stays within Lambda’s account limit and fits 128 MB environments in memory', () => {
    expect(HOST_DEFAULTS.concurrency).toBeLessThanOrEqual(1000);
    expect(HOST_DEFAULTS.concurrency * 128).toBeLessThanOrEqual(Math.max(HOST_DEFAULTS.memoryBudgetMb, 10 * 128));
  });
});
