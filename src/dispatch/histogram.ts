/**
 * A log-linear histogram of durations (the HDR idea, small): values are kept in microseconds;
 * below 128 µs every microsecond has its own bucket, above it each power of two is split into 64
 * buckets, so a percentile is off by at most 1/128 (0.8%) of its value. Fixed memory (1,600
 * counters, 12.8 KB) whatever the number of samples — no library for this is installed, and a
 * reservoir would lose the tail that p99 is about. Values past 2^31 µs (~35 min, longer than any
 * Lambda timeout) land in the last bucket.
 */

const SUB_BUCKET_BITS = 6;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS; // 64 per power of two
const LINEAR_LIMIT = SUB_BUCKETS * 2; // 128: exact below
const MAX_SHIFT = 24; // 2^(24 + 7) µs ≈ 35 min
const BUCKETS = LINEAR_LIMIT + MAX_SHIFT * SUB_BUCKETS;

/** Percentiles and extremes of recorded durations, in ms. All 0 when nothing was recorded. */
export interface DurationStats {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

export class DurationHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Records one duration in ms (negative and NaN count as 0). */
  record(ms: number): void {
    const value = ms > 0 ? ms : 0;
    this.#counts[bucketOf(Math.round(value * 1000))]! += 1;
    this.#count += 1;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  get count(): number {
    return this.#count;
  }

  /** The value (ms) below which `fraction` of the samples fall, within 0.8%; clamped to [min, max]. */
  percentile(fraction: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, middleOf(i) / 1000));
    }
    return this.#max;
  }

  stats(): DurationStats {
    if (this.#count === 0) return { count: 0, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0 };
    return {
      count: this.#count,
      sum: this.#sum,
      min: this.#min,
      max: this.#max,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
    };
  }
}

function bucketOf(us: number): number {
  if (us < LINEAR_LIMIT) return us;
  if (us >= 2 ** 31) return BUCKETS - 1;
  // shift ≥ 1 such that us >> shift lies in [64, 127].
  const shift = 31 - Math.clz32(us) - SUB_BUCKET_BITS;
  if (shift > MAX_SHIFT) return BUCKETS - 1;
  return LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + ((us >>> shift) - SUB_BUCKETS);
}

/** The middle of bucket `index`, in µs. */
function middleOf(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const shift = Math.floor((index - LINEAR_LIMIT) / SUB_BUCKETS) + 1;
  const sub = ((index - LINEAR_LIMIT) % SUB_BUCKETS) + SUB_BUCKETS;
  return sub * 2 ** shift + 2 ** (shift - 1) - 0.5;
}
