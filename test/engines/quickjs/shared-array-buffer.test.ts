/**
 * Growable SharedArrayBuffers on quickjs (engines/quickjs/sab-hooks.ts), against v8 as the
 * reference, in every mode a QuickJS runtime is made in (a worker thread booted from the guest
 * runtime's image, a shared instance, process isolation, a SnapStart restore).
 *
 * Before the hooks QuickJS allocated only a growable buffer's first length and `grow` raised the
 * length over memory it did not own: the guest read the heap around it (a sum of 3,941,986 over
 * 64 KiB that should be zeros) and a grow past the linear memory's end ended the invocation as
 * Runtime.ExitError "QuickJS crashed: memory access out of bounds" — even a well-behaved 1 MiB grow.
 *
 * Node 24's rules (checked with node 24.22.3, ECMA-262 SharedArrayBuffer.prototype.grow step 7-8):
 * `grow(n)` with n > maxByteLength, or below the current length, is a catchable RangeError
 * ("SharedArrayBuffer.prototype.grow: Invalid length parameter" in V8's words); grown bytes read 0.
 * Memory beyond MemorySize ends the environment as Lambda's Runtime.OutOfMemory on every engine
 * (v8: an allocation isolated-vm's allocator refuses within memoryMb, memory-ledger.ts;
 * test/adversarial/cases.ts OFF_HEAP_BOMBS).
 */
import { describe, expect, it } from 'vitest';
import { createRuntime, type InvokeResult, type Runtime, type RuntimeOptionsInput } from '../../../src/index.ts';

interface Mode {
  readonly name: string;
  readonly engine: 'v8' | 'quickjs';
  readonly options: RuntimeOptionsInput;
  readonly snapStart?: boolean;
}

const MODES: readonly Mode[] = [
  { name: 'v8 (the reference)', engine: 'v8', options: {} },
  { name: 'quickjs', engine: 'quickjs', options: {} },
  { name: 'quickjs shared', engine: 'quickjs', options: { quickjsIsolation: 'shared' } },
  { name: 'quickjs process', engine: 'quickjs', options: { isolation: 'process' } },
  { name: 'quickjs snapStart', engine: 'quickjs', options: {}, snapStart: true },
];

const MAX = 65_536;
const SOURCE = `
const attempt = (f) => { try { return f(); } catch (e) { return [e instanceof RangeError, e.constructor.name]; } };
const words = (f) => { try { f(); return 'ok'; } catch (e) { return e.constructor.name + ': ' + e.message; } };
export const handler = async (event) => {
  switch (event.case) {
    case 'grow': {
      // Grown to each length at and around the maximum; every byte it owns reads 0, then holds what was written.
      const b = new SharedArrayBuffer(8, { maxByteLength: ${MAX} });
      new Uint8Array(b).fill(9);
      const out = [];
      for (const n of [${MAX} - 1, ${MAX}, ${MAX} + 1]) {
        const grew = attempt(() => { b.grow(n); return b.byteLength; });
        let nonZero = 0;
        const v = new Uint8Array(b);
        for (let i = 8; i < v.length; i++) if (v[i] !== 0) nonZero++;
        out.push([n, grew, nonZero]);
        v.fill(0, 8);
      }
      out.push(['shrink', attempt(() => b.grow(4))]);
      return out;
    }
    case 'words': return [
      words(() => new SharedArrayBuffer(0, { maxByteLength: 8 }).grow(9)),
      words(() => new SharedArrayBuffer(8, { maxByteLength: 16 }).grow(4)),
      words(() => new SharedArrayBuffer(0, { maxByteLength: 8 }).grow(-1)),
      words(() => new ArrayBuffer(0, { maxByteLength: 8 }).resize(9)),
      words(() => new ArrayBuffer(0, { maxByteLength: 8 }).resize(-1)),
      words(() => new ArrayBuffer(8).resize(4)),
      words(() => new SharedArrayBuffer(8).grow(9)),
      words(() => new ArrayBuffer(0, { maxByteLength: 8 }).resize(8)),
      [SharedArrayBuffer.prototype.grow.name, SharedArrayBuffer.prototype.grow.length, ArrayBuffer.prototype.resize.name, ArrayBuffer.prototype.resize.length],
    ];
    case 'fill-1mib': {
      const b = new SharedArrayBuffer(4, { maxByteLength: 1 << 20 });
      b.grow(1 << 20);
      new Uint8Array(b).fill(7);
      const plain = new SharedArrayBuffer(16);
      return [b.byteLength, new Uint8Array(b)[(1 << 20) - 1], b.growable, plain.byteLength, plain.growable];
    }
    case 'bomb': {
      const keep = [];
      for (;;) { const b = new SharedArrayBuffer(0, { maxByteLength: 64 * 1024 * 1024 }); b.grow(64 * 1024 * 1024); new Uint8Array(b).fill(1); keep.push(b); }
    }
    default: return 'warm';
  }
};`;

async function withMode(mode: Mode, body: (invoke: (c: string) => Promise<InvokeResult>, rt: Runtime) => Promise<void>): Promise<void> {
  const rt = await createRuntime({ ...mode.options, logSink: { write() {} } });
  try {
    // Generous: the bomb fills 128 MB, which takes a while on a loaded machine; no case waits on purpose.
    await rt.deploy({ name: 'sab', engine: mode.engine, timeoutMs: 120_000, code: { files: { 'index.mjs': SOURCE } }, ...(mode.snapStart ? { snapStart: true } : {}) });
    await body((c) => rt.invoke('sab', { case: c }), rt);
  } finally {
    await rt.close();
  }
}

const errorTypeOf = (result: InvokeResult): string | undefined => (result.functionError ? (result.payload as { errorType: string }).errorType : undefined);

// One case at a time: no case waits (no timers, no children to wait on), so running all 20 at once
// only grew the quickjs pools to serve 20 runtimes together — a worker thread and a QuickJS start
// each. Sequential, same run, load ~15: 2.7-2.9 -> 2.0 CPU-s, and less wall time (issue #12).
describe('growable SharedArrayBuffers', () => {
  for (const mode of MODES) {
    it(`${mode.name}: grow up to maxByteLength owns zeroed memory; past it, or shrinking, is a catchable RangeError`, async () => {
      await withMode(mode, async (invoke) => {
        const result = await invoke('grow');
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        expect(result.payload).toEqual([
          [MAX - 1, MAX - 1, 0],
          [MAX, MAX, 0],
          [MAX + 1, [true, 'RangeError'], 0],
          ['shrink', [true, 'RangeError']],
        ]);
      });
    });

    it(`${mode.name}: a refused grow or resize is worded as Node 24 words it`, async () => {
      await withMode(mode, async (invoke) => {
        const result = await invoke('words');
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        // node 24.22.3, each expression run as is.
        expect(result.payload).toEqual([
          'RangeError: SharedArrayBuffer.prototype.grow: Invalid length parameter',
          'RangeError: SharedArrayBuffer.prototype.grow: Invalid length parameter',
          'RangeError: SharedArrayBuffer.prototype.grow: Invalid length parameter',
          'RangeError: ArrayBuffer.prototype.resize: Invalid length parameter',
          'RangeError: ArrayBuffer.prototype.resize: Invalid length parameter',
          'TypeError: Method ArrayBuffer.prototype.resize called on incompatible receiver #<ArrayBuffer>',
          'TypeError: Method SharedArrayBuffer.prototype.grow called on incompatible receiver #<SharedArrayBuffer>',
          'ok',
          ['grow', 1, 'resize', 1],
        ]);
      });
    });

    it(`${mode.name}: a 1 MiB growable buffer grows and fills, as on Node`, async () => {
      await withMode(mode, async (invoke) => {
        const result = await invoke('fill-1mib');
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        expect(result.payload).toEqual([1 << 20, 7, true, 16, false]);
      });
    });
  }

  // `shared` isolation has no per-sandbox memory cap (test/adversarial/memory.test.ts says why).
  for (const mode of MODES.filter((m) => m.name !== 'quickjs shared')) {
    it(`${mode.name}: buffers grown past memoryMb end the invocation as out of memory, and the function answers again`, async () => {
      await withMode(mode, async (invoke) => {
        const bomb = await invoke('bomb');
        // Every engine: Lambda's OOM kill. v8 too since its refused allocations within memoryMb end the
        // environment (memory-ledger.ts; before, a catchable RangeError "Array buffer allocation failed").
        expect(errorTypeOf(bomb), JSON.stringify(bomb.payload)).toBe('Runtime.OutOfMemory');
        const after = await invoke('warm');
        expect(after.functionError, JSON.stringify(after.payload)).toBeUndefined();
        expect(after.payload).toBe('warm');
        // The environment was replaced (OutOfMemory ends it).
        expect(after.coldStart).toBe(true);
      });
    });
  }

  it('quickjs: a maxByteLength beyond memoryMb is out of memory at construction (the buffer takes its maximum upfront)', async () => {
    const rt = await createRuntime({ logSink: { write() {} } });
    try {
      const code = (mb: number) => ({ files: { 'index.mjs': `export const handler = async () => new SharedArrayBuffer(0, { maxByteLength: ${mb} * 1024 * 1024 }).maxByteLength` } });
      await rt.deploy({ name: 'under', engine: 'quickjs', memoryMb: 128, timeoutMs: 60_000, code: code(64) });
      await rt.deploy({ name: 'over', engine: 'quickjs', memoryMb: 128, timeoutMs: 60_000, code: code(256) });
      const under = await rt.invoke('under', {});
      expect(under.payload).toBe(64 * 1024 * 1024);
      const over = await rt.invoke('over', {});
      expect(errorTypeOf(over), JSON.stringify(over.payload)).toBe('Runtime.OutOfMemory');
    } finally {
      await rt.close();
    }
  });
});
