/**
 * What every area of the suite gets: the mode, a tinybench-backed `measure`, and places to put
 * results, ratios, targets and notes.
 */
import { Bench, type FnOptions } from 'tinybench';
import type { Failure, NotYet, RatioSpec, TargetSpec } from './report.ts';
import type { CaseResult, DensityResult } from './stats.ts';

export interface MeasureOptions {
  /** Least samples. */
  readonly iterations: number;
  /** Least time in ms spent in the timed part (tinybench keeps going until both are reached). */
  readonly time?: number;
  readonly warmupIterations?: number;
  readonly warmupTime?: number;
  /** Untimed, before / after every sample (tinybench's beforeEach / afterEach). */
  readonly beforeEach?: FnOptions['beforeEach'];
  readonly afterEach?: FnOptions['afterEach'];
}

export class Suite {
  readonly quick: boolean;
  readonly cases: Record<string, CaseResult> = {};
  readonly density: Record<string, DensityResult> = {};
  readonly throughput: Record<string, { invokesPerSecond: number; batch: number }> = {};
  readonly ratios: RatioSpec[] = [];
  readonly targets: TargetSpec[] = [];
  readonly notYet: NotYet[] = [];
  readonly failures: Failure[] = [];
  readonly notes: string[] = [];
  readonly extra: Record<string, unknown> = {};

  constructor(quick: boolean) {
    this.quick = quick;
  }

  /** Full-run value or quick-run value. */
  pick<T>(full: T, quick: T): T {
    return this.quick ? quick : full;
  }

  /** Times `fn` with tinybench and records `{ median, p99, samples }` under `name`. */
  async measure(name: string, fn: () => unknown, options: MeasureOptions): Promise<CaseResult> {
    const bench = new Bench({
      name,
      time: options.time ?? 0,
      iterations: options.iterations,
      warmupIterations: options.warmupIterations ?? Math.min(8, Math.max(1, Math.floor(options.iterations / 10))),
      warmupTime: options.warmupTime ?? 0,
      throws: true,
    });
    const fnOptions: FnOptions = {};
    if (options.beforeEach) fnOptions.beforeEach = options.beforeEach;
    if (options.afterEach) fnOptions.afterEach = options.afterEach;
    // Always an async function: tinybench probes a plain function by calling it once, which would
    // overlap two invokes of one environment.
    bench.add(
      name,
      async () => {
        await fn();
      },
      fnOptions,
    );
    await bench.run();
    const task = bench.tasks[0]!;
    const result = task.result;
    if (result.state === 'errored') throw new Error(`${name} failed`, { cause: result.error });
    if (result.state !== 'completed') throw new Error(`${name} did not complete (${result.state})`);
    const figures: CaseResult = { median: result.latency.p50, p99: result.latency.p99, samples: result.latency.samplesCount };
    this.record(name, figures);
    return figures;
  }

  record(name: string, result: CaseResult): void {
    this.cases[name] = result;
    progress(`${name.padEnd(48)} median ${result.median.toFixed(4)} ms  p99 ${result.p99.toFixed(4)} ms  n=${result.samples}`);
  }

  ratio(of: string, over: string, kind: RatioSpec['kind'] = 'median'): void {
    this.ratios.push({ of, over, kind });
  }

  notYetCase(name: string, reason: string): void {
    this.notYet.push({ case: name, reason });
  }

  /**
   * Runs one case (or area); if it throws, the error is printed and recorded under `name` and the
   * run goes on: one case failing under load (an INIT past its limit) must not stop a closing run.
   */
  async attempt(name: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      const text = describe(error);
      this.failures.push({ case: name, error: text });
      progress(`${name}: FAILED: ${text}`);
    }
  }
}

/** The error's message with its causes (tinybench wraps the case's own error). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 4; e = e instanceof Error ? e.cause : undefined) {
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : JSON.stringify(e) ?? 'undefined');
  }
  return parts.join(' <- ');
}

/** Progress lines go to stderr, so stdout holds only the report. */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
