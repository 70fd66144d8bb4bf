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

const CONTEXT = '(record (field "request-id" string) (field "function-name" string) (field "function-version" string) (field "invoked-function-arn" string) (field "memory-limit-mb" u32) (field "deadline-ms" u64))';
const ERROR = '(record (field "error-type" string) (field "error-message" string))';

/** lambdalet:function's handler, whose `handle` grows each of `k` private memories by memoryMb / 2. */
function hiddenMemories(k: number): string {
  const names = Array.from({ length: k }, (_, i) => `m${i}`);
  return `(component
  (type $types-type (instance (type ${CONTEXT}) (export "context" (type (eq 0))) (type ${ERROR}) (export "function-error" (type (eq 2)))))
  (import "lambdalet:function/types@0.1.0" (instance $types (type $types-type)))
  (core module $Mem
    (memory 1)
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))
  (core module $Main
${names.map((n) => `    (import "${n}" "grow" (func $${n} (param i32) (result i32)))`).join('\n')}
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $bump i32.const 7 i32.add i32.const -8 i32.and local.set $p
      local.get $p local.get 3 i32.add global.set $bump
      (block $ok
        global.get $bump memory.size i32.const 65536 i32.mul i32.le_u br_if $ok
        global.get $bump i32.const 65535 i32.add i32.const 65536 i32.div_u memory.size i32.sub memory.grow drop)
      local.get $p)
    (func (export "handle") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i64) (result i32)
${names.map((n) => `      local.get 10 i32.const 8 i32.mul call $${n} drop`).join('\n')}
      i32.const 0)
    (data (i32.const 0) "\\00\\00\\00\\00\\10\\00\\00\\00\\02\\00\\00\\00\\00\\00\\00\\00{}"))
${names.map((n) => `  (core instance $${n} (instantiate $Mem))`).join('\n')}
  (core instance $main (instantiate $Main ${names.map((n) => `(with "${n}" (instance $${n}))`).join(' ')}))
  (alias export $types "context" (type $context))
  (alias export $types "function-error" (type $function-error))
  (func $handle (param "event" string) (param "context" $context) (result (result string (error $function-error)))
    (canon lift (core func $main "handle") (memory (core memory $main "memory")) (realloc (core func $main "realloc"))))
  (component $shim
    (type ${CONTEXT}) (import "import-type-context" (type (;1;) (eq 0)))
    (type ${ERROR}) (import "import-type-function-error" (type (;3;) (eq 2)))
    (import "import-type-context0" (type (;4;) (eq 1)))
    (import "import-type-function-error0" (type (;5;) (eq 3)))
    (type (;6;) (result string (error 5)))
    (type (;7;) (func (param "event" string) (param "context" 4) (result 6)))
    (import "import-func-handle" (func (;0;) (type 7)))
    (export (;8;) "context" (type 1))
    (export (;9;) "function-error" (type 3))
    (type (;10;) (result string (error 9)))
    (type (;11;) (func (param "event" string) (param "context" 8) (result 10)))
    (export (;1;) "handle" (func 0) (func (type 11))))
  (instance $handler (instantiate $shim (with "import-func-handle" (func $handle)) (with "import-type-context" (type $context))
    (with "import-type-function-error" (type $function-error)) (with "import-type-context0" (type $context)) (with "import-type-function-error0" (type $function-error))))
  (export "lambdalet:function/handler@0.1.0" (instance $handler)))`;
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
