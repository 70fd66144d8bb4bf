/**
 * The async pump's per-function limit (src/async/adaptive-limit.ts): TCP Vegas's rule, as Netflix's
 * concurrency-limits VegasLimit applies it to services — queued ≈ limit × (1 − minRtt / rtt); grow
 * under ALPHA (3) × scale (when the limit is what holds events back), shrink over BETA (6) × scale,
 * scale = √(limit / 4) above 4 — with minRtt measured alone in probes (BBR's PROBE_RTT): the first
 * warm attempt, then PROBE_SAMPLES of them every PROBE_EVERY samples and PROBE_SPACING × minRtt. Driven with
 * made-up latencies and a made-up clock: no timing.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveLimit, PROBE_EVERY, PROBE_MAX_RISE, PROBE_SAMPLES, PROBE_SPACING, scaleOf } from '../../src/async/adaptive-limit.ts';

/** A made-up monotonic clock: each sample finishes `rtt` ms after the last. */
class Model {
  now = 0;
  /** Feeds `n` samples of a function whose latency depends on how many run at once. */
  drive(limit: AdaptiveLimit, n: number, rttAt: (running: number) => number): number[] {
    const seen: number[] = [];
    for (let i = 0; i < n; i++) {
      const running = limit.limit;
      const rtt = rttAt(running);
      this.now += rtt;
      limit.sample(rtt, running, this.now);
      seen.push(limit.limit);
    }
    return seen;
  }
}

/** A limit whose first probe (its first attempt) measured `minRtt`, at `initial`. */
function probed(initial: number, minRtt: number, model = new Model()): AdaptiveLimit {
  const limit = new AdaptiveLimit(1000, initial);
  expect(limit.limit).toBe(1); // probing
  model.drive(limit, 1, () => minRtt);
  expect(limit.limit).toBe(initial);
  return limit;
}

describe('AdaptiveLimit', () => {
  it('probes with its first attempt, then climbs one step per saturated sample while latency does not grow (a function waiting on I/O), up to max and no further', () => {
    const limit = new AdaptiveLimit(50);
    expect(limit.limit).toBe(1);
    const seen = new Model().drive(limit, 60, () => 100);
    expect(seen.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    const slow = new AdaptiveLimit(50, 10);
    slow.sample(100, 1, 100);
    expect(slow.limit).toBe(10); // the probe of one gave back the initial limit
    expect(seen.at(-1)).toBe(50);
    expect(Math.max(...seen)).toBe(50);
  });

  it('a CPU-bound function on 2 cores (latency grows with the limit past 2) settles where ALPHA × scale queued attempts begin, and stays there across probes', () => {
    const limit = new AdaptiveLimit(1000);
    const seen = new Model().drive(limit, 10 * PROBE_EVERY, (l) => 10 * Math.max(1, l / 2));
    // queued = L × (1 − 10 / 5L) = L − 2; grows while L − 2 < 3·√(L/4): at 5 (3 < 3.35) yes, at 6 (4 < 3.67) no.
    expect(seen[200]).toBe(6);
    // Each probe holds it at 1 for its lone attempts, measures 10 ms again and gives 6 back: no
    // ratchet (re-learning minRtt at the running limit raised it by every reset and let the limit climb).
    expect(new Set(seen.slice(200))).toEqual(new Set([1, 6]));
    expect(seen.filter((l) => l === 1).length).toBeGreaterThanOrEqual(9 * (PROBE_SAMPLES - 1));
    expect(scaleOf(4)).toBe(1);
    expect(scaleOf(16)).toBe(2);
  });

  it('shrinks by one per sample while more than BETA × scale attempts are queued; the boundary holds, just over it shrinks', () => {
    const model = new Model();
    const limit = probed(20, 10, model);
    limit.sample(10, 20, (model.now += 10)); // nothing queued: one up
    expect(limit.limit).toBe(21);
    // rtt 40: queued = 0.75 L; shrinks while 0.75 L > 6·√(L/4): 21 … 17 shrink, 16 (12 = 12) holds.
    const seen = model.drive(limit, 40, () => 40);
    expect(seen[0]).toBe(20);
    expect(seen.at(-1)).toBe(16);
    const at = probed(16, 10);
    at.sample(40, 16, 1); // 16 × 0.75 = 12 = BETA × scaleOf(16): unchanged
    expect(at.limit).toBe(16);
    const over = probed(17, 10);
    over.sample(40, 17, 1); // 12.75 > 6·√4.25 = 12.37
    expect(over.limit).toBe(16);
    // However slow, shrinking stops once L ≤ 6·√(L/4), i.e. at 9.
    const floor = probed(20, 1);
    new Model().drive(floor, 30, () => 1_000_000);
    expect(floor.limit).toBe(9);
  });

  it('does not grow when the limit is not what holds events back (fewer running than allowed)', () => {
    const limit = probed(4, 10);
    for (let i = 0; i < 20; i++) limit.sample(10, 3, i);
    expect(limit.limit).toBe(4);
    limit.sample(10, 4, 21);
    expect(limit.limit).toBe(5);
  });

  it('probes again after PROBE_EVERY samples and PROBE_SPACING × minRtt, both at their boundary, not before', () => {
    // minRtt 10: probes at least 1,000 ms apart. Samples 1 ms apart: the time decides.
    const model = new Model();
    const bySamples = probed(8, 10, model);
    const start = model.now;
    for (let i = 1; i < PROBE_EVERY; i++) bySamples.sample(80, 8, start + PROBE_SPACING * 10 + i);
    expect(bySamples.limit).toBe(8); // PROBE_EVERY − 1 samples: not yet
    bySamples.sample(80, 8, start + PROBE_SPACING * 10 + PROBE_EVERY);
    expect(bySamples.limit).toBe(1); // the PROBE_EVERY-th, late enough: probing

    const byTime = probed(8, 10, model);
    const from = model.now;
    for (let i = 1; i <= PROBE_EVERY; i++) byTime.sample(80, 8, from + i); // 500 samples within 500 ms
    expect(byTime.limit).toBe(8);
    byTime.sample(80, 8, from + PROBE_SPACING * 10 - 0.5); // just under 1,000 ms
    expect(byTime.limit).toBe(8);
    byTime.sample(80, 8, from + PROBE_SPACING * 10); // at it
    expect(byTime.limit).toBe(1);
  });

  it('in a probe only attempts that ran alone count, the limit stays 1 until PROBE_SAMPLES of them, then comes back', () => {
    const model = new Model();
    const limit = probed(8, 10, model);
    for (let i = 0; i < PROBE_EVERY; i++) limit.sample(80, 8, (model.now += 10_000));
    expect(limit.limit).toBe(1);
    for (let i = 0; i < 20; i++) limit.sample(3, 8, (model.now += 1)); // started before the probe: ignored
    expect(limit.limit).toBe(1);
    for (let i = 1; i < PROBE_SAMPLES; i++) limit.sample(10, 1, (model.now += 10));
    expect(limit.limit).toBe(1);
    limit.sample(12, 1, (model.now += 12));
    expect(limit.limit).toBe(8);
    // minRtt is 10, not 3 (the ignored attempts did not count): at 15 ms, 8 × (1 − 10/15) = 2.67 <
    // 3·√2 grows; with 3 it would be 6.4, which holds.
    limit.sample(15, 8, (model.now += 15));
    expect(limit.limit).toBe(9);
  });

  it('a function redeployed to be slower is learnt by probes (minRtt at most doubles per probe), so it is not held down for ever', () => {
    const model = new Model();
    const limit = probed(10, 1, model);
    // Now every attempt takes 50 ms whatever the limit; against minRtt 1 that looks like queueing:
    // 10 × 0.98 > 6·√2.5 shrinks to 9, where 8.82 < 9 holds.
    model.drive(limit, PROBE_EVERY - 1, () => 50);
    expect(limit.limit).toBe(9);
    // Probes raise minRtt 1 → 2 → 4 → 8 → 16 → 32 → 50 (PROBE_MAX_RISE = 2); then nothing looks
    // queued and the limit climbs one step per sample.
    // Held at 9 while minRtt ≤ 16 (9 × (1 − 16/50) = 6.1 ≥ 3·1.5); at 32 (3.2 < 4.5) it grows.
    expect(PROBE_MAX_RISE).toBe(2);
    const cycle = PROBE_EVERY + PROBE_SAMPLES;
    const seen = model.drive(limit, 7 * cycle, () => 50);
    expect(new Set(seen.slice(0, 4 * cycle))).toEqual(new Set([9, 1]));
    expect(Math.max(...seen.slice(4 * cycle, 5 * cycle))).toBeGreaterThan(9);
    expect(seen.at(-1)).toBeGreaterThan(100);
  });

  it('a probe that a busy host slowed raises minRtt at most PROBE_MAX_RISE times', () => {
    const model = new Model();
    const limit = probed(6, 10, model);
    model.drive(limit, PROBE_EVERY - 1, (l) => 10 * Math.max(1, l / 2));
    expect(limit.limit).toBe(6);
    model.drive(limit, 1 + PROBE_SAMPLES, () => 1_000); // the probe: every lone attempt 100x late
    expect(limit.limit).toBe(6);
    // minRtt is now 20 (10 × PROBE_MAX_RISE), not 1,000 and not 10. At 100 ms with 6 running:
    // 6 × (1 − 20/100) = 4.8, between 3·√1.5 = 3.67 and 7.35: holds (with 1,000 it would grow).
    limit.sample(100, 6, (model.now += 100));
    expect(limit.limit).toBe(6);
    // At 40 ms: 6 × (1 − 20/40) = 3 < 3.67 grows (with 10 it would be 4.5: hold).
    limit.sample(40, 6, (model.now += 40));
    expect(limit.limit).toBe(7);
  });

  it('ignores samples that are not positive times, and max and initial are clamped to at least 1', () => {
    const limit = new AdaptiveLimit(0, 0);
    expect(limit.limit).toBe(1);
    limit.sample(0, 1, 1);
    limit.sample(Number.NaN, 1, 2);
    limit.sample(-5, 1, 3);
    expect(limit.limit).toBe(1);
    new Model().drive(limit, 10, () => 5);
    expect(limit.limit).toBe(1);
    const capped = new AdaptiveLimit(3, 10);
    new Model().drive(capped, PROBE_SAMPLES, () => 5);
    expect(capped.limit).toBe(3);
  });
});
