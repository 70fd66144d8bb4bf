/**
 * How many asynchronous attempts of one function the pump runs at once: a latency-based limit in
 * the manner of TCP Vegas (Netflix's concurrency-limits `VegasLimit` is the same rule for
 * services). Without it the pump handed the dispatcher every event it could claim (up to the
 * account's `concurrency`), and a burst of events to a quick function started one environment per
 * event in flight — 188 cold starts for 2,000 trivial events on 2 cores, most of the pipeline's
 * time — where a handful of warm environments does the same work faster.
 *
 * The rule: `minRtt` is the quickest warm attempt seen lately; an attempt that took `rtt` says that
 * about `limit × (1 − minRtt / rtt)` attempts were queued for the CPU (or the dispatcher) rather
 * than running. Under ALPHA queued, and the limit was what held events back, one more is allowed;
 * over BETA, one fewer. Both scale with √(limit / 4) above 4 (`scaleOf`; VegasLimit scales them
 * with log10 of the limit): a limit in the tens, which only a function waiting on I/O reaches, is
 * not held down by the few milliseconds a busy host adds to every attempt. Measured on the 2-core
 * machine (docs/async.md, Figures): with log10 a 50 ms function stalled at 67-80 in flight, with √
 * it reached 126 and ran a warm burst as fast as the unlimited pump; a trivial function still
 * settles at 6. A CPU-bound function settles near the cores it can use; a function that
 * waits on I/O (its time does not grow with the limit) climbs to the account's concurrency.
 * Cold attempts are not samples (their INIT is not queueing). `minRtt` is re-learnt every
 * RESET_EVERY samples, so a redeploy or a quieter machine is noticed.
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
/** Samples between two re-learnings of the quickest attempt. */
export const RESET_EVERY = 500;

export class AdaptiveLimit {
  #limit: number;
  readonly #max: number;
  #minRtt = Infinity;
  #windowMin = Infinity;
  #samples = 0;

  /** `max`: never above it (the account's concurrency). Starts at `initial` (default 1). */
  constructor(max: number, initial = 1) {
    this.#max = Math.max(1, max);
    this.#limit = Math.min(this.#max, Math.max(1, initial));
  }

  /** Attempts of this function that may run at once now. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * A warm attempt finished after `rttMs` (from its dispatch to its result); `busy` is how many of
   * this function's attempts were running when it finished, itself included.
   */
  sample(rttMs: number, busy: number): void {
    if (!(rttMs > 0)) return;
    this.#windowMin = Math.min(this.#windowMin, rttMs);
    this.#minRtt = Math.min(this.#minRtt, rttMs);
    if (++this.#samples % RESET_EVERY === 0) {
      this.#minRtt = this.#windowMin;
      this.#windowMin = Infinity;
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
}
