/**
 * Cold and warm invoke latency of the v8 engine, each case beside a raw isolated-vm baseline.
 *
 *   npm run bench        (node --no-node-snapshot bench/coldwarm.bench.ts)
 *
 * Case names are `<area>/<case>/<engine or baseline>`. Prints a table (median, p99, samples, in ms)
 * and the ratios of lambdalet to its baselines; writes bench/results/latest.json (gitignored).
 * See docs/benchmarks.md for how to read it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import ivm from 'isolated-vm';
import { Bench, type Task } from 'tinybench';
import { createRuntime, silentSink, type Runtime, type RuntimeOptionsInput } from '../src/index.ts';

const SILENT: RuntimeOptionsInput = { logSink: silentSink };

/** The trivial handler: lambdalet gets it as a module, the raw baselines as a function expression. */
const TRIVIAL_FN = `async (e) => ({ hi: e.name })`;
const TRIVIAL_MODULE = `export const handler = ${TRIVIAL_FN};`;
const ECHO_FN = `async (e) => e`;
const ECHO_MODULE = `export const handler = ${ECHO_FN};`;
/** lambdalet's default memoryMb, used for the raw isolates too. */
const MEMORY_MB = 128;
/** Cold environments kept alive before the runtime holding them is closed (outside the timing). */
const COLD_BATCH = 32;

const TRIVIAL_EVENT = { name: 'bench' };
const JSON_EVENT = jsonEventOfAbout(100 * 1024);
const COPY_IN_OUT = { arguments: { copy: true }, result: { copy: true, promise: true } } as const;

// ---- lambdalet setup -------------------------------------------------------------------------
let coldRt: Runtime = await createRuntime(SILENT);
let coldSeq = 0;
let coldName = '';
let coldInBatch = 0;

const rt = await createRuntime(SILENT);
await rt.deploy({ name: 'warm-trivial', code: { files: { 'index.mjs': TRIVIAL_MODULE } } });
await rt.deploy({ name: 'warm-json', code: { files: { 'index.mjs': ECHO_MODULE } } });
await expectPayload(rt, 'warm-trivial', TRIVIAL_EVENT, { hi: 'bench' });
await expectPayload(rt, 'warm-json', JSON_EVENT, JSON_EVENT);

// ---- raw isolated-vm setup: one isolate whose functions are called in place ------------------
const isolate = new ivm.Isolate({ memoryLimit: MEMORY_MB });
const context = await isolate.createContext();
const noop = (await context.eval('(function () {})', { reference: true })) as ivm.Reference<() => void>;
const trivial = (await context.eval(`(${TRIVIAL_FN})`, { reference: true })) as ivm.Reference<(e: unknown) => Promise<unknown>>;
const echo = (await context.eval(`(${ECHO_FN})`, { reference: true })) as ivm.Reference<(e: unknown) => Promise<unknown>>;

async function rawCold(): Promise<unknown> {
  const iso = new ivm.Isolate({ memoryLimit: MEMORY_MB });
  try {
    const ctx = await iso.createContext();
    const fn = (await ctx.eval(`(${TRIVIAL_FN})`, { reference: true })) as ivm.Reference<(e: unknown) => Promise<unknown>>;
    return await fn.apply(undefined, [TRIVIAL_EVENT], COPY_IN_OUT);
  } finally {
    iso.dispose();
  }
}

// ---- cases -------------------------------------------------------------------------------------
const cold = new Bench({ name: 'cold', time: 1500, iterations: 64, warmupIterations: 8, warmupTime: 100 });
cold.add(
  'cold/trivial/v8',
  async () => {
    const result = await coldRt.invoke(coldName, TRIVIAL_EVENT);
    if (!result.coldStart) throw new Error(`${coldName} was not a cold start`);
  },
  {
    // Deploying (esbuild bundling + code cache) happens here, outside the timed part.
    beforeEach: async () => {
      coldName = `cold-${++coldSeq}`;
      await coldRt.deploy({ name: coldName, code: { files: { 'index.mjs': TRIVIAL_MODULE } } });
    },
    // Every COLD_BATCH environments, close the runtime holding them (disposes their isolates).
    afterEach: async () => {
      if (++coldInBatch < COLD_BATCH) return;
      coldInBatch = 0;
      await coldRt.close();
      coldRt = await createRuntime(SILENT);
    },
  },
);
cold.add('cold/trivial/raw-isolated-vm', rawCold);

const warm = new Bench({ name: 'warm', time: 2000, warmupTime: 250 });
warm.add('warm/trivial/v8', () => rt.invoke('warm-trivial', TRIVIAL_EVENT));
warm.add('warm/trivial/raw-apply-noop', () => noop.apply());
warm.add('warm/trivial/raw-apply-handler', () => trivial.apply(undefined, [TRIVIAL_EVENT], COPY_IN_OUT));
warm.add('warm/json-100kb/v8', () => rt.invoke('warm-json', JSON_EVENT));
warm.add('warm/json-100kb/raw-apply-handler', () => echo.apply(undefined, [JSON_EVENT], COPY_IN_OUT));

const started = performance.now();
console.log(`lambdalet coldwarm bench: node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}`);
console.log(`json-100kb event: ${JSON.stringify(JSON_EVENT).length} bytes of JSON`);
console.log('cold/trivial/v8 times rt.invoke of a function deployed in beforeEach: bundling and deploy are NOT timed;');
console.log('its isolate is disposed later, outside the timing. cold/trivial/raw-isolated-vm times isolate creation to dispose.\n');
await cold.run();
await warm.run();
await coldRt.close();
await rt.close();
isolate.dispose();

// ---- report ------------------------------------------------------------------------------------
interface CaseResult {
  readonly median: number;
  readonly p99: number;
  readonly samples: number;
}

const results: Record<string, CaseResult> = {};
for (const task of [...cold.tasks, ...warm.tasks]) results[task.name] = summarise(task);

const nameWidth = Math.max(...Object.keys(results).map((n) => n.length));
console.log(`${'case'.padEnd(nameWidth)}  ${'median ms'.padStart(10)}  ${'p99 ms'.padStart(10)}  ${'samples'.padStart(8)}`);
for (const [name, r] of Object.entries(results)) {
  console.log(`${name.padEnd(nameWidth)}  ${fmt(r.median).padStart(10)}  ${fmt(r.p99).padStart(10)}  ${String(r.samples).padStart(8)}`);
}

const ratios = {
  'cold v8 / raw cold': ratio('cold/trivial/v8', 'cold/trivial/raw-isolated-vm'),
  'warm v8 / raw-apply-noop': ratio('warm/trivial/v8', 'warm/trivial/raw-apply-noop'),
  'warm v8 / raw-apply-handler': ratio('warm/trivial/v8', 'warm/trivial/raw-apply-handler'),
  'json-100kb v8 / raw-apply-handler': ratio('warm/json-100kb/v8', 'warm/json-100kb/raw-apply-handler'),
};
console.log('\nratios of medians:');
for (const [label, value] of Object.entries(ratios)) console.log(`  ${label.padEnd(34)} ${value.toFixed(2)}x`);

const report = {
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  date: new Date().toISOString(),
  unit: 'ms',
  cases: results,
  ratios,
};
const out = new URL('./results/latest.json', import.meta.url);
await mkdir(new URL('.', out), { recursive: true });
await writeFile(out, JSON.stringify(report, null, 2) + '\n');
console.log(`\nwrote bench/results/latest.json (${((performance.now() - started) / 1000).toFixed(1)} s)`);

// ---- helpers -----------------------------------------------------------------------------------
function summarise(task: Task): CaseResult {
  const result = task.result;
  if (result.state === 'errored') throw new Error(`${task.name} failed`, { cause: result.error });
  if (result.state !== 'completed') throw new Error(`${task.name} did not complete (${result.state})`);
  return { median: result.latency.p50, p99: result.latency.p99, samples: result.latency.samplesCount };
}

function ratio(a: string, b: string): number {
  return results[a]!.median / results[b]!.median;
}

function fmt(ms: number): string {
  return ms < 1 ? ms.toFixed(4) : ms.toFixed(3);
}

async function expectPayload(runtime: Runtime, name: string, event: unknown, expected: unknown): Promise<void> {
  const result = await runtime.invoke(name, event);
  if (JSON.stringify(result.payload) !== JSON.stringify(expected)) {
    throw new Error(`${name} answered ${JSON.stringify(result.payload).slice(0, 200)}`);
  }
}

/** An object of realistic records whose JSON is about `bytes` long. */
function jsonEventOfAbout(bytes: number): { items: unknown[] } {
  const items: unknown[] = [];
  let length = '{"items":[]}'.length;
  for (let i = 0; length < bytes; i++) {
    const item = { id: i, sku: `sku-${String(i).padStart(6, '0')}`, name: `item number ${i}`, price: i * 1.25, tags: ['a', 'b'], inStock: i % 3 !== 0 };
    items.push(item);
    length += JSON.stringify(item).length + (i > 0 ? 1 : 0);
  }
  return { items };
}
