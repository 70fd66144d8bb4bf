/**
 * One wasm density measurement, in a fresh process (spawned by cases/wasm.ts):
 *
 *   node --no-node-snapshot --expose-gc bench/cases/wasm-density-child.ts <wasm-c|wasm-js> <count> <js entry>
 *
 * Prints `{ kind, count, perEnvBytes }`: the RSS growth over `count` idle environments (deployed
 * with `count` provisioned environments on a published version, so booted and through INIT), after one environment of the
 * same code was made first. Each environment is a component instance in the shared pool of engine
 * servers (started with the first deploy, so not in the growth).
 */
import { fileURLToPath } from 'node:url';
import { createRuntime, silentSink } from '../../src/index.ts';
import { deployProvisioned } from '../lib/lambdalet.ts';

const HELLO = fileURLToPath(new URL('../../native/components/hello.wasm', import.meta.url));

async function settle(): Promise<number> {
  await new Promise((r) => setTimeout(r, 200));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().rss;
}

const [kind, countText, jsEntry] = process.argv.slice(2);
const count = Number(countText);
const code = kind === 'wasm-c' ? { component: HELLO } : { entry: jsEntry! };
const rt = await createRuntime({ logSink: silentSink, concurrency: count * 2 + 20, memoryBudgetMb: 16_777_216, scaleUpRate: 100_000, scaleUpBurst: 100_000 });
const first = await deployProvisioned(rt, { name: 'first', engine: 'wasm', code }, 1);
await rt.invoke(first, { name: 'x' });
const before = await settle();
await deployProvisioned(rt, { name: 'idle', engine: 'wasm', code }, count);
const after = await settle();
const live = rt.metrics().environments;
if (live !== count + 1) throw new Error(`expected ${count + 1} environments, found ${live}`);
process.stdout.write(`${JSON.stringify({ kind, count, perEnvBytes: (after - before) / count })}\n`);
process.exit(0);
