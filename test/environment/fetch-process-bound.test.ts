/**
 * Fetches in flight across every environment of the process (fetch-ledger.ts,
 * PROCESS_FETCHES_IN_FLIGHT_MAX, issue #15): each is a socket of the host's own, so together they
 * stay within half the process's open-file limit.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FETCHES_IN_FLIGHT_MAX, FetchBoundError, FetchLedger, openFilesLimit, PROCESS_FETCHES_IN_FLIGHT_MAX, processFetchesInFlight } from '../../src/environment/fetch-ledger.ts';

describe('fetches in flight per process (issue #15)', () => {
  it('is half the open-file limit read from /proc/self/limits, at least one environment\'s worth', () => {
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    const file = join(dir, 'limits');
    writeFileSync(file, 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            4096                 524288               files\n');
    expect(openFilesLimit(file)).toBe(4096);
    expect(openFilesLimit(join(dir, 'missing'))).toBeUndefined();
    const own = openFilesLimit();
    expect(PROCESS_FETCHES_IN_FLIGHT_MAX).toBe(Math.max(FETCHES_IN_FLIGHT_MAX, Math.floor((own ?? 4096) / 2)));
  });

  it('every ledger counts against the one bound: at it a start is refused, a settle or an environment ending makes room', () => {
    const base = processFetchesInFlight();
    const max = base + 3;
    const a = new FetchLedger(1 << 20, max);
    const b = new FetchLedger(1 << 20, max);
    a.start();
    a.start();
    b.start();
    expect(processFetchesInFlight()).toBe(base + 3);
    expect(() => b.start()).toThrow(FetchBoundError);
    expect(() => a.start()).toThrow(/this host has \d+ fetch requests in flight, its most \(half its open-file limit\)/);
    a.settle();
    b.start(); // under the bound again
    expect(() => a.start()).toThrow(FetchBoundError);
    a.close(); // one still in flight: given back with the environment
    expect(processFetchesInFlight()).toBe(base + 2);
    a.settle(); // a request of an ended environment winding down changes nothing
    a.close();
    expect(processFetchesInFlight()).toBe(base + 2);
    b.settle();
    b.settle();
    expect(processFetchesInFlight()).toBe(base);
    b.close();
    expect(processFetchesInFlight()).toBe(base);
  });
});
