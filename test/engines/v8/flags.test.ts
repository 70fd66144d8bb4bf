import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasNoNodeSnapshotFlag } from '../../../src/engines/v8/flags.ts';

const indexUrl = new URL('../../../src/index.ts', import.meta.url).href;

describe('v8 engine: --no-node-snapshot', () => {
  it('flags: found in execArgv or in NODE_OPTIONS, not elsewhere', () => {
    expect(hasNoNodeSnapshotFlag(['--no-node-snapshot'], undefined)).toBe(true);
    expect(hasNoNodeSnapshotFlag([], '--max-old-space-size=100 --no-node-snapshot')).toBe(true);
    expect(hasNoNodeSnapshotFlag(['--no-node-snapshots'], '--node-snapshot')).toBe(false);
    expect(hasNoNodeSnapshotFlag([], undefined)).toBe(false);
  });

  it('flags: a process without the flag gets EngineUnavailableError at deploy, saying how to fix it', () => {
    const script = `
      import { createRuntime } from ${JSON.stringify(indexUrl)};
      const rt = await createRuntime();
      try {
        await rt.deploy({ name: 'f', code: { files: { 'index.mjs': 'export const handler = async () => 1' } } });
        console.log('DEPLOYED');
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
      }
      await rt.close();`;
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env,
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    });
    expect(child.status).toBe(0);
    const reported = JSON.parse(child.stdout.trim()) as { name: string; code: string; message: string };
    expect(reported.name).toBe('EngineUnavailableError');
    expect(reported.code).toBe('EngineUnavailable');
    expect(reported.message).toContain('node --no-node-snapshot');
    expect(reported.message).toContain("execArgv: ['--no-node-snapshot']");
    // The engine that needs no flag exists: the message names it (issue #12).
    expect(reported.message).toContain("Or deploy the function with `engine: 'quickjs'` (QuickJS compiled to WebAssembly), which needs no flag.");
  });
});

/**
 * --no-wasm-code-gc in users' processes (issue #15; src/engines/v8/flags.ts says why: V8's
 * WasmEngine::TriggerGC can destroy an isolated-vm isolate under its own mutex and deadlock). The
 * evidence is V8's own trace: with `--trace-wasm-code-gc --stress-wasm-code-gc`, every wasm code GC
 * prints `[wasm-gc]` lines. A process started WITHOUT the flag runs QuickJS's WebAssembly until it
 * tiers up (code becomes dead); once the v8 engine has loaded (a v8 deploy), no GC runs. The
 * control — the same process and work without a v8 deploy — must show GCs, or the check proves nothing.
 */
describe('v8 engine: WebAssembly code GC is off once the engine loads', () => {
  const run = (deployV8: boolean): { status: number | null; gcLines: number; stdout: string } => {
    const script = `
      import { createRequire } from 'node:module';
      import { createRuntime } from ${JSON.stringify(indexUrl)};
      const rt = await createRuntime({ logSink: { write() {} } });
      if (${deployV8}) await rt.deploy({ name: 'f', code: { files: { 'index.mjs': 'export const handler = async () => 1' } } });
      const require = createRequire(${JSON.stringify(indexUrl)});
      const core = await import(require.resolve('quickjs-emscripten-core'));
      const variant = (await import(require.resolve('@jitl/quickjs-wasmfile-release-sync'))).default;
      const qjs = await core.newQuickJSWASMModuleFromVariant(variant);
      for (let round = 0; round < 3; round++) {
        const vm = qjs.newContext();
        vm.unwrapResult(vm.evalCode('let s = 0; for (let i = 0; i < 30000; i++) s += JSON.stringify({ i, a: [i, String(i)] }).length; s')).dispose();
        vm.dispose();
      }
      await rt.close();
      console.log('DONE');`;
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawnSync(process.execPath, ['--no-node-snapshot', '--trace-wasm-code-gc', '--stress-wasm-code-gc', '--input-type=module', '-e', script], {
      env,
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      maxBuffer: 64 * 1024 * 1024,
    });
    return { status: child.status, gcLines: (child.stdout.match(/\[wasm-gc\]/g) ?? []).length, stdout: child.stdout.slice(-500) + child.stderr.slice(-500) };
  };

  it('control: without a v8 deploy, QuickJS tiering up makes V8 collect wasm code', () => {
    const control = run(false);
    expect(control.status, control.stdout).toBe(0);
    expect(control.gcLines).toBeGreaterThan(0);
  }, 120_000);

  it('after a v8 deploy (isolated-vm loaded), the same work makes no wasm code GC', () => {
    const off = run(true);
    expect(off.status, off.stdout).toBe(0);
    expect(off.stdout).toContain('DONE');
    expect(off.gcLines).toBe(0);
  }, 120_000);
});
