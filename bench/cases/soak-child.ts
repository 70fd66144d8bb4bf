/**
 * One soak run, in a fresh process (spawned by cases/soak.ts):
 *
 *   node --no-node-snapshot --expose-gc bench/cases/soak-child.ts <engine> <invocations>
 *
 * Deploys the trivial handler, warms it with 2,000 invocations, then runs `invocations` sequential
 * warm invocations. Prints one JSON line: host heap (after full GCs) and RSS before and after, the
 * cold starts seen during the run (0 expected) and the run's wall time.
 */
import { createRuntime, silentSink } from '../../src/index.ts';
import { TRIVIAL, TRIVIAL_EVENT } from '../lib/handlers.ts';

const [engine, countText] = process.argv.slice(2);
if (engine !== 'v8' && engine !== 'quickjs') throw new Error(`usage: soak-child.ts <v8|quickjs> <invocations>; got engine ${engine}`);
const invocations = Number(countText);
if (!Number.isInteger(invocations) || invocations <= 0) throw new Error(`invocations must be a positive integer, got ${countText}`);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('soak-child.ts needs --expose-gc');

async function settled(): Promise<{ heapBytes: number; rssBytes: number }> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const { heapUsed, rss } = process.memoryUsage();
  return { heapBytes: heapUsed, rssBytes: rss };
}

const rt = await createRuntime({ logSink: silentSink });
await rt.deploy({ name: 'soak', engine, code: { files: { 'index.mjs': TRIVIAL.module } } });
for (let i = 0; i < 2_000; i++) await rt.invoke('soak', TRIVIAL_EVENT);
const before = await settled();
const started = performance.now();
let coldStarts = 0;
for (let i = 0; i < invocations; i++) {
  const res = await rt.invoke('soak', TRIVIAL_EVENT);
  if (res.coldStart) coldStarts++;
  if (res.functionError) throw new Error(`invocation ${i} failed: ${JSON.stringify(res.payload)}`);
}
const seconds = (performance.now() - started) / 1000;
const after = await settled();
await rt.close();
console.log(JSON.stringify({ engine, invocations, coldStarts, seconds, before, after }));
