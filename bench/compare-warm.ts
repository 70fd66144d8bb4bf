/**
 * Warm invokes in two source trees (before / after a change to the engines' host side), measured
 * in one process, interleaved: rounds of 200 invokes per tree, alternating which tree goes first,
 * the first two rounds dropped. Per engine (in-process v8, process-isolated v8) and handler
 * (`trivial` answers at once; `timer` awaits a 0 ms timer, so the event loop reads the guest's
 * status after the call and calls again). Prints medians (µs) and the after/before ratio.
 * `X_ENGINE=quickjs` runs quickjs instead of v8 (`X_QUICKJS_ISOLATION=shared` in shared instances);
 * `X_ISO` / `X_H` pick one isolation / handler.
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   node --no-node-snapshot bench/compare-warm.ts /tmp/before "$PWD" [rounds=20]
 */
const [aRoot, bRoot, rounds = '20'] = process.argv.slice(2);
if (!aRoot || !bRoot) throw new Error('usage: bench/compare-warm.ts <before tree> <after tree> [rounds]');
type Lib = typeof import('../src/index.ts');
const A = (await import(`${aRoot}/src/index.ts`)) as Lib;
const B = (await import(`${bRoot}/src/index.ts`)) as Lib;
const HANDLERS = {
  trivial: 'export const handler = async (e) => ({ hi: e.name })',
  timer: 'export const handler = async (e) => { await new Promise((r) => setTimeout(r, 0)); return { hi: e.name }; }',
};
const engine = process.env.X_ENGINE === 'quickjs' ? 'quickjs' : 'v8';
const median = (xs: number[]): number => { const s = [...xs].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };
const PER_ROUND = 200;
for (const isolation of (process.env.X_ISO ? [process.env.X_ISO] : ["in-process", "process"]) as ("in-process" | "process")[]) {
  for (const [name, code] of Object.entries(HANDLERS).filter(([n]) => !process.env.X_H || n === process.env.X_H)) {
    const rigs = await Promise.all([A, B].map(async (lib) => {
      const rt = await lib.createRuntime({ logSink: lib.silentSink, isolation, ...(process.env.X_QUICKJS_ISOLATION === 'shared' ? { quickjsIsolation: 'shared' as const } : {}) });
      await rt.deploy({ name: 'f', engine, code: { files: { 'index.mjs': code } } });
      await rt.invoke('f', { name: 'warm-up' });
      return { rt, samples: [] as number[] };
    }));
    for (let r = 0; r < Number(rounds); r++) {
      for (const rig of r % 2 ? [rigs[0]!, rigs[1]!] : [rigs[1]!, rigs[0]!]) {
        const round: number[] = [];
        for (let i = 0; i < PER_ROUND; i++) {
          const t0 = performance.now();
          const res = await rig.rt.invoke('f', { name: 'x' });
          round.push((performance.now() - t0) * 1000);
          if (res.coldStart || res.functionError) throw new Error(`not a warm success: ${JSON.stringify(res.payload)}`);
        }
        if (r >= 2) rig.samples.push(...round);
      }
    }
    for (const rig of rigs) await rig.rt.close();
    const [before, after] = rigs.map((rig) => median(rig.samples));
    console.log(JSON.stringify({ engine, isolation, handler: name, beforeUs: +before!.toFixed(1), afterUs: +after!.toFixed(1), ratio: +(after! / before!).toFixed(3), samples: rigs[0]!.samples.length }));
  }
}
