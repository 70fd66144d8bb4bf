/**
 * The v8 guest's `WebAssembly` (src/engines/guest/wasm-ledger.ts, issues #12 and #15): real modules
 * compile and run as in Node, and every memory a guest can allocate through it is bounded by
 * memoryMb. The hostile programs are in test/adversarial/cases.ts (WASM_BOMBS, the escape case).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { EngineName } from '../../../src/config/index.ts';
import { asLiteral, memoryModule } from '../../helpers/wasm-bytes.ts';
import { createRuntime } from '../../../src/index.ts';
import { withRuntime, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../../helpers/runtime.ts';

type Result = { functionError?: string; payload: unknown };

/** Each handler body in its own function (its own environment: reservations are per environment), memoryMb 128. */
async function runEach(bodies: readonly string[], engine: EngineName = 'v8', runtime?: 'nodejs22.x'): Promise<Result[]> {
  return withRuntime(async ({ rt }) => {
    const results: Result[] = [];
    for (const [i, body] of bodies.entries()) {
      await rt.deploy({ name: `f${i}`, engine, code: { files: { 'index.mjs': `export const handler = async () => { ${body} }` } }, memoryMb: 128, timeoutMs: GENEROUS_TIMEOUT_MS, ...(runtime ? { runtime } : {}) });
      results.push(await rt.invoke(`f${i}`, {}));
    }
    return results;
  }, engine);
}

async function run(code: string): Promise<Result> {
  return withRuntime(async ({ rt }) => {
    await rt.deploy({ name: 'f', code: { files: { 'index.mjs': code } }, memoryMb: 128, timeoutMs: GENEROUS_TIMEOUT_MS });
    return rt.invoke('f', {});
  }, 'v8');
}

/** `program` (an async function body) run in Node, for the answer a guest must give. */
async function inNode(program: string): Promise<unknown> {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the test's own program
  const result = (await new Function(`return (async () => { ${program} })()`)()) as unknown;
  return JSON.parse(JSON.stringify(result)) as unknown;
}

const MB = 1024 * 1024;
/** A module of 1 page with no maximum: at memoryMb 128 its memory is compiled with 2,048 pages. */
const NO_MAX = asLiteral(memoryModule());
/** The same program's error as `name: message`. */
const ERR = 'const t = (f) => { try { const r = f(); return typeof r; } catch (e) { return e.constructor.name + ": " + e.message; } };';

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
      // The streaming APIs, over a Response (the guest's own fetch Response; Node's undici one).
      const wasmResponse = () => new Response(bytes, { headers: { 'content-type': 'application/wasm' } });
      out.push((await WebAssembly.instantiateStreaming(wasmResponse())).instance.exports.add(1, 2));
      out.push((await WebAssembly.compileStreaming(Promise.resolve(wasmResponse()))) instanceof WebAssembly.Module);
      out.push(await WebAssembly.compileStreaming(new Response(bytes)).then(() => 'compiled', (err) => err.constructor.name + ': ' + err.message));
      out.push(await WebAssembly.compileStreaming(bytes).then(() => 'compiled', (err) => err.constructor.name));
      return out;`;
    const r = await run(`export const handler = async () => { ${program} }`);
    expect(r.functionError, JSON.stringify(r.payload)).toBeUndefined();
    expect(r.payload).toEqual(await inNode(program));
  }, SLOW_CASE_LIMIT_MS);

  it('a real package shipping WebAssembly (es-module-lexer: compile, instantiate, memory.grow from JS) gives Node its answers', async () => {
    const lexer = readFileSync(createRequire(import.meta.url).resolve('es-module-lexer').replace(/lexer\.cjs$/, 'lexer.js'), 'utf8');
    // A 2 MiB source: the lexer grows its memory from JS to hold it.
    const program = `await init;
      const small = "import a from './a.js'; export const b = 1; export { c as d }; import('./e.js'); import.meta.url;";
      const big = small + '\\n' + 'const x = 1;\\n'.repeat(170000) + "export default 'end';";
      const shape = ([imports, exports]) => [imports.map((i) => [i.n, i.t, i.s, i.e, i.d]), exports.map((e) => [e.n, e.ln, e.s])];
      return [shape(parse(small)), shape(parse(big)), big.length];`;
    const [r] = await withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'lexer', code: { files: { 'index.mjs': `import { init, parse } from './lexer.js'; export const handler = async () => { ${program} };`, 'lexer.js': lexer } }, memoryMb: 128, timeoutMs: GENEROUS_TIMEOUT_MS });
      return [await rt.invoke('lexer', {})];
    }, 'v8');
    expect(r.functionError, JSON.stringify(r.payload).slice(0, 500)).toBeUndefined();
    const { init, parse } = (await import('es-module-lexer')) as unknown as Record<string, unknown>;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the same program in Node
    const expected = (await new Function('init', 'parse', `return (async () => { ${program} })()`)(init, parse)) as unknown;
    expect(r.payload).toEqual(JSON.parse(JSON.stringify(expected)));
    expect((r.payload as unknown[])[2]).toBeGreaterThan(2 * MB);
  }, SLOW_CASE_LIMIT_MS);

  it("the API's errors for bad arguments are Node's, word for word", async () => {
    // Every Memory made has a maximum: one without takes what is left of memoryMb (tested below).
    const program = `${ERR}
      const m = new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0,1,4,1,96,0,0,2,7,1,1,101,1,102,0,0,7,5,1,1,103,0,0]));
      const settle = (p) => p.then(() => 'resolved', (e) => e.constructor.name + ': ' + e.message);
      return [
        t(() => WebAssembly.Memory({ initial: 1 })), t(() => new WebAssembly.Memory()), t(() => new WebAssembly.Memory({})), t(() => new WebAssembly.Memory({ initial: -1 })),
        t(() => new WebAssembly.Memory({ initial: 2, maximum: 1 })), t(() => new WebAssembly.Memory({ initial: NaN })), t(() => new WebAssembly.Memory({ initial: 1.7, maximum: 2 })),
        t(() => new WebAssembly.Memory({ initial: 65537 })), t(() => new WebAssembly.Memory({ initial: 1, maximum: 65537 })),
        t(() => new WebAssembly.Table({ element: 'x', initial: 1 })), t(() => WebAssembly.Table({ element: 'anyfunc', initial: 1 })), t(() => new WebAssembly.Table({ element: 'anyfunc' })),
        t(() => WebAssembly.Module(new Uint8Array(8))), t(() => new WebAssembly.Module(5)), t(() => new WebAssembly.Module()),
        t(() => new WebAssembly.Instance(5)), t(() => new WebAssembly.Instance(m)), t(() => new WebAssembly.Instance(m, 5)), t(() => new WebAssembly.Instance(m, {})),
        t(() => new WebAssembly.Instance(m, { e: {} })), t(() => WebAssembly.Instance(m)), t(() => WebAssembly.validate(5)), t(() => new WebAssembly.Memory({ initial: 1, maximum: 1 }).grow(-1)),
        t(() => new WebAssembly.Memory({ initial: 1, maximum: 2 }).grow(2)),
        await settle(WebAssembly.instantiate(5)), await settle(WebAssembly.compile(5)), await settle(WebAssembly.instantiate(m, 5)),
        await settle(WebAssembly.instantiate(new Uint8Array(8))), await settle(WebAssembly.instantiate(m, { e: {} })), await settle(WebAssembly.instantiate(m, { e: { f: () => {} } })),
      ];`;
    const r = await run(`export const handler = async () => { ${program} }`);
    expect(r.functionError, JSON.stringify(r.payload)).toBeUndefined();
    expect(r.payload).toEqual(await inNode(program));
  }, SLOW_CASE_LIMIT_MS);

  it('memories at, under and over the budget (memoryMb 128: 2,048 pages), in WebAssembly and from JS', async () => {
    const [inWasm, reserved, charged] = await runEach([
      // Modules without a maximum, all alive: each is compiled with three quarters of what is
      // unreserved (1,536 pages, then 384, then a Memory's 96), memory.grow fails (-1) past it;
      // of the last 32 pages a module whose minimum is 33 cannot be instantiated, one of 32 can.
      `${ERR} const e = new WebAssembly.Instance(new WebAssembly.Module(${NO_MAX})).exports;
       const out = [e.grow(1535), e.grow(1), e.size(), e.add(1, 2)];
       const f = new WebAssembly.Instance(new WebAssembly.Module(${NO_MAX})).exports;
       out.push(f.grow(383), f.grow(1), f.size(), f.add(2, 3));
       const m = new WebAssembly.Memory({ initial: 1 });
       out.push(m.grow(95), t(() => m.grow(1)), e.add(3, 4));
       out.push(t(() => new WebAssembly.Instance(new WebAssembly.Module(${asLiteral(memoryModule({ min: 33 }))}))), t(() => new WebAssembly.Memory({ initial: 33 })),
         await WebAssembly.instantiate(${asLiteral(memoryModule({ min: 33 }))}).then(() => 'instantiated', (err) => err.message));
       const g = new WebAssembly.Instance(new WebAssembly.Module(${asLiteral(memoryModule({ min: 32 }))})).exports;
       out.push(g.size(), g.grow(1), t(() => new WebAssembly.Memory({ initial: 1 })), t(() => new WebAssembly.Memory({ initial: 0 })));
       return out;`,
      // A declared maximum that fits in the share is kept (1,500 of 1,536); the next Memory gets a
      // share of the 548 pages left (411), one whose minimum is past its share but not past what
      // is left gets its minimum (137 of 137), and a module declaring 1 page then gets 0.
      `${ERR} const a = new WebAssembly.Memory({ initial: 1, maximum: 1500 }); const b = new WebAssembly.Memory({ initial: 1, maximum: 1000 });
       const out = [b.grow(410), b.buffer.byteLength / 65536, t(() => b.grow(1)), t(() => new WebAssembly.Memory({ initial: 138 }))];
       const c = new WebAssembly.Memory({ initial: 137 });
       const e = new WebAssembly.Instance(new WebAssembly.Module(${asLiteral(memoryModule({ min: 0, max: 1 }))})).exports;
       out.push(c.buffer.byteLength / 65536, t(() => c.grow(1)), t(() => new WebAssembly.Memory({ initial: 0 })), a.grow(10), e.grow(1), e.size());
       return out;`,
      // What a memory holds is charged like any ArrayBuffer: 64 MiB of it and 40 MiB held leave no room to grow 31 MiB more
      // (an ArrayBuffer of 60 MiB there now ends the environment, as Lambda's OOM kill: memory-ledger.ts, bad-input.test.ts).
      `${ERR} const held = new Uint8Array(${40 * MB}).fill(1); const m = new WebAssembly.Memory({ initial: 0 }); m.grow(1024); new Uint8Array(m.buffer).fill(held[0], 0, ${MB});
       return [t(() => m.grow(600)), t(() => m.grow(500)), m.grow(64), m.buffer.byteLength / 65536];`,
    ]);
    expect(inWasm!.payload).toEqual([1, -1, 1536, 3, 1, -1, 384, 5, 1, 'RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded', 7,
      'RangeError: WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance',
      'RangeError: WebAssembly.Memory(): could not allocate memory',
      'WebAssembly.instantiate(): Out of memory: Cannot allocate Wasm memory for new instance',
      // At the boundary: its 32 pages fit, and nothing is left (a Memory of 0 pages still is).
      32, -1, 'RangeError: WebAssembly.Memory(): could not allocate memory', 'object']);
    expect(reserved!.payload).toEqual([1, 411, 'RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded', 'RangeError: WebAssembly.Memory(): could not allocate memory',
      137, 'RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded', 'object', 1, -1, 0]);
    expect(charged!.payload).toEqual([
      // Past its maximum (1,536 pages: three quarters of memoryMb): V8's own error, nothing charged.
      'RangeError: WebAssembly.Memory.grow(): Maximum memory size exceeded',
      // Under its maximum (1,524 pages) but past what the guest may still hold (40 MiB beside it): the charge is refused first.
      'RangeError: WebAssembly.Memory.grow(): Unable to grow instance memory', 1024, 1088]);
  }, SLOW_CASE_LIMIT_MS);

  for (const isolation of ['in-process', 'process'] as const) {
    it(`a module instantiated in every invocation (its memory reserving three quarters of memoryMb) gets the same maximum every time: dropped instances are collected before a share is cut (${isolation})`, async () => {
      const rt = await createRuntime({ isolation, logSink: { write() {} } });
      try {
        await rt.deploy({ name: 'per-invoke', code: { files: { 'index.mjs': `const bytes = ${NO_MAX}; export const handler = async () => { const { instance } = await WebAssembly.instantiate(bytes); return [instance.exports.add(1, 2), instance.exports.grow(1535), typeof gc, typeof globalThis.gc]; };` } }, memoryMb: 128, timeoutMs: GENEROUS_TIMEOUT_MS });
        const answers: unknown[] = [];
        // More invocations than the shares of one uncollected run (1,536 + 384 + 96 + 24 + 6 + 2 pages).
        for (let i = 0; i < 8; i++) {
          const r = await rt.invoke('per-invoke', {});
          answers.push(r.functionError ? r.payload : r.payload);
        }
        // The gc the host exposes is the guest runtime's alone: emptied before user code.
        expect(JSON.stringify(answers)).toBe(JSON.stringify(Array.from({ length: 8 }, () => [3, 1, "undefined", "undefined"])));
      } finally {
        await rt.close();
      }
    }, SLOW_CASE_LIMIT_MS);
  }

  it('instances dropped inside one synchronous run are not collected before it yields: each later one gets a copy with a share of what is left, until none is left, as documented', async () => {
    const [r] = await runEach([`${ERR} const m = new WebAssembly.Module(${NO_MAX}); const maxima = [];
      const error = t(() => { for (;;) { const e = new WebAssembly.Instance(m).exports; while (e.grow(1) !== -1); maxima.push(e.size()); } }); return [maxima, error];`]);
    // Each grown one page at a time until memory.grow fails: 1,536 + 384 + 96 + 24 + 6 + 2 = 2,048 pages.
    expect(r!.payload).toEqual([[1536, 384, 96, 24, 6, 2], 'RangeError: WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance']);
  }, SLOW_CASE_LIMIT_MS);

  it('once room comes back, an instance gets its module\'s first maxima again, not the smaller copy made while it was short', async () => {
    const r = await withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'again', code: { files: { 'index.mjs': `const m = new WebAssembly.Module(${NO_MAX});
        const top = (e) => { while (e.grow(1) !== -1); return e.size(); };
        export const handler = async (event) => event.two ? [top(new WebAssembly.Instance(m).exports), top(new WebAssembly.Instance(m).exports)] : [top(new WebAssembly.Instance(m).exports)];` } }, memoryMb: 128, timeoutMs: GENEROUS_TIMEOUT_MS });
      return [(await rt.invoke('again', { two: true })).payload, (await rt.invoke('again', {})).payload];
    }, 'v8');
    // Two live at once: the first as compiled (1,536 pages), the second a copy (384). Both dropped,
    // the next invocation's instance is the module as compiled again (1,536), not the copy.
    expect(r).toEqual([[1536, 384], [1536]]);
  }, SLOW_CASE_LIMIT_MS);

  it('a memory grown inside WebAssembly past what is left of memoryMb ends the environment when JS reads it (Runtime.OutOfMemory)', async () => {
    const [r] = await runEach([
      `const keep = new Uint8Array(${64 * MB}).fill(1); const e = new WebAssembly.Instance(new WebAssembly.Module(${NO_MAX})).exports;
       e.grow(1500); e.fill(0, 1, 1500 * 65536); return [e.memory.buffer.byteLength, keep[0]];`,
    ]);
    expect((r!.payload as { errorType?: string }).errorType).toBe('Runtime.OutOfMemory');
  }, SLOW_CASE_LIMIT_MS);

  it('shared and 64-bit memories, and tables past the bound, are refused with a CompileError saying why; tables stop at 2^20 elements', async () => {
    const shared = asLiteral(memoryModule({ rawMemoryLimits: [3, 1, 1] }));
    const memory64 = 'new Uint8Array([0,97,115,109,1,0,0,0,5,3,1,4,1])'; // a memory64 memory, no code
    const bigTable = asLiteral(memoryModule({ table: { min: 2 ** 20 + 1 } }));
    const [r] = await runEach([
      `${ERR} const e = new WebAssembly.Instance(new WebAssembly.Module(${asLiteral(memoryModule({ table: { min: 2 } }))})).exports;
       const table = new WebAssembly.Table({ initial: 4, element: 'anyfunc', maximum: 2 ** 30 });
       return [t(() => new WebAssembly.Module(${shared})), t(() => new WebAssembly.Module(${memory64})), t(() => new WebAssembly.Module(${bigTable})),
         WebAssembly.validate(${shared}), WebAssembly.validate(${memory64}), WebAssembly.validate(${bigTable}),
         await WebAssembly.compile(${shared}).then(() => 'compiled', (err) => err.constructor.name + ': ' + err.message),
         e.tableGrow(2 ** 20 - 2), e.tableGrow(1), table.grow(2 ** 20 - 4), t(() => table.grow(1)), t(() => new WebAssembly.Table({ initial: 2 ** 20 + 1, element: 'anyfunc' })),
         t(() => new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true })), t(() => new WebAssembly.Memory({ initial: 1n, address: 'i64' }))];`,
    ]);
    expect(r!.payload).toEqual([
      'CompileError: WebAssembly.Module(): a shared memory is not supported: shared or 64-bit memories and tables cannot be bounded by memoryMb',
      'CompileError: WebAssembly.Module(): a 64-bit memory (memory64) is not supported: shared or 64-bit memories and tables cannot be bounded by memoryMb',
      'CompileError: WebAssembly.Module(): initial table size (1048577 elements) is larger than implementation limit (1048576 elements)',
      false, false, false,
      'CompileError: WebAssembly.compile(): a shared memory is not supported: shared or 64-bit memories and tables cannot be bounded by memoryMb',
      2, -1, 4, expect.stringMatching(/^RangeError: WebAssembly\.Table\.grow\(\): /),
      "RangeError: WebAssembly.Table(): Property 'initial': value 1048577 is above the upper bound 1048576",
      'RangeError: WebAssembly.Memory(): a shared memory is not supported: its size could not be bounded by memoryMb',
      'RangeError: WebAssembly.Memory(): a 64-bit memory is not supported: its size could not be bounded by memoryMb',
    ]);
  }, SLOW_CASE_LIMIT_MS);

  it('every path to the constructors and methods leads to the bounded ones (no bypass), subclasses included', async () => {
    // A start function calling an imported JS function: user code runs inside V8's instantiation.
    const withStart = 'new Uint8Array([0,97,115,109,1,0,0,0,1,4,1,96,0,0,2,7,1,1,101,1,102,0,0,3,2,1,0,8,1,1,10,6,1,4,0,16,0,11])';
    const r = await run(`export const handler = async () => {
      const natives = [];
      Error.prepareStackTrace = (e, sites) => { for (const s of sites) { try { const f = s.getFunction(); if (f && /native code/.test(Function.prototype.toString.call(f))) natives.push(f.name); } catch {} } return ''; };
      new WebAssembly.Instance(new WebAssembly.Module(${withStart}), { e: { f() { void new Error().stack; } } });
      const sneaky = { get initial() { void new Error().stack; return 1; }, get maximum() { void new Error().stack; return 2; } };
      const mem = new WebAssembly.Memory(sneaky);
      mem.grow({ valueOf() { void new Error().stack; return 1; } });
      delete Error.prepareStackTrace;
      class Sub extends WebAssembly.Module {}
      const sub = new Sub(${asLiteral(memoryModule({ max: 16 }))});
      const e = new WebAssembly.Instance(sub).exports;
      const ns = WebAssembly;
      return {
        natives,
        constructors: [ns.Module.prototype.constructor === ns.Module, ns.Instance.prototype.constructor === ns.Instance, ns.Memory.prototype.constructor === ns.Memory,
          ns.Table.prototype.constructor === ns.Table, e.memory.constructor === ns.Memory, Object.getPrototypeOf(mem) === ns.Memory.prototype],
        names: [ns.Module.name, ns.Instance.name, ns.Memory.name, ns.Table.name, ns.Module.length, ns.Memory.prototype.grow.name, ns.validate.name],
        subclass: [sub instanceof Sub, sub instanceof ns.Module, e.grow(15), e.grow(1)],
        keys: Object.getOwnPropertyNames(ns).sort(),
        grown: mem.buffer.byteLength / 65536,
      };
    }`);
    expect(r.functionError, JSON.stringify(r.payload)).toBeUndefined();
    const nodeKeys = Object.getOwnPropertyNames(WebAssembly).filter((k) => !['Suspending', 'promising', 'SuspendError'].includes(k)).sort();
    expect(r.payload).toEqual({
      natives: [],
      constructors: [true, true, true, true, true, true],
      names: ['Module', 'Instance', 'Memory', 'Table', 1, 'grow', 'validate'],
      subclass: [true, true, 1, -1],
      keys: nodeKeys,
      grown: 2,
    });
  }, SLOW_CASE_LIMIT_MS);

  it('quickjs has no WebAssembly, on nodejs24.x and nodejs22.x; v8 has it on both', async () => {
    const body = 'return typeof WebAssembly;';
    const [q24] = await runEach([body], 'quickjs');
    const [q22] = await runEach([body], 'quickjs', 'nodejs22.x');
    const [v22] = await runEach(['return [typeof WebAssembly, new WebAssembly.Instance(new WebAssembly.Module(' + NO_MAX + ')).exports.add(2, 2)];'], 'v8', 'nodejs22.x');
    expect([q24!.payload, q22!.payload, v22!.payload]).toEqual(['undefined', 'undefined', ['object', 4]]);
  }, SLOW_CASE_LIMIT_MS);
});
