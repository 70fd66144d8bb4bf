import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { InvalidParameterValueException } from '../../src/errors.ts';
import { bundleFunction } from '../../src/code/index.ts';
import { bundleOk, invoke, makeZip, tempPackage } from './helpers.ts';

const INDEX = 'import { greet } from "./lib/greet.mjs";\nexport const handler = async (e) => greet(e.name);\n';
const GREET = 'export const greet = (name) => `hello ${name}`;\n';

// Other test files run in parallel processes and make temporary packages too: this file points
// os.tmpdir() (which reads TMPDIR on every call) at a directory of its own.
const privateTmp = mkdtempSync(join(tmpdir(), 'lambdalet-code-test-tmp-'));
const originalTmp = process.env.TMPDIR;
beforeAll(() => {
  process.env.TMPDIR = privateTmp;
});
afterAll(() => {
  if (originalTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = originalTmp;
  rmSync(privateTmp, { recursive: true, force: true });
});

async function leftoverTempDirs(): Promise<string[]> {
  return (await readdir(privateTmp)).filter((name) => name.startsWith('lambdalet-code-') && !name.startsWith('lambdalet-code-test-'));
}

describe('code sources', () => {
  it('bundles in-memory files, string or bytes, and removes its temporary copy', async () => {
    expect(tmpdir()).toBe(privateTmp);
    const before = await leftoverTempDirs();
    const bundle = await bundleOk({ files: { 'index.mjs': INDEX, 'lib/greet.mjs': new TextEncoder().encode(GREET) } }, 'index.handler');
    expect(await invoke(bundle, { name: 'files' })).toBe('hello files');
    expect(await leftoverTempDirs()).toEqual(before);
  });

  it('bundles a directory in place', async () => {
    const pkg = await tempPackage({ 'index.mjs': INDEX, 'lib/greet.mjs': GREET });
    try {
      const bundle = await bundleOk({ dir: pkg.dir }, 'index.handler');
      expect(await invoke(bundle, { name: 'dir' })).toBe('hello dir');
      expect(existsSync(join(pkg.dir, 'index.mjs'))).toBe(true);
    } finally {
      await pkg.dispose();
    }
  });

  it('bundles zip bytes and a zip file, and cleans up even when bundling fails', async () => {
    const before = await leftoverTempDirs();
    const zip = makeZip({ 'index.mjs': INDEX, 'lib/greet.mjs': GREET });
    expect(await invoke(await bundleOk({ zip }, 'index.handler'), { name: 'bytes' })).toBe('hello bytes');
    const pkg = await tempPackage({});
    try {
      const path = join(pkg.dir, 'function.zip');
      await writeFile(path, zip);
      expect(await invoke(await bundleOk({ zip: path }, 'index.handler'), { name: 'path' })).toBe('hello path');
    } finally {
      await pkg.dispose();
    }
    const failed = await bundleFunction({ zip: makeZip({ 'index.mjs': 'export const = 1' }) }, 'index.handler');
    expect(failed.ok).toBe(false);
    expect(await leftoverTempDirs()).toEqual(before);
  });

  it('bundles a TypeScript entry with its imports', async () => {
    const pkg = await tempPackage({
      'src/orders.ts': 'import { total } from "./money.ts";\ninterface Order { items: number[] }\nexport const handler = async (e: Order): Promise<number> => total(e.items);\n',
      'src/money.ts': 'export function total(items: readonly number[]): number { return items.reduce((a, b) => a + b, 0); }\n',
    });
    try {
      const bundle = await bundleOk({ entry: join(pkg.dir, 'src/orders.ts') }, 'orders.handler');
      expect(bundle.filename).toBe('/var/task/orders.ts');
      expect(await invoke(bundle, { items: [1, 2, 3] })).toBe(6);
    } finally {
      await pkg.dispose();
    }
  });

  it('an entry\'s dependencies from a node_modules above its folder are named where a zip with its node_modules holds them, never by their host path', async () => {
    const pkg = await tempPackage({
      'src/handlers/orders.mjs': 'import where from "dep";\nimport nested from "dep/lib/inner.js";\nexport const handler = async () => [where, nested];\n',
      'node_modules/dep/package.json': '{"name":"dep","main":"index.js"}',
      'node_modules/dep/index.js': 'module.exports = { file: __filename, dir: __dirname };\n',
      'node_modules/dep/lib/inner.js': 'module.exports = __filename;\n',
    });
    try {
      const bundle = await bundleOk({ entry: join(pkg.dir, 'src/handlers/orders.mjs') }, 'orders.handler');
      expect(bundle.filename).toBe('/var/task/orders.mjs');
      const answer = await invoke(bundle);
      expect(answer).toEqual([{ file: '/var/task/node_modules/dep/index.js', dir: '/var/task/node_modules/dep' }, '/var/task/node_modules/dep/lib/inner.js']);
      expect(JSON.stringify(answer)).not.toContain(pkg.dir);
    } finally {
      await pkg.dispose();
    }
  });

  it('refuses an entry whose name does not match the handler', async () => {
    const pkg = await tempPackage({ 'src/orders.ts': 'export const handler = () => 1;' });
    try {
      for (const handler of ['index.handler', 'src/orders.handler']) {
        const error = await bundleFunction({ entry: join(pkg.dir, 'src/orders.ts') }, handler).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidParameterValueException);
        expect((error as InvalidParameterValueException).field).toBe('handler');
        expect((error as Error).message).toContain('orders.ts');
      }
    } finally {
      await pkg.dispose();
    }
  });

  it.each([
    ['code.dir', { dir: '/nonexistent/lambdalet/dir' }],
    ['code.entry', { entry: '/nonexistent/lambdalet/index.ts' }],
    ['code.zip', { zip: '/nonexistent/lambdalet/function.zip' }],
    ['code.zip', { zip: new TextEncoder().encode('this is not a zip file at all, just text') }],
  ] as const)('refuses bad input naming %s', async (field, code) => {
    const error = await bundleFunction(code, 'index.handler').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect((error as InvalidParameterValueException).field).toBe(field);
  });

  it('says a non-zip could not be unzipped', async () => {
    await expect(bundleFunction({ zip: new Uint8Array([1, 2, 3, 4, 5]) }, 'index.handler')).rejects.toThrow(/Could not unzip uploaded file/);
  });
});
