import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../../src/code/index.ts';
import { bundleOk, invoke, load, makeZip, tempPackage } from './helpers.ts';

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

/**
 * What Node itself does when it imports each of `files` (the runtime client imports the handler
 * module): `{ loaded: the handler's result }` or `{ error: 'SyntaxError: ...' }`, one per file. Run
 * with this host's Node, one child for all of them (each file's own package, each import its own
 * module graph; a failed import leaves the next alone) instead of a Node start per file.
 */
async function nodeVerdicts(files: readonly string[]): Promise<({ loaded: unknown } | { error: string })[]> {
  const script =
    'const { pathToFileURL } = require("node:url");' +
    '(async () => { const out = []; for (const file of process.argv.slice(1)) {' +
    ' try { const m = await import(pathToFileURL(file).href); out.push({ loaded: await m.handler({ name: "Ada" }) }); }' +
    ' catch (e) { out.push({ error: `${e.name}: ${e.message}` }); } }' +
    ' console.log(JSON.stringify(out)); })();';
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const { stdout } = await promisify(execFile)(process.execPath, ['--no-warnings', '-e', script, ...files], { env });
  return JSON.parse(stdout) as ({ loaded: unknown } | { error: string })[];
}

/**
 * TypeScript handlers follow JavaScript's module rules, as Node (v22.18+, v24) runs them with type
 * stripping. Node's docs, "Modules: TypeScript" > "Determining module system"
 * (https://nodejs.org/docs/latest-v24.x/api/typescript.html#determining-module-system): ".ts files
 * will have their module system determined the same way as .js files. To use import and export
 * syntax, add "type": "module" to the nearest parent package.json. .mts files will always be run as
 * ES modules, similar to .mjs files. .cts files will always be run as CommonJS modules, similar to
 * .cjs files." Node never converts one system to the other, so an ES module `.ts` in a
 * `"type": "commonjs"` package is a SyntaxError (Runtime.UserCodeSyntaxError, as the runtime client
 * reports a SyntaxError: ../shared/reference/lambda-compat.md [RIC3 UserFunction.js]); with no
 * `type` Node detects the syntax, as for `.js`. Each case is held against the Node running this test.
 */
describe('TypeScript module formats: .ts as .js, .mts ESM, .cts CommonJS (issue 12)', () => {
  const ESM_TS = 'export const handler = async (event: { name: string }) => ({ hi: event.name });\n';
  const CJS_TS = 'const greeting: string = "hi";\nmodule.exports.handler = async (event: { name: string }) => ({ [greeting]: event.name });\n';
  const REFUSED: [string, Record<string, string>, string, string, string][] = [
    ['an ES module .ts under "type": "commonjs"', { 'package.json': '{"type":"commonjs"}', 'index.ts': ESM_TS }, 'index.ts', "SyntaxError: Unexpected token 'export'", '/var/task/index.ts:1:1'],
    ['an import statement in a .ts under "type": "commonjs"', { 'package.json': '{"type":"commonjs"}', 'index.ts': 'import { hostname } from "node:os";\nexport const handler = async () => typeof hostname;\n' }, 'index.ts', 'SyntaxError: Cannot use import statement outside a module', '/var/task/index.ts:1:1'],
    ['types before the export (positions as Node strips them)', { 'package.json': '{"type":"commonjs"}', 'index.ts': 'type Event = { name: string };\nconst n: number = 1;\n  export const handler = async (e: Event) => n;\n' }, 'index.ts', "SyntaxError: Unexpected token 'export'", '/var/task/index.ts:3:3'],
    ['an ES module .cts, even under "type": "module"', { 'package.json': '{"type":"module"}', 'index.cts': ESM_TS }, 'index.cts', "SyntaxError: Unexpected token 'export'", '/var/task/index.cts:1:1'],
    ['an ES module .cts with no package.json', { 'index.cts': ESM_TS }, 'index.cts', "SyntaxError: Unexpected token 'export'", '/var/task/index.cts:1:1'],
    // Node meets the handler's own syntax first, then its requires in source order (issue #12).
    ['a .js under "type": "commonjs" importing an ES module: the importer\'s error, as Node meets it first', { 'package.json': '{"type":"commonjs"}', 'index.js': 'import { x } from "./lib/x.js";\nexport const handler = async () => x;\n', 'lib/x.js': 'export const x = 1;\n' }, 'index.js', 'SyntaxError: Cannot use import statement outside a module', '/var/task/index.js:1:1'],
    ['a CommonJS handler requiring two ES modules: the first it requires', { 'package.json': '{"type":"commonjs"}', 'index.js': 'const z = require("./z.js");\nconst a = require("./a.js");\nexports.handler = async () => z.z + a.a;\n', 'z.js': 'export const z = 1;\n', 'a.js': '\nexport const a = 2;\n' }, 'index.js', "SyntaxError: Unexpected token 'export'", '/var/task/z.js:1:1'],
    ['a .ts under "type": "commonjs" that an .mts imports', { 'package.json': '{"type":"commonjs"}', 'index.mts': 'import * as lib from "./lib.ts";\nexport const handler = async () => lib.x;\n', 'lib.ts': '\nexport const x: number = 1;\n' }, 'index.mts', "SyntaxError: Unexpected token 'export'", '/var/task/lib.ts:2:1'],
  ];
  const LOADED: [string, Record<string, string>, string, unknown][] = [
    ['an .mts under "type": "commonjs"', { 'package.json': '{"type":"commonjs"}', 'index.mts': ESM_TS }, 'index.mts', { hi: 'Ada' }],
    ['an ES module .ts under "type": "module"', { 'package.json': '{"type":"module"}', 'index.ts': ESM_TS }, 'index.ts', { hi: 'Ada' }],
    ['an ES module .ts with a package.json without type (syntax detection)', { 'package.json': '{}', 'index.ts': ESM_TS }, 'index.ts', { hi: 'Ada' }],
    ['an ES module .ts with no package.json (syntax detection)', { 'index.ts': ESM_TS }, 'index.ts', { hi: 'Ada' }],
    ['a CommonJS .ts under "type": "commonjs"', { 'package.json': '{"type":"commonjs"}', 'index.ts': CJS_TS }, 'index.ts', { hi: 'Ada' }],
    ['a CommonJS .cts under "type": "module"', { 'package.json': '{"type":"module"}', 'index.cts': CJS_TS }, 'index.cts', { hi: 'Ada' }],
  ];

  // Every row's package, and what Node does with its module, made once for the file (one Node child).
  const prepared = new Map<string, { dir: string; verdict: { loaded: unknown } | { error: string } }>();
  const packages: { dispose: () => Promise<void> }[] = [];
  beforeAll(async () => {
    const rows = [...REFUSED.map(([what, files, module]) => [what, files, module] as const), ...LOADED.map(([what, files, module]) => [what, files, module] as const)];
    const made: string[] = [];
    for (const [, files] of rows) {
      const pkg = await tempPackage(files);
      packages.push(pkg);
      made.push(pkg.dir);
    }
    const verdicts = await nodeVerdicts(rows.map(([, , module], i) => join(made[i]!, module)));
    rows.forEach(([what], i) => prepared.set(what, { dir: made[i]!, verdict: verdicts[i]! }));
  });
  afterAll(async () => {
    for (const pkg of packages) await pkg.dispose();
  });

  it.each(REFUSED)('%s fails INIT as Node refuses it: Runtime.UserCodeSyntaxError', async (what, _files, _module, message, at) => {
    const { dir, verdict } = prepared.get(what)!;
    expect(verdict).toEqual({ error: message });
    const outcome = await bundleFunction({ dir }, 'index.handler');
    expect(outcome).toEqual({
      ok: false,
      failure: { errorType: 'Runtime.UserCodeSyntaxError', errorMessage: message, trace: [`Runtime.UserCodeSyntaxError: ${message}`, `    at ${at}`] },
    });
  });

  it.each(LOADED)('%s loads, as in Node', async (what, _files, _module, result) => {
    const { dir, verdict } = prepared.get(what)!;
    expect(verdict).toEqual({ loaded: result });
    expect(await invoke(await bundleOk({ dir }, 'index.handler'), { name: 'Ada' })).toEqual(result);
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
