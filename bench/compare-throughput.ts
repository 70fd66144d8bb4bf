/**
 * Warm throughput through the dispatcher in two source trees (before / after a change), measured in
 * one process, interleaved (bench/lib/interleave.ts): per concurrency C, rounds of one batch of
 * `batch` invokes by C callers per tree, alternating which tree goes first, the first round dropped;
 * each tree's function has 64 provisioned environments (as bench/cases/throughput.ts). Prints, per
 * C, the medians of the batch time and of the process CPU per invoke (CPU is what two cores share
 * at high concurrency, and it moves far less with the machine's load than wall time), their
 * after/before ratios, the host thread's own CPU per invoke (process.threadCpuUsage: the invoke
 * path's JavaScript, isolated-vm's `apply`, the worker hop's host side), and the spread of the
 * per-round time ratio (the method's noise; run a tree against a copy of itself for an A/A).
 *
 *   git worktree add --detach /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   node --no-node-snapshot bench/compare-throughput.ts /tmp/before "$PWD" [rounds=10] [concurrencies=1,8,64] [batch=2000]
 *
 * `X_ENGINE=quickjs` runs quickjs instead of v8.
 */
import { interleave, roundRatioSpread } from './lib/interleave.ts';
import { summariseSamples } from './lib/stats.ts';

const [aRoot, bRoot, rounds = '10', concurrencies = '1,8,64', batchText = '2000'] = process.argv.slice(2);
if (!aRoot || !bRoot) throw new Error('usage: bench/compare-throughput.ts <before tree> <after tree> [rounds] [concurrencies] [batch]');
const engine = process.env.X_ENGINE === 'quickjs' ? 'quickjs' : 'v8';
const batch = Number(batchText);
const PROVISIONED = 64;
const CODE = 'export const handler = async (e) => ({ hi: e.name })';
const EVENT = { name: 'bench' };

type Lib = typeof import('../src/index.ts');
const trees = await Promise.all(
  [aRoot, bRoot].map(async (root, i) => {
    const lib = (await import(`${root}/src/index.ts`)) as Lib;
    const rt = await lib.createRuntime({ logSink: lib.silentSink, concurrency: 256 });
    await rt.deploy({ name: 'tp', engine, code: { files: { 'index.mjs': CODE } } });
    const { version } = await rt.publishVersion('tp');
    await rt.putProvisionedConcurrencyConfig('tp', version, { provisionedConcurrentExecutions: PROVISIONED });
    while (rt.getProvisionedConcurrencyConfig('tp', version).status !== 'READY') await new Promise((r) => setTimeout(r, 5));
    return { label: i === 0 ? 'before' : 'after', rt, target: `tp:${version}`, cpuUs: new Map<number, number[]>(), hostCpuUs: new Map<number, number[]>() };
  }),
);

async function runBatch(size: number, callers: number, call: () => Promise<unknown>): Promise<void> {
  let left = size;
  const client = async (): Promise<void> => {
    while (left-- > 0) await call();
  };
  await Promise.all(Array.from({ length: callers }, client));
}

const invoke = async (tree: (typeof trees)[number]): Promise<void> => {
  const result = await tree.rt.invoke(tree.target, EVENT);
  if (result.coldStart || result.functionError) throw new Error(`${tree.label}: not a warm success: ${JSON.stringify(result.payload)}`);
};
// V8 optimises the host's invoke path over its first ~1,000 invokes: both trees warm first.
for (const tree of trees) await runBatch(3000, 8, () => invoke(tree));

for (const c of concurrencies.split(',').map(Number)) {
  const measured = await interleave(
    trees.map((tree) => ({
      name: tree.label,
      run: async () => {
        const cpu = process.cpuUsage();
        const hostCpu = process.threadCpuUsage();
        await runBatch(batch, c, () => invoke(tree));
        const used = process.cpuUsage(cpu);
        const hostUsed = process.threadCpuUsage(hostCpu);
        const list = tree.cpuUs.get(c) ?? [];
        list.push((used.user + used.system) / batch);
        tree.cpuUs.set(c, list);
        const hostList = tree.hostCpuUs.get(c) ?? [];
        hostList.push((hostUsed.user + hostUsed.system) / batch);
        tree.hostCpuUs.set(c, hostList);
      },
    })),
    { rounds: Number(rounds), perRound: 1, warmupRounds: 1 },
  );
  const [before, after] = trees.map((tree) => summariseSamples(measured.samples[tree.label]!).median);
  const [cpuBefore, cpuAfter] = trees.map((tree) => summariseSamples(tree.cpuUs.get(c)!.slice(1)).median);
  const [hostBefore, hostAfter] = trees.map((tree) => summariseSamples(tree.hostCpuUs.get(c)!.slice(1)).median);
  const spread = roundRatioSpread(measured.roundMedians.after!, measured.roundMedians.before!);
  console.log(
    JSON.stringify({
      engine,
      concurrency: c,
      batch,
      beforeMs: +before!.toFixed(2),
      afterMs: +after!.toFixed(2),
      ratio: +(after! / before!).toFixed(3),
      cpuUsPerInvokeBefore: +cpuBefore!.toFixed(1),
      cpuUsPerInvokeAfter: +cpuAfter!.toFixed(1),
      cpuRatio: +(cpuAfter! / cpuBefore!).toFixed(3),
      hostThreadCpuUsPerInvokeBefore: +hostBefore!.toFixed(1),
      hostThreadCpuUsPerInvokeAfter: +hostAfter!.toFixed(1),
      hostThreadCpuRatio: +(hostAfter! / hostBefore!).toFixed(3),
      roundRatio: { p25: +spread.p25.toFixed(3), p75: +spread.p75.toFixed(3), min: +spread.min.toFixed(3), max: +spread.max.toFixed(3) },
      rounds: spread.rounds,
    }),
  );
}
for (const tree of trees) await tree.rt.close();
