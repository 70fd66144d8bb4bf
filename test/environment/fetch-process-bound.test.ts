/**
 * Fetches in flight across every environment of the process (fetch-ledger.ts,
 * PROCESS_FETCHES_IN_FLIGHT_MAX, issue #15): each is a socket of the host's own, so together they
 * stay within half the process's open-file limit.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FETCHES_IN_FLIGHT_MAX,
  FetchBoundError,
  FetchLedger,
  openFilesLimit,
  ownerFetchesInFlight,
  ownerFetchesMax,
  PROCESS_FETCHES_IN_FLIGHT_MAX,
  processFetchesInFlight,
} from '../../src/environment/fetch-ledger.ts';

describe('fetches in flight per process (issue #15)', () => {
  it("an owner's share is a quarter of the process's bound, at least one environment's worth, at most half", () => {
    expect(ownerFetchesMax(10_000)).toBe(2_500);
    expect(ownerFetchesMax(2_048)).toBe(512);
    expect(ownerFetchesMax(1_024)).toBe(FETCHES_IN_FLIGHT_MAX);
    expect(ownerFetchesMax(512)).toBe(FETCHES_IN_FLIGHT_MAX); // ulimit -n 1024: half
    expect(ownerFetchesMax(256)).toBe(128);
    expect(ownerFetchesMax(1)).toBe(1);
  });

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
    // Each request under an owner of its own: an owner's share (ownerFetchesMax) stays out of the way.
    const a = new FetchLedger(1 << 20, max);
    const b = new FetchLedger(1 << 20, max);
    a.start(0, 'a1');
    a.start(0, 'a2');
    b.start(0, 'b1');
    expect(processFetchesInFlight()).toBe(base + 3);
    expect(() => b.start(0, 'b2')).toThrow(FetchBoundError);
    expect(() => a.start(0, 'a3')).toThrow(/this host has \d+ fetch requests in flight, its most \(half its open-file limit\)/);
    a.settle('a1');
    b.start(0, 'b2'); // under the bound again
    expect(() => a.start(0, 'a3')).toThrow(FetchBoundError);
    a.close(); // one still in flight: given back with the environment
    expect(processFetchesInFlight()).toBe(base + 2);
    expect(ownerFetchesInFlight('a2')).toBe(0);
    a.settle('a2'); // a request of an ended environment winding down changes nothing
    a.close();
    expect(processFetchesInFlight()).toBe(base + 2);
    b.settle('b1');
    b.settle('b2');
    expect(processFetchesInFlight()).toBe(base);
    b.close();
    expect(processFetchesInFlight()).toBe(base);
  });

  it('one owner (function, or function and tenant) has at most a quarter of the bound in flight across its environments: a neighbour still starts', () => {
    const base = processFetchesInFlight();
    const max = base + 40;
    const share = ownerFetchesMax(max); // here half of it: one environment's worth (256) is more than a quarter
    expect(share).toBe(Math.floor(max / 2));
    const hog = [new FetchLedger(1 << 20, max), new FetchLedger(1 << 20, max)];
    for (let i = 0; i < share - 1; i++) hog[i % 2]!.start(0, 'fn-hog'); // under the share, in two environments
    expect(ownerFetchesInFlight('fn-hog')).toBe(share - 1);
    hog[1]!.start(0, 'fn-hog'); // at it
    expect(() => hog[0]!.start(0, 'fn-hog')).toThrow(FetchBoundError); // over it, from either environment
    expect(() => hog[1]!.start(0, 'fn-hog')).toThrow(
      new RegExp(`this function \\(or tenant\\) has ${share} fetch requests in flight across its execution environments, its share of this host's`),
    );
    expect(processFetchesInFlight()).toBe(base + share);
    // The neighbour (another function, or the same function's other tenant) starts beside it.
    const neighbour = new FetchLedger(1 << 20, max);
    neighbour.start(0, 'fn-hog#tenant-b');
    neighbour.start(0, 'fn-other');
    expect(ownerFetchesInFlight('fn-other')).toBe(1);
    // A request of the hog settles: it may start one again; its environment ends: its share is given back.
    hog[0]!.settle('fn-hog');
    hog[0]!.start(0, 'fn-hog');
    hog[0]!.close();
    expect(ownerFetchesInFlight('fn-hog')).toBe(Math.floor(share / 2));
    hog[1]!.close();
    neighbour.close();
    expect(ownerFetchesInFlight('fn-hog')).toBe(0);
    expect(processFetchesInFlight()).toBe(base);
  });
});
