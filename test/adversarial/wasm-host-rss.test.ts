/**
 * WebAssembly bombs cost the host no more than ~2x memoryMb (issues #12, #15). Before
 * src/engines/guest/wasm-ledger.ts, guests had no WebAssembly: `new WebAssembly.Memory` in a loop
 * had reserved 1.5 GB of host memory in 4 s under memoryMb 128, isolated-vm's memoryLimit counting
 * none of it. Each bomb of the catalogue's WASM_BOMBS runs here in-process, one after the other,
 * with the host's RSS sampled: what any one of them may hold at once is its heap and shadows
 * (memoryMb) plus WebAssembly memory the reservation allows (memoryMb).
 */
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.ts';
import { SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';
import { BOMBS, GENEROUS, WASM_BOMBS } from './cases.ts';

const MB = 1024 * 1024;
const MEMORY_MB = 128;

describe('WebAssembly bombs: host memory (issues #12, #15)', () => {
  it(
    `in-process v8, memoryMb ${MEMORY_MB}: no WebAssembly bomb grows the host's RSS by more than 2.5 x memoryMb; a neighbour answers`,
    async () => {
      const rt = await createRuntime({ logSink: { write() {} } });
      try {
        await rt.deploy({ name: 'neighbour', code: { files: { 'index.mjs': 'export const handler = async () => "here"' } } });
        await rt.invoke('neighbour', {});
        const compileLoop = WASM_BOMBS.find((c) => c.name.startsWith('wasm: compiling distinct'))!;
        const bombs = [
          ...WASM_BOMBS,
          ...BOMBS.filter((c) => c.name.includes('WebAssembly')),
          // The compile loop keeping nothing: until its deadline (3 s), each module's code is freed with it.
          { ...compileLoop, name: 'wasm: compiling distinct 256 KiB modules in a loop, dropped', code: compileLoop.code.replace('keep.push(new WebAssembly.Module(bytes))', 'new WebAssembly.Module(bytes)'), timeoutMs: 3000 },
        ];
        const growth: Record<string, number> = {};
        for (const [i, bomb] of bombs.entries()) {
          await rt.deploy({ name: `bomb-${i}`, code: { files: { 'index.mjs': bomb.code } }, memoryMb: MEMORY_MB, timeoutMs: bomb.timeoutMs ?? GENEROUS });
          const base = process.memoryUsage().rss;
          let peak = base;
          const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
          const result = await rt.invoke(`bomb-${i}`, {});
          clearInterval(sampler);
          peak = Math.max(peak, process.memoryUsage().rss);
          growth[bomb.name] = Math.round((peak - base) / MB);
          // Each ended as the catalogue says (checked there); here only that it ended.
          expect(result.requestId).toBeTruthy();
          expect((await rt.invoke('neighbour', {})).payload).toBe('here');
        }
        console.log('host RSS growth per WebAssembly bomb (MB):', JSON.stringify(growth));
        for (const [name, mb] of Object.entries(growth)) expect(mb, name).toBeLessThan(2.5 * MEMORY_MB);
      } finally {
        await rt.close();
      }
    },
    SLOW_CASE_LIMIT_MS,
  );
});
