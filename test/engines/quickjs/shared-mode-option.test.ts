import { describe, expect, it } from 'vitest';
import { liveQuickJSInstances, spareQuickJSInstances } from '../../../src/engines/quickjs/quickjs-engine.ts';
import { createRuntime } from '../../../src/index.ts';

describe('quickjsIsolation runtime option', () => {
  it('shared mode: two environments of one function run in the shared instance and stay separate', async () => {
    const rt = await createRuntime({ logSink: { write() {} }, quickjsIsolation: 'shared' });
    try {
      await rt.deploy({
        name: 'shared',
        engine: 'quickjs',
        code: { files: { 'index.mjs': 'let n = 0; export const handler = async () => ({ n: ++n, seen: globalThis.mark ?? null, set: (globalThis.mark = "x") })' } },
      });
      const before = liveQuickJSInstances();
      const [a, b] = await Promise.all([rt.invoke('shared'), rt.invoke('shared')]);
      expect(liveQuickJSInstances()).toBe(before); // no per-environment instance was made
      expect(a.payload).toEqual({ n: 1, seen: null, set: 'x' });
      expect(b.payload).toEqual({ n: 1, seen: null, set: 'x' });
      const warm = await rt.invoke('shared');
      expect(warm.coldStart).toBe(false);
      expect(warm.payload).toEqual({ n: 2, seen: 'x', set: 'x' });
    } finally {
      await rt.close();
    }
  });
});

describe('quickjsIsolation default', () => {
  it('instance mode: each environment gets its own WebAssembly instance', async () => {
    const rt = await createRuntime({ logSink: { write() {} } });
    try {
      await rt.deploy({ name: 'own', engine: 'quickjs', code: { files: { 'index.mjs': 'export const handler = async () => 1' } } });
      // Spares (instances booted ahead of the next cold start, in-thread.ts) come and go beside them.
      const environments = (): number => liveQuickJSInstances() - spareQuickJSInstances();
      const before = environments();
      await Promise.all([rt.invoke('own'), rt.invoke('own')]);
      expect(environments()).toBe(before + 2);
    } finally {
      await rt.close();
    }
  });
});
