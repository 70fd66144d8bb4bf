/**
 * The trivial handler's SnapStart cold start (and its REPORT Restore Duration) in two source trees
 * (before / after a change), measured in one process, interleaved as bench/compare-trees.ts does:
 * rounds of 5 cold starts each, alternating which tree goes first, the first 5 samples of each
 * dropped. Prints the medians and their ratio per engine.
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   node --no-node-snapshot bench/compare-snapstart.ts /tmp/before "$PWD" [rounds=30] [variants=v8] [handler=trivial]
 *
 * `handler`: `trivial`, or `table-init` (the 200,000-entry table INIT, memoryMb 256, as
 * `cold/table-init/*-snapstart`; the rig waits 300 ms between samples for the pool's refill).
 */
const [aRoot, bRoot, rounds = '30', variants = 'v8', handler = 'trivial'] = process.argv.slice(2);
if (handler !== 'trivial' && handler !== 'table-init') throw new Error(`handler: trivial or table-init, not ${handler}`);
if (!aRoot || !bRoot) throw new Error('usage: bench/compare-snapstart.ts <before tree> <after tree> [rounds] [variants]');
const load = async (root: string) => ({
  lib: await import(`${root}/bench/lib/lambdalet.ts`),
  handlers: await import(`${root}/bench/lib/handlers.ts`),
});
const A = await load(aRoot);
const B = await load(bRoot);
const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
};
for (const variant of variants.split(',')) {
  const options = handler === 'table-init' ? { snapStart: true, memoryMb: 256 } : { snapStart: true };
  const rigA = new A.lib.ColdRig(variant, handler === 'table-init' ? A.handlers.TABLE : A.handlers.TRIVIAL, options);
  const rigB = new B.lib.ColdRig(variant, handler === 'table-init' ? B.handlers.TABLE : B.handlers.TRIVIAL, options);
  await rigA.setup();
  await rigB.setup();
  const ta: number[] = [];
  const tb: number[] = [];
  for (let r = 0; r < Number(rounds); r++) {
    for (const [rig, out] of (r % 2 ? [[rigA, ta], [rigB, tb]] : [[rigB, tb], [rigA, ta]]) as [typeof rigA, number[]][]) {
      for (let i = 0; i < 5; i++) {
        await rig.beforeEach();
        const t0 = performance.now();
        await rig.run();
        out.push(performance.now() - t0);
      }
    }
  }
  const restoreA = rigA.restoreDurations();
  const restoreB = rigB.restoreDurations();
  await rigA.close();
  await rigB.close();
  const warm = (xs: number[]) => xs.slice(5);
  console.log(
    JSON.stringify({
      variant,
      handler,
      before: median(warm(ta)),
      after: median(warm(tb)),
      ratio: median(warm(tb)) / median(warm(ta)),
      restoreBefore: restoreA.median,
      restoreAfter: restoreB.median,
      samples: ta.length,
    }),
  );
}
