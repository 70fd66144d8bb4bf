// The guest runtime kept on disk for a checkout (src/engines/guest-cache.ts): bundled once, read by
// later processes, never read when anything it is made from changed. Each case works on a
// package root of its own in a temporary folder, with a counting stand-in for the esbuild bundling.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedGuestRuntime, guestCacheDir, guestRuntimeKey, KEPT_BUNDLES, type CachedGuestRuntime } from '../../src/engines/guest-cache.ts';

let root: string;
let builds: number;

function build(tag = 'a'): () => Promise<CachedGuestRuntime> {
  return () => {
    builds++;
    return Promise.resolve({ script: `guest ${tag}`, quickjsScript: `quickjs guest ${tag}`, stdlib: { fs: `fs ${tag}` } });
  };
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lambdalet-guest-cache-'));
  await mkdir(join(root, 'src', 'engines', 'guest'), { recursive: true });
  await writeFile(join(root, 'src', 'engines', 'guest', 'index.ts'), 'export default 1;\n');
  await writeFile(join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
  builds = 0;
});
afterEach(async () => {
  await chmod(root, 0o755).catch(() => {});
  await rm(root, { recursive: true, force: true });
});

describe('the guest runtime cache of a checkout', () => {
  it('bundles once: the second process reads the file the first wrote', async () => {
    const first = await cachedGuestRuntime(build(), root);
    const second = await cachedGuestRuntime(build('never used'), root);
    expect(builds).toBe(1);
    expect(second.runtime).toEqual({ script: 'guest a', quickjsScript: 'quickjs guest a', stdlib: { fs: 'fs a' } });
    expect(second.file).toBe(first.file);
    expect(first.file).toBe(join(guestCacheDir(root), `${await guestRuntimeKey(root)}.json`));
    // Only the finished file is left (written under a temporary name, then renamed).
    expect(await readdir(guestCacheDir(root))).toEqual([`${await guestRuntimeKey(root)}.json`]);
  });

  it('a changed source file, a new file, a changed lock file each give another key (a stale bundle is never read)', async () => {
    const keys = new Set([await guestRuntimeKey(root)]);
    await writeFile(join(root, 'src', 'engines', 'guest', 'index.ts'), 'export default 2;\n');
    keys.add(await guestRuntimeKey(root));
    await writeFile(join(root, 'src', 'engines', 'other.ts'), '');
    keys.add(await guestRuntimeKey(root));
    await writeFile(join(root, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}\n');
    keys.add(await guestRuntimeKey(root));
    expect(keys.size).toBe(4);
    expect([...keys].every((key) => /^[0-9a-f]{32}$/.test(key))).toBe(true);
    // The same sources give the same key again.
    expect(await guestRuntimeKey(root)).toBe(await guestRuntimeKey(root));

    await cachedGuestRuntime(build('old'), root);
    await writeFile(join(root, 'src', 'engines', 'guest', 'index.ts'), 'export default 3;\n');
    const after = await cachedGuestRuntime(build('new'), root);
    expect(builds).toBe(2);
    expect(after.runtime.script).toBe('guest new');
  });

  it('a cache file that is not a guest runtime (cut short, or another shape) is bundled again and replaced', async () => {
    const { file } = await cachedGuestRuntime(build(), root);
    await writeFile(file!, '{"script":"guest a","stdl');
    expect((await cachedGuestRuntime(build('b'), root)).runtime.script).toBe('guest b');
    await writeFile(file!, '{"script":42,"stdlib":{}}');
    expect((await cachedGuestRuntime(build('c'), root)).runtime.script).toBe('guest c');
    // One of an older shape, without QuickJS's script.
    await writeFile(file!, '{"script":"guest c","stdlib":{}}');
    expect((await cachedGuestRuntime(build('d'), root)).runtime.quickjsScript).toBe('quickjs guest d');
    expect(builds).toBe(4);
    expect(JSON.parse(await readFile(file!, 'utf8'))).toEqual({ script: 'guest d', quickjsScript: 'quickjs guest d', stdlib: { fs: 'fs d' } });
  });

  it('a cache that cannot be written still gives the bundle (no file), and a failed bundling rejects', async () => {
    await writeFile(join(root, 'node_modules'), 'a file where the folder would go');
    const result = await cachedGuestRuntime(build(), root);
    expect(result).toEqual({ runtime: { script: 'guest a', quickjsScript: 'quickjs guest a', stdlib: { fs: 'fs a' } }, file: undefined });
    await expect(cachedGuestRuntime(() => Promise.reject(new Error('esbuild failed')), root)).rejects.toThrow('esbuild failed');
  });

  it('keeps the most recently written bundles: at KEPT_BUNDLES nothing is removed, one more removes the oldest', async () => {
    const dir = guestCacheDir(root);
    await mkdir(dir, { recursive: true });
    // Bundles of other sources, written one second apart (oldest first); a file of another name is never touched.
    const old = Array.from({ length: KEPT_BUNDLES - 1 }, (_, i) => `${i.toString(16).padStart(32, '0')}.json`);
    for (const [i, name] of old.entries()) {
      await writeFile(join(dir, name), '{}');
      await utimes(join(dir, name), 1_000 + i, 1_000 + i);
    }
    await writeFile(join(dir, 'notes.txt'), 'kept');
    const first = await cachedGuestRuntime(build(), root);
    // At the limit: KEPT_BUNDLES bundles, all kept.
    expect((await readdir(dir)).filter((n) => n.endsWith('.json')).sort()).toEqual([...old, `${await guestRuntimeKey(root)}.json`].sort());
    await writeFile(join(root, 'src', 'engines', 'guest', 'index.ts'), 'export default 9;\n');
    const second = await cachedGuestRuntime(build('b'), root);
    // One over: the oldest goes; the bundle just written and the one before it stay.
    const left = await readdir(dir);
    expect(left.filter((n) => n.endsWith('.json'))).toHaveLength(KEPT_BUNDLES);
    expect(left).not.toContain(old[0]);
    expect(left).toEqual(expect.arrayContaining([old[1], 'notes.txt', first.file!.split('/').pop(), second.file!.split('/').pop()]));
  });
});
