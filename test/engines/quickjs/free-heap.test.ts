/**
 * free-heap.ts: the free memory of a QuickJS instance's malloc heap, which the booted-runtime image
 * reads as zero (runtime-image.ts). What must hold: the ranges never cover a live allocation; an
 * instance whose free memory was zeroed goes on allocating, freeing and running as before; a heap
 * that does not walk as dlmalloc's gives no ranges at all (the image then keeps every byte).
 */
import { describe, expect, it } from 'vitest';
import { findMallocState, freeRanges } from '../../../src/engines/quickjs/free-heap.ts';
import { instantiateQuickJS, type QuickJSInstance } from '../../../src/engines/quickjs/wasm.ts';

interface Malloc {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

const mallocOf = (instance: QuickJSInstance): Malloc => (instance.module as unknown as { module: Malloc }).module;

async function mallocState(): Promise<number> {
  const state = findMallocState(await instantiateQuickJS(16));
  expect(state).toBeTypeOf('number');
  return state!;
}

describe('quickjs free heap', () => {
  it('no free range covers a byte of a live allocation, small or large, among freed neighbours', async () => {
    const state = await mallocState();
    const instance = await instantiateQuickJS(64);
    const { _malloc, _free } = mallocOf(instance);
    const live: Array<[number, number]> = [];
    for (let i = 0; i < 400; i++) {
      const bytes = [8, 24, 100, 300, 1000, 5000][i % 6]!;
      const pointer = _malloc(bytes);
      if (i % 3 === 0) _free(pointer);
      else live.push([pointer, bytes]);
    }
    const memory = new Uint8Array(instance.memory.buffer);
    for (const [pointer, bytes] of live) memory.fill(0xa5, pointer, pointer + bytes);
    const ranges = freeRanges(memory, state);
    expect(ranges).toBeDefined();
    expect(ranges!.length).toBeGreaterThan(0);
    for (const [from, to] of ranges!) {
      for (const [pointer, bytes] of live) expect(to <= pointer || from >= pointer + bytes, `range ${from}-${to} vs allocation ${pointer}+${bytes}`).toBe(true);
    }
  });

  it('an instance whose free memory was zeroed goes on running: allocations reuse it, the guest still works', async () => {
    const state = await mallocState();
    const instance = await instantiateQuickJS(64);
    const runtime = instance.module.newRuntime();
    const context = runtime.newContext();
    context.unwrapResult(context.evalCode('globalThis.kept = Array.from({ length: 2000 }, (_, i) => ({ i, s: "x".repeat(i % 50) })); globalThis.kept.length')).dispose();
    context.unwrapResult(context.evalCode('globalThis.kept = globalThis.kept.filter((o) => o.i % 2)')).dispose();
    const memory = new Uint8Array(instance.memory.buffer);
    const ranges = freeRanges(memory, state);
    expect(ranges).toBeDefined();
    for (const [from, to] of ranges!) memory.fill(0, from, to);
    const result = context.unwrapResult(
      context.evalCode('const more = Array.from({ length: 5000 }, (_, i) => "y" + i); JSON.stringify([kept.length, kept[10].s.length, more.length, more[4999]])'),
    );
    expect(context.getString(result)).toBe('[1000,21,5000,"y4999"]');
    result.dispose();
    context.dispose();
    runtime.dispose();
  });

  it('a heap that does not walk as dlmalloc\'s (a chunk header overwritten) gives no ranges', async () => {
    const state = await mallocState();
    const instance = await instantiateQuickJS(64);
    const { _malloc } = mallocOf(instance);
    const pointer = _malloc(100);
    _malloc(100);
    const memory = new Uint8Array(instance.memory.buffer);
    expect(freeRanges(memory, state)).toBeDefined();
    new Uint32Array(instance.memory.buffer)[(pointer - 4) / 4] = 12345;
    expect(freeRanges(memory, state)).toBeUndefined();
  });
});
