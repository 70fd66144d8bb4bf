/**
 * /tmp in two source trees (before / after a change to the host-call path), measured in one
 * process, interleaved: per round one 8 MiB write and one read through the guest's node:fs on
 * in-process v8, alternating which tree goes first, the first two rounds dropped; memory and disk
 * backends. Prints medians (ms) and the after/before ratio. The bench area `tmp` gives the same
 * operations beside the host's node:fs. `X_ENGINE=quickjs` measures quickjs instead of v8.
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   node --no-node-snapshot bench/compare-tmp.ts /tmp/before "$PWD" [rounds=40]
 */
import { TMP_HANDLER as HANDLER } from './cases/tmp-handler.ts';

const [aRoot, bRoot, rounds = '40'] = process.argv.slice(2);
if (!aRoot || !bRoot) throw new Error('usage: bench/compare-tmp.ts <before tree> <after tree> [rounds]');
type Lib = typeof import('../src/index.ts');
const A = (await import(`${aRoot}/src/index.ts`)) as Lib;
const B = (await import(`${bRoot}/src/index.ts`)) as Lib;

const engine = process.env.X_ENGINE === 'quickjs' ? 'quickjs' : 'v8';
const median = (xs: number[]): number => { const s = [...xs].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };
for (const tmpBackend of ['memory', 'disk'] as const) {
  const rigs = await Promise.all([A, B].map(async (lib) => {
    const rt = await lib.createRuntime({ logSink: lib.silentSink });
    await rt.deploy({ name: 'f', engine, tmpBackend, memoryMb: 1024, timeoutMs: 120_000, code: { files: { 'index.mjs': HANDLER } } });
    await rt.invoke('f', { op: 'write' });
    return { rt, write: [] as number[], read: [] as number[] };
  }));
  for (let r = 0; r < Number(rounds); r++) {
    for (const rig of r % 2 ? [rigs[0]!, rigs[1]!] : [rigs[1]!, rigs[0]!]) {
      for (const op of ['write', 'read'] as const) {
        const t0 = performance.now();
        const res = await rig.rt.invoke('f', { op });
        if (res.payload !== 'ok') throw new Error(JSON.stringify(res.payload));
        rig[op].push(performance.now() - t0);
      }
    }
  }
  for (const rig of rigs) await rig.rt.close();
  for (const op of ['write', 'read'] as const) {
    const [before, after] = rigs.map((rig) => median(rig[op].slice(2)));
    console.log(JSON.stringify({ engine, tmpBackend, op, beforeMs: +before!.toFixed(1), afterMs: +after!.toFixed(1), ratio: +(after! / before!).toFixed(3), samples: rigs[0]![op].length - 2 }));
  }
}
process.exit(0);
