/**
 * How many asynchronous attempts of one function the pump runs at once: a latency-based limit in
 * the manner of TCP Vegas (Netflix's concurrency-limits `VegasLimit` is the same rule for
 * services). Without it the pump handed the dispatcher every event it could claim (up to the
 * account's `concurrency`), and a burst of events to a quick function started one environment per
 * event in flight — 188 cold starts for 2,000 trivial events on 2 cores, most of the pipeline's
 * time — where a handful of warm environments does the same work faster.
 *
 * The rule: `minRtt` is the time of a warm attempt that ran alone; an attempt that took `rtt` says that
 * about `limit × (1 − minRtt / rtt)` attempts were queued for the CPU (or the dispatcher) rather
 * than running. Under ALPHA queued, and the limit was what held events back, one more is allowed;
 * over BETA, one fewer. Both scale with √(limit / 4) above 4 (`scaleOf`; VegasLimit scales them
 * with log10 of the limit): a limit in the tens, which only a function waiting on I/O reaches, is
 * not held down by the few milliseconds a busy host adds to every attempt. Measured on the 2-core
 * machine (docs/async.md, Figures): with log10 a 50 ms function stalled at 67-80 in flight, with √
 * it reached 126 and ran a warm burst as fast as the unlimited pump; a model CPU-bound function
 * settles at 6 (the unit test), the real trivial function mostly at 8-11 (up to 29) on that
 * loaded machine, where one in flight would be fastest (docs/async.md, Figures: work outside the
 * timed attempt, and the √ thresholds). A CPU-bound function settles near the cores it can use; a function that
 * waits on I/O (its time does not grow with the limit) climbs to the account's concurrency.
 * Cold attempts are not samples (their INIT is not queueing).
 *
 * `minRtt` must be a time without queueing, so it is measured with one attempt in flight: a probe
 * (BBR's PROBE_RTT) — the first warm attempt, then every PROBE_EVERY samples and PROBE_INTERVAL_MS
 * (or PROBE_SPACING × minRtt) at the soonest — holds the limit at 1 until PROBE_SAMPLES warm
 * attempts finished alone, takes their quickest as `minRtt` (at most PROBE_MAX_RISE times the
 * last), and gives the limit back (also when its allowance, PROBE_TIMEOUT × minRtt or
 * PROBE_MIN_MS, runs out first: attempts already running may be long ones). Between probes
 * `minRtt` only falls. (It was re-learnt as the quickest
 * attempt of the last 500 at the current limit, which already holds that limit's queueing: under a
 * busy host every re-learning raised it and let the limit climb one more step — a trivial function
 * ratcheted to 18-39 in flight where 2-4 run it fastest, 1.1-1.6x the CPU per event; measured on the
 * 2-core machine, docs/async.md.) So a slower function after a redeploy is seen at the next probe
 * (when its attempts fit the probe's allowance), and a function that waits on I/O pays a few
 * percent of its time for the probes.
 *
 * Pure arithmetic on the samples it is given: tests drive it with made-up latencies.
 */

/** Below this many estimated queued attempts (× `scaleOf(limit)`) the limit grows by one. */
export const ALPHA = 3;
/** Above this many (× `scaleOf(limit)`) it shrinks by one. */
export const BETA = 6;

/** How ALPHA and BETA grow with the limit: 1 up to 4, then √(limit / 4). */
export function scaleOf(limit: number): number {
  return Math.sqrt(Math.max(1, limit / 4));
}
/** Samples between two probes of the time an attempt takes alone (at least). */
export const PROBE_EVERY = 500;
/**
 * Two probes are at least this many `minRtt` apart, and PROBE_INTERVAL_MS (BBR probes every 10 s):
 * a probe lasts about PROBE_SAMPLES + 1 lone attempts (at most its allowance, below), so it costs
 * a function that runs many at once (one waiting on I/O) a few percent of its time at most.
 */
export const PROBE_SPACING = 100;
export const PROBE_INTERVAL_MS = 10_000;
/** Warm attempts that finish alone in a probe: the quickest is the new `minRtt`. */
export const PROBE_SAMPLES = 3;
/**
 * One probe raises `minRtt` at most this many times: a probe that a busy host slowed (every lone
 * attempt late) lets the limit climb only a little, and a function redeployed to be 50x slower is
 * learnt in six probes.
 */
export const PROBE_MAX_RISE = 2;
/**
 * A probe that has not seen its next lone attempt this long after it began or after the last one
 * (max(PROBE_MIN_MS, PROBE_TIMEOUT × minRtt), then the same by that attempt's time) is given up:
 * the limit comes back and minRtt stays (or takes the lone attempts it saw). Holding the limit at
 * 1 waits for every attempt already running, and one of them may take minutes (a function whose
 * attempts vary from milliseconds to its timeout): without this bound one probe held such a
 * function's other events for the whole of that attempt (a 20 s attempt among 2 ms ones: 18 s).
 * With it a probe costs such a function at most PROBE_MIN_MS per PROBE_INTERVAL_MS (10 %). The
 * price: a function redeployed to be so much slower that its attempts outlast the allowance is
 * not re-learnt by probes, and its limit stays between 3 and 9 (docs/async.md, Known gaps).
 */
export const PROBE_TIMEOUT = 8;
export const PROBE_MIN_MS = 1_000;

export class AdaptiveLimit {
  #limit: number;
  readonly #max: number;
  #minRtt = Infinity;
  /** Samples since the last probe ended, and when it ended (nowMs). */
  #samples = 0;
  #probedAt = -Infinity;
  /** During a probe: the limit to give back, the lone attempts it needs, the quickest so far, when it is given up. */
  #probe: { readonly saved: number; readonly need: number; quickest: number; seen: number; until: number } | undefined;

  /** `max`: never above it (the account's concurrency). Starts at `initial` (default 1). */
  constructor(max: number, initial = 1) {
    this.#max = Math.max(1, max);
    this.#limit = Math.min(this.#max, Math.max(1, initial));
    // The first warm attempt is a probe of one: minRtt is learnt alone before the limit moves (one
    // attempt, not PROBE_SAMPLES: a first burst would wait PROBE_SAMPLES attempts' time at 1 —
    // 150 ms for a 50 ms function — and a slow first attempt is corrected as minRtt falls).
    this.#probe = { saved: this.#limit, need: 1, quickest: Infinity, seen: 0, until: Infinity };
  }

  /** Attempts of this function that may run at once at `nowMs` (the clock `sample` is given). */
  limitAt(nowMs: number): number {
    if (this.#probe !== undefined && nowMs >= this.#probe.until) this.#endProbe(nowMs);
    return this.#probe === undefined ? this.#limit : 1;
  }

  /** When the probe under way is given up (its caller should look at `limitAt` again then), or undefined. */
  get probeUntil(): number | undefined {
    return this.#probe?.until;
  }

  /**
   * A warm attempt finished after `rttMs` (from its dispatch to its result); `busy` is how many of
   * this function's attempts were running when it finished, itself included; `nowMs` is when
   * (a monotonic clock's milliseconds: performance.now()).
   */
  sample(rttMs: number, busy: number, nowMs: number): void {
    if (!(rttMs > 0)) return;
    if (this.#probe !== undefined && nowMs >= this.#probe.until) this.#endProbe(nowMs);
    if (this.#probe !== undefined) {
      this.#sampleProbe(rttMs, busy, nowMs);
      return;
    }
    this.#minRtt = Math.min(this.#minRtt, rttMs);
    if (++this.#samples >= PROBE_EVERY && nowMs - this.#probedAt >= Math.max(PROBE_INTERVAL_MS, PROBE_SPACING * this.#minRtt)) {
      const until = nowMs + this.#allowance(this.#minRtt);
      this.#probe = { saved: this.#limit, need: PROBE_SAMPLES, quickest: Infinity, seen: 0, until };
      return;
    }
    const queued = this.#limit * (1 - this.#minRtt / rttMs);
    const scale = scaleOf(this.#limit);
    if (queued < ALPHA * scale) {
      // Only when the limit is what holds events back (every allowed slot was taken).
      if (busy >= this.#limit) this.#limit = Math.min(this.#max, this.#limit + 1);
    } else if (queued > BETA * scale) {
      this.#limit = Math.max(1, this.#limit - 1);
    }
  }

  /** A sample during a probe: only attempts that ran alone count; the limit does not move. */
  #sampleProbe(rttMs: number, busy: number, nowMs: number): void {
    const probe = this.#probe!;
    if (busy > 1) return; // started before the probe: still queued behind others
    probe.quickest = Math.min(probe.quickest, rttMs);
    // Progress: the next lone attempt gets as long again, by this one's time (minRtt may be stale:
    // a function redeployed to be slower must still finish its probe).
    if (probe.until !== Infinity) probe.until = nowMs + this.#allowance(rttMs);
    if (++probe.seen < probe.need) return;
    this.#endProbe(nowMs);
  }

  /** How long a probe waits for its next lone attempt, given the time one takes. */
  #allowance(rttMs: number): number {
    return Math.max(PROBE_MIN_MS, PROBE_TIMEOUT * rttMs);
  }

  /** The limit comes back; minRtt takes the lone attempts seen (their quickest, at most PROBE_MAX_RISE × it). */
  #endProbe(nowMs: number): void {
    const probe = this.#probe!;
    if (probe.seen > 0) this.#minRtt = Math.min(probe.quickest, this.#minRtt * PROBE_MAX_RISE);
    this.#limit = probe.saved;
    this.#probe = undefined;
    this.#samples = 0;
    this.#probedAt = nowMs;
  }
}
