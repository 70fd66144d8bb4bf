/**
 * What a wasm deploy refuses, each a typed InvalidParameterValueException naming the field, and the
 * memory-cap rewrite of core modules at its boundaries.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, type FunctionConfigInput } from '../../../src/index.ts';
import { capMemories, capMemory, MemoryCapError } from '../../../src/engines/wasm/memory-cap.ts';
import { withRuntime } from '../../helpers/runtime.ts';

const PROBE = join(import.meta.dirname, '../../../native/components/probe.wasm');

async function refusal(input: FunctionConfigInput): Promise<InvalidParameterValueException> {
  return withRuntime(async ({ rt }) => {
    const error = await rt.deploy(input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    return error as InvalidParameterValueException;
  });
}

describe('wasm deploy refusals', () => {
  it('bytes that are not WebAssembly', async () => {
    const error = await refusal({ name: 'f', engine: 'wasm', code: { component: new TextEncoder().encode('not wasm at all') } });
    expect(error.field).toBe('code');
    expect(error.message).toContain('is not a WebAssembly component (expected the preamble \\0asm 0d 00 01 00)');
  });

  it('a core module (not a component) says how to adapt it', async () => {
    const core = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const error = await refusal({ name: 'f', engine: 'wasm', code: { component: core } });
    expect(error.message).toContain('is a core WebAssembly module, not a component');
  });

  it('a component that does not export lambdalet:function/handler@0.1.0', async () => {
    const empty = await parse('(component)');
    const error = await refusal({ name: 'f', engine: 'wasm', code: { component: empty } });
    expect(error.field).toBe('code');
    expect(error.message).toContain('does not implement the world lambdalet:function/function@0.1.0: it exports nothing');
  });

  it('a component exporting lambdalet:function/handler@0.1.0 with another handle (event only, a plain string back)', async () => {
    // Before the typings check this deployed, and every invoke answered {} as a success.
    const wrong = await parse(`(component
      (core module $m
        (memory (export "memory") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
        (func (export "handle") (param i32 i32) (result i32) i32.const 16)
        (data (i32.const 16) "\\20\\00\\00\\00\\02\\00\\00\\00")
        (data (i32.const 32) "{}"))
      (core instance $i (instantiate $m))
      (func $handle (param "event" string) (result string)
        (canon lift (core func $i "handle") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
      (instance $h (export "handle" (func $handle)))
      (export "lambdalet:function/handler@0.1.0" (instance $h)))`);
    const error = await refusal({ name: 'f', engine: 'wasm', code: { component: wrong } });
    expect(error.field).toBe('code');
    expect(error.message).toContain("code.component does not implement the world lambdalet:function/function@0.1.0: its lambdalet:function/handler@0.1.0 differs from the world's.");
    expect(error.message).toContain("The component's, as TypeScript: export function handle(event: string): string;.");
    expect(error.message).toContain("The world's: export function handle(event: string, context: Context): string;");
    expect(error.message).toContain('export interface Context { requestId: string,');
  });

  it('a component importing what the host does not serve (sockets)', async () => {
    // A component whose core module calls a function of the imported wasi:sockets instance.
    const sockets = await parse(
      '(component (import "wasi:sockets/tcp@0.2.0" (instance $i (export "f" (func)))) (alias export $i "f" (func $f))' +
        ' (core func $cf (canon lower (func $f))) (core module $m (import "a" "f" (func)))' +
        ' (core instance (instantiate $m (with "a" (instance (export "f" (func $cf)))))))',
    );
    const error = await refusal({ name: 'f', engine: 'wasm', code: { component: sockets } });
    expect(error.field).toBe('code');
    expect(error.message).toBe('code.component imports what the wasm engine does not provide: wasi:sockets/tcp');
  });

  it('a truncated component', async () => {
    const truncated = readFileSync(PROBE).subarray(0, 4000);
    const error = await refusal({ name: 'f', engine: 'wasm', code: { component: truncated } });
    expect(error.message).toMatch(/^code\.component could not be transpiled: /);
  });

  it('a missing file', async () => {
    const error = await refusal({ name: 'f', engine: 'wasm', code: { component: '/nonexistent/fn.wasm' } });
    expect(error.field).toBe('code.component');
    expect(error.message).toContain('cannot read the component /nonexistent/fn.wasm');
  });

  it('code.component on another engine', async () => {
    const error = await refusal({ name: 'f', engine: 'quickjs', code: { component: PROBE } });
    expect(error.field).toBe('engine');
    expect(error.message).toBe("Expected `engine` to be 'wasm' with `code.component` (a WebAssembly component), got `quickjs` (string)");
  });

  it('engine wasm with code.files', async () => {
    const error = await refusal({ name: 'f', engine: 'wasm', code: { files: { 'index.mjs': '' } } });
    expect(error.field).toBe('code');
    expect(error.message).toBe("Expected `code` to be {component} or {entry} with engine 'wasm', got {files}");
  });

  it('code.component of the wrong type', async () => {
    const error = await refusal({ name: 'f', engine: 'wasm', code: { component: 42 as unknown as string } });
    expect(error.field).toBe('code.component');
  });
});

describe('capMemory (the memory section rewrite)', () => {
  /** A module with one memory: `(memory min max?)`, nothing else. */
  const moduleWith = (limits: number[]) => Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 5, limits.length + 1, 1, ...limits]);

  it('adds the cap as the maximum; the result compiles and refuses growth past it', () => {
    const capped = capMemory(moduleWith([0x00, 2]), 3);
    expect([...capped.subarray(8)]).toEqual([5, 4, 1, 1, 2, 3]);
    expect(() => new WebAssembly.Module(capped)).not.toThrow();
  });

  it('keeps a declared maximum lower than the cap, lowers a higher one', () => {
    expect([...capMemory(moduleWith([0x01, 1, 2]), 3).subarray(8)]).toEqual([5, 4, 1, 1, 1, 2]);
    expect([...capMemory(moduleWith([0x01, 1, 9]), 3).subarray(8)]).toEqual([5, 4, 1, 1, 1, 3]);
  });

  it('a minimum at the cap passes; one page over throws', () => {
    expect([...capMemory(moduleWith([0x00, 3]), 3).subarray(8)]).toEqual([5, 4, 1, 1, 3, 3]);
    expect(() => capMemory(moduleWith([0x00, 4]), 3)).toThrow(MemoryCapError);
  });

  it('shared or 64-bit memories are refused, a module without memory is unchanged', () => {
    expect(() => capMemory(moduleWith([0x03, 1, 2]), 3)).toThrow(/shared or 64-bit/);
    const none = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    expect(capMemory(none, 3)).toBe(none);
  });

  it('counts and caps every memory a module defines', () => {
    const two = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 5, 5, 2, 0x00, 1, 0x00, 1]);
    const { module, memories } = capMemories(two, 3);
    expect(memories).toBe(2);
    expect([...module.subarray(8)]).toEqual([5, 7, 2, 1, 1, 3, 1, 1, 3]);
  });

  it('multi-byte LEB128 sizes (a 2 GiB cap: 32768 pages)', () => {
    const capped = capMemory(moduleWith([0x00, 0x80, 0x01]), 32768); // min 128 pages
    expect([...capped.subarray(8)]).toEqual([5, 7, 1, 1, 0x80, 0x01, 0x80, 0x80, 0x02]);
  });
});

describe('transpiling runs off the host thread (transpile-thread.ts)', () => {
  it("the host's event loop keeps turning while a component is transpiled, and jco's refusal still names the bytes", { timeout: 120_000 }, async () => {
    const { transpileComponent } = await import('../../../src/engines/wasm/transpile.ts');
    const bytes = readFileSync(PROBE);
    await transpileComponent(bytes); // jco loaded in the worker
    // jco runs synchronously for tens to hundreds of ms per component: on this thread no
    // setImmediate could run until it returned. In the worker, the host turns meanwhile.
    let turns = 0;
    let spinning = true;
    const spin = (): void => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const transpiled = await transpileComponent(bytes);
    spinning = false;
    expect(transpiled.cores.size).toBeGreaterThan(0);
    expect(turns).toBeGreaterThan(1);
    await expect(transpileComponent(bytes.subarray(0, 4000))).rejects.toThrow(/^code\.component could not be transpiled: /);
  });
});
