/**
 * The wasm engine beside quickjs and v8, in one run (`--only wasm`):
 *   cold/trivial/<wasm-c | wasm-js | quickjs | quickjs-snapstart | v8>: a new environment + its first
 *     invoke through `rt.invoke` (the ColdRig method: idle TTL 1 ms, every sample checked cold).
 *     wasm environments are instances in the shared pool of engine servers (started at deploy).
 *   cold-sandbox/trivial/<wasm-c | wasm-js>: the same at the engine level (boot + INIT + invoke).
 *   warm/trivial/<...>: one more `rt.invoke` of a warm environment; `warm/trivial/wasm-c-sandbox`:
 *     the sandbox's call alone (a round trip to the engine server + jco glue + the C function).
 *   deploy/trivial/<wasm-c | wasm-js-componentize>: transpile + compile + define in the servers (a
 *     fresh engine each sample, the process's servers already up); componentize-qjs building the JS handler.
 *   deploy/trivial-rt/<wasm-c | quickjs | v8>: `rt.deploy` of the trivial function, a fresh runtime each sample.
 *   timeout-kill/loop/wasm-c: from the deadline to the sandbox's timeout fault (its server terminated).
 *   density/idle/<wasm-c | wasm-js>: RSS per idle environment (wasm-density-child.ts), beside
 *     density/idle/<quickjs | v8> measured in the same run by the density area's child.
 * wasm-c is native/components/hello.wasm; wasm-js a trivial handler componentized at setup.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { EnvironmentContextFields } from '../../src/engines/guest/protocol.ts';
import { componentBundle } from '../../src/engines/wasm/component-bundle.ts';
import { componentizeSource } from '../../src/engines/wasm/componentize.ts';
import { WasmEngine, type WasmBlueprint } from '../../src/engines/wasm/wasm-engine.ts';
import { runPhase } from '../../src/environment/event-loop.ts';
import { createRuntime, silentSink, type FunctionConfigInput, type Runtime } from '../../src/index.ts';
import { TRIVIAL, TRIVIAL_EVENT } from '../lib/handlers.ts';
import { measureDensity } from './density.ts';
import { perGiB } from '../lib/stats.ts';
import { progress, type Suite } from '../lib/suite.ts';

const NATIVE = fileURLToPath(new URL('../../native/components/', import.meta.url));
const HELLO = join(NATIVE, 'hello.wasm');
const PROBE = join(NATIVE, 'probe.wasm');
const DENSITY_CHILD = fileURLToPath(new URL('./wasm-density-child.ts', import.meta.url));

/** The trivial handler, written for the WIT world (what TRIVIAL is for the Node engines). */
export const TRIVIAL_WASM_JS = `export const handler = { handle(event) { const e = JSON.parse(event); return JSON.stringify({ hi: e.name }); } };\n`;

const CONTEXT: EnvironmentContextFields = {
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  memoryLimitInMB: '128',
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench',
};

type Kind = 'wasm-c' | 'wasm-js' | 'quickjs' | 'quickjs-snapstart' | 'v8';

function deployInput(kind: Kind, jsEntry: string): FunctionConfigInput {
  switch (kind) {
    case 'wasm-c':
      return { name: 'fn', engine: 'wasm', code: { component: HELLO } };
    case 'wasm-js':
      return { name: 'fn', engine: 'wasm', code: { entry: jsEntry } };
    case 'quickjs':
    case 'v8':
      return { name: 'fn', engine: kind, code: { files: { 'index.mjs': TRIVIAL.module } } };
    case 'quickjs-snapstart':
      return { name: 'fn', engine: 'quickjs', snapStart: true, code: { files: { 'index.mjs': TRIVIAL.module } } };
  }
}

async function coldCase(suite: Suite, kind: Kind, jsEntry: string, iterations: number): Promise<void> {
  const rt = await createRuntime({ logSink: silentSink, idleTtlMs: 1, scaleUpRate: 100_000, scaleUpBurst: 100_000 });
  await rt.deploy(deployInput(kind, jsEntry));
  const name = `cold/trivial/${kind}`;
  await suite.measure(
    name,
    async () => {
      const result = await rt.invoke('fn', TRIVIAL_EVENT);
      if (!result.coldStart) throw new Error(`${name}: not a cold start`);
      if (result.functionError) throw new Error(`${name}: ${JSON.stringify(result.payload)}`);
    },
    {
      iterations,
      time: 0,
      beforeEach: async () => {
        for (let i = 0; rt.metrics().environments > 0; i++) {
          if (i > 5000) throw new Error(`${name}: the idle environment was never reaped`);
          await sleep(1);
        }
        if (kind === 'quickjs-snapstart') await sleep(20);
      },
    },
  );
  await rt.close();
}

async function warmCase(suite: Suite, kind: Kind, jsEntry: string, iterations: number, time: number): Promise<void> {
  const rt: Runtime = await createRuntime({ logSink: silentSink });
  await rt.deploy(deployInput(kind, jsEntry));
  const first = await rt.invoke('fn', TRIVIAL_EVENT);
  if (first.functionError) throw new Error(`warm/trivial/${kind}: ${JSON.stringify(first.payload)}`);
  await suite.measure(
    `warm/trivial/${kind}`,
    async () => {
      const result = await rt.invoke('fn', TRIVIAL_EVENT);
      if (result.coldStart) throw new Error(`warm/trivial/${kind}: a cold start`);
    },
    { iterations, time },
  );
  await rt.close();
}

/** Components made distinct so far in this process (each call's number is new). */
let distinctCount = 0;

/**
 * `component` with one more custom section holding a number never used before in this process: the
 * same code under another sha256, so neither the transpiled nor the compiled cache (kept per
 * process, by content) has it. (The rt.deploy case once numbered its samples from 0 again, after
 * the engine-level case had used the same numbers: its deploys hit both caches, 11 ms.)
 */
function distinct(component: Uint8Array): Uint8Array {
  const name = new TextEncoder().encode('lambdalet-bench');
  const payload = new TextEncoder().encode(String(distinctCount++));
  const body = [name.length, ...name, ...payload]; // both under 128 bytes: one-byte LEB128 sizes
  return Uint8Array.from([...component, 0x00, body.length, ...body]);
}

async function blueprintOf(engine: WasmEngine, path: string | Uint8Array): Promise<WasmBlueprint> {
  return (await engine.prepare(await componentBundle(path, 'index.handler'), { memoryMb: 128 })) as WasmBlueprint;
}

const invokeMessage = (event: string) => ({ type: 'invoke' as const, requestId: 'r', deadlineMs: Date.now() + 10_000, extras: '', event });
const initMessage = { type: 'init' as const, context: CONTEXT, env: {}, handler: 'index.handler', handlerPath: [], runtime: 'nodejs22.x' as const };

async function engineCases(suite: Suite, jsEntry: string): Promise<void> {
  // deploy: a distinct component each sample (one more custom section: another sha256), so nothing
  // is cached — transpiled forms and compiled modules are kept per process by content.
  const hello = readFileSync(HELLO);
  let sample = 0;
  let blueprint: WasmBlueprint | undefined;
  await suite.measure(
    'deploy/trivial/wasm-c',
    async () => {
      blueprint = await blueprintOf(new WasmEngine(), distinct(hello));
    },
    { iterations: suite.pick(10, 4), time: 0, warmupIterations: 1, afterEach: () => blueprint?.close() },
  );
  // deploy through the runtime, beside quickjs and v8: a fresh runtime per sample (untimed), a
  // distinct source or component per sample (nothing cached by content).
  for (const kind of ['wasm-c', 'quickjs', 'v8'] as const) {
    let rt: Runtime | undefined;
    let n = 0;
    await suite.measure(
      `deploy/trivial-rt/${kind}`,
      async () => {
        const input = deployInput(kind, jsEntry);
        const code = kind === 'wasm-c' ? { component: distinct(readFileSync(HELLO)) } : { files: { 'index.mjs': `${TRIVIAL.module}\n// sample ${n++}\n` } };
        await rt!.deploy({ ...input, code });
      },
      {
        iterations: suite.pick(10, 4),
        time: 0,
        warmupIterations: 1,
        beforeEach: async () => {
          rt = await createRuntime({ logSink: silentSink });
        },
        afterEach: async () => {
          await rt?.close();
        },
      },
    );
  }
  const jsSource = readFileSync(jsEntry, 'utf8');
  await suite.measure(
    'deploy/trivial/wasm-js-componentize',
    async () => {
      // A distinct source each sample: componentizeSource caches by content.
      await componentizeSource(`${jsSource}// sample ${sample++}\n`);
    },
    { iterations: suite.pick(3, 1), time: 0, warmupIterations: 0 },
  );

  const options = { memoryMb: 128, onLog: () => {} };
  const pooled = await blueprintOf(new WasmEngine(), HELLO);
  const jsComponent = await componentizeSource(jsSource);
  const jsPooled = await blueprintOf(new WasmEngine(), jsComponent);
  for (const [kind, blueprint] of [['wasm-c', pooled], ['wasm-js', jsPooled]] as const) {
    // cold at the engine level: boot (a sandbox in a running server) + INIT + first invoke.
    let cold: Awaited<ReturnType<WasmBlueprint['boot']>> | undefined;
    await suite.measure(
      `cold-sandbox/trivial/${kind}`,
      async () => {
        cold = await blueprint.boot(options);
        await runPhase(cold, initMessage, performance.now() + 10_000);
        const reply = await runPhase(cold, invokeMessage(JSON.stringify(TRIVIAL_EVENT)), performance.now() + 10_000);
        if (!reply.ok) throw new Error(`cold-sandbox ${kind}: ${JSON.stringify(reply.error)}`);
      },
      { iterations: suite.pick(60, 15), time: 0, warmupIterations: 2, afterEach: () => cold?.dispose() },
    );
  }
  jsPooled.close();

  // the sandbox's call alone, warm.
  const sandbox = await pooled.boot(options);
  await runPhase(sandbox, initMessage, performance.now() + 10_000);
  await suite.measure(
    'warm/trivial/wasm-c-sandbox',
    async () => {
      const reply = await sandbox.call(invokeMessage(JSON.stringify(TRIVIAL_EVENT)), 10_000);
      if (!reply.ok) throw new Error('warm sandbox call failed');
    },
    { iterations: suite.pick(2000, 300), time: suite.pick(1500, 400) },
  );
  sandbox.dispose();
  pooled.close();

  // timeout: the probe spins; the time from its deadline to the fault is the kill's cost.
  const probe = await blueprintOf(new WasmEngine(), PROBE);
  const killMs: number[] = [];
  const deadline = 20;
  for (let i = 0; i < suite.pick(20, 6); i++) {
    const spinner = await probe.boot(options);
    await runPhase(spinner, initMessage, performance.now() + 10_000);
    const started = performance.now();
    const fault = await spinner.call(invokeMessage('"loop"'), deadline).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (!(fault instanceof Error) || !('kind' in fault) || fault.kind !== 'timeout') throw new Error('timeout-kill: the loop was not stopped by its deadline');
    killMs.push(performance.now() - started - deadline);
  }
  probe.close();
  killMs.sort((a, b) => a - b);
  suite.record('timeout-kill/loop/wasm-c', { median: killMs[Math.floor(killMs.length / 2)]!, p99: killMs[killMs.length - 1]!, samples: killMs.length });
}

function density(suite: Suite, kind: 'wasm-c' | 'wasm-js', jsEntry: string, count: number): void {
  const child = spawnSync(process.execPath, ['--no-node-snapshot', '--expose-gc', DENSITY_CHILD, kind, String(count), jsEntry], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    timeout: 600_000,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`wasm density child ${kind} failed (status ${child.status}): ${child.stderr.slice(-2000)}`);
  const { perEnvBytes } = JSON.parse(line) as { perEnvBytes: number };
  const name = `density/idle/${kind}`;
  suite.density[name] = { count, perEnvBytes, perGiB: perGiB(perEnvBytes) };
  progress(`${name.padEnd(48)} ${perGiB(perEnvBytes)} per GiB (${(perEnvBytes / 1024).toFixed(0)} KiB each, N=${count})`);
}

export async function wasmArea(suite: Suite): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lambdalet-bench-wasm-'));
  const jsEntry = join(dir, 'index.js');
  writeFileSync(jsEntry, TRIVIAL_WASM_JS);
  try {
    await engineCases(suite, jsEntry);
    const cold = suite.pick(60, 15);
    for (const kind of ['wasm-c', 'wasm-js', 'quickjs', 'quickjs-snapstart', 'v8'] as const) await coldCase(suite, kind, jsEntry, cold);
    for (const kind of ['wasm-c', 'wasm-js', 'quickjs', 'v8'] as const) await warmCase(suite, kind, jsEntry, suite.pick(1000, 200), suite.pick(1500, 400));
    suite.ratio('deploy/trivial-rt/wasm-c', 'deploy/trivial-rt/quickjs');
    suite.ratio('deploy/trivial-rt/wasm-c', 'deploy/trivial-rt/v8');
    for (const over of ['quickjs', 'quickjs-snapstart', 'v8']) {
      suite.ratio('cold/trivial/wasm-c', `cold/trivial/${over}`);
      suite.ratio('cold/trivial/wasm-js', `cold/trivial/${over}`);
      if (over !== 'quickjs-snapstart') {
        suite.ratio('warm/trivial/wasm-c', `warm/trivial/${over}`);
        suite.ratio('warm/trivial/wasm-js', `warm/trivial/${over}`);
      }
    }
    density(suite, 'wasm-c', jsEntry, suite.pick(100, 30));
    density(suite, 'wasm-js', jsEntry, suite.pick(100, 30));
    for (const [kind, count] of [['quickjs', suite.pick(300, 100)], ['v8', suite.pick(200, 60)]] as const) {
      const perEnvBytes = measureDensity(kind, count);
      suite.density[`density/idle/${kind}`] = { count, perEnvBytes, perGiB: perGiB(perEnvBytes) };
      progress(`${`density/idle/${kind}`.padEnd(48)} ${perGiB(perEnvBytes)} per GiB (${(perEnvBytes / 1024).toFixed(0)} KiB each, N=${count})`);
    }
    for (const wasm of ['wasm-c', 'wasm-js']) for (const over of ['quickjs', 'v8']) suite.ratio(`density/idle/${wasm}`, `density/idle/${over}`, 'density');
    suite.notes.push('wasm environments are component instances in the shared pool of engine servers (engineThreads workers, started at the first deploy).');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
