/**
 * throughput/c<N>/<engine or baseline>: one sample = a batch of warm invokes of the trivial handler
 * by N concurrent callers. lambdalet: through the dispatcher (`createRuntime({ concurrency })`,
 * the function has 64 provisioned environments, so every invoke is warm and none is throttled).
 * Baselines: N raw environments, each caller looping on its own.
 */
import type { Baseline, BaselineEnv } from '../baselines/baseline.ts';
import { rawIsolatedVm } from '../baselines/isolated-vm.ts';
import { rawQuickjsInstance } from '../baselines/quickjs-emscripten.ts';
import { TRIVIAL, TRIVIAL_EVENT } from '../lib/handlers.ts';
import { deployProvisioned, engineOf, runtimeFor, type Variant } from '../lib/lambdalet.ts';
import type { Suite } from '../lib/suite.ts';

export const CONCURRENCIES = [1, 2, 8, 64] as const;
const PROVISIONED = 64;
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
  const iterations = suite.pick(6, 3);
  for (const { variant, baseline } of PAIRS) {
    const rt = await runtimeFor(variant, { concurrency: 256 });
    const tp = await deployProvisioned(rt, { name: 'tp', engine: engineOf(variant), code: { files: { 'index.mjs': TRIVIAL.module } } }, PROVISIONED);
    const envs: BaselineEnv[] = [];
    for (let i = 0; i < PROVISIONED; i++) envs.push(await baseline.boot(TRIVIAL));
    for (const c of CONCURRENCIES) {
      const name = `throughput/c${c}/${variant}`;
      const r = await suite.measure(
        name,
        () =>
          runBatch(batch, c, async () => {
            const result = await rt.invoke(tp, TRIVIAL_EVENT);
            if (result.coldStart || result.functionError) throw new Error(`${name}: expected a warm success`);
          }),
        { iterations, warmupIterations: 1 },
      );
      const base = `throughput/c${c}/${baseline.name}`;
      const b = await suite.measure(base, () => runBatch(batch, c, (caller) => envs[caller]!.call(TRIVIAL_EVENT)), { iterations, warmupIterations: 1 });
      suite.throughput[name] = { invokesPerSecond: batch / (r.median / 1000), batch };
      suite.throughput[base] = { invokesPerSecond: batch / (b.median / 1000), batch };
      suite.ratio(name, base);
    }
    for (const env of envs) await env.dispose();
    await rt.close();
  }
  suite.notYetCase('throughput/*/wasm', 'not measured yet (the wasm area has cold, warm, deploy and density)');
}
