/**
 * Every memory of a component counts against memoryMb (issue #15, red team): a core module that
 * keeps its memory to itself (no export) was invisible to the host, so a component instantiating
 * such a module K times, each memory grown to the cap, held K × memoryMb across invocations, each
 * answered as within memoryMb (8 × 128 MB: 1.25 GB of the host). compileCapped now also exports
 * every defined memory (memory-cap.ts exportMemories) and the instance counts each memory once.
 * The component here is hand-written component text (wasm-tools parse, as deploy.test.ts does):
 * a core module `$Mem` with an unexported memory and a `grow` export, instantiated K times, and a
 * `$Main` whose `handle` grows each of them by half of memoryMb and answers `{}`.
 */
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { exportMemories, memoryExportName } from '../../../src/engines/wasm/memory-cap.ts';
import { withRuntime } from '../../helpers/runtime.ts';
import { BUMP_REALLOC, handlerComponent } from './fixtures/handler-component.ts';

/** lambdalet:function's handler, whose `handle` grows each of `k` private memories by memoryMb / 2. */
function hiddenMemories(k: number): string {
  const names = Array.from({ length: k }, (_, i) => `m${i}`);
  return handlerComponent(`  (core module $Mem
    (memory 1)
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))
  (core module $Main
${names.map((n) => `    (import "${n}" "grow" (func $${n} (param i32) (result i32)))`).join('\n')}
    (memory (export "memory") 1)
${BUMP_REALLOC}
    (func (export "handle") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i64) (result i32)
${names.map((n) => `      local.get 10 i32.const 8 i32.mul call $${n} drop`).join('\n')}
      i32.const 0)
    (data (i32.const 0) "\\00\\00\\00\\00\\10\\00\\00\\00\\02\\00\\00\\00\\00\\00\\00\\00{}"))
${names.map((n) => `  (core instance $${n} (instantiate $Mem))`).join('\n')}
  (core instance $main (instantiate $Main ${names.map((n) => `(with "${n}" (instance $${n}))`).join(' ')}))`);
}

describe('every memory of a component counts against memoryMb (issue #15)', () => {
  it('exportMemories: each defined memory exported after the imported ones, into an export section there or a new one', async () => {
    const withExports = await parse('(module (import "a" "m" (memory 1)) (import "a" "f" (func)) (import "a" "t" (table 1 funcref)) (import "a" "g" (global i32)) (memory 1) (memory 2) (func (export "f")))');
    const Table = (WebAssembly as unknown as { Table: new (descriptor: { initial: number; element: string }) => unknown }).Table;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(exportMemories(withExports, 2)), {
      a: { m: new WebAssembly.Memory({ initial: 1 }), f: () => {}, t: new Table({ initial: 1, element: 'anyfunc' }), g: 0 },
    });
    expect(Object.keys(instance.exports)).toEqual(['f', memoryExportName(0), memoryExportName(1)]);
    // The defined ones (1 and 2 pages), not the imported one.
    expect((instance.exports[memoryExportName(0)] as WebAssembly.Memory).buffer.byteLength).toBe(65536);
    expect((instance.exports[memoryExportName(1)] as WebAssembly.Memory).buffer.byteLength).toBe(2 * 65536);
    const noExports = await parse('(module (memory 1) (func $f) (start $f) (data (i32.const 0) "x"))');
    const started = new WebAssembly.Instance(new WebAssembly.Module(exportMemories(noExports, 1)), {});
    expect(Object.keys(started.exports)).toEqual([memoryExportName(0)]);
    expect((started.exports[memoryExportName(0)] as WebAssembly.Memory).buffer.byteLength).toBe(65536);
    const none = await parse('(module (func (export "f")))');
    expect(exportMemories(none, 0)).toBe(none);
  });

  it('private memories count: under memoryMb the handler answers, warm too; past it their grows are refused', () =>
    withRuntime(async ({ rt }) => {
      // Under: one private memory asked for half of 128 MB beside the main memory (refused past its planned maximum).
      await rt.deploy({ name: 'one', engine: 'wasm', memoryMb: 128, code: { component: await parse(hiddenMemories(1)) } });
      for (let i = 0; i < 2; i++) {
        const result = await rt.invoke('one', {});
        expect(result.functionError).toBeUndefined();
        expect(result.payload).toEqual({});
      }
      // Over: two private memories asked for half each. They were capped at 128 MB apiece and the total
      // caught after the call (Runtime.OutOfMemory); now their maxima are planned with the main memory's
      // to sum to 128 MB (memory-total-grow.test.ts), so the grows return -1, which this guest ignores.
      await rt.deploy({ name: 'two', engine: 'wasm', memoryMb: 128, code: { component: await parse(hiddenMemories(2)) } });
      const over = await rt.invoke('two', {});
      expect(over.functionError).toBeUndefined();
      expect(over.payload).toEqual({});
    }), 120_000);
});
