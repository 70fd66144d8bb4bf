/**
 * `lambdalet bench <code>`: cold and warm invoke latency of the user's own handler, measured with
 * tinybench. A cold sample is one invoke of a function redeployed just before it (the deploy —
 * bundling, code cache — is not timed), so it boots a new environment and runs INIT; a warm sample
 * is one invoke of an environment that is already up.
 */
import type { Bench as BenchType, Task } from 'tinybench';
import { createRuntime, silentSink, type FunctionConfigInput, type InvokeResult, type Runtime } from '../index.ts';
import type { Io } from './io.ts';
import { CODE_HELP, FUNCTION_FLAGS, FUNCTION_FLAGS_HELP, functionConfig, HELP_FLAG_HELP, parseCommand, readEvent, UsageError } from './options.ts';

export const BENCH_HELP = `Usage: lambdalet bench <code> [options]

Measures cold and warm invokes of your handler with tinybench and prints a table (median, p99,
mean, min, max in ms). Cold: each sample invokes a freshly deployed function (a new environment
that runs INIT; deploying is not timed). Warm: each sample invokes an environment already up.
Progress goes to stderr, the table to stdout.

${CODE_HELP}

Options:
${FUNCTION_FLAGS_HELP}
  --iterations <N>         samples per case, 1 to 100000 (default: 50)
  --json                   print the results as JSON instead of a table
${HELP_FLAG_HELP}

Exit codes: 0 done; 1 the handler failed (its error payload is on stdout) or could not run;
2 bad usage.

Example:
  lambdalet bench src/orders.ts --event-file event.json --iterations 200`;

const BENCH_FLAGS = { ...FUNCTION_FLAGS, iterations: { type: 'string' }, json: { type: 'boolean' } } as const;
const DEFAULT_ITERATIONS = 50;
const MAX_ITERATIONS = 100_000;
const WARMUP_ITERATIONS = 5;

interface CaseStats {
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly samples: number;
}

export async function benchCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(args, BENCH_FLAGS);
  if (values.help === true) {
    io.stdout.write(`${BENCH_HELP}\n`);
    return 0;
  }
  const [code, dash, ...extra] = positionals;
  if (extra.length > 0 || (dash !== undefined && dash !== '-')) {
    throw new UsageError(`unexpected argument '${extra[0] ?? dash}': bench takes one <code> (and - to read the event from stdin)`);
  }
  const iterations = values.iterations === undefined ? DEFAULT_ITERATIONS : Number(values.iterations);
  if (!/^\d+$/.test(values.iterations ?? '1') || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new UsageError(`--iterations takes a whole number from 1 to ${MAX_ITERATIONS}; got '${values.iterations}'`);
  }
  const config = await functionConfig(code, values);
  const event = await readEvent(values, dash === '-', io.stdin);
  const { Bench } = await loadTinybench();

  const rt = await createRuntime({ logSink: silentSink });
  try {
    const info = await rt.deploy(config);
    const first = await rt.invoke(config.name, event);
    if (first.functionError !== undefined) {
      io.stdout.write(`${JSON.stringify(first.payload)}\n`);
      io.stderr.write(`lambdalet bench: the handler failed on its first invoke; fix it (try \`lambdalet invoke\`) and bench again\n`);
      return 1;
    }

    const progress = new Progress(io, iterations + Math.min(WARMUP_ITERATIONS, iterations));
    const initDurations: number[] = [];
    const restoreDurations: number[] = [];
    const options = { iterations, time: 0, warmupIterations: Math.min(WARMUP_ITERATIONS, iterations), warmupTime: 0, throws: true };

    const cold: BenchType = new Bench({ name: 'cold', ...options });
    cold.add(
      'cold',
      async () => {
        const result = expectOk(await rt.invoke(config.name, event), 'cold');
        if (!result.coldStart) throw new Error('a cold sample was served by a warm environment');
        if (result.initDurationMs !== undefined) initDurations.push(result.initDurationMs);
        if (result.restoreDurationMs !== undefined) restoreDurations.push(result.restoreDurationMs);
        progress.tick('cold');
      },
      { beforeEach: () => redeploy(rt, config) },
    );
    const warm: BenchType = new Bench({ name: 'warm', ...options });
    warm.add('warm', async () => {
      expectOk(await rt.invoke(config.name, event), 'warm');
      progress.tick('warm');
    });

    await cold.run();
    await redeploy(rt, config);
    progress.restart();
    await warm.run();
    progress.done();

    const results = { cold: stats(cold.tasks[0]), warm: stats(warm.tasks[0]) };
    const initMedianMs = median(initDurations);
    const restoreMedianMs = median(restoreDurations);
    const header = `${info.handler} on ${info.engine} (${info.runtime}, ${info.memoryMb} MB), node ${process.version}, ${iterations} samples per case`;
    if (values.json === true) {
      const report = { handler: info.handler, engine: info.engine, runtime: info.runtime, memoryMb: info.memoryMb, node: process.version, unit: 'ms', ...results, initDurationMedianMs: initMedianMs, restoreDurationMedianMs: restoreMedianMs };
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      io.stdout.write(`${header}\n\n${table(results)}\n`);
      if (initMedianMs !== undefined) io.stdout.write(`\nInit Duration on cold starts (boot + INIT), median: ${fmt(initMedianMs)} ms\n`);
      if (restoreMedianMs !== undefined) io.stdout.write(`\nRestore Duration on cold starts (SnapStart), median: ${fmt(restoreMedianMs)} ms\n`);
    }
    return 0;
  } finally {
    await rt.close();
  }
}

async function loadTinybench(): Promise<typeof import('tinybench')> {
  try {
    return await import('tinybench');
  } catch (error) {
    throw new Error('lambdalet bench needs tinybench: install it next to lambdalet (npm install tinybench)', { cause: error });
  }
}

async function redeploy(rt: Runtime, config: FunctionConfigInput): Promise<void> {
  // Replacing the function discards its warm environments: the next invoke is a cold start.
  await rt.deploy(config);
}

function expectOk(result: InvokeResult, phase: string): InvokeResult {
  if (result.functionError !== undefined) {
    throw new Error(`a ${phase} invoke failed: ${JSON.stringify(result.payload)}`);
  }
  return result;
}

function stats(task: Task | undefined): CaseStats {
  const result = task?.result;
  if (result?.state !== 'completed') {
    throw new Error(`the ${task?.name ?? 'bench'} case did not complete`, { cause: result?.state === 'errored' ? result.error : undefined });
  }
  const l = result.latency;
  return { medianMs: l.p50, p99Ms: l.p99, meanMs: l.mean, minMs: l.min, maxMs: l.max, samples: l.samplesCount };
}

function table(results: Record<string, CaseStats>): string {
  const columns = ['median ms', 'p99 ms', 'mean ms', 'min ms', 'max ms', 'samples'];
  const rows = Object.entries(results).map(([name, s]) => [name, fmt(s.medianMs), fmt(s.p99Ms), fmt(s.meanMs), fmt(s.minMs), fmt(s.maxMs), String(s.samples)]);
  const widths = ['case', ...columns].map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(['case', ...columns]), ...rows.map(line)].join('\n');
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function fmt(ms: number): string {
  return ms < 1 ? ms.toFixed(3) : ms.toFixed(2);
}

/** A progress line on stderr: redrawn in place on a terminal, one line per case otherwise. */
class Progress {
  readonly #io: Io;
  readonly #total: number;
  #count = 0;
  #announced = '';

  constructor(io: Io, total: number) {
    this.#io = io;
    this.#total = total;
  }

  tick(phase: string): void {
    this.#count++;
    if (this.#io.stderrIsTTY) {
      const width = 30;
      const filled = Math.round((Math.min(this.#count, this.#total) / this.#total) * width);
      this.#io.stderr.write(`\r${phase.padEnd(5)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.#count}/${this.#total}`);
    } else if (this.#announced !== phase) {
      this.#announced = phase;
      this.#io.stderr.write(`bench: ${phase}: ${this.#total} invokes (warm-up included)…\n`);
    }
  }

  restart(): void {
    this.#count = 0;
  }

  done(): void {
    if (this.#io.stderrIsTTY) this.#io.stderr.write('\r\x1b[2K');
    else this.#io.stderr.write('bench: done\n');
  }
}
