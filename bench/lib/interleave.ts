/**
 * Cases measured side by side in alternating rounds, so that a change in the machine's load (a
 * shared 2-core machine swings between load 2 and 40 within a minute) hits each of them alike:
 * a ratio of two cases measured a minute apart says more about the load than about the code
 * (issue 21: an A/A run of one throughput case against itself read 0.912x, then 2.396x).
 * No timing here beyond the injected clock, so test/bench/ can check the order and the figures.
 */
import { quantile, summariseSamples } from './stats.ts';

export interface InterleavedCase {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

export interface InterleaveOptions {
  /** Rounds kept; each round runs every case `perRound` times in a row. */
  readonly rounds: number;
  readonly perRound: number;
  /** Rounds run first and dropped (JIT, pools, caches). */
  readonly warmupRounds: number;
  /** Clock in ms; performance.now() unless a test gives one. */
  readonly now?: () => number;
}

export interface InterleavedSamples {
  /** Every kept sample of each case (ms). */
  readonly samples: Record<string, number[]>;
  /** Each case's median per kept round (ms), in round order: the pairs a per-round ratio is made of. */
  readonly roundMedians: Record<string, number[]>;
}

/**
 * The order of round `round`: the cases rotated by the round's number, so each goes first as often
 * as the others (with two cases: A B, B A, A B...).
 */
export function roundOrder<T>(cases: readonly T[], round: number): T[] {
  const k = round % cases.length;
  return [...cases.slice(k), ...cases.slice(0, k)];
}

export async function interleave(cases: readonly InterleavedCase[], options: InterleaveOptions): Promise<InterleavedSamples> {
  const now = options.now ?? (() => performance.now());
  const samples: Record<string, number[]> = {};
  const roundMedians: Record<string, number[]> = {};
  for (const c of cases) {
    samples[c.name] = [];
    roundMedians[c.name] = [];
  }
  const total = options.warmupRounds + options.rounds;
  for (let round = 0; round < total; round++) {
    const kept = round >= options.warmupRounds;
    for (const c of roundOrder(cases, round)) {
      const inRound: number[] = [];
      for (let i = 0; i < options.perRound; i++) {
        const t0 = now();
        await c.run();
        inRound.push(now() - t0);
      }
      if (kept) {
        samples[c.name]!.push(...inRound);
        roundMedians[c.name]!.push(summariseSamples(inRound).median);
      }
    }
  }
  return { samples, roundMedians };
}

/** The spread of per-round ratios `of / over`: how far one round's ratio strays from the next's. */
export interface RatioSpread {
  readonly p25: number;
  readonly median: number;
  readonly p75: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: number;
}

export function roundRatioSpread(of: readonly number[], over: readonly number[]): RatioSpread {
  const ratios = of.map((v, i) => v / over[i]!).filter((r) => Number.isFinite(r)).sort((a, b) => a - b);
  return {
    p25: quantile(ratios, 0.25),
    median: summariseSamples(ratios).median,
    p75: quantile(ratios, 0.75),
    min: ratios[0] ?? Number.NaN,
    max: ratios[ratios.length - 1] ?? Number.NaN,
    rounds: ratios.length,
  };
}
