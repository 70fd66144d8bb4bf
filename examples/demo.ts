/**
 * `npm start`: deploys the example functions in this folder, invokes each one cold and then warm,
 * prints what came back and the log lines, and ends with the cold/warm timings measured in this run.
 *
 *   node --no-node-snapshot examples/demo.ts
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createRuntime, type FunctionConfigInput, type InvokeResult, type LogSink } from '../src/index.ts';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** Prints function log lines indented under the invoke they belong to; START/END are left out. */
let muted = false;
const sink: LogSink = {
  write(line, meta) {
    if (muted || line.startsWith('START ') || line.startsWith('END ')) return;
    process.stdout.write(`    ${meta.functionName.padEnd(8)} │ ${line.replaceAll('\t', '  ').trimEnd()}\n`);
  },
};

interface Example {
  readonly config: FunctionConfigInput;
  /** What the cold and the warm invoke send. */
  readonly events: readonly [cold: unknown, warm: unknown];
}

const examples: Example[] = [
  {
    // A directory on disk, used in place.
    config: { name: 'hello', code: { dir: here('./hello/') }, env: { GREETING: 'Hello' } },
    events: [{ name: 'Ada' }, { name: 'Grace' }],
  },
  {
    config: { name: 'counter', code: { dir: here('./counter/') } },
    events: [{ step: 'first' }, { step: 'second' }],
  },
  {
    // One TypeScript file: it and its imports are bundled; the handler names the entry file.
    config: { name: 'orders', code: { entry: here('./orders/handler.ts') }, handler: 'handler.handler' },
    events: [
      { orderId: 'o-1', lines: [{ sku: 'tea', quantity: 2, unitPriceCents: 450 }] },
      { orderId: 'o-2', lines: [{ sku: 'tea', quantity: 1, unitPriceCents: 450 }, { sku: 'cake', quantity: 3, unitPriceCents: 325 }] },
    ],
  },
  {
    // In-memory files: the package given as { path: contents }.
    config: { name: 'timers', code: { files: { 'index.mjs': await readFile(here('./timers/index.mjs'), 'utf8') } } },
    events: [{ delayMs: 20 }, { delayMs: 20 }],
  },
];

/** Warm invokes per function for the median in the table (their logs are not printed). */
const WARM_SAMPLES = 20;

interface Timing {
  readonly name: string;
  readonly coldMs: number;
  readonly initMs: number | undefined;
  readonly warmMs: number;
  readonly warmMedianMs: number;
}

const rt = await createRuntime({ logSink: sink });
const timings: Timing[] = [];
try {
  for (const { config } of examples) {
    const info = await rt.deploy(config);
    console.log(`deployed ${info.functionName.padEnd(8)} handler ${info.handler.padEnd(16)} code ${info.codeSha256?.slice(0, 12) ?? '(init error)'}`);
  }

  for (const { config, events } of examples) {
    const cold = await timedInvoke(config.name, events[0], 'cold');
    const warm = await timedInvoke(config.name, events[1], 'warm');
    muted = true;
    const samples: number[] = [];
    for (let i = 0; i < WARM_SAMPLES; i++) samples.push((await timedInvoke(config.name, events[1])).ms);
    muted = false;
    timings.push({
      name: config.name,
      coldMs: cold.ms,
      initMs: cold.result.initDurationMs,
      warmMs: warm.ms,
      warmMedianMs: median(samples),
    });
  }
} finally {
  await rt.close();
}

console.log(`\nTimings of this run in ms: wall clock around rt.invoke; Init Duration (boot + INIT) from the cold REPORT; warm median of ${WARM_SAMPLES}:`);
console.log(row('function', 'cold', 'Init Duration', 'first warm', 'warm median'));
for (const t of timings) {
  console.log(row(t.name, fmt(t.coldMs), t.initMs === undefined ? '-' : fmt(t.initMs), fmt(t.warmMs), fmt(t.warmMedianMs)));
}
console.log('(timers waits for a 20 ms setTimeout on every invoke.)');

async function timedInvoke(name: string, event: unknown, label?: string): Promise<{ ms: number; result: InvokeResult }> {
  if (label) console.log(`\n${label} invoke ${name} ${JSON.stringify(event)}`);
  const started = performance.now();
  const result = await rt.invoke(name, event);
  const ms = performance.now() - started;
  if (label) {
    const status = result.functionError ? `functionError ${result.functionError}` : `status ${result.statusCode}`;
    console.log(`  → ${status}, coldStart ${result.coldStart}, ${fmt(ms)} ms: ${JSON.stringify(result.payload)}`);
  }
  return { ms, result };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmt(ms: number): string {
  return ms.toFixed(2);
}

function row(...cells: string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(10) : cell.padStart(14))).join('');
}
