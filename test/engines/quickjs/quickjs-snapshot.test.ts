/**
 * SnapStart in the quickjs engine, below the runtime: images of an instance's memory and restores
 * into blank instances. (End-to-end behaviour is in test/conformance/snapstart.test.ts.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../../src/code/index.ts';
import { SnapshotUnsupportedError, type Blueprint, type SandboxOptions } from '../../../src/engines/engine.ts';
import { liveQuickJSInstances, QuickJSEngine, spareQuickJSInstances, quickjsWorkerPool, type QuickJSIsolation } from '../../../src/engines/quickjs/quickjs-engine.ts';
import { BLANKS_PER_MEMORY_SIZE } from '../../../src/engines/quickjs/snapshot.ts';
import { invoke, restoreFrom, snapshotTemplate } from '../../helpers/sandbox.ts';


const SOURCE = `
  import { readFileSync } from 'node:fs';
  const table = new Map();
  for (let i = 0; i < 5000; i++) table.set('k' + i, { i });
  let counter = 0;
  export const handler = async (event) => {
    counter += 1;
    if (event.log) console.log('line from', event.log);
    if (event.read) return readFileSync(event.read, 'utf8');
    if (event.loop) for (;;) {}
    if (event.bomb) { const a = []; for (;;) a.push('x'.repeat(1 << 20) + a.length); }
    return { counter, size: table.size, k42: table.get('k42').i };
  };`;

async function blueprintOf(isolation: QuickJSIsolation = 'instance', threads?: number): Promise<Blueprint> {
  const outcome = await bundleFunction({ files: { 'index.mjs': SOURCE } }, 'index.handler');
  if (!outcome.ok) throw new Error(outcome.failure.errorMessage);
  return new QuickJSEngine({ isolation, ...(threads ? { threads } : {}) }).prepare(outcome.bundle);
}

/** Instances are made and freed in the engine's worker threads: the count follows shortly. */
async function instancesReach(count: number): Promise<number> {
  for (let i = 0; i < 400 && blanksAndSandboxes() !== count; i++) await sleep(5);
  return blanksAndSandboxes();
}

/** Live instances but the plain boots' spares (in-thread.ts SpareBoots), which come and go with cold starts. */
function blanksAndSandboxes(): number {
  return liveQuickJSInstances() - spareQuickJSInstances();
}

function options(memoryMb = 128, lines: string[] = [], files: Record<string, string> = {}): SandboxOptions {
  return {
    memoryMb,
    onLog: (_level, message) => lines.push(message),
    // The host bridge's wire format (guest/protocol.ts): fs calls are ['fs', [method, path, ...]].
    hostCall: (op, args) => {
      const [method, path] = JSON.parse(args.split('\n')[0]!) as [string, string];
      if (op === 'fs' && method === 'readFile' && path in files) return `o0\n${files[path]}`;
      return `e${JSON.stringify({ name: 'Error', message: `${op} ${method} ${path}: no such file`, code: 'ENOENT' })}`;
    },
  };
}

describe('quickjs snapshots', () => {
  it('a restored sandbox has INIT state; it, the template and another restore change independently', async () => {
    const blueprint = await blueprintOf();
    const base = await snapshotTemplate(blueprint, options());
    expect((await invoke(base, {})).payload).toBe('{"counter":1,"size":5000,"k42":42}');
    const image = await base.snapshot!();
    expect(image).toMatchObject({ engine: 'quickjs', kind: 'wasm-memory', memoryMb: 128 });
    expect(image.sizeBytes).toBeGreaterThan(0);
    const a = await restoreFrom(blueprint, image, options());
    const b = await restoreFrom(blueprint, image, options());
    // The image was taken after the template's first invoke: counter 1 in every copy.
    expect((await invoke(a, {})).payload).toBe('{"counter":2,"size":5000,"k42":42}');
    expect((await invoke(a, {})).payload).toBe('{"counter":3,"size":5000,"k42":42}');
    expect((await invoke(b, {})).payload).toBe('{"counter":2,"size":5000,"k42":42}');
    expect((await invoke(base, {})).payload).toBe('{"counter":2,"size":5000,"k42":42}');
    for (const sandbox of [a, b, base]) sandbox.dispose();
    image.dispose();
  });

  it("a restored sandbox's logs and host calls reach its own options, not the template's", async () => {
    const blueprint = await blueprintOf();
    const base = await snapshotTemplate(blueprint, options());
    const image = await base.snapshot!();
    base.dispose();
    const mine: string[] = [];
    const theirs: string[] = [];
    const a = await restoreFrom(blueprint, image, options(128, mine, { '/tmp/a': 'file of a' }));
    const b = await restoreFrom(blueprint, image, options(128, theirs, {}));
    await invoke(a, { log: 'a' });
    await invoke(b, { log: 'b' });
    expect(mine).toEqual(['line from a']);
    expect(theirs).toEqual(['line from b']);
    expect((await invoke(a, { read: '/tmp/a' })).payload).toBe('"file of a"');
    expect((await invoke(b, { read: '/tmp/a' })).error?.errorMessage).toContain('no such file');
    a.dispose();
    b.dispose();
    image.dispose();
  });

  it('a restored sandbox keeps the timeout and the memory cap', async () => {
    const blueprint = await blueprintOf();
    const base = await snapshotTemplate(blueprint, options());
    const image = await base.snapshot!();
    base.dispose();
    await expect(invoke(await restoreFrom(blueprint, image, options()), { loop: true }, 200)).rejects.toMatchObject({ kind: 'timeout' });
    await expect(invoke(await restoreFrom(blueprint, image, options()), { bomb: true }, 30_000)).rejects.toMatchObject({ kind: 'out-of-memory' });
    // The faults ended those copies only.
    expect((await invoke(await restoreFrom(blueprint, image, options()), {})).ok).toBe(true);
    image.dispose();
  }, 60_000);

  it('refuses an image for another memory size, and a disposed image', async () => {
    const blueprint = await blueprintOf();
    const base = await snapshotTemplate(blueprint, options());
    const image = await base.snapshot!();
    base.dispose();
    await expect(blueprint.restore!(image, options(256))).rejects.toThrow('quickjs: an image made under memoryMb 128 cannot be restored under 256');
    image.dispose();
    await expect(blueprint.restore!(image, options(128))).rejects.toThrow('quickjs: the image was disposed');
  });

  it('keeps blank instances ready while an image exists, and gives them back when it is disposed', async () => {
    // One worker thread: every worker that holds an image keeps its own blanks for it. The template
    // took the only one, so a spare started beside it (engine-pool.ts #keepSpare): it hosts no
    // sandbox and holds no image, so it keeps no blanks (issue #21: 374290d withdrew a spare that did).
    const blueprint = await blueprintOf('instance', 1);
    const base = await snapshotTemplate(blueprint, options(192));
    expect(quickjsWorkerPool({ threads: 1 }).servers).toBe(2);
    const before = blanksAndSandboxes();
    const image = await base.snapshot!();
    expect(await instancesReach(before + BLANKS_PER_MEMORY_SIZE)).toBe(before + BLANKS_PER_MEMORY_SIZE);
    base.dispose();
    image.dispose();
    expect(await instancesReach(before - 1)).toBe(before - 1);
  });

  it('two images of one memory size restored in turn: blanks written ahead with one image serve the other, each copy its own image exactly', async () => {
    // One worker thread, one pool for 160 MB: its refills write the image restored last into their blanks.
    const other = await bundleFunction({ files: { 'index.mjs': 'const marks = []; for (let i = 0; i < 300; i++) marks.push(i); export const handler = async () => ({ other: marks.length, blank: typeof table });' } }, 'index.handler');
    if (!other.ok) throw new Error(other.failure.errorMessage);
    const blueprint = await blueprintOf('instance', 1);
    const otherBlueprint = await new QuickJSEngine({ threads: 1 }).prepare(other.bundle);
    const images = await Promise.all(
      [blueprint, otherBlueprint].map(async (bp) => {
        const base = await snapshotTemplate(bp, options(160));
        const image = await base.snapshot!();
        base.dispose();
        return image;
      }),
    );
    const expected = ['{"counter":1,"size":5000,"k42":42}', '{"other":300,"blank":"undefined"}'];
    for (const turn of [0, 1, 0, 0, 1, 1, 0, 1]) {
      const copy = await restoreFrom([blueprint, otherBlueprint][turn]!, images[turn]!, options(160));
      expect((await invoke(copy, {})).payload).toBe(expected[turn]);
      copy.dispose();
      await sleep(30); // the pool refills between cold starts, with the image just restored
    }
    for (const image of images) image.dispose();
  });

  it('an image made in one worker thread restores in the others (shared memory), each copy independent', async () => {
    const blueprint = await blueprintOf('instance', 2);
    const base = await snapshotTemplate(blueprint, options());
    const image = await base.snapshot!();
    base.dispose();
    // Two copies at once: with two workers and the first busy, the second lands in the other one.
    const copies = await Promise.all([0, 1, 2, 3].map(() => restoreFrom(blueprint, image, options())));
    const replies = await Promise.all(copies.map((copy) => invoke(copy, {})));
    for (const reply of replies) expect(reply.payload).toBe('{"counter":1,"size":5000,"k42":42}');
    for (const copy of copies) copy.dispose();
    image.dispose();
  });

  it('shared isolation cannot snapshot: SnapshotUnsupportedError, the sandbox unharmed', async () => {
    const blueprint = await blueprintOf('shared');
    const base = await snapshotTemplate(blueprint, options());
    await expect(base.snapshot!()).rejects.toBeInstanceOf(SnapshotUnsupportedError);
    expect((await invoke(base, {})).ok).toBe(true);
    base.dispose();
  });
});
