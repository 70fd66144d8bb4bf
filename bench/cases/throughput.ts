/**
 * throughput/c<N>/<engine or baseline>: one sample = a batch of warm invokes of the trivial handler
 * by N concurrent callers. lambdalet: through the dispatcher (`createRuntime({ concurrency })`,
 * the function has 64 provisioned environments, so every invoke is warm and none is throttled).
 * Baselines: N raw environments, each caller looping on its own.
 *
 * Each concurrency's lambdalet batch and baseline batch run in alternating rounds (lib/interleave.ts),
 * the first round dropped: measured a minute apart, the two read the load, not the code (an A/A run
 * of one case against itself read 0.912x, then 2.396x). The spread of the per-round ratios is the
 * measurement's noise: `extra.throughputRoundRatios` in the report, one progress line per case.
 */
import type { Baseline, BaselineEnv } from '../baselines/baseline.ts';
import { rawIsolatedVm } from '../baselines/isolated-vm.ts';
import { rawQuickjsInstance } from '../baselines/quickjs-emscripten.ts';
import { TRIVIAL, TRIVIAL_EVENT } from '../lib/handlers.ts';
import { deployProvisioned, engineOf, runtimeFor, type Variant } from '../lib/lambdalet.ts';
import { interleave, roundRatioSpread } from '../lib/interleave.ts';
import { summariseSamples } from '../lib/stats.ts';
import { progress, type Suite } from '../lib/suite.ts';

export const CONCURRENCIES = [1, 2, 8, 64] as const;
const PROVISIONED = 64;
const WARM_UP_INVOKES = 3000;
const PAIRS: readonly { variant: Variant; baseline: Baseline }[] = [
  { variant: 'v8', baseline: rawIsolatedVm },
  { variant: 'quickjs', baseline: rawQuickjsInstance },
];

async function runBatch(size: number, callers: number, call: (caller: number) => Promise<unknown>): Promise<void> {
  let left = size;
  const client = async (caller: number): Promise<void> => {
    while (left-- > 0) await call(caller);
  };
  await Promise.all(Array.from({ length: callers }, (_, i) => client(i)));
}

export async function throughputArea(suite: Suite): Promise<void> {
  const batch = suite.pick(2000, 400);
  const rounds = suite.pick(12, 5);
  const spreads: Record<string, ReturnType<typeof roundRatioSpread>> = {};
  suite.extra.throughputRoundRatios = spreads;
  for (const { variant, baseline } of PAIRS) {
    const rt = await runtimeFor(variant, { concurrency: 256 });
    const tp = await deployProvisioned(rt, { name: 'tp', engine: engineOf(variant), code: { files: { 'index.mjs': TRIVIAL.module } } }, PROVISIONED);
    const envs: BaselineEnv[] = [];
    for (let i = 0; i < PROVISIONED; i++) envs.push(await baseline.boot(TRIVIAL));
    // V8 optimises the host's invoke path over its first ~1,000 invokes (docs/benchmarks.md): the
    // batches measure the steady state.
    await runBatch(WARM_UP_INVOKES, 8, () => rt.invoke(tp, TRIVIAL_EVENT));
    for (const c of CONCURRENCIES) {
      const name = `throughput/c${c}/${variant}`;
      const base = `throughput/c${c}/${baseline.name}`;
      const measured = await interleave(
        [
          {
            name,
            run: () =>
              runBatch(batch, c, async () => {
                const result = await rt.invoke(tp, TRIVIAL_EVENT);
                if (result.coldStart || result.functionError) throw new Error(`${name}: expected a warm success`);
              }),
          },
          { name: base, run: () => runBatch(batch, c, (caller) => envs[caller]!.call(TRIVIAL_EVENT)) },
        ],
        { rounds, perRound: 1, warmupRounds: 1 },
      );
      const r = summariseSamples(measured.samples[name]!);
      const b = summariseSamples(measured.samples[base]!);
      suite.record(name, r);
      suite.record(base, b);
      suite.throughput[name] = { invokesPerSecond: batch / (r.median / 1000), batch };
      suite.throughput[base] = { invokesPerSecond: batch / (b.median / 1000), batch };
      suite.ratio(name, base);
      // Batch time over the baseline's, per round (throughput is its inverse).
      const spread = roundRatioSpread(measured.roundMedians[name]!, measured.roundMedians[base]!);
      spreads[name] = spread;
      progress(`${name}: per-round time ratio p25 ${spread.p25.toFixed(2)} / median ${spread.median.toFixed(2)} / p75 ${spread.p75.toFixed(2)} (min ${spread.min.toFixed(2)}, max ${spread.max.toFixed(2)}, ${spread.rounds} rounds)`);
    }
    for (const env of envs) await env.dispose();
    await rt.close();
  }
  suite.notes.push('throughput: lambdalet and its baseline batches alternate round by round (first round dropped); extra.throughputRoundRatios gives the spread of the per-round time ratios.');
  suite.notYetCase('throughput/*/wasm', 'not measured yet (the wasm area has cold, warm, deploy and density)');
}
