/**
 * The quickjs engine's figures, same run: cold start and warm invoke for `quickjs` (both isolation
 * modes) next to `v8` and next to raw quickjs-emscripten; idle environments per GiB; and the
 * quickjs-emscripten vs quickjs-wasi comparison (cold, warm, memory-cap correctness, snapshot).
 *
 *   node --no-node-snapshot bench/quickjs.bench.ts          (writes bench/results/quickjs.json)
 *
 * Cold = boot + INIT + first invoke + dispose, at the engine seam (no bundling, no runtime facade);
 * warm = one more invoke of a booted environment, through `rt.invoke` (the whole path: logs, REPORT)
 * and at the engine seam. Density runs in child processes: RSS delta over N idle environments.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Bench } from 'tinybench';
import RELEASE_SYNC_EXPORTS from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, type QuickJSContext, type QuickJSSyncVariant, type QuickJSWASMModule } from 'quickjs-emscripten-core';
import { bundleFunction, type FunctionBundle } from '../src/code/index.ts';
import type { Blueprint, Engine, Sandbox } from '../src/engines/engine.ts';
import type { InitMessage } from '../src/engines/guest/protocol.ts';
import { QuickJSEngine, type QuickJSIsolation } from '../src/engines/quickjs/quickjs-engine.ts';
import { instantiateQuickJS, quickjsWasmModule } from '../src/engines/quickjs/wasm.ts';
import { V8Engine } from '../src/engines/v8/v8-engine.ts';
import { runPhase } from '../src/environment/event-loop.ts';
import { createRuntime, silentSink } from '../src/index.ts';

const RELEASE_SYNC = ((RELEASE_SYNC_EXPORTS as { default?: QuickJSSyncVariant }).default ?? RELEASE_SYNC_EXPORTS) as QuickJSSyncVariant;
const HANDLER_FN = 'async (e) => ({ hi: e.name })';
const HANDLER_MODULE = `export const handler = ${HANDLER_FN};`;
const EVENT = JSON.stringify({ name: 'bench' });
const MEMORY_MB = 128;
const MIB = 1024 * 1024;

const INIT: InitMessage = {
  type: 'init',
  context: {
    functionName: 'bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
    memoryLimitInMB: String(MEMORY_MB),
    logGroupName: '/aws/lambda/bench',
    logStreamName: 'bench',
  },
  env: {},
  handler: 'index.handler',
  handlerPath: ['handler'],
  runtime: 'nodejs22.x',
};

async function bundle(): Promise<FunctionBundle> {
  const outcome = await bundleFunction({ files: { 'index.mjs': HANDLER_MODULE } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return outcome.bundle;
}

async function bootReady(blueprint: Blueprint): Promise<Sandbox> {
  const sandbox = await blueprint.boot({ memoryMb: MEMORY_MB, onLog: () => {} });
  await runPhase(sandbox, INIT, performance.now() + 10_000);
  return sandbox;
}

async function invokeOnce(sandbox: Sandbox): Promise<void> {
  const reply = await runPhase(
    sandbox,
    { type: 'invoke', requestId: 'r', deadlineMs: Date.now() + 3000, extras: '', event: EVENT },
    performance.now() + 3000,
  );
  if (!reply.ok) throw new Error(`invoke failed: ${JSON.stringify(reply)}`);
}

function engineFor(name: string): Engine {
  if (name === 'v8') return new V8Engine();
  return new QuickJSEngine({ isolation: name.endsWith('shared') ? 'shared' : 'instance' });
}

// ---- raw quickjs-emscripten baseline: new runtime + context + eval of the same handler ----------
let sharedRaw: QuickJSWASMModule | undefined;
function rawBoot(module: QuickJSWASMModule): { context: QuickJSContext; call: () => string; dispose: () => void } {
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(MEMORY_MB * MIB);
  const context = runtime.newContext();
  // What the guest does per invoke, minus Lambda: parse the event, call, await, stringify.
  const fn = context.unwrapResult(
    context.evalCode(`(() => { const h = ${HANDLER_FN}; let out; return (ev) => { h(JSON.parse(ev)).then((r) => { out = JSON.stringify(r); }); return () => out; }; })()`),
  );
  const call = (): string => {
    const event = context.newString(EVENT);
    const read = context.unwrapResult(context.callFunction(fn, context.undefined, event));
    event.dispose();
    runtime.executePendingJobs(-1);
    const out = context.unwrapResult(context.callFunction(read, context.undefined));
    read.dispose();
    const text = context.getString(out);
    out.dispose();
    return text;
  };
  return {
    context,
    call,
    dispose: () => {
      fn.dispose();
      context.dispose();
      runtime.dispose();
    },
  };
}

async function rawInstanceModule(): Promise<QuickJSWASMModule> {
  return (await instantiateQuickJS(MEMORY_MB)).module;
}

// ---- density (child process) ------------------------------------------------------------------
async function densityChild(mode: string, count: number): Promise<void> {
  const blueprint = await engineFor(mode).prepare(await bundle());
  const keep: Sandbox[] = [];
  // Warm up the process (module compiled, guest bundled, first instance) outside the delta.
  const first = await bootReady(blueprint);
  await invokeOnce(first);
  keep.push(first);
  gcTwice();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < count; i++) {
    const sandbox = await bootReady(blueprint);
    await invokeOnce(sandbox);
    keep.push(sandbox);
  }
  gcTwice();
  const after = process.memoryUsage().rss;
  console.log(JSON.stringify({ mode, count, perEnvBytes: (after - before) / count }));
  // Live isolates keep the process alive.
  process.exit(0);
}

function gcTwice(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

function density(mode: string, count: number): { perEnvBytes: number; perGiB: number } {
  const child = spawnSync(process.execPath, ['--no-node-snapshot', '--expose-gc', import.meta.filename, '--density', mode, String(count)], {
    encoding: 'utf8',
    maxBuffer: 16 * MIB,
    timeout: 300_000,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`density child failed: ${child.stderr}`);
  const { perEnvBytes } = JSON.parse(line) as { perEnvBytes: number };
  return { perEnvBytes, perGiB: Math.floor((1024 * MIB) / perEnvBytes) };
}

// ---- quickjs-wasi ---------------------------------------------------------------------------------
interface WasiHandle {
  dispose(): void;
  toString(): string;
}
interface WasiVm {
  evalCode(code: string, filename?: string): WasiHandle;
  callFunction(fn: WasiHandle, self: WasiHandle, ...args: WasiHandle[]): WasiHandle;
  newString(value: string): WasiHandle;
  dump(handle: WasiHandle): unknown;
  executePendingJobs(): number;
  snapshot(): unknown;
  dispose(): void;
  readonly undefined: WasiHandle;
}
interface WasiStatic {
  create(options: { wasm: object; memoryLimit?: number; interruptHandler?: () => boolean }): Promise<WasiVm>;
  restore(snapshot: unknown, options: { wasm: object }): Promise<WasiVm>;
}

async function loadWasi(): Promise<{ QuickJS: WasiStatic; wasm: object }> {
  const { QuickJS } = (await import('quickjs-wasi')) as unknown as { QuickJS: WasiStatic };
  const require = createRequire(import.meta.url);
  const bytes = await readFile(require.resolve('quickjs-wasi/quickjs.wasm'));
  const wasm = await (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<object> } }).WebAssembly.compile(bytes);
  return { QuickJS, wasm };
}

function wasiPrepare(vm: WasiVm): () => string {
  const fn = vm.evalCode(
    `(() => { const h = ${HANDLER_FN}; let out; return (ev) => { h(JSON.parse(ev)).then((r) => { out = JSON.stringify(r); }); return () => out; }; })()`,
  );
  return () => {
    const event = vm.newString(EVENT);
    const read = vm.callFunction(fn, vm.undefined, event);
    event.dispose();
    vm.executePendingJobs();
    const out = vm.callFunction(read, vm.undefined);
    read.dispose();
    const text = out.toString();
    out.dispose();
    return text;
  };
}

/** Memory-cap correctness: a 32 MiB cap against 200 × 1 MiB strings. */
async function capCheck(): Promise<Record<string, string>> {
  const bomb = `const a = []; let r; try { for (let i = 0; i < 200; i++) a.push('x'.repeat(1 << 20) + i); r = 'not stopped: ' + a.length + ' MiB held'; } catch (e) { r = 'stopped at ' + a.length + ' MiB: ' + e; } r`;
  const out: Record<string, string> = {};
  // quickjs-emscripten, setMemoryLimit alone (the default growable memory).
  const plain = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
  {
    const runtime = plain.newRuntime();
    runtime.setMemoryLimit(32 * MIB);
    const context = runtime.newContext();
    out['quickjs-emscripten setMemoryLimit only'] = String(context.dump(context.unwrapResult(context.evalCode(bomb))));
  }
  // quickjs-emscripten with a fixed-maximum memory (lambdalet's instance mode).
  {
    const instance = await instantiateQuickJS(32);
    const runtime = instance.module.newRuntime();
    runtime.setMemoryLimit(32 * MIB);
    const context = runtime.newContext();
    const r = context.evalCode(bomb);
    out['quickjs-emscripten fixed WebAssembly.Memory 32 MiB'] =
      `${String(context.dump(r.error ?? r.value))} (linear memory ${Math.round(instance.memory.buffer.byteLength / MIB)} MiB)`;
  }
  const { QuickJS, wasm } = await loadWasi();
  {
    const vm = await QuickJS.create({ wasm, memoryLimit: 32 * MIB });
    try {
      out['quickjs-wasi memoryLimit'] = String(vm.dump(vm.evalCode(bomb)));
    } catch (error) {
      out['quickjs-wasi memoryLimit'] = `threw ${(error as Error).message}`;
    }
  }
  return out;
}

// ---- main -----------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const functionBundle = await bundle();
  const modes = ['v8', 'quickjs', 'quickjs-shared'];
  const blueprints = new Map<string, Blueprint>();
  for (const mode of modes) blueprints.set(mode, await engineFor(mode).prepare(functionBundle));
  sharedRaw = await newQuickJSWASMModuleFromVariant(RELEASE_SYNC);
  await quickjsWasmModule();
  const wasi = await loadWasi();

  const bench = new Bench({ time: 1500, warmupTime: 200 });
  for (const mode of modes) {
    bench.add(`cold/${mode}`, async () => {
      const sandbox = await bootReady(blueprints.get(mode)!);
      await invokeOnce(sandbox);
      sandbox.dispose();
    });
  }
  bench.add('cold/raw quickjs-emscripten (shared module)', () => {
    const raw = rawBoot(sharedRaw!);
    raw.call();
    raw.dispose();
  });
  bench.add('cold/raw quickjs-emscripten (new instance)', async () => {
    const raw = rawBoot(await rawInstanceModule());
    raw.call();
  });
  bench.add('cold/raw quickjs-wasi (new VM)', async () => {
    const vm = await wasi.QuickJS.create({ wasm: wasi.wasm, memoryLimit: MEMORY_MB * MIB });
    wasiPrepare(vm)();
    vm.dispose();
  });
  // Snapshot restore (quickjs-wasi): an initialised VM, restored and called.
  const template = await wasi.QuickJS.create({ wasm: wasi.wasm });
  template.evalCode(`globalThis.h = ${HANDLER_FN};`);
  const snapshot = template.snapshot();
  bench.add('cold/quickjs-wasi snapshot restore + call', async () => {
    const vm = await wasi.QuickJS.restore(snapshot, { wasm: wasi.wasm });
    wasiPrepare(vm)();
    vm.dispose();
  });

  // Warm: full runtime path and engine seam.
  const rt = await createRuntime({ logSink: silentSink });
  for (const engine of ['v8', 'quickjs'] as const) {
    await rt.deploy({ name: `warm-${engine}`, engine, code: { files: { 'index.mjs': HANDLER_MODULE } } });
    await rt.invoke(`warm-${engine}`, { name: 'bench' });
    bench.add(`warm/rt.invoke ${engine}`, async () => {
      await rt.invoke(`warm-${engine}`, { name: 'bench' });
    });
  }
  for (const mode of modes) {
    const sandbox = await bootReady(blueprints.get(mode)!);
    await invokeOnce(sandbox);
    bench.add(`warm/engine ${mode}`, () => invokeOnce(sandbox));
  }
  const raw = rawBoot(sharedRaw);
  bench.add('warm/raw quickjs-emscripten', () => {
    raw.call();
  });
  const wasiVm = await wasi.QuickJS.create({ wasm: wasi.wasm, memoryLimit: MEMORY_MB * MIB });
  const wasiCall = wasiPrepare(wasiVm);
  bench.add('warm/raw quickjs-wasi', () => {
    wasiCall();
  });

  console.error('running the latency cases');
  await bench.run();
  console.error('density (child processes)');
  const medians: Record<string, number> = {};
  for (const task of bench.tasks) {
    const latency = task.result && 'latency' in task.result ? task.result.latency : undefined;
    medians[task.name] = latency ? Number(latency.p50.toFixed(4)) : Number.NaN;
  }
  const ratio = (a: string, b: string): number => Number((medians[a]! / medians[b]!).toFixed(2));
  const ratios = {
    'warm engine quickjs / raw quickjs-emscripten': ratio('warm/engine quickjs', 'warm/raw quickjs-emscripten'),
    'warm rt.invoke quickjs / raw quickjs-emscripten': ratio('warm/rt.invoke quickjs', 'warm/raw quickjs-emscripten'),
    'warm rt.invoke quickjs / rt.invoke v8': ratio('warm/rt.invoke quickjs', 'warm/rt.invoke v8'),
    'cold quickjs / v8': ratio('cold/quickjs', 'cold/v8'),
    'cold quickjs / raw quickjs-emscripten (new instance)': ratio('cold/quickjs', 'cold/raw quickjs-emscripten (new instance)'),
    'cold quickjs-shared / raw quickjs-emscripten (shared module)': ratio('cold/quickjs-shared', 'cold/raw quickjs-emscripten (shared module)'),
  };
  const densities = {
    v8: density('v8', 200),
    'quickjs instance': density('quickjs', 300),
    'quickjs shared': density('quickjs-shared', 2000),
  };
  const cap = await capCheck();
  const coldBreakdown = await breakdown(functionBundle);
  const result = { node: process.version, medians, ratios, densities, cap, coldBreakdown };
  console.table(Object.entries(medians).map(([name, ms]) => ({ name, 'median ms': ms })));
  console.log(JSON.stringify({ ratios, densities, cap, coldBreakdown }, null, 2));
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL('./results/quickjs.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}

/** Where a cold start's time goes (medians over 50 boots, instance mode). */
async function breakdown(functionBundle: FunctionBundle): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = { instantiate: [], 'runtime+context+guest+user eval': [], init: [], 'first invoke': [] };
  const engine = new QuickJSEngine({ isolation: 'instance' as QuickJSIsolation });
  const blueprint = await engine.prepare(functionBundle);
  for (let i = 0; i < 50; i++) {
    let t = performance.now();
    await instantiateQuickJS(MEMORY_MB);
    samples.instantiate!.push(performance.now() - t);
    t = performance.now();
    const sandbox = await blueprint.boot({ memoryMb: MEMORY_MB, onLog: () => {} });
    samples['runtime+context+guest+user eval']!.push(performance.now() - t);
    t = performance.now();
    await runPhase(sandbox, INIT, performance.now() + 10_000);
    samples.init!.push(performance.now() - t);
    t = performance.now();
    await invokeOnce(sandbox);
    samples['first invoke']!.push(performance.now() - t);
    sandbox.dispose();
  }
  const median = (xs: number[]): number => Number([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(3));
  // The boot sample includes its own instantiate: report the rest separately.
  const bootMedian = median(samples['runtime+context+guest+user eval']!);
  const instMedian = median(samples.instantiate!);
  return {
    'instantiate (module + memory + emscripten glue)': instMedian,
    'runtime + context + eval guest and user script': Number((bootMedian - instMedian).toFixed(3)),
    'INIT phase': median(samples.init!),
    'first invoke': median(samples['first invoke']!),
  };
}

if (process.argv[2] === '--density') await densityChild(process.argv[3]!, Number(process.argv[4]));
else await main();
