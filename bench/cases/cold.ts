/**
 * cold/<handler>/<engine or baseline>: a new environment + its first invoke.
 *   lambdalet: `rt.invoke` of a deployed function with no environment left (ColdRig).
 *   baselines: boot (evaluate the handler script in a new isolate / context / worker / process)
 *   + the first call. Disposal is untimed everywhere.
 */
import { childProcessFork } from '../baselines/child-process.ts';
import type { Baseline, BaselineEnv } from '../baselines/baseline.ts';
import { rawIsolatedVm } from '../baselines/isolated-vm.ts';
import { nodeVm } from '../baselines/node-vm.ts';
import { rawQuickjsInstance, rawQuickjsShared } from '../baselines/quickjs-emscripten.ts';
import { workerThreads } from '../baselines/worker-threads.ts';
import { HEAVY, TABLE, TRIVIAL, TRIVIAL_EVENT, expectAnswer, type HandlerCode } from '../lib/handlers.ts';
import { ColdRig, VARIANTS, type ColdRigOptions, type Variant } from '../lib/lambdalet.ts';
import type { Suite } from '../lib/suite.ts';
import { bundleFunction } from '../../src/code/index.ts';
import type { Blueprint, Sandbox, SandboxImage } from '../../src/engines/engine.ts';
import type { EnvironmentContextFields } from '../../src/engines/guest/protocol.ts';
import { QuickJSEngine } from '../../src/engines/quickjs/quickjs-engine.ts';
import { V8Engine } from '../../src/engines/v8/v8-engine.ts';
import { runPhase } from '../../src/environment/event-loop.ts';

const BASELINES: readonly Baseline[] = [rawIsolatedVm, rawQuickjsInstance, rawQuickjsShared, nodeVm, workerThreads, childProcessFork];

/** Which baselines each lambdalet variant is compared with. */
export const COLD_RATIOS: Record<string, readonly string[]> = {
  v8: ['raw-isolated-vm', 'node-vm', 'worker-threads', 'child-process-fork'],
  quickjs: ['raw-quickjs-emscripten', 'node-vm', 'worker-threads', 'child-process-fork'],
  'quickjs-shared': ['raw-quickjs-emscripten-shared', 'node-vm', 'worker-threads', 'child-process-fork'],
};

interface Counts {
  readonly lambdalet: number;
  readonly inProcess: number;
  readonly worker: number;
  readonly fork: number;
  readonly time: number;
}

async function coldCases(suite: Suite, code: HandlerCode, counts: Counts): Promise<void> {
  for (const variant of VARIANTS) await coldCase(suite, variant, code, {}, counts.lambdalet, counts.time);
  for (const baseline of BASELINES) {
    const iterations = baseline.name === 'worker-threads' ? counts.worker : baseline.name === 'child-process-fork' ? counts.fork : counts.inProcess;
    const isSlow = iterations < counts.inProcess;
    let env: BaselineEnv | undefined;
    let checked = false;
    await suite.measure(
      `cold/${code.name}/${baseline.name}`,
      async () => {
        env = await baseline.boot(code);
        const answer = await env.call(TRIVIAL_EVENT);
        if (!checked) {
          checked = true;
          expectAnswer(baseline.name, answer, code === HEAVY ? JSON.stringify({ hi: 'bench', spun: true }) : JSON.stringify({ hi: 'bench' }));
        }
      },
      {
        iterations,
        time: isSlow ? 0 : counts.time,
        warmupIterations: isSlow ? 1 : undefined,
        afterEach: async () => {
          await env?.dispose();
          env = undefined;
        },
      },
    );
  }
  for (const variant of VARIANTS) {
    for (const over of COLD_RATIOS[variant]!) suite.ratio(`cold/${code.name}/${variant}`, `cold/${code.name}/${over}`);
  }
}

/** Engines whose sandboxes snapshot (shared QuickJS instances cannot: SnapshotUnsupportedError). */
const SNAPSTART_VARIANTS: readonly Variant[] = ['v8', 'quickjs'];

/** One lambdalet cold-start case; with snapStart also `restore/<handler>/<variant>` (REPORT's Restore Duration). */
async function coldCase(suite: Suite, variant: Variant, code: HandlerCode, options: ColdRigOptions, iterations: number, time: number): Promise<void> {
  const rig = new ColdRig(variant, code, options);
  await rig.setup();
  await suite.measure(rig.name, rig.run, { iterations, time, beforeEach: rig.beforeEach });
  if (options.snapStart) suite.record(`restore/${code.name}/${variant}`, rig.restoreDurations());
  await rig.close();
}

/**
 * SnapStart: the trivial handler restored, and a handler whose INIT builds a 200k-entry table,
 * with and without snapStart (the same rig, the same run).
 */
async function snapStartCases(suite: Suite): Promise<void> {
  const trivial = suite.pick({ iterations: 200, time: 1000 }, { iterations: 50, time: 200 });
  const table = suite.pick({ iterations: 10, snapIterations: 100 }, { iterations: 3, snapIterations: 20 });
  for (const variant of SNAPSTART_VARIANTS) {
    await coldCase(suite, variant, TRIVIAL, { snapStart: true }, trivial.iterations, trivial.time);
    suite.ratio(`cold/trivial/${variant}-snapstart`, `cold/trivial/${variant}`);
    // 256 MB: the table takes ~30-60 MB of QuickJS heap.
    await coldCase(suite, variant, TABLE, { memoryMb: 256 }, table.iterations, 0);
    await coldCase(suite, variant, TABLE, { memoryMb: 256, snapStart: true }, table.snapIterations, 0);
    suite.ratio(`cold/table-init/${variant}`, `cold/table-init/${variant}-snapstart`);
  }
}

const CONTEXT: EnvironmentContextFields = {
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  memoryLimitInMB: '256',
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench',
};

/**
 * `restore-unpooled/<handler>/<engine>`: the engines with their SnapStart pools turned off, so each
 * sample pays what a pooled cold start had done for it in the background — quickjs: instantiate a
 * blank and write the image into memory the kernel has not backed yet; v8: deserialise the snapshot
 * into a new isolate — then the `restore` message and the first invoke. The cost of a cold start
 * beyond the pool (a burst), and the background cost of each pooled one.
 */
async function unpooledRestoreCases(suite: Suite, code: HandlerCode, iterations: number): Promise<void> {
  const outcome = await bundleFunction({ files: { 'index.mjs': code.module } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  const engines = { v8: new V8Engine({ restoredPerImage: 0 }), quickjs: new QuickJSEngine({ blanksPerMemorySize: 0 }) };
  for (const [name, engine] of Object.entries(engines)) {
    const blueprint: Blueprint = await engine.prepare(outcome.bundle);
    const options = { memoryMb: 256, onLog: () => {} };
    const template = await blueprint.boot(options);
    await runPhase(template, { type: 'init', context: CONTEXT, env: {}, handler: 'index.handler', handlerPath: ['handler'], runtime: 'nodejs22.x' }, performance.now() + 60_000);
    await runPhase(template, { type: 'snapshot' }, performance.now() + 60_000);
    const image: SandboxImage = await template.snapshot!();
    template.dispose();
    let sandbox: Sandbox | undefined;
    await suite.measure(
      `restore-unpooled/${code.name}/${name}`,
      async () => {
        sandbox = await blueprint.restore!(image, options);
        await runPhase(sandbox, { type: 'restore', seed: '5a'.repeat(32), context: CONTEXT }, performance.now() + 10_000);
        const reply = await runPhase(sandbox, { type: 'invoke', requestId: 'r', deadlineMs: Date.now() + 10_000, extras: '', event: JSON.stringify(TRIVIAL_EVENT) }, performance.now() + 10_000);
        if (!reply.ok) throw new Error(`restore-unpooled/${code.name}/${name}: ${JSON.stringify(reply.error)}`);
      },
      { iterations, time: 0, afterEach: () => sandbox?.dispose() },
    );
    image.dispose();
  }
}

export async function coldArea(suite: Suite): Promise<void> {
  await coldCases(suite, TRIVIAL, suite.pick({ lambdalet: 200, inProcess: 200, worker: 40, fork: 20, time: 1000 }, { lambdalet: 50, inProcess: 50, worker: 10, fork: 6, time: 200 }));
  await coldCases(suite, HEAVY, suite.pick({ lambdalet: 12, inProcess: 12, worker: 8, fork: 6, time: 0 }, { lambdalet: 3, inProcess: 3, worker: 3, fork: 3, time: 0 }));
  // The wasm engine's cold starts: the wasm area (cases/wasm.ts), beside quickjs and v8.
}

/**
 * The SnapStart cold starts (trivial and 200k-entry-table INIT, with and without snapStart, per
 * engine) and the engines' restores with their pools off. An area of its own (`--only snapstart`):
 * it is most of the cold cases' time, and `--quick` leaves it out to stay within a minute.
 */
export async function snapStartArea(suite: Suite): Promise<void> {
  await snapStartCases(suite);
  await unpooledRestoreCases(suite, TRIVIAL, suite.pick(100, 20));
  await unpooledRestoreCases(suite, TABLE, suite.pick(10, 3));
}
