/**
 * The async pump's per-function limit (src/async/adaptive-limit.ts): TCP Vegas's rule, as Netflix's
 * concurrency-limits VegasLimit applies it to services — queued ≈ limit × (1 − minRtt / rtt); grow
 * under ALPHA (3) × scale (when the limit is what holds events back), shrink over BETA (6) × scale,
 * scale = √(limit / 4) above 4. Driven with made-up
 * latencies: no clock, no timing.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveLimit, RESET_EVERY, scaleOf } from '../../src/async/adaptive-limit.ts';

/** Feeds `n` samples from a model of the function: its latency at a given limit. */
function drive(limit: AdaptiveLimit, n: number, rttAt: (limit: number) => number): number[] {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) {
    limit.sample(rttAt(limit.limit), limit.limit);
    seen.push(limit.limit);
  }
  return seen;
}

describe('AdaptiveLimit', () => {
  it('starts at 1 and climbs one step per saturated sample while latency does not grow (a function waiting on I/O), up to max and no further', () => {
    const limit = new AdaptiveLimit(50);
    expect(limit.limit).toBe(1);
    const seen = drive(limit, 60, () => 100);
    expect(seen.slice(0, 5)).toEqual([2, 3, 4, 5, 6]);
    expect(seen.at(-1)).toBe(50);
    expect(Math.max(...seen)).toBe(50);
  });

  it('a CPU-bound function on 2 cores (latency grows with the limit past 2) settles where ALPHA × scale queued attempts begin', () => {
    const limit = new AdaptiveLimit(1000);
    const seen = drive(limit, 200, (l) => 10 * Math.max(1, l / 2));
    // queued = L × (1 − 2 / L) = L − 2; grows while L − 2 < 3·√(L/4): at 5 (3 < 3.35) yes, at 6 (4 < 3.67) no.
    expect(seen.at(-1)).toBe(6);
    expect(new Set(seen.slice(100))).toEqual(new Set([6]));
    expect(scaleOf(4)).toBe(1);
    expect(scaleOf(16)).toBe(2);
  });

  it('shrinks by one per sample while more than BETA × scale attempts are queued; the boundary holds, just over it shrinks', () => {
    const limit = new AdaptiveLimit(1000, 20);
    limit.sample(10, 20); // minRtt 10; nothing queued yet: one up
    expect(limit.limit).toBe(21);
    // rtt 40: queued = 0.75 L; shrinks while 0.75 L > 6·√(L/4): 21 … 17 shrink, 16 (12 = 12) holds.
    const seen = drive(limit, 40, () => 40);
    expect(seen[0]).toBe(20);
    expect(seen.at(-1)).toBe(16);
    const at = new AdaptiveLimit(1000, 16);
    at.sample(10, 0); // minRtt 10; not saturated: stays 16
    at.sample(40, 16); // 16 × 0.75 = 12 = BETA × scaleOf(16): unchanged
    expect(at.limit).toBe(16);
    const over = new AdaptiveLimit(1000, 17);
    over.sample(10, 0);
    over.sample(40, 17); // 12.75 > 6·√4.25 = 12.37
    expect(over.limit).toBe(16);
    // However slow, shrinking stops once L ≤ 6·√(L/4), i.e. at 9.
    const floor = new AdaptiveLimit(1000, 20);
    floor.sample(1, 0);
    drive(floor, 30, () => 1_000_000);
    expect(floor.limit).toBe(9);
  });

  it('does not grow when the limit is not what holds events back (fewer running than allowed)', () => {
    const limit = new AdaptiveLimit(1000, 4);
    for (let i = 0; i < 20; i++) limit.sample(10, 3);
    expect(limit.limit).toBe(4);
    limit.sample(10, 4);
    expect(limit.limit).toBe(5);
  });

  it('re-learns the quickest attempt every RESET_EVERY samples, so a slower function after a redeploy is not held down for ever', () => {
    const limit = new AdaptiveLimit(1000, 10);
    limit.sample(1, 0); // a very quick attempt once
    // Afterwards every attempt takes 50 ms whatever the limit; against minRtt 1 that looks like
    // queueing: 10 × 0.98 > 6·√2.5 shrinks to 9, where 8.82 < 9 holds.
    drive(limit, RESET_EVERY - 1, () => 50);
    expect(limit.limit).toBe(9);
    // The reset at RESET_EVERY takes that window's minimum (still 1); the next window holds only
    // 50 ms attempts, so from the reset after it nothing looks queued and the limit climbs again:
    // the resetting sample and the 20 after it.
    drive(limit, RESET_EVERY + 20, () => 50);
    expect(limit.limit).toBe(9 + 21);
  });

  it('ignores samples that are not positive times, and max and initial are clamped to at least 1', () => {
    const limit = new AdaptiveLimit(0, 0);
    expect(limit.limit).toBe(1);
    limit.sample(0, 1);
    limit.sample(Number.NaN, 1);
    limit.sample(-5, 1);
    expect(limit.limit).toBe(1);
    const capped = new AdaptiveLimit(3, 10);
    expect(capped.limit).toBe(3);
  });
});
