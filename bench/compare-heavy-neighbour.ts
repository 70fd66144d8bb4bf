/**
 * Issue #15 red team: a trivial v8 neighbour beside two v8 pbkdf2 hogs in the same engine child
 * (`isolation: 'process'`, one child), in two source trees (before / after a change), one process,
 * trees alternating per round. Prints per tree the neighbour's p50/p99 (ms) while the hogs run
 * and its calls that failed, and beside it the neighbour alone (same tree, same round) for scale.
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   node --no-node-snapshot bench/compare-heavy-neighbour.ts /tmp/before "$PWD" [rounds=3]
 */
import { loadavg } from 'node:os';

const [aRoot, bRoot, rounds = '3'] = process.argv.slice(2);
if (!aRoot || !bRoot) throw new Error('usage: bench/compare-heavy-neighbour.ts <before tree> <after tree> [rounds]');
type Lib = typeof import('../src/index.ts');
const libs = [(await import(`${aRoot}/src/index.ts`)) as Lib, (await import(`${bRoot}/src/index.ts`)) as Lib];

const HOG = `import crypto from 'node:crypto';
export const handler = async (event) => { let n = 0; for (const end = Date.now() + event.ms; Date.now() < end; n++) crypto.pbkdf2Sync('pw', 'salt', 2000000, 64, 'sha512'); return n; };`;
const NEIGHBOUR = `export const handler = async () => 1;`;
const HOG_MS = 8000;

const pct = (xs: number[], p: number): number => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * p))]!; };

async function round(lib: Lib): Promise<{ alone: number[]; beside: number[]; failed: number; total: number }> {
  const rt = await lib.createRuntime({ logSink: lib.silentSink, isolation: 'process', engineProcesses: 1 });
  try {
    await rt.deploy({ name: 'hog', engine: 'v8', timeoutMs: 120_000, code: { files: { 'index.mjs': HOG } } });
    await rt.deploy({ name: 'n', engine: 'v8', timeoutMs: 60_000, code: { files: { 'index.mjs': NEIGHBOUR } } });
    await rt.invoke('n', {});
    const alone: number[] = [];
    for (let i = 0; i < 200; i++) { const t = performance.now(); await rt.invoke('n', {}); alone.push(performance.now() - t); await new Promise((r) => setTimeout(r, 2)); }
    let hogging = true;
    const hogs = Promise.all([1, 2].map(() => rt.invoke('hog', { ms: HOG_MS }))).finally(() => (hogging = false));
    const beside: number[] = [];
    let failed = 0;
    let total = 0;
    // A fresh neighbour environment now and then (its INIT beside the hogs), as the red team saw.
    while (hogging) {
      const t = performance.now();
      const r = await rt.invoke('n', {});
      total++;
      if (r.functionError) failed++;
      beside.push(performance.now() - t);
      await new Promise((res) => setTimeout(res, 2));
    }
    await hogs;
    return { alone, beside, failed, total };
  } finally {
    await rt.close();
  }
}

const results = libs.map(() => ({ alone: [] as number[], beside: [] as number[], failed: 0, total: 0 }));
for (let r = 0; r < Number(rounds); r++) {
  const order = r % 2 === 0 ? [0, 1] : [1, 0];
  for (const i of order) {
    const out = await round(libs[i]!);
    const acc = results[i]!;
    acc.alone.push(...out.alone); acc.beside.push(...out.beside); acc.failed += out.failed; acc.total += out.total;
    console.log(`round ${r + 1} ${i === 0 ? 'before' : 'after '}: beside p50 ${pct(out.beside, 0.5).toFixed(2)} p99 ${pct(out.beside, 0.99).toFixed(2)} ms, ${out.failed}/${out.total} failed; load ${loadavg()[0]!.toFixed(2)}`);
  }
}
results.forEach((acc, i) => console.log(`${i === 0 ? 'before' : 'after '}: alone p50 ${pct(acc.alone, 0.5).toFixed(2)} p99 ${pct(acc.alone, 0.99).toFixed(2)} ms; beside 2 pbkdf2 hogs p50 ${pct(acc.beside, 0.5).toFixed(2)} p99 ${pct(acc.beside, 0.99).toFixed(2)} ms (${acc.beside.length} calls), ${acc.failed}/${acc.total} failed`));
