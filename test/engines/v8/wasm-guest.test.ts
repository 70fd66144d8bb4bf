/**
 * The v8 guest's `WebAssembly` (src/engines/guest/wasm-ledger.ts, issues #12 and #15): real modules
 * compile and run as in Node, and every memory a guest can allocate through it is bounded by
 * memoryMb. The hostile programs are in test/adversarial/cases.ts (WASM_BOMBS, the escape case).
 */
import { describe, expect, it } from 'vitest';
import { asLiteral, memoryModule } from '../../helpers/wasm-bytes.ts';
import { withRuntime, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

async function run(code: string, memoryMb = 128): Promise<{ functionError?: string; payload: unknown }> {
  return withRuntime(async ({ rt }) => {
    await rt.deploy({ name: 'f', code: { files: { 'index.mjs': code } }, memoryMb, timeoutMs: GENEROUS_TIMEOUT_MS });
    return rt.invoke('f', {});
  }, 'v8');
}

describe('v8 guests: WebAssembly bounded by memoryMb', () => {
  it('a module compiles, instantiates and runs as in Node', async () => {
    const bytes = memoryModule({ max: 64, table: { min: 2 } });
    const program = `const bytes = ${asLiteral(bytes)};
      const m = new WebAssembly.Module(bytes);
      const i = new WebAssembly.Instance(m);
      const e = i.exports;
      e.fill(0, 3, 10);
      const out = [e.add(2, 3), e.sum(0, 20), e.size(), e.grow(2), e.size(), e.tableGrow(5), e.memory.buffer.byteLength,
        m instanceof WebAssembly.Module, i instanceof WebAssembly.Instance, e.memory instanceof WebAssembly.Memory,
        WebAssembly.Module.exports(m).map((x) => x.name + ':' + x.kind).join(), WebAssembly.validate(bytes), WebAssembly.validate(new Uint8Array([0, 97]))];
      const { instance } = await WebAssembly.instantiate(bytes);
      out.push(instance.exports.add(40, 2));
      out.push(await WebAssembly.compile(new Uint8Array([1, 2, 3])).then(() => 'compiled', (err) => err.constructor.name + ': ' + err.message));
      try { new WebAssembly.Module(new Uint8Array([1, 2, 3])); } catch (err) { out.push(err.constructor.name + ': ' + err.message); }
      return out;`;
    // The same program in Node, for the expected answer.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const inNode = await new Function(`return (async () => { ${program} })()`)() as unknown;
    const r = await run(`export const handler = async () => { ${program} }`);
    expect(r.functionError, JSON.stringify(r.payload)).toBeUndefined();
    expect(r.payload).toEqual(JSON.parse(JSON.stringify(inNode)));
  }, SLOW_CASE_LIMIT_MS);
});
