import { describe, it, expect, afterEach } from 'vitest';
import { bundleOk, invoke, load, makeZip } from './helpers.ts';

const BUILTIN = Symbol.for('lambdalet.builtin');

describe('module formats', () => {
  it('exposes an .mjs module namespace', async () => {
    const bundle = await bundleOk({ files: { 'index.mjs': 'export const handler = () => "esm"; export const other = 1;' } }, 'index.handler');
    const root = await load(bundle);
    expect(Object.keys(root).sort()).toEqual(['handler', 'other']);
    expect(await invoke(bundle)).toBe('esm');
  });

  it('returns module.exports itself for a .cjs module, __esModule included', async () => {
    const bundle = await bundleOk(
      { files: { 'index.cjs': 'exports.__esModule = true;\nexports.handler = async (e) => ["cjs", e.v];\nexports.default = "d";' } },
      'index.handler',
    );
    const root = await load(bundle);
    expect(root.__esModule).toBe(true);
    expect(root.default).toBe('d');
    expect(await invoke(bundle, { v: 1 })).toEqual(['cjs', 1]);
  });

  it('treats .js as ESM under package.json type module', async () => {
    const bundle = await bundleOk(
      { files: { 'package.json': '{"type":"module"}', 'index.js': 'export const handler = () => typeof module;' } },
      'index.handler',
    );
    expect(await invoke(bundle)).toBe('undefined');
  });

  it('treats .js as CommonJS under type commonjs, and with no package.json', async () => {
    const packages: Record<string, string>[] = [
      { 'package.json': '{"type":"commonjs"}', 'index.js': 'module.exports = { handler: () => "cjs-js" };' },
      { 'index.js': 'module.exports.handler = () => "cjs-js";' },
    ];
    for (const files of packages) {
      const bundle = await bundleOk({ files }, 'index.handler');
      expect(await invoke(bundle)).toBe('cjs-js');
    }
  });

  it('uses the nearest package.json walking up from a nested module', async () => {
    const bundle = await bundleOk(
      {
        zip: makeZip({
          'package.json': '{"type":"commonjs"}',
          'src/package.json': '{"type":"module"}',
          'src/api/users.js': 'export const list = () => "nearest";',
        }),
      },
      'src/api/users.list',
    );
    expect(Object.keys(await load(bundle))).toEqual(['list']);
    expect(await invoke(bundle)).toBe('nearest');
  });

  it('finds an extensionless module first', async () => {
    const bundle = await bundleOk(
      { files: { index: 'exports.handler = () => "bare";', 'index.js': 'exports.handler = () => "js";' } },
      'index.handler',
    );
    expect(await invoke(bundle)).toBe('bare');
  });

  it('keeps top-level await working', async () => {
    const bundle = await bundleOk(
      { files: { 'index.mjs': 'const config = await new Promise((r) => setTimeout(() => r({ ready: true }), 5));\nexport const handler = () => config;' } },
      'index.handler',
    );
    expect(await invoke(bundle)).toEqual({ ready: true });
  });

  it('awaits a dynamically imported module with top-level await', async () => {
    const bundle = await bundleOk(
      { files: { 'index.mjs': 'export const handler = async () => (await import("./late.mjs")).value;', 'late.mjs': 'export const value = await Promise.resolve("late");' } },
      'index.handler',
    );
    expect(await invoke(bundle)).toBe('late');
  });

  it('bundles a dependency from node_modules (package exports with a node condition, CJS and ESM)', async () => {
    const bundle = await bundleOk(
      {
        files: {
          'index.mjs': 'import pad from "left-pad";\nimport { shout } from "shout";\nexport const handler = (e) => shout(pad(e.s, 5));',
          'node_modules/left-pad/package.json': '{"name":"left-pad","main":"index.js"}',
          'node_modules/left-pad/index.js': 'module.exports = (s, n) => s.padStart(n, ".");',
          'node_modules/shout/package.json': '{"name":"shout","type":"module","exports":{"node":"./node.js","default":"./browser.js"}}',
          'node_modules/shout/node.js': 'export const shout = (s) => s.toUpperCase() + "!";',
          'node_modules/shout/browser.js': 'export const shout = () => "wrong build";',
        },
      },
      'index.handler',
    );
    expect(await invoke(bundle, { s: 'ab' })).toBe('...AB!');
  });

  it('imports JSON and text files', async () => {
    const bundle = await bundleOk(
      { files: { 'index.mjs': 'import data from "./data.json";\nimport note from "./note.txt";\nexport const handler = () => [data.n, note];', 'data.json': '{"n":3}', 'note.txt': 'hi' } },
      'index.handler',
    );
    expect(await invoke(bundle)).toEqual([3, 'hi']);
  });

  it('leaves no import/export statement and is one expression', async () => {
    const bundle = await bundleOk({ files: { 'index.mjs': 'import "./side.mjs"; export const handler = () => 1;', 'side.mjs': 'export {};' } }, 'index.handler');
    expect(bundle.script.startsWith('(async function () { "use strict";')).toBe(true);
    expect(bundle.script.endsWith('})')).toBe(true);
    expect(bundle.script).not.toMatch(/^\s*(import|export)\b/m);
    expect(bundle.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same hash for the same code, another for other code', async () => {
    const a = await bundleOk({ files: { 'index.mjs': 'export const handler = () => 1;' } }, 'index.handler');
    const b = await bundleOk({ zip: makeZip({ 'index.mjs': 'export const handler = () => 1;' }) }, 'index.handler');
    const c = await bundleOk({ files: { 'index.mjs': 'export const handler = () => 2;' } }, 'index.handler');
    expect(a.hash).toBe(b.hash);
    expect(c.hash).not.toBe(a.hash);
  });
});

describe('built-ins and locations', () => {
  afterEach(() => {
    delete (globalThis as Record<symbol, unknown>)[BUILTIN];
  });

  it('turns node built-ins into calls to the guest runtime, for import and require', async () => {
    const asked: string[] = [];
    (globalThis as Record<symbol, unknown>)[BUILTIN] = (name: string) => {
      asked.push(name);
      return { which: name, readFileSync: () => `read by ${name}` };
    };
    const bundle = await bundleOk(
      {
        files: {
          'index.mjs': 'import fs from "node:fs";\nimport { readFileSync } from "fs";\nimport { join } from "node:path";\nimport { legacy } from "./legacy.cjs";\nexport const handler = () => [fs.which, readFileSync(), typeof join, legacy];',
          'legacy.cjs': 'const p = require("fs/promises");\nexports.legacy = p.which;',
        },
      },
      'index.handler',
    );
    expect(bundle.script).not.toMatch(/\bfrom\s*["']node:/);
    expect(await invoke(bundle)).toEqual(['fs', 'read by fs', 'undefined', 'fs/promises']);
    expect(asked.sort()).toEqual(['fs', 'fs/promises', 'path']);
  });

  it('gives each file its own import.meta, __dirname and __filename under /var/task', async () => {
    const bundle = await bundleOk(
      {
        files: {
          'index.mjs': 'import { where } from "./lib/where.cjs";\nimport { meta } from "./lib/meta.mjs";\nexport const handler = () => ({ url: import.meta.url, dirname: import.meta.dirname, where, meta });',
          'lib/where.cjs': 'exports.where = [__dirname, __filename];',
          'lib/meta.mjs': 'export const meta = import.meta.filename;',
        },
      },
      'index.handler',
    );
    expect(await invoke(bundle)).toEqual({
      url: 'file:///var/task/index.mjs',
      dirname: '/var/task',
      where: ['/var/task/lib', '/var/task/lib/where.cjs'],
      meta: '/var/task/lib/meta.mjs',
    });
  });
});
