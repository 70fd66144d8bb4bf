/**
 * isolation/*: what placing sandboxes off the host's thread costs and buys (issue #15).
 *
 *   warm/<engine>-<placement>            a trivial warm invoke through rt.invoke; placements:
 *                                        in-process (v8 on isolated-vm's threads; quickjs in the
 *                                        worker pool), process (isolation: 'process')
 *   warm/quickjs-in-thread-environment   ExecutionEnvironment.invoke on the host's own thread (how
 *   warm/quickjs-worker-environment      quickjs ran before) vs in a worker: the thread hop, same run
 *   hostcall/quickjs-<where>-environment one invoke making 100 fs.existsSync host calls
 *   boot/quickjs-<where>                 a new sandbox (no INIT) on the host's thread / in a worker
 *   cold/<engine>-<placement>            a new environment + its first invoke
 *   neighbour/<case>                     a v8 function invoked every 2 ms, alone and beside a tenant
 *                                        running 4 concurrent quickjs handlers that spin 200 ms
 *                                        (in-thread = before, worker threads, process isolation)
 *
 * The area `recovery` (isolationRecoveryArea, below) measures recovery after a catastrophic error
 * in process isolation: isolation/recovery/*.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleFunction } from '../../src/code/index.ts';
import { parseFunctionConfig } from '../../src/config/index.ts';
import { InThreadQuickJS } from '../../src/engines/quickjs/in-thread.ts';
import { QuickJSEngine } from '../../src/engines/quickjs/quickjs-engine.ts';
import { engineProcessIds } from '../../src/engines/remote/process-host.ts';
import { ExecutionEnvironment } from '../../src/environment/environment.ts';
import { functionIdentity } from '../../src/environment/lambda-env.ts';
import { createRuntime, silentSink, type Runtime, type RuntimeOptionsInput } from '../../src/index.ts';
import { TRIVIAL, TRIVIAL_EVENT } from '../lib/handlers.ts';
import { deployProvisioned } from '../lib/lambdalet.ts';
import { summariseSamples } from '../lib/stats.ts';
import type { Suite } from '../lib/suite.ts';

const HOSTCALLS = 'import fs from "node:fs"; export const handler = async () => { let n = 0; for (let i = 0; i < 100; i++) if (fs.existsSync("/tmp")) n++; return n; };';
const SPIN = 'export const handler = async () => { const end = Date.now() + 200; while (Date.now() < end); return "spun"; };';

const PLACEMENTS: readonly { readonly label: string; readonly options: RuntimeOptionsInput }[] = [
  { label: 'in-process', options: {} },
  { label: 'process', options: { isolation: 'process' } },
];

/** An initialised environment of `module` on quickjs: on the host's own thread (how it ran before #15) or in a worker. */
async function quickjsEnvironment(where: 'in-thread' | 'worker', module: string): Promise<ExecutionEnvironment> {
  const engine = where === 'in-thread' ? new InThreadQuickJS() : new QuickJSEngine();
  const config = parseFunctionConfig({ name: 'direct', engine: 'quickjs', code: { files: { 'index.mjs': module } } });
  const outcome = await bundleFunction(config.code, config.handler);
  if (!outcome.ok) throw new Error('bundle failed');
  const env = await ExecutionEnvironment.boot({
    config,
    bundle: outcome.bundle,
    blueprint: await engine.prepare(outcome.bundle),
    identity: functionIdentity('us-east-1', '123456789012', config.name),
    sink: silentSink,
  });
  const init = await env.init();
  if (!init.ok) throw new Error(`INIT failed: ${JSON.stringify(init)}`);
  return env;
}

/** The neighbour's latencies over `durationMs`, one invoke every 2 ms (never two at once). */
async function neighbourLatencies(rt: Runtime, durationMs: number): Promise<number[]> {
  const samples: number[] = [];
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const started = performance.now();
    const res = await rt.invoke('neighbour', TRIVIAL_EVENT);
    if (res.functionError) throw new Error(`neighbour failed: ${JSON.stringify(res.payload)}`);
    samples.push(performance.now() - started);
    const wait = 2 - (performance.now() - started);
    await sleep(Math.max(0, wait));
  }
  return samples;
}

/**
 * Keeps 4 spinning invocations in flight until `stop` resolves. Each loop yields to the event loop
 * between invocations (as requests arriving from outside would): chained by `await` alone, in-thread
 * spinners never let the host's timers fire at all (issue #15).
 */
async function spinners(invoke: () => Promise<unknown>, stop: Promise<unknown>): Promise<void> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  await Promise.all(
    [0, 1, 2, 3].map(async () => {
      while (!stopped) {
        await invoke();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }),
  );
}

export async function isolationArea(suite: Suite): Promise<void> {
  const time = suite.pick(1500, 400);
  const iterations = suite.pick(500, 100);

  // Warm and cold through the facade, per placement.
  for (const { label, options } of PLACEMENTS) {
    const rt = await createRuntime({ logSink: silentSink, idleTtlMs: 1, scaleUpRate: 100_000, scaleUpBurst: 100_000, ...options });
    for (const engine of ['v8', 'quickjs'] as const) {
      const warm = await deployProvisioned(rt, { name: `warm-${engine}`, engine, code: { files: { 'index.mjs': TRIVIAL.module } } }, 1);
      await rt.deploy({ name: `cold-${engine}`, engine, code: { files: { 'index.mjs': TRIVIAL.module } } });
      await suite.measure(`isolation/warm/${engine}-${label}`, () => rt.invoke(warm, TRIVIAL_EVENT), { iterations, time });
      // The provisioned environments stay; each cold sample waits for the previous one to be reaped.
      const kept = rt.metrics().environments;
      await suite.measure(
        `isolation/cold/${engine}-${label}`,
        async () => {
          const res = await rt.invoke(`cold-${engine}`, TRIVIAL_EVENT);
          if (!res.coldStart) throw new Error('not a cold start');
        },
        {
          iterations: suite.pick(100, 20),
          beforeEach: async () => {
            for (let i = 0; rt.metrics().environments > kept && i < 5000; i++) await sleep(1);
          },
        },
      );
    }
    await rt.close();
  }
  suite.ratio('isolation/warm/v8-process', 'isolation/warm/v8-in-process');
  suite.ratio('isolation/cold/v8-process', 'isolation/cold/v8-in-process');
  suite.ratio('isolation/warm/quickjs-process', 'isolation/warm/quickjs-in-process');
  suite.ratio('isolation/cold/quickjs-process', 'isolation/cold/quickjs-in-process');

  // The thread hop, same run: quickjs on the host's thread (before) and in a worker.
  for (const where of ['in-thread', 'worker'] as const) {
    const env = await quickjsEnvironment(where, TRIVIAL.module);
    let seq = 0;
    const event = JSON.stringify(TRIVIAL_EVENT);
    await suite.measure(`isolation/warm/quickjs-${where}-environment`, () => env.invoke({ requestId: `r${++seq}`, event }), { iterations, time });
    env.dispose();
    const calls = await quickjsEnvironment(where, HOSTCALLS);
    await suite.measure(`isolation/hostcall/quickjs-${where}-environment`, () => calls.invoke({ requestId: `r${++seq}`, event }), {
      iterations: suite.pick(200, 50),
      time,
    });
    calls.dispose();
  }
  // The boot alone (a new sandbox, no INIT), same run: on the host's thread and in a worker.
  {
    const outcome = await bundleFunction({ files: { 'index.mjs': TRIVIAL.module } }, 'index.handler');
    if (!outcome.ok) throw new Error('bundle failed');
    for (const [where, engine] of [
      ['in-thread', new InThreadQuickJS()],
      ['worker', new QuickJSEngine()],
    ] as const) {
      const blueprint = await engine.prepare(outcome.bundle);
      await suite.measure(
        `isolation/boot/quickjs-${where}`,
        async () => (await blueprint.boot({ memoryMb: 128, onLog: () => {} })).dispose(),
        { iterations: suite.pick(100, 20) },
      );
    }
    suite.ratio('isolation/boot/quickjs-worker', 'isolation/boot/quickjs-in-thread');
  }
  suite.ratio('isolation/warm/quickjs-worker-environment', 'isolation/warm/quickjs-in-thread-environment');
  suite.ratio('isolation/hostcall/quickjs-worker-environment', 'isolation/hostcall/quickjs-in-thread-environment');

  // The neighbour.
  const duration = suite.pick(3000, 1200);
  const host = await createRuntime({ logSink: silentSink });
  await host.deploy({ name: 'neighbour', code: { files: { 'index.mjs': TRIVIAL.module } } });
  await host.deploy({ name: 'spin', engine: 'quickjs', timeoutMs: 30_000, code: { files: { 'index.mjs': SPIN } } });
  await neighbourLatencies(host, 200); // warm
  suite.record('isolation/neighbour/alone', summariseSamples(await neighbourLatencies(host, duration)));
  {
    const envs = await Promise.all([0, 1, 2, 3].map(() => quickjsEnvironment('in-thread', SPIN)));
    let seq = 0;
    const next = envs.map((env) => () => env.invoke({ requestId: `s${++seq}`, event: '{}' }));
    let i = 0;
    const measured = neighbourLatencies(host, duration);
    await Promise.all([measured, spinners(() => next[i++ % 4]!(), measured)]);
    suite.record('isolation/neighbour/beside-quickjs-in-thread', summariseSamples(await measured));
    for (const env of envs) env.dispose();
  }
  {
    const measured = neighbourLatencies(host, duration);
    await Promise.all([measured, spinners(() => host.invoke('spin'), measured)]);
    suite.record('isolation/neighbour/beside-quickjs-workers', summariseSamples(await measured));
  }
  {
    const tenant = await createRuntime({ logSink: silentSink, isolation: 'process' });
    await tenant.deploy({ name: 'spin', engine: 'quickjs', timeoutMs: 30_000, code: { files: { 'index.mjs': SPIN } } });
    await tenant.invoke('spin');
    const measured = neighbourLatencies(host, duration);
    await Promise.all([measured, spinners(() => tenant.invoke('spin'), measured)]);
    suite.record('isolation/neighbour/beside-quickjs-process', summariseSamples(await measured));
    await tenant.close();
  }
  await host.close();
  for (const beside of ['in-thread', 'workers', 'process']) suite.ratio(`isolation/neighbour/beside-quickjs-${beside}`, 'isolation/neighbour/alone');

}

/** The bombed function: a Map bomb when the event says so, else a trivial answer (its recovery is its next answer). */
const VICTIM = `export const handler = async (event) => {
  if (!event.bomb) return 'ok';
  const m = new Map(); for (let i = 0;; i++) m.set(i, { i, s: 'v' + i });
};`;

/** One neighbour invocation of the background load: when it started and ended, and whether it answered. */
interface Probe {
  readonly started: number;
  readonly ended: number;
  readonly ok: boolean;
}

/**
 * isolation/recovery/*: recovery after isolated-vm's catastrophic error in process isolation
 * (issue #15's figure), with one child and with two. A v8 neighbour is invoked back to back the
 * whole time (the load); the bombed function blows V8's heap; from the bomb's answer:
 *
 *   recovery/v8-process-<n>child/neighbour  to the end of the neighbour's first successful
 *                                           invocation started after it
 *   recovery/v8-process-<n>child/bombed     to the bombed function's next successful invocation
 *                                           (tried back to back from the bomb's answer: a cold start
 *                                           once its child is replaced)
 *   recovery/cold-v8-process                baseline, same run: a healthy cold start of a v8 function
 *
 * Only rounds whose bomb ended in a catastrophe count (its child was replaced: the engine process
 * ids changed); isolated-vm's soft limit contains some bombs, whose child lives on. The outcomes of
 * every round, the neighbour's failed invocations (calls in flight in the dying child end as
 * Runtime.ExitError) and the load average go to the report's extra.
 */
export async function isolationRecoveryArea(suite: Suite): Promise<void> {
  const wanted = suite.pick(5, 3);
  const extra: Record<string, unknown> = { loadBefore: loadavg()[0] };
  const rounds: unknown[] = [];
  extra.rounds = rounds;
  for (const children of [1, 2]) {
    const rt = await createRuntime({ logSink: silentSink, isolation: 'process', engineProcesses: children, scaleUpRate: 100_000, scaleUpBurst: 100_000 });
    await rt.deploy({ name: 'neighbour', code: { files: { 'index.mjs': TRIVIAL.module } } });
    await rt.deploy({ name: 'victim', memoryMb: 128, timeoutMs: 60_000, code: { files: { 'index.mjs': VICTIM } } });
    if (children === 1) {
      // The baseline: healthy cold starts of v8 functions in a child already up.
      const cold: number[] = [];
      for (let i = 0; i < suite.pick(10, 5); i++) {
        await rt.deploy({ name: `cold-${i}`, code: { files: { 'index.mjs': TRIVIAL.module } } });
        const started = performance.now();
        const res = await rt.invoke(`cold-${i}`, TRIVIAL_EVENT);
        if (!res.coldStart || res.functionError) throw new Error(`recovery baseline: ${JSON.stringify(res.payload)}`);
        cold.push(performance.now() - started);
      }
      suite.record('isolation/recovery/cold-v8-process', summariseSamples(cold));
    }
    // How long the host's own thread was held meanwhile (it forks each replacement child).
    const hostDelay = monitorEventLoopDelay({ resolution: 10 });
    hostDelay.enable();
    const probes: Probe[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        const started = performance.now();
        // A rejection (a service error) is a failed probe too, never the end of the load.
        const ok = await rt.invoke('neighbour', TRIVIAL_EVENT).then((res) => !res.functionError, () => false);
        probes.push({ started, ended: performance.now(), ok });
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const neighbour: number[] = [];
    const bombed: number[] = [];
    const outcomes: string[] = [];
    let neighbourFailures = 0;
    for (let round = 0; neighbour.length < wanted && round < 2 * wanted; round++) {
      const warm = await rt.invoke('victim', { bomb: false });
      if (warm.functionError) throw new Error(`recovery: the victim failed before its bomb: ${JSON.stringify(warm.payload)}`);
      const pids = engineProcessIds();
      const from = probes.length;
      const res = await rt.invoke('victim', { bomb: true });
      const answered = performance.now();
      let next = await rt.invoke('victim', { bomb: false });
      let tries = 1;
      for (; next.functionError; tries++) next = await rt.invoke('victim', { bomb: false });
      const victimBack = performance.now() - answered;
      // Where the bombed function's recovery went: failed tries, and its cold start's Init Duration.
      rounds.push({ children, tries, initDurationMs: next.initDurationMs, loadavg: loadavg()[0] });
      // The neighbour's first success started after the bomb's answer.
      let back: Probe | undefined;
      for (;;) {
        back = probes.slice(from).find((p) => p.started >= answered && p.ok);
        if (back) break;
        await sleep(5);
      }
      const replaced = pids.some((pid) => !engineProcessIds().includes(pid));
      outcomes.push(`${(res.payload as { errorType?: string }).errorType ?? 'none'}${replaced ? ' (catastrophe)' : ''}`);
      neighbourFailures += probes.slice(from).filter((p) => !p.ok).length;
      if (!replaced) continue;
      neighbour.push(back.ended - answered);
      bombed.push(victimBack);
    }
    loading = false;
    await load;
    await rt.close();
    const label = `isolation/recovery/v8-process-${children}child`;
    suite.record(`${label}/neighbour`, summariseSamples(neighbour));
    suite.record(`${label}/bombed`, summariseSamples(bombed));
    suite.ratio(`${label}/neighbour`, 'isolation/recovery/cold-v8-process');
    suite.ratio(`${label}/bombed`, 'isolation/recovery/cold-v8-process');
    hostDelay.disable();
    extra[`${children}child`] = {
      outcomes,
      neighbourInvocations: probes.length,
      neighbourFailures,
      hostEventLoopDelayMs: { p50: hostDelay.percentile(50) / 1e6, p99: hostDelay.percentile(99) / 1e6, max: hostDelay.max / 1e6 },
    };
  }
  extra.loadAfter = loadavg()[0];
  suite.extra.isolationRecovery = extra;
}
