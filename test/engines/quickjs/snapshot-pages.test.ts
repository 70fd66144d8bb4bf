/**
 * snapshot.ts's images of real QuickJS memories (issue 21): captured in 4 KiB pages with malloc's
 * free memory read as zero (free-heap.ts). What must hold: the template is not changed by a capture;
 * the image differs from the memory only inside free ranges (there it is zero) and keeps no page
 * whose remaining bytes are all zero; a blank that held one image and is written another equals the
 * second exactly, byte for byte, and the runtime restored from it runs.
 */
import { describe, expect, it } from 'vitest';
import { mallocStateOfModule, freeRanges } from '../../../src/engines/quickjs/free-heap.ts';
import { startRuntime, type StartedRuntime } from '../../../src/engines/quickjs/in-thread.ts';
import { adoptValue, capturePages, newBlankInstance, PAGE_BYTES, writePages, type MemoryPages } from '../../../src/engines/quickjs/snapshot.ts';
import { instantiateQuickJS } from '../../../src/engines/quickjs/wasm.ts';

const MEMORY_MB = 128;

/** A template whose script leaves freed memory behind (parse temporaries, a dropped table), and its `answer` function's pointer. */
async function template(script: string): Promise<{ started: StartedRuntime; answer: number }> {
  const started = startRuntime(await instantiateQuickJS(MEMORY_MB), MEMORY_MB);
  const answer = started.context.unwrapResult(started.context.evalCode(script));
  return { started, answer: answer.value as unknown as number };
}

const SCRIPTS = [
  `let dropped = Array.from({ length: 4000 }, (_, i) => ({ i, s: 'x'.repeat(i % 90) }));
   const kept = dropped.filter((o) => o.i % 7 === 0).map((o) => o.s.length);
   dropped = undefined;
   (() => JSON.stringify([kept.length, kept[5], new Map(kept.map((k, i) => ['k' + i, k])).get('k9')]))`,
  `const words = []; for (let i = 0; i < 2500; i++) words.push('w' + i * 3);
   const joined = words.join(',').split(',').filter((w) => w.endsWith('3'));
   (() => JSON.stringify({ n: joined.length, last: joined[joined.length - 1] }))`,
];
const ANSWERS = ['[572,35,63]', '{"n":250,"last":"w7473"}'];

/** Whether `memory` equals `image` exactly: its pages hold its bytes, every other byte is zero. */
function holdsExactly(memory: Uint8Array, image: MemoryPages): boolean {
  if (memory.length !== image.byteLength) return false;
  const at = new Int32Array(memory.length / PAGE_BYTES).fill(-1);
  image.pages.forEach((page, i) => (at[page] = i));
  for (let page = 0; page < at.length; page++) {
    const bytes = memory.subarray(page * PAGE_BYTES, (page + 1) * PAGE_BYTES);
    const i = at[page]!;
    const expected = i < 0 ? undefined : image.data.subarray(i * PAGE_BYTES, (i + 1) * PAGE_BYTES);
    for (let j = 0; j < bytes.length; j++) if (bytes[j] !== (expected ? expected[j] : 0)) return false;
  }
  return true;
}

describe('quickjs SnapStart images without malloc free memory', () => {
  it('differ from the template only inside free ranges (zero there), keep only pages with data, and leave the template unchanged', async () => {
    const state = await mallocStateOfModule();
    expect(state).toBeTypeOf('number');
    const { started } = await template(SCRIPTS[0]!);
    const memory = new Uint8Array(started.instance.memory.buffer);
    const before = memory.slice();
    const whole = capturePages(started.instance);
    const compact = capturePages(started.instance, state);
    expect(Buffer.compare(memory, before)).toBe(0);
    const ranges = freeRanges(memory, state!)!;
    expect(ranges.length).toBeGreaterThan(0);
    // The same memory with the free ranges zeroed, as the image must hold it.
    const expected = before.slice();
    for (const [from, to] of ranges) expected.fill(0, from, to);
    const expectedImage: MemoryPages = {
      byteLength: expected.length,
      pages: Uint32Array.from({ length: expected.length / PAGE_BYTES }, (_, page) => page).filter((page) => expected.subarray(page * PAGE_BYTES, (page + 1) * PAGE_BYTES).some((b) => b !== 0)),
      data: new Uint8Array(0),
    };
    expect([...compact.pages]).toEqual([...expectedImage.pages]);
    expect(holdsExactly(expected, compact)).toBe(true);
    expect(holdsExactly(before, whole)).toBe(true);
    expect(compact.data.length).toBeLessThan(whole.data.length);
  });

  it('a blank holding one image, written another, equals the second byte for byte and runs it; and back', async () => {
    const state = await mallocStateOfModule();
    const templates = await Promise.all(SCRIPTS.map(template));
    const images = templates.map(({ started }) => capturePages(started.instance, state));
    const extent = { byteLength: Math.max(...images.map((i) => i.byteLength)), touchBytes: 0 };
    const blank = await newBlankInstance(MEMORY_MB, extent, (instance) => startRuntime(instance, MEMORY_MB), undefined, images[0]);
    const memory = (): Uint8Array => new Uint8Array(blank.started.instance.memory.buffer);
    expect(blank.holds).toBe(images[0]);
    expect(holdsExactly(memory(), images[0]!)).toBe(true);
    let dirty = blank.dirty;
    for (const turn of [1, 0, 1]) {
      writePages({ started: blank.started, dirty }, images[turn]!);
      expect(holdsExactly(memory(), images[turn]!)).toBe(true);
      dirty = new Uint8Array(memory().length / PAGE_BYTES);
      for (const page of images[turn]!.pages) dirty[page] = 1;
    }
    // The last image written (the second script's) runs in the blank's runtime.
    const { context, runtime } = blank.started;
    const answer = adoptValue(context, runtime, templates[1]!.answer);
    const result = context.unwrapResult(context.callFunction(answer, context.undefined));
    expect(context.getString(result)).toBe(ANSWERS[1]);
    result.dispose();
  });
});
