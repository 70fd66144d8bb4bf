/**
 * The async pump's per-function limit (src/async/adaptive-limit.ts): TCP Vegas's rule, as Netflix's
 * concurrency-limits VegasLimit applies it to services — queued ≈ limit × (1 − minRtt / rtt); grow
 * under ALPHA (3) × scale (when the limit is what holds events back), shrink over BETA (6) × scale,
 * scale = √(limit / 4) above 4 — with minRtt measured alone in probes (BBR's PROBE_RTT): the first
 * warm attempt, then PROBE_SAMPLES of them every PROBE_EVERY samples and max(PROBE_INTERVAL_MS,
 * PROBE_SPACING × minRtt), each given up when its allowance runs out. Driven with
 * made-up latencies and a made-up clock: no timing.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveLimit, PROBE_EVERY, PROBE_INTERVAL_MS, PROBE_MAX_RISE, PROBE_MIN_MS, PROBE_SAMPLES, PROBE_SPACING, PROBE_TIMEOUT, scaleOf } from '../../src/async/adaptive-limit.ts';

/** The limit now, read without time passing (a probe is never given up by this read). */
function current(limit: AdaptiveLimit): number {
  return limit.limitAt(-Infinity);
}

/** A made-up monotonic clock: each sample finishes `rtt` ms after the last. */
class Model {
  now = 0;
  /** Feeds `n` samples of a function whose latency depends on how many run at once. */
  drive(limit: AdaptiveLimit, n: number, rttAt: (running: number) => number): number[] {
    const seen: number[] = [];
    for (let i = 0; i < n; i++) {
      const running = limit.limitAt(this.now);
      const rtt = rttAt(running);
      this.now += rtt;
      limit.sample(rtt, running, this.now);
      seen.push(limit.limitAt(this.now));
    }
    return seen;
  }
}

/** A limit whose first probe (its first attempt) measured `minRtt`, at `initial`. */
function probed(initial: number, minRtt: number, model = new Model()): AdaptiveLimit {
  const limit = new AdaptiveLimit(1000, initial);
  expect(current(limit)).toBe(1); // probing
  model.drive(limit, 1, () => minRtt);
  expect(current(limit)).toBe(initial);
  return limit;
}

describe('AdaptiveLimit', () => {
  it('probes with its first attempt, then climbs one step per saturated sample while latency does not grow (a function waiting on I/O), up to max and no further', () => {
    const limit = new AdaptiveLimit(50);
    expect(current(limit)).toBe(1);
    const seen = new Model().drive(limit, 60, () => 100);
    expect(seen.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    const slow = new AdaptiveLimit(50, 10);
    slow.sample(100, 1, 100);
    expect(current(slow)).toBe(10); // the probe of one gave back the initial limit
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
    expect(current(limit)).toBe(21);
    // rtt 40: queued = 0.75 L; shrinks while 0.75 L > 6·√(L/4): 21 … 17 shrink, 16 (12 = 12) holds.
    const seen = model.drive(limit, 40, () => 40);
    expect(seen[0]).toBe(20);
    expect(seen.at(-1)).toBe(16);
    const at = probed(16, 10);
    at.sample(40, 16, 1); // 16 × 0.75 = 12 = BETA × scaleOf(16): unchanged
    expect(current(at)).toBe(16);
    const over = probed(17, 10);
    over.sample(40, 17, 1); // 12.75 > 6·√4.25 = 12.37
    expect(current(over)).toBe(16);
    // However slow, shrinking stops once L ≤ 6·√(L/4), i.e. at 9.
    const floor = probed(20, 1);
    new Model().drive(floor, 30, () => 1_000_000);
    expect(current(floor)).toBe(9);
  });

  it('does not grow when the limit is not what holds events back (fewer running than allowed)', () => {
    const limit = probed(4, 10);
    for (let i = 0; i < 20; i++) limit.sample(10, 3, i);
    expect(current(limit)).toBe(4);
    limit.sample(10, 4, 21);
    expect(current(limit)).toBe(5);
  });

  it('probes again after PROBE_EVERY samples and max(PROBE_INTERVAL_MS, PROBE_SPACING × minRtt), each at its boundary, not before', () => {
    // minRtt 10: probes at least 10 s apart (100 × 10 ms is less). Samples 1 ms apart: the time decides.
    const model = new Model();
    const bySamples = probed(8, 10, model);
    const start = model.now;
    for (let i = 1; i < PROBE_EVERY; i++) bySamples.sample(80, 8, start + PROBE_INTERVAL_MS + i);
    expect(current(bySamples)).toBe(8); // PROBE_EVERY − 1 samples: not yet
    bySamples.sample(80, 8, start + PROBE_INTERVAL_MS + PROBE_EVERY);
    expect(current(bySamples)).toBe(1); // the PROBE_EVERY-th, late enough: probing

    const byTime = probed(8, 10, model);
    const from = model.now;
    for (let i = 1; i <= PROBE_EVERY; i++) byTime.sample(80, 8, from + i); // 500 samples within 500 ms
    expect(current(byTime)).toBe(8);
    byTime.sample(80, 8, from + PROBE_INTERVAL_MS - 0.5); // just under 10 s
    expect(current(byTime)).toBe(8);
    byTime.sample(80, 8, from + PROBE_INTERVAL_MS); // at it
    expect(current(byTime)).toBe(1);

    // minRtt 200: 100 × 200 ms = 20 s is the longer one.
    const slow = probed(8, 200, model);
    const t = model.now;
    for (let i = 1; i <= PROBE_EVERY; i++) slow.sample(1600, 8, t + i);
    slow.sample(1600, 8, t + PROBE_SPACING * 200 - 1);
    expect(current(slow)).toBe(8);
    slow.sample(1600, 8, t + PROBE_SPACING * 200);
    expect(current(slow)).toBe(1);
  });

  it('in a probe only attempts that ran alone count, the limit stays 1 until PROBE_SAMPLES of them, then comes back', () => {
    const model = new Model();
    const limit = probed(8, 10, model);
    for (let i = 0; i < PROBE_EVERY; i++) limit.sample(80, 8, (model.now += 10_000));
    expect(current(limit)).toBe(1);
    for (let i = 0; i < 20; i++) limit.sample(3, 8, (model.now += 1)); // started before the probe: ignored
    expect(current(limit)).toBe(1);
    for (let i = 1; i < PROBE_SAMPLES; i++) limit.sample(10, 1, (model.now += 10));
    expect(current(limit)).toBe(1);
    limit.sample(12, 1, (model.now += 12));
    expect(current(limit)).toBe(8);
    // minRtt is 10, not 3 (the ignored attempts did not count): at 15 ms, 8 × (1 − 10/15) = 2.67 <
    // 3·√2 grows; with 3 it would be 6.4, which holds.
    limit.sample(15, 8, (model.now += 15));
    expect(current(limit)).toBe(9);
  });

  it('a probe not done by its allowance — max(PROBE_MIN_MS, PROBE_TIMEOUT × minRtt) — is given up: at, just under, just over; the limit back, minRtt unchanged', () => {
    // An attempt still running when the probe began may take minutes: the limit cannot wait for it.
    const allowance = Math.max(PROBE_MIN_MS, PROBE_TIMEOUT * 200);
    const start = (): [AdaptiveLimit, number] => {
      const model = new Model();
      const limit = probed(8, 200, model);
      // 800 ms attempts against 200: 8 × 0.75 = 6 queued, between 4.24 and 8.49: the limit holds.
      for (let i = 0; i < PROBE_EVERY; i++) limit.sample(800, 8, (model.now += 800));
      expect(current(limit)).toBe(1);
      expect(limit.probeUntil).toBe(model.now + allowance);
      return [limit, model.now];
    };
    const [under, t0] = start();
    expect(under.limitAt(t0 + allowance - 1)).toBe(1);
    const [at, t1] = start();
    expect(at.limitAt(t1 + allowance)).toBe(8);
    expect(at.probeUntil).toBeUndefined();
    // minRtt is still 200: at 240 ms, 8 × (1 − 200/240) = 1.33 < 3·√2 grows.
    at.sample(240, 8, t1 + allowance + 240);
    expect(current(at)).toBe(9);
    const [over, t2] = start();
    over.sample(800, 5, t2 + allowance + 1); // a sample past the allowance gives it up too
    expect(current(over)).toBe(8);
    // A quick function's probe gets PROBE_MIN_MS.
    const quick = probed(8, 0.1);
    let t = 0;
    for (let i = 0; i < PROBE_EVERY; i++) quick.sample(0.8, 8, (t += 30));
    expect(quick.probeUntil).toBe(t + PROBE_MIN_MS);
    // The first probe (the first warm attempt) is not timed: the limit is 1 then anyway.
    expect(new AdaptiveLimit(10).probeUntil).toBe(Infinity);
  });

  it('a lone attempt in a probe extends it by max(PROBE_MIN_MS, PROBE_TIMEOUT × its own time), so a function slower than minRtt says still finishes its probe', () => {
    const model = new Model();
    const limit = probed(8, 10, model);
    // 60 ms attempts: 8 × (1 − 10/60) = 6.7 queued, and 5.3 once minRtt is 20: the limit holds at 8.
    for (let i = 0; i < PROBE_EVERY; i++) limit.sample(60, 8, (model.now += 60));
    expect(current(limit)).toBe(1);
    expect(limit.probeUntil! - model.now).toBe(PROBE_MIN_MS);
    // A lone attempt of 900 ms (a redeploy made it slower): the next one gets 8 × 900 ms.
    limit.sample(900, 1, (model.now += 900));
    expect(limit.probeUntil! - model.now).toBe(PROBE_TIMEOUT * 900);
    limit.sample(900, 1, (model.now += 7_000));
    limit.sample(900, 1, (model.now += 900));
    expect(current(limit)).toBe(8); // done: minRtt 20 (10 × PROBE_MAX_RISE)
    expect(limit.probeUntil).toBeUndefined();
  });

  it('a function redeployed to be slower is learnt by probes (minRtt at most doubles per probe), so it is not held down for ever', () => {
    const model = new Model();
    const limit = probed(10, 1, model);
    // Now every attempt takes 50 ms whatever the limit; against minRtt 1 that looks like queueing:
    // 10 × 0.98 > 6·√2.5 shrinks to 9, where 8.82 < 9 holds.
    model.drive(limit, PROBE_EVERY - 1, () => 50);
    expect(current(limit)).toBe(9);
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
    expect(current(limit)).toBe(6);
    model.drive(limit, 1 + PROBE_SAMPLES, () => 500); // the probe: every lone attempt 50x late
    expect(current(limit)).toBe(6);
    // minRtt is now 20 (10 × PROBE_MAX_RISE), not 500 and not 10. At 100 ms with 6 running:
    // 6 × (1 − 20/100) = 4.8, between 3·√1.5 = 3.67 and 7.35: holds (with 500 it would grow).
    limit.sample(100, 6, (model.now += 100));
    expect(current(limit)).toBe(6);
    // At 40 ms: 6 × (1 − 20/40) = 3 < 3.67 grows (with 10 it would be 4.5: hold).
    limit.sample(40, 6, (model.now += 40));
    expect(current(limit)).toBe(7);
  });

  it('ignores samples that are not positive times, and max and initial are clamped to at least 1', () => {
    const limit = new AdaptiveLimit(0, 0);
    expect(current(limit)).toBe(1);
    limit.sample(0, 1, 1);
    limit.sample(Number.NaN, 1, 2);
    limit.sample(-5, 1, 3);
    expect(current(limit)).toBe(1);
    new Model().drive(limit, 10, () => 5);
    expect(current(limit)).toBe(1);
    const capped = new AdaptiveLimit(3, 10);
    new Model().drive(capped, PROBE_SAMPLES, () => 5);
    expect(current(capped)).toBe(3);
  });
});
