/**
 * A package inside the function's own node_modules cannot lead the bundler out of the package
 * either (code/containment.ts, issue #15): its package.json `main` / `module`, or the package's
 * tsconfig `paths`, may name any file, and esbuild followed them — `"main": "../../../../etc/hostname"`
 * bundled the host's /etc/hostname into the function (its text then ran as the handler's code). Every
 * file the bundle loads must be inside the package or the layers: Node's "Cannot find module"
 * otherwise, and nothing of the host file in the function.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleFails, bundleOk, invoke, makeZip } from './helpers.ts';

/** A host file every checkout has, with a marker no package here holds. */
const HOST_FILE = fileURLToPath(new URL('../../package.json', import.meta.url));
const HOST_MARKER = '"name": "lambdalet"';
/** HOST_FILE as a path relative to any package root (extra `../` stop at `/`). */
const UP_TO_HOST = `${'../'.repeat(30)}${HOST_FILE.slice(1)}`;
const ESM_IMPORT = 'import p from "pkg";\nexport const handler = async () => p;';

describe('a package in node_modules leads nowhere outside the package', () => {
  it.each([
    ['package.json main', { 'node_modules/pkg/package.json': JSON.stringify({ name: 'pkg', main: UP_TO_HOST }) }, "Cannot find package 'pkg' imported from /var/task/index.mjs"],
    ['package.json module (no main)', { 'node_modules/pkg/package.json': JSON.stringify({ name: 'pkg', module: UP_TO_HOST }) }, "Cannot find package 'pkg' imported from /var/task/index.mjs"],
    ['main naming an absolute host path (esbuild refuses it itself)', { 'node_modules/pkg/package.json': JSON.stringify({ name: 'pkg', main: HOST_FILE }) }, "Cannot find package 'pkg' imported from /var/task/index.mjs"],
    // Caught where the file is loaded: named as seen from /var/task (a path outside the package, never the host's temporary directory).
    [
      'tsconfig paths over the package node_modules holds',
      { 'tsconfig.json': JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { pkg: [UP_TO_HOST] } } }), 'node_modules/pkg/package.json': JSON.stringify({ name: 'pkg' }), 'node_modules/pkg/index.js': 'module.exports = "own";' },
      /^Cannot find module '\/[^']*package\.json' imported from \/var\/task\/index\.mjs$/,
    ],
  ])('%s: not found, as on Lambda, and nothing of the host file in the function', async (_what, files, message) => {
    const failure = await bundleFails({ files: { 'index.mjs': ESM_IMPORT, ...files } }, 'index.handler');
    expect(failure).toMatchObject({ errorType: 'Error', code: 'ERR_MODULE_NOT_FOUND' });
    expect(failure.errorMessage).toMatch(message);
    expect(failure.errorMessage).not.toContain('lambdalet-code-');
    expect(JSON.stringify(failure)).not.toContain(HOST_MARKER);
  });

  it('require() of such a package from a zip: Runtime.ImportModuleError, nothing of the host file', async () => {
    const zip = makeZip({
      'index.js': 'const p = require("pkg");\nexports.handler = async () => p.name;',
      'node_modules/pkg/package.json': JSON.stringify({ name: 'pkg', main: UP_TO_HOST }),
    });
    const failure = await bundleFails({ zip }, 'index.handler');
    expect(failure.errorType).toBe('Runtime.ImportModuleError');
    expect(failure.errorMessage).toBe("Error: Cannot find module 'pkg'\nRequire stack:\n- /var/task/index.js\n- /var/runtime/index.mjs");
    expect(JSON.stringify(failure)).not.toContain(HOST_MARKER);
  });

  it('a package whose main stays inside it still loads', async () => {
    const bundle = await bundleOk({
      files: {
        'index.mjs': ESM_IMPORT,
        'node_modules/pkg/package.json': JSON.stringify({ name: 'pkg', main: './lib/../lib/main.js' }),
        'node_modules/pkg/lib/main.js': 'module.exports = "inside";',
      },
    }, 'index.handler');
    expect(await invoke(bundle)).toBe('inside');
  });
});
