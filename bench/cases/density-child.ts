/**
 * One density measurement, in a fresh process (spawned by cases/density.ts):
 *
 *   node --no-node-snapshot --expose-gc bench/cases/density-child.ts <kind> <count>
 *
 * Prints one JSON line `{ kind, count, perEnvBytes }`: the RSS growth over `count` idle
 * environments, after one environment of the same kind was made first (engine loaded, module
 * compiled, guest runtime bundled) and a GC. lambdalet kinds boot the environments through the
 * public API: a published version with `count` provisioned environments (booted and through INIT,
 * then idle); the count is checked with `rt.metrics()`. `<variant>+pool` (quickjs, quickjs-shared):
 * the first deploy has as many environments as the worker pool's `maxSize`, so the pool has grown to
 * its size before the first sample — the per-environment cost without the pool's growth, a fixed
 * cost bounded by maxSize that the plain kind divides by `count` (issue 21). The fork kind sums the children's
 * proportional set size (Linux /proc/<pid>/smaps_rollup; RSS elsewhere), since their memory is not
 * in this process.
 */
import { readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { silentSink } from '../../src/index.ts';
import type { Baseline, BaselineEnv } from '../baselines/baseline.ts';
import { forkHandler } from '../baselines/child-process.ts';
import { rawIsolatedVm } from '../baselines/isolated-vm.ts';
import { nodeVm } from '../baselines/node-vm.ts';
import { rawQuickjsInstance, rawQuickjsShared } from '../baselines/quickjs-emscripten.ts';
import { workerThreads } from '../baselines/worker-threads.ts';
import { TRIVIAL, TRIVIAL_EVENT } from '../lib/handlers.ts';
import { VARIANTS, deployProvisioned, engineOf, runtimeFor, type Variant } from '../lib/lambdalet.ts';
import { quickjsWorkerPool } from '../../src/engines/quickjs/quickjs-engine.ts';

const BASELINES: Record<string, Baseline> = Object.fromEntries(
  [rawIsolatedVm, rawQuickjsInstance, rawQuickjsShared, nodeVm, workerThreads].map((b) => [b.name, b]),
);

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
}

async function settle(): Promise<number> {
  await new Promise((r) => setTimeout(r, 50));
  gc();
  return process.memoryUsage().rss;
}

async function lambdalet(variant: Variant, count: number, growPool: boolean): Promise<number> {
  // The runtime's own quickjs pool (engineThreads defaults to the host's parallelism, as here).
  const firstCount = growPool ? quickjsWorkerPool(variant === 'quickjs-shared' ? { isolation: 'shared' } : {}).maxSize : 1;
  const rt = await runtimeFor(variant, { concurrency: count * 2 + firstCount + 20, memoryBudgetMb: 16_777_216, scaleUpRate: 100_000, scaleUpBurst: 100_000, logSink: silentSink });
  const engine = engineOf(variant);
  const first = await deployProvisioned(rt, { name: 'first', engine, code: { files: { 'index.mjs': TRIVIAL.module } } }, firstCount);
  await rt.invoke(first, TRIVIAL_EVENT);
  const before = await settle();
  await deployProvisioned(rt, { name: 'idle', engine, code: { files: { 'index.mjs': TRIVIAL.module } } }, count);
  const after = await settle();
  const live = rt.metrics().environments;
  if (live !== count + firstCount) throw new Error(`expected ${count + firstCount} environments, found ${live}`);
  return (after - before) / count;
}

async function baseline(b: Baseline, count: number): Promise<number> {
  const keep: BaselineEnv[] = [];
  const first = await b.boot(TRIVIAL);
  await first.call(TRIVIAL_EVENT);
  keep.push(first);
  const before = await settle();
  for (let i = 0; i < count; i++) {
    const env = await b.boot(TRIVIAL);
    await env.call(TRIVIAL_EVENT);
    keep.push(env);
  }
  const after = await settle();
  return (after - before) / count;
}

function pssBytes(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = /^Pss:\s+(\d+) kB/m.exec(text)?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux
  }
  return Number.NaN;
}

async function forks(count: number): Promise<number> {
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) children.push(await forkHandler(TRIVIAL));
  await new Promise((r) => setTimeout(r, 200));
  const total = children.reduce((sum, c) => sum + pssBytes(c.pid!), 0);
  for (const c of children) c.kill();
  return total / count;
}

const [kind, countText] = process.argv.slice(2);
const count = Number(countText);
let perEnvBytes: number;
const pooled = /^(quickjs|quickjs-shared)\+pool$/.exec(kind!);
if ((VARIANTS as readonly string[]).includes(kind!)) perEnvBytes = await lambdalet(kind as Variant, count, false);
else if (pooled) perEnvBytes = await lambdalet(pooled[1] as Variant, count, true);
else if (kind === 'child-process-fork') perEnvBytes = await forks(count);
else if (BASELINES[kind!]) perEnvBytes = await baseline(BASELINES[kind!]!, count);
else throw new Error(`unknown density kind ${kind}`);
process.stdout.write(`${JSON.stringify({ kind, count, perEnvBytes })}\n`);
// Live isolates, workers and instances keep the process alive.
process.exit(0);
