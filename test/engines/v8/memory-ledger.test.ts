/**
 * The v8 guest's off-heap memory ledger (src/engines/guest/memory-ledger.ts, issue #15): legitimate
 * use keeps working under memoryMb 128 (resizable buffers and Intl objects under, near and past the
 * budget), and the paths a guest has to the engine's own constructors and methods lead to the
 * ledger's. The hostile programs themselves are in test/adversarial/cases.ts (OFF_HEAP_BOMBS).
 */
import { describe, expect, it } from 'vitest';
import { withRuntime, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

const MB = 1024 * 1024;

async function run(code: string): Promise<{ functionError?: string; payload: unknown }> {
  return withRuntime(async ({ rt }) => {
    await rt.deploy({ name: 'f', code: { files: { 'index.mjs': code } }, memoryMb: 128, timeoutMs: GENEROUS_TIMEOUT_MS });
    return rt.invoke('f', {});
  }, 'v8');
}

describe('v8 off-heap memory ledger (memoryMb 128)', () => {
  it('a resizable buffer well under the budget (64 MiB) resizes and shrinks normally', async () => {
    const r = await run(`export const handler = async () => {
      const b = new ArrayBuffer(0, { maxByteLength: ${64 * MB} });
      b.resize(${64 * MB}); new Uint8Array(b).fill(7); const grown = b.byteLength;
      b.resize(16); b.resize(${64 * MB});
      return [grown, b.byteLength, b.resizable, b.maxByteLength, new Uint8Array(b)[0]];
    }`);
    expect(r.payload).toEqual([64 * MB, 64 * MB, true, 64 * MB, 7]); // the first 16 bytes survive the shrink
  }, SLOW_CASE_LIMIT_MS);

  it('just under the budget (100 MiB across resizable and growable buffers) works; just over (140 MiB) ends the environment, uncatchably (Lambda kills Node at MemorySize)', async () => {
    const under = await run(`export const handler = async () => {
      const a = new ArrayBuffer(0, { maxByteLength: ${256 * MB} }); a.resize(${60 * MB});
      const s = new SharedArrayBuffer(0, { maxByteLength: ${256 * MB} }); s.grow(${40 * MB});
      return [a.byteLength, s.byteLength];
    }`);
    expect(under.payload).toEqual([60 * MB, 40 * MB]);
    const over = await run(`export const handler = async () => {
      const a = new ArrayBuffer(0, { maxByteLength: ${256 * MB} }); a.resize(${60 * MB});
      const s = new SharedArrayBuffer(0, { maxByteLength: ${256 * MB} }); s.grow(${40 * MB});
      try { a.resize(${100 * MB}); return 'resized'; } catch (e) { return 'caught ' + e.message; }
    }`);
    expect(over.payload).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
  }, SLOW_CASE_LIMIT_MS);

  it("the typed array constructors the ledger stands in for look and work as Node's (identity, prototype chain, statics, subclasses, errors)", async () => {
    const r = await run(`export const handler = async () => {
      const TypedArray = Object.getPrototypeOf(Int8Array.prototype).constructor;
      class Sub extends Uint16Array {}
      const sub = new Sub([1, 2, 3]);
      const noNew = (() => { try { Uint8Array(1); return 'made'; } catch (e) { return e.constructor.name + ': ' + e.message; } })();
      const buf = Buffer.alloc(4, 1);
      return {
        identity: [Uint8Array.prototype.constructor === Uint8Array, new Float64Array(1).constructor === Float64Array, Object.getPrototypeOf(Uint8Array) === TypedArray, Object.getPrototypeOf(BigInt64Array) === TypedArray],
        names: [Uint8Array.name, Uint8Array.length, Uint8Array.BYTES_PER_ELEMENT, String(Uint8Array), String(Uint8Array.prototype.toReversed)],
        statics: [Array.from(Uint8Array.from([1, 2])), Array.from(Int16Array.of(-1)), Uint8Array[Symbol.species] === Uint8Array, Uint8Array.from([1]) instanceof Uint8Array],
        sub: [sub instanceof Sub, sub instanceof Uint16Array, sub.slice(1) instanceof Sub, Array.from(sub.map((x) => x * 2)), sub.constructor === Sub],
        copies: [Array.from(new Uint8Array([3, 1, 2]).toSorted()), Array.from(new Uint8Array([1, 2]).toReversed()), Array.from(new Uint8Array([1, 2]).with(0, 9)), new Uint8Array(new ArrayBuffer(8), 2, 3).length],
        buffer: [Buffer.isBuffer(buf), buf instanceof Uint8Array, buf.toString('hex'), Buffer.from('hi').slice(1).toString()],
        noNew, tag: Object.prototype.toString.call(new Uint8ClampedArray(1)),
      };
    }`);
    expect(r.payload).toEqual({
      identity: [true, true, true, true],
      names: ['Uint8Array', 3, 1, 'function Uint8Array() { [native code] }', 'function toReversed() { [native code] }'],
      statics: [[1, 2], [-1], true, true],
      sub: [true, true, true, [2, 4, 6], true],
      copies: [[1, 2, 3], [2, 1], [9, 2], 3],
      buffer: [true, true, '01010101', 'i'],
      // Node 24: V8's kConstructorNotFunction.
      noNew: "TypeError: Constructor Uint8Array requires 'new'", tag: '[object Uint8ClampedArray]',
    });
  }, SLOW_CASE_LIMIT_MS);

  it('a maxByteLength far past the budget costs nothing until used (Node reserves, it does not commit)', async () => {
    const r = await run(`export const handler = async () => { const keep = []; for (let i = 0; i < 100; i++) keep.push(new ArrayBuffer(1024, { maxByteLength: ${1024 * MB} })); return keep.length; }`);
    expect(r.payload).toBe(100);
  }, SLOW_CASE_LIMIT_MS);

  it('3,000 Intl.DateTimeFormat objects kept (~84 MB of ICU) work', async () => {
    const r = await run(`export const handler = async () => { const keep = []; for (let i = 0; i < 3000; i++) keep.push(new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', minute: i % 2 ? 'numeric' : '2-digit' })); return [keep.length, keep[0].format(0)]; }`);
    expect(r.functionError).toBeUndefined();
    expect((r.payload as unknown[])[0]).toBe(3000);
  }, SLOW_CASE_LIMIT_MS);

  it('every path to the constructors and methods leads to the ledger (no bypass)', async () => {
    const r = await run(`export const handler = async () => {
      const seen = new Set();
      Error.prepareStackTrace = (e, sites) => { for (const s of sites) { try { const f = s.getFunction(); if (f) seen.add(f); } catch {} } return ''; };
      const sneaky = { get maxByteLength() { new Error().stack; return ${512 * MB}; }, valueOf() { new Error().stack; return 0; } };
      new ArrayBuffer(sneaky, sneaky);
      new Intl.DateTimeFormat('en', { get timeZone() { new Error().stack; return 'UTC'; } });
      delete Error.prepareStackTrace;
      class Sub extends ArrayBuffer {}
      const sub = new Sub(0, { maxByteLength: ${512 * MB} });
      let subOver; try { sub.resize(${300 * MB}); subOver = 'resized'; } catch (e) { subOver = e.message; }
      const leaked = [...seen].filter((f) => /\\[native code\\]/.test(Function.prototype.toString.call(f)) && [ 'ArrayBuffer', 'DateTimeFormat', 'resize' ].includes(f.name));
      return {
        protoConstructor: ArrayBuffer.prototype.constructor === ArrayBuffer,
        viaView: new Uint8Array(1).buffer.constructor === ArrayBuffer,
        sharedConstructor: SharedArrayBuffer.prototype.constructor === SharedArrayBuffer,
        intlConstructor: Intl.DateTimeFormat.prototype.constructor === Intl.DateTimeFormat,
        subclassOk: sub instanceof Sub && sub instanceof ArrayBuffer && sub.resizable,
        subOver, leaked: leaked.length,
        callNoNew: (() => { try { ArrayBuffer(1); return 'made'; } catch (e) { return e.constructor.name + ': ' + e.message; } })(),
        legacyCall: typeof Intl.DateTimeFormat().format(0),
      };
    }`);
    expect(r.payload).toEqual({
      protoConstructor: true, viaView: true, sharedConstructor: true, intlConstructor: true, subclassOk: true,
      subOver: 'Array buffer allocation failed', leaked: 0,
      // Node 24: "Constructor ArrayBuffer requires 'new'" (V8's kConstructorNotFunction).
      callNoNew: "TypeError: Constructor ArrayBuffer requires 'new'", legacyCall: 'string',
    });
  }, SLOW_CASE_LIMIT_MS);
});
