/**
 * dispatch/<case>/<what>: the dispatcher's own cost.
 *   dispatch/acquire-release/dispatcher: one warm admission + release in the Dispatcher alone (a
 *   fake environment, metrics recorded), timed with a plain loop (tinybench would keep tens of
 *   millions of sub-microsecond samples); beside dispatch/acquire-release/empty-call.
 *   dispatch/close/32-envs/v8: rt.close() of a runtime with 32 warm environments.
 */
import { Dispatcher } from '../../src/dispatch/index.ts';
import { TRIVIAL } from '../lib/handlers.ts';
import { deployProvisioned, runtimeFor } from '../lib/lambdalet.ts';
import { summariseSamples } from '../lib/stats.ts';
import type { Suite } from '../lib/suite.ts';
import type { Runtime } from '../../src/index.ts';

const CLOSE_ENVS = 32;

function perCallMs(body: () => void, calls: number): number {
  for (let i = 0; i < calls / 10; i++) body();
  const started = performance.now();
  for (let i = 0; i < calls; i++) body();
  return (performance.now() - started) / calls;
}

export async function dispatchArea(suite: Suite): Promise<void> {
  const fakeEnv = { state: 'ready', dispose() {} };
  const dispatcher = new Dispatcher<typeof fakeEnv, string>({
    concurrency: 1000,
    memoryBudgetMb: 1 << 20,
    idleTtlMs: 300_000,
    scaleUpRate: 100,
    scaleUpBurst: 100,
    maxQueueLength: 100,
  });
  const pool = dispatcher.configure('f', { memoryMb: 128, reservedConcurrency: undefined, provisionedConcurrency: 0 }, 'f');
  const first = dispatcher.acquire(pool);
  if (first instanceof Promise) throw new Error('expected a lease');
  dispatcher.attach(first, fakeEnv);
  const report = { durationMs: 0.05, billedDurationMs: 1, error: false };
  dispatcher.release(first, report);
  const acquireRelease = (): void => {
    dispatcher.release(dispatcher.acquire(pool) as typeof first, report);
  };
  let sink = 0;
  const emptyCall = (): void => {
    sink += 1;
  };
  const runs = suite.pick(7, 3);
  const calls = suite.pick(1_000_000, 300_000);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(perCallMs(acquireRelease, calls));
    b.push(perCallMs(emptyCall, calls));
  }
  if (sink === 0) throw new Error('unreachable');
  suite.record('dispatch/acquire-release/dispatcher', summariseSamples(a));
  suite.record('dispatch/acquire-release/empty-call', summariseSamples(b));
  suite.notes.push(`dispatch/acquire-release/*: samples are runs of ${calls.toLocaleString('en')} calls each; the figure is the mean per call of each run.`);

  let closeRt: Runtime | undefined;
  await suite.measure(
    `dispatch/close/${CLOSE_ENVS}-envs/v8`,
    async () => {
      await closeRt!.close();
      if (closeRt!.metrics().environments !== 0) throw new Error('environments left after close');
    },
    {
      iterations: suite.pick(10, 3),
      warmupIterations: 1,
      beforeEach: async () => {
        closeRt = await runtimeFor('v8');
        await deployProvisioned(closeRt, { name: 'c', code: { files: { 'index.mjs': TRIVIAL.module } } }, CLOSE_ENVS);
      },
    },
  );
}
