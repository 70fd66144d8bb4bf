/**
 * A code package is the function's whole world (issue #15: no host secret readable). The bundler
 * runs on the host; before src/code/containment.ts, a package of one file read the host's files
 * into the tenant's function through its imports: `import p from '/srv/app/package.json'` returned
 * the host's package.json, `'/etc/hostname?raw'` bundled /etc/hostname. On Lambda those paths name
 * files of the execution environment, which the package does not hold: Node's "Cannot find module"
 * (ESM: ERR_MODULE_NOT_FOUND, which the runtime client does not wrap; CommonJS: MODULE_NOT_FOUND
 * as Runtime.ImportModuleError with the require stack — aws-lambda-nodejs-runtime-interface-client
 * src/UserFunction.js; the wording is Node's, test/code/failures.test.ts).
 */
import { rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../src/code/index.ts';
import { materialiseOpt } from '../../src/registry/layers.ts';
import { bundleFails, bundleOk, invoke, makeZip, tempPackage } from './helpers.ts';
import { missingModules } from './missing-modules.ts';

/** A host file every checkout has, with a marker no package here holds. */
const HOST_FILE = fileURLToPath(new URL('../../package.json', import.meta.url));
const HOST_MARKER = '"name": "lambdalet"';

describe('a package imports only its own files and its layers', () => {
  it.each([
    ['an absolute host path (ESM)', `import p from '${HOST_FILE}';\nexport const handler = async () => p;`, `Cannot find module '${HOST_FILE}' imported from /var/task/index.mjs`],
    ['a relative path past the package root (ESM)', `import p from '${'../'.repeat(30)}${HOST_FILE.slice(1)}';\nexport const handler = async () => p;`, `Cannot find module '${HOST_FILE}' imported from /var/task/index.mjs`],
    ['a query suffix on a host path (ESM)', "import t from '/etc/hostname?raw';\nexport const handler = async () => t;", "Cannot find module '/etc/hostname?raw' imported from /var/task/index.mjs"],
  ])('%s: not found, as on Lambda, and nothing of the host file in the function', async (_what, source, message) => {
    const failure = await bundleFails({ files: { 'index.mjs': source } }, 'index.handler');
    expect(failure).toMatchObject({ errorType: 'Error', errorMessage: message, code: 'ERR_MODULE_NOT_FOUND' });
    expect(failure.trace[0]).toBe(`Error [ERR_MODULE_NOT_FOUND]: ${message}`);
    expect(JSON.stringify(failure)).not.toContain(HOST_MARKER);
  });

  // Node resolves require() and import() when the line runs: a guarded optional require of a path
  // outside the package must not fail INIT (issue #15). The bundle keeps a module that is not there
  // (containment.ts `missingModule`), whose error the guest throws at each call; the host file is
  // neither read nor bundled. What the guest then throws, on each engine: test/compat/missing-modules.test.ts.
  it('require() of a host path from a zip, and import() of one: left to run time with Node\'s error, nothing of the host file in the function', async () => {
    const zip = makeZip({ 'index.js': `const p = require('${HOST_FILE}');\nexports.handler = async () => p.name;` });
    const required = await bundleOk({ zip }, 'index.handler');
    expect(required.script).not.toContain(HOST_MARKER);
    expect(missingModules(required.script)).toEqual([{
      code: 'MODULE_NOT_FOUND',
      message: `Cannot find module '${HOST_FILE}'\nRequire stack:\n- /var/task/index.js\n- /var/runtime/index.mjs`,
      requireStack: ['/var/task/index.js', '/var/runtime/index.mjs'],
    }]);
    const imported = await bundleOk({ files: { 'index.mjs': `export const handler = async () => (await import('${HOST_FILE}')).default;` } }, 'index.handler');
    expect(imported.script).not.toContain(HOST_MARKER);
    expect(missingModules(imported.script)).toEqual([{
      code: 'ERR_MODULE_NOT_FOUND',
      message: `Cannot find module '${HOST_FILE}' imported from /var/task/index.mjs`,
      url: `file://${encodeURI(HOST_FILE)}`,
    }]);
  });

  it("code.dir: a package found only in a parent directory's node_modules is not the package's (use code.entry for a project's own imports)", async () => {
    const outer = await tempPackage({
      'node_modules/leak/package.json': '{"name":"leak","main":"index.js"}',
      'node_modules/leak/index.js': "module.exports = 'from the host';",
      'fn/index.mjs': "import leak from 'leak';\nexport const handler = async () => leak;",
    });
    try {
      const failure = await bundleFails({ dir: join(outer.dir, 'fn') }, 'index.handler');
      expect(failure.errorMessage).toBe("Cannot find package 'leak' imported from /var/task/index.mjs");
      // code.entry is one file of the caller's project: it bundles with that project's imports.
      const bundle = await bundleOk({ entry: join(outer.dir, 'fn', 'index.mjs') }, 'index.handler');
      expect(await invoke(bundle)).toBe('from the host');
    } finally {
      await outer.dispose();
    }
  });

  it("inside the package everything resolves as before: '..' within it, its node_modules, and Lambda's absolute /var/task paths", async () => {
    const bundle = await bundleOk(
      {
        files: {
          'src/handler.mjs': [
            "import up from '../lib/up.mjs';",
            "import dep from 'dep';",
            "import abs from '/var/task/lib/abs.cjs';",
            'export const handler = async () => [up, dep, abs];',
          ].join('\n'),
          'lib/up.mjs': "export default 'up';",
          'lib/abs.cjs': "module.exports = 'abs';",
          'node_modules/dep/package.json': '{"name":"dep","main":"main.js"}',
          'node_modules/dep/main.js': "module.exports = 'dep';",
        },
      },
      'src/handler.handler',
    );
    expect(await invoke(bundle)).toEqual(['up', 'dep', 'abs']);
  });

  it("the layers are /opt: a bare import from their node_modules and an absolute /opt path resolve; a path past /opt does not", async () => {
    const opt = await materialiseOpt(
      {
        'nodejs/node_modules/shared/package.json': new TextEncoder().encode('{"name":"shared","main":"index.js"}'),
        'nodejs/node_modules/shared/index.js': new TextEncoder().encode("module.exports = 'layer';"),
        'nodejs/util.cjs': new TextEncoder().encode("module.exports = 'opt';"),
      },
      'nodejs24.x',
    );
    try {
      const resolution = { nodePaths: opt.nodePaths, optRoot: opt.root };
      const ok = await bundleFunction(
        { files: { 'index.mjs': "import s from 'shared';\nimport u from '/opt/nodejs/util.cjs';\nexport const handler = async () => [s, u];" } },
        'index.handler',
        undefined,
        resolution,
      );
      if (!ok.ok) throw new Error(JSON.stringify(ok.failure));
      expect(await invoke(ok.bundle)).toEqual(['layer', 'opt']);
      const past = await bundleFunction(
        { files: { 'index.mjs': `import p from '/opt/${'../'.repeat(30)}${HOST_FILE.slice(1)}';\nexport const handler = async () => p;` } },
        'index.handler',
        undefined,
        resolution,
      );
      expect(past.ok).toBe(false);
      // Node normalises the path first, as the URL it resolves to: the host file's own path.
      if (!past.ok) expect(past.failure.errorMessage).toBe(`Cannot find module '${HOST_FILE}' imported from /var/task/index.mjs`);
    } finally {
      await opt.dispose();
    }
  });


  describe('code.dir: a symbolic link out of the directory (pnpm, workspaces, npm link)', () => {
    /**
     * pnpm's layouts: a workspace's store at its root (`fn/node_modules/dep ->
     * ../../node_modules/.pnpm/dep@1.0.0/node_modules/dep`), a workspace package
     * (`fn/node_modules/lib -> ../../packages/lib`), and a linked directory. Before, the message
     * named the target's path resolved from /var/task: '/var/node_modules/.pnpm/dep@1.0.0/...'.
     */
    async function workspace(): Promise<{ dir: string; dispose: () => Promise<void> }> {
      const ws = await tempPackage({
        'node_modules/.pnpm/dep@1.0.0/node_modules/dep/package.json': '{"name":"dep","main":"index.js"}',
        'node_modules/.pnpm/dep@1.0.0/node_modules/dep/index.js': "module.exports = 'dep from the workspace store';",
        'packages/lib/package.json': '{"name":"lib","main":"index.js"}',
        'packages/lib/index.js': "module.exports = 'lib from the workspace';",
        'fn/node_modules/.pnpm/own@1.0.0/node_modules/own/package.json': '{"name":"own","main":"index.js"}',
        'fn/node_modules/.pnpm/own@1.0.0/node_modules/own/index.js': "module.exports = 'own';",
      });
      await symlink('../../node_modules/.pnpm/dep@1.0.0/node_modules/dep', join(ws.dir, 'fn/node_modules/dep'));
      await symlink('../../packages/lib', join(ws.dir, 'fn/node_modules/lib'));
      await symlink('.pnpm/own@1.0.0/node_modules/own', join(ws.dir, 'fn/node_modules/own'));
      await symlink('../packages/lib', join(ws.dir, 'fn/shared'));
      return ws;
    }
    const NOTE_END = ', outside the package directory, whose files alone make the function; install or copy what it holds into the directory ' +
      '(pnpm: `pnpm deploy`, or node-linker=hoisted), or deploy with code.entry, which bundles from the project)';

    it('the message is Node\'s for the import, then the link and where it points; nothing of the target is bundled', async () => {
      const ws = await workspace();
      try {
        const fn = join(ws.dir, 'fn');
        await writeFile(join(fn, 'index.mjs'), "import dep from 'dep';\nexport const handler = async () => dep;");
        const store = await bundleFails({ dir: fn }, 'index.handler');
        expect(store).toMatchObject({ errorType: 'Error', code: 'ERR_MODULE_NOT_FOUND' });
        expect(store.errorMessage).toBe("Cannot find package 'dep' imported from /var/task/index.mjs\n" +
          `(lambdalet: /var/task/node_modules/dep is a symbolic link to ../../node_modules/.pnpm/dep@1.0.0/node_modules/dep${NOTE_END}`);
        await writeFile(join(fn, 'index.mjs'), "import x from './shared/index.js';\nexport const handler = async () => x;");
        const linkedDir = await bundleFails({ dir: fn }, 'index.handler');
        expect(linkedDir.errorMessage).toBe("Cannot find module '/var/task/shared/index.js' imported from /var/task/index.mjs\n" +
          `(lambdalet: /var/task/shared is a symbolic link to ../packages/lib${NOTE_END}`);
        for (const failure of [store, linkedDir]) {
          expect(JSON.stringify(failure)).not.toContain(ws.dir);
          expect(JSON.stringify(failure)).not.toContain('from the workspace');
        }
        // CommonJS require(): left to run time (it fails when it runs, as in Node), with the same note.
        await writeFile(join(fn, 'index.js'), "exports.handler = async () => require('lib');");
        await rm(join(fn, 'index.mjs'));
        const required = await bundleOk({ dir: fn }, 'index.handler');
        expect(required.script).not.toContain('from the workspace');
        expect(missingModules(required.script)).toEqual([{
          code: 'MODULE_NOT_FOUND',
          message: "Cannot find module 'lib'\nRequire stack:\n- /var/task/index.js\n- /var/runtime/index.mjs\n" +
            `(lambdalet: /var/task/node_modules/lib is a symbolic link to ../../packages/lib${NOTE_END}`,
          requireStack: ['/var/task/index.js', '/var/runtime/index.mjs'],
        }]);
        // A link that stays inside the directory (pnpm's own node_modules/.pnpm) resolves as before.
        await writeFile(join(fn, 'index.js'), "exports.handler = async () => require('own');");
        expect(await invoke(await bundleOk({ dir: fn }, 'index.handler'))).toBe('own');
      } finally {
        await ws.dispose();
      }
    });
  });
});

