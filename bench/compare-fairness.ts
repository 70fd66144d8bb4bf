/**
 * The fairness case (bench/cases/fairness.ts: a trivial neighbour invoked every 2 ms, alone and
 * beside 4 tenants spinning 50 ms per invoke at their full concurrency) in two source trees, in one
 * process, interleaved: per round and tree (alternating which goes first), `per` neighbour invokes
 * alone then `per` beside the spinners; the trees' pools are separate, and one tree's spinners are
 * idle while the other is measured. Prints, per mode and tree, the neighbour's p50/p99 alone and
 * beside over all rounds and the p99 ratio (the target is <= 2x), with the load average.
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   node --no-node-snapshot bench/compare-fairness.ts /tmp/before "$PWD" [rounds=6] [per=150] [modes=v8,quickjs,v8-process,quickjs-process]
 *
 * `X_NICE_A=n` / `X_NICE_B=n` give that tree's runtime `cpuHeavyNice: n` (a tree from before the
 * option refuses it), e.g. the same tree twice at nice 10 and 19.
 */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

const [aRoot, bRoot, rounds = '6', per = '150', modes = 'v8,quickjs,v8-process,quickjs-process'] = process.argv.slice(2);
if (!aRoot || !bRoot) throw new Error('usage: bench/compare-fairness.ts <before tree> <after tree> [rounds] [per] [modes]');
type Lib = typeof import('../src/index.ts');
const trees = [(await import(`${aRoot}/src/index.ts`)) as Lib, (await import(`${bRoot}/src/index.ts`)) as Lib];
const SPINNERS = 4;
const SPIN_MS = 50;
const SPIN_CODE = `export const handler = async () => { const end = Date.now() + ${SPIN_MS}; let n = 0; while (Date.now() < end) n++; return n; };`;
const quantile = (xs: number[], q: number): number => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(q * s.length))]!; };

for (const mode of modes.split(',')) {
  const engine = mode.startsWith('v8') ? 'v8' : 'quickjs';
  const isolation = mode.endsWith('-process') ? 'process' : 'in-process';
  const rigs = await Promise.all(trees.map(async (lib, index) => {
    const nice = process.env[index === 0 ? 'X_NICE_A' : 'X_NICE_B'];
    const rt = await lib.createRuntime({ logSink: lib.silentSink, concurrency: 64, isolation, ...(nice === undefined ? {} : { cpuHeavyNice: Number(nice) }) });
    await rt.deploy({ name: 'neighbour', engine, code: { files: { 'index.mjs': 'export const handler = async (e) => ({ hi: e.name });' } } });
    await rt.deploy({ name: 'spinner', engine, reservedConcurrency: SPINNERS, timeoutMs: 10_000, code: { files: { 'index.mjs': SPIN_CODE } } });
    for (let i = 0; i < 20; i++) await rt.invoke('neighbour', { name: 'x' });
    // The steady state, after any move to background servers (bench/cases/fairness.ts WARM_ROUNDS).
    for (let round = 0; round < 30; round++) {
      const results = await Promise.all(Array.from({ length: SPINNERS }, () => rt.invoke('spinner')));
      if (round >= 8 && results.every((r) => !r.coldStart)) break;
    }
    return { rt, alone: [] as number[], beside: [] as number[] };
  }));
  const neighbour = async (rt: (typeof rigs)[number]['rt'], out: number[]): Promise<void> => {
    for (let i = 0; i < Number(per); i++) {
      const started = performance.now();
      const res = await rt.invoke('neighbour', { name: 'x' });
      out.push(performance.now() - started);
      if (res.coldStart || res.functionError) throw new Error(`neighbour: expected a warm success, got ${JSON.stringify(res.payload)}`);
      await sleep(2);
    }
  };
  const loads: number[] = [];
  for (let r = 0; r < Number(rounds); r++) {
    for (const rig of r % 2 ? [rigs[0]!, rigs[1]!] : [rigs[1]!, rigs[0]!]) {
      await neighbour(rig.rt, rig.alone);
      let spinning = true;
      const spinners = Array.from({ length: SPINNERS }, async () => {
        while (spinning) await rig.rt.invoke('spinner');
      });
      await sleep(SPIN_MS);
      await neighbour(rig.rt, rig.beside);
      spinning = false;
      await Promise.all(spinners);
      loads.push(loadavg()[0]!);
    }
  }
  for (const rig of rigs) await rig.rt.close();
  const row = (rig: (typeof rigs)[number]) => {
    const [a50, a99, b50, b99] = [quantile(rig.alone, 0.5), quantile(rig.alone, 0.99), quantile(rig.beside, 0.5), quantile(rig.beside, 0.99)];
    return { aloneP50: +a50.toFixed(3), aloneP99: +a99.toFixed(3), besideP50: +b50.toFixed(3), besideP99: +b99.toFixed(3), p99Ratio: +(b99 / a99).toFixed(2) };
  };
  console.log(JSON.stringify({ mode, before: row(rigs[0]!), after: row(rigs[1]!), samples: rigs[0]!.alone.length, load: `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}` }));
}
process.exit(0);
