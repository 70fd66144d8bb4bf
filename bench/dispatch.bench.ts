/**
 * The dispatcher's cost and the runtime's warm throughput, each beside a baseline.
 *
 *   node --no-node-snapshot bench/dispatch.bench.ts
 *
 * - dispatch/acquire-release: one warm admission + release in the Dispatcher alone (fake
 *   environment, metrics recorded) — the dispatcher's own overhead per invoke — beside an empty call.
 * - dispatch/invoke/*: rt.invoke on a warm v8 environment beside ExecutionEnvironment.invoke
 *   called directly on a warm environment (no dispatcher, no START/END/REPORT, no options).
 * - dispatch/throughput/c<N>: 4,000 warm invokes of a trivial handler by N concurrent callers
 *   (N provisioned environments, so every invoke is warm); reported as invocations per second.
 * - dispatch/close/32-envs: rt.close() of a runtime with 32 warm environments, until all are disposed.
 *
 * Writes bench/results/dispatch.json (gitignored).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { Bench, type Task } from 'tinybench';
import { bundleFunction } from '../src/code/index.ts';
import { parseFunctionConfig } from '../src/config/index.ts';
import { Dispatcher } from '../src/dispatch/index.ts';
import { EngineRegistry } from '../src/engines/registry.ts';
import { ExecutionEnvironment } from '../src/environment/environment.ts';
import { functionIdentity } from '../src/environment/lambda-env.ts';
import { createRuntime, silentSink } from '../src/index.ts';

const TRIVIAL_MODULE = 'export const handler = async (e) => ({ hi: e.name });';
const EVENT = { name: 'bench' };
const EVENT_JSON = JSON.stringify(EVENT);
const BATCH = 4_000;
const CONCURRENCIES = [1, 2, 8, 64] as const;
const CLOSE_ENVS = 32;

// ---- the dispatcher alone ----------------------------------------------------------------------
const fakeEnv = { state: 'ready', dispose() {} };
const dispatcher = new Dispatcher<typeof fakeEnv, string>({
  concurrency: 1000,
  memoryBudgetMb: 1 << 20,
  idleTtlMs: 300_000,
  scaleUpRate: 100,
  scaleUpBurst: 100,
  maxQueueLength: 100,
});
const pool = dispatcher.configure('f', { memoryMb: 128, reservedConcurrency: undefined, provisionedConcurrency: 0 }, 'f');
const warmLease = dispatcher.acquire(pool);
if (warmLease instanceof Promise) throw new Error('expected a lease');
dispatcher.attach(warmLease, fakeEnv);
const REPORT = { durationMs: 0.05, billedDurationMs: 1, error: false };
dispatcher.release(warmLease, REPORT);

// ---- a warm environment, called directly -------------------------------------------------------
const config = parseFunctionConfig({ name: 'direct', code: { files: { 'index.mjs': TRIVIAL_MODULE } } });
const outcome = await bundleFunction(config.code, config.handler);
if (!outcome.ok) throw new Error('bundle failed');
const engines = new EngineRegistry();
const blueprint = await engines.get('v8').prepare(outcome.bundle);
const direct = await ExecutionEnvironment.boot({
  config,
  bundle: outcome.bundle,
  blueprint,
  identity: functionIdentity('us-east-1', '123456789012', 'direct'),
  sink: silentSink,
});
await direct.init();
let seq = 0;

// ---- the runtime -------------------------------------------------------------------------------
const rt = await createRuntime({ logSink: silentSink });
await rt.deploy({ name: 'warm', code: { files: { 'index.mjs': TRIVIAL_MODULE } }, provisionedConcurrency: 64 });
await rt.invoke('warm', EVENT);

async function batch(concurrency: number): Promise<void> {
  let left = BATCH;
  const client = async (): Promise<void> => {
    while (left-- > 0) {
      const result = await rt.invoke('warm', EVENT);
      if (result.functionError || result.coldStart) throw new Error('expected a warm success');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
}

let closeRt = await createRuntime({ logSink: silentSink });

// ---- cases -------------------------------------------------------------------------------------
// tinybench keeps every sample: a sub-microsecond case would fill the heap with tens of millions
// of them and slow every later case with GC, so the dispatcher alone is timed with a plain loop.
function perCallNs(body: () => void, calls = 2_000_000): number {
  for (let i = 0; i < calls / 10; i++) body();
  const started = performance.now();
  for (let i = 0; i < calls; i++) body();
  return ((performance.now() - started) * 1e6) / calls;
}
const acquireRelease = (): void => {
  const lease = dispatcher.acquire(pool) as typeof warmLease;
  dispatcher.release(lease, REPORT);
};
let sink = 0;
const emptyCall = (): void => {
  sink += 1;
};
const dispatcherNs = Math.min(perCallNs(acquireRelease), perCallNs(acquireRelease), perCallNs(acquireRelease));
const baselineNs = Math.min(perCallNs(emptyCall), perCallNs(emptyCall), perCallNs(emptyCall));
if (sink === 0) throw new Error('unreachable');

const micro = new Bench({ name: 'micro', time: 1500, warmupTime: 200 });
micro.add('dispatch/invoke/rt.invoke', () => rt.invoke('warm', EVENT));
micro.add('dispatch/invoke/direct-environment', () => direct.invoke({ requestId: `r${++seq}`, event: EVENT_JSON }));

const throughput = new Bench({ name: 'throughput', time: 0, iterations: 8, warmupIterations: 1 });
for (const c of CONCURRENCIES) throughput.add(`dispatch/throughput/c${c}`, () => batch(c));

const close = new Bench({ name: 'close', time: 0, iterations: 10, warmupIterations: 1 });
close.add(
  `dispatch/close/${CLOSE_ENVS}-envs`,
  async () => {
    await closeRt.close();
    const m = closeRt.metrics();
    if (m.environments !== 0) throw new Error(`${m.environments} environments left after close`);
  },
  {
    beforeEach: async () => {
      closeRt = await createRuntime({ logSink: silentSink });
      await closeRt.deploy({ name: 'c', code: { files: { 'index.mjs': TRIVIAL_MODULE } }, provisionedConcurrency: CLOSE_ENVS });
    },
  },
);

console.log(`lambdalet dispatch bench: node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}\n`);
await micro.run();
await throughput.run();
await close.run();
await rt.close();
direct.dispose();

// ---- report ------------------------------------------------------------------------------------
const results: Record<string, { median: number; p99: number; samples: number }> = {};
for (const task of [...micro.tasks, ...throughput.tasks, ...close.tasks]) results[task.name] = summarise(task);
const width = Math.max(...Object.keys(results).map((n) => n.length));
console.log(`${'case'.padEnd(width)}  ${'median ms'.padStart(10)}  ${'p99 ms'.padStart(10)}  ${'samples'.padStart(8)}`);
for (const [name, r] of Object.entries(results)) {
  console.log(`${name.padEnd(width)}  ${r.median.toFixed(4).padStart(10)}  ${r.p99.toFixed(4).padStart(10)}  ${String(r.samples).padStart(8)}`);
}
const us = (ms: number) => ms * 1000;
console.log(`dispatch/acquire-release/dispatcher: ${dispatcherNs.toFixed(0)} ns per warm acquire + release (empty call: ${baselineNs.toFixed(1)} ns)`);
const figures = {
  'dispatcher acquire+release, µs': (dispatcherNs - baselineNs) / 1000,
  'rt.invoke − direct environment invoke, µs': us(results['dispatch/invoke/rt.invoke']!.median - results['dispatch/invoke/direct-environment']!.median),
  ...Object.fromEntries(CONCURRENCIES.map((c) => [`warm throughput c${c}, invokes/s`, Math.round(BATCH / (results[`dispatch/throughput/c${c}`]!.median / 1000))])),
  [`close with ${CLOSE_ENVS} environments, ms`]: results[`dispatch/close/${CLOSE_ENVS}-envs`]!.median,
};
console.log('\nfigures:');
for (const [label, value] of Object.entries(figures)) console.log(`  ${label.padEnd(44)} ${Number(value.toFixed(2))}`);

const out = new URL('./results/dispatch.json', import.meta.url);
await mkdir(new URL('.', out), { recursive: true });
await writeFile(out, JSON.stringify({ node: process.version, cpu: cpus()[0]?.model ?? 'unknown', date: new Date().toISOString(), unit: 'ms', cases: results, figures }, null, 2) + '\n');
console.log('\nwrote bench/results/dispatch.json');

function summarise(task: Task): { median: number; p99: number; samples: number } {
  const result = task.result;
  if (result.state === 'errored') throw new Error(`${task.name} failed`, { cause: result.error });
  if (result.state !== 'completed') throw new Error(`${task.name} did not complete (${result.state})`);
  return { median: result.latency.p50, p99: result.latency.p99, samples: result.latency.samplesCount };
}
