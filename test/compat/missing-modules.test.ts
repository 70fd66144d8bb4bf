/**
 * A require() or import() of a module that is not there fails when that line runs, with Node's own
 * error, as in plain Node (issue #15): a package whose guarded optional require names a file outside
 * it (`try { require('/etc/hosts') } catch {}`) used to fail INIT, and a guarded `import('x')` of a
 * missing package was MODULE_NOT_FOUND where Node says ERR_MODULE_NOT_FOUND. Node's words:
 * lib/internal/modules/cjs/loader.js (MODULE_NOT_FOUND, "Require stack", `requireStack`) and
 * lib/internal/modules/esm/resolve.js (ERR_MODULE_NOT_FOUND, "Cannot find package|module ...
 * imported from", `url`). Each case runs in plain Node first; the paths of its temporary directory
 * read as Lambda's (/var/task, and the runtime client's /var/runtime/index.mjs for Node's driver).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { deployAndInvoke, errorOf, forEachEngine } from '../helpers/runtime.ts';
import { runFixtureInNode, runInNode } from './node-baseline.ts';

/** CommonJS: outside the package, past its root, a missing package, a missing file; guarded or not, at once or later. */
const REQUIRES = `
const { dirname } = require('path');
const lambda = (value) => JSON.parse(JSON.stringify(value)
  .split(__dirname + '/driver.js').join('/var/runtime/index.mjs')
  .split(__dirname).join('/var/task')
  .split(dirname(__dirname) + '/').join('/var/'));
const probe = (load) => { try { load(); return 'loaded'; } catch (e) { return { code: e.code, message: e.message, requireStack: e.requireStack, keys: Object.keys(e) }; } };
const later = () => require('./never-loaded-at-init.js');
exports.handler = async () => lambda({
  absolute: probe(() => require('/lambdalet-no-such-dir/config.json')),
  pastTheRoot: probe(() => require('../lambdalet-outside.js')),
  guarded: (() => { try { return require('/lambdalet-no-such-dir/optional.js'); } catch (e) { return e.code; } })(),
  missingPackage: probe(() => require('lambdalet-no-such-optional-dep')),
  missingFile: probe(() => require('./missing.js')),
  eachTime: [probe(() => require('/lambdalet-no-such-dir/x.js')).code, probe(() => require('/lambdalet-no-such-dir/x.js')).code],
  later: probe(later),
  imported: await import('/lambdalet-no-such-dir/module.mjs').then(() => 'loaded', (e) => ({ code: e.code, message: e.message, url: e.url, keys: Object.keys(e) })),
});`;

/** An ES module: import() of a missing package, a scoped one, a missing file, a path past the root, inside try/catch. */
const IMPORTS = `
import { dirname } from 'node:path';
const here = import.meta.dirname;
const lambda = (value) => JSON.parse(JSON.stringify(value).split(here).join('/var/task').split(dirname(here) + '/').join('/var/'));
const keep = (e) => ({ name: e.name, code: e.code, message: e.message, url: e.url, keys: Object.keys(e), text: String(e), header: e.stack.split('\\n')[0] });
export const handler = async () => {
  const out = {};
  try { await import('lambdalet-no-such-pkg'); } catch (e) { out.missingPackage = keep(e); }
  try { await import('@lambdalet-no-such/scope/sub/path.js'); } catch (e) { out.scoped = keep(e); }
  try { await import('./missing.mjs'); } catch (e) { out.missingFile = keep(e); }
  try { await import('../lambdalet-outside.mjs'); } catch (e) { out.pastTheRoot = keep(e); }
  try { await import('/lambdalet-no-such-dir/module.mjs'); } catch (e) { out.absolute = keep(e); }
  return lambda(out);
};`;

const nodeRequires = runInNode(REQUIRES);
const nodeImports = (async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lambdalet-node-esm-'));
  try {
    await writeFile(join(dir, 'index.mjs'), IMPORTS);
    return (await runFixtureInNode(join(dir, 'index.mjs'))).result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
})();

const INIT_MESSAGE = "Error: Cannot find module '/etc/hosts'\nRequire stack:\n- /var/task/index.js\n- /var/runtime/index.mjs";

forEachEngine(({ withRuntime }) => {
  it('require() of a path outside the package, past its root, of a missing package or file: MODULE_NOT_FOUND when the line runs, as in Node', () =>
    withRuntime(async ({ rt }) => {
      const node = (await nodeRequires) as Record<string, unknown>;
      // Node's words, pinned.
      expect(node.absolute).toEqual({
        code: 'MODULE_NOT_FOUND',
        message: "Cannot find module '/lambdalet-no-such-dir/config.json'\nRequire stack:\n- /var/task/index.js\n- /var/runtime/index.mjs",
        requireStack: ['/var/task/index.js', '/var/runtime/index.mjs'],
        keys: ['code', 'requireStack'],
      });
      expect(node.guarded).toBe('MODULE_NOT_FOUND');
      expect(node.eachTime).toEqual(['MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);
      expect(node.imported).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND', message: "Cannot find module '/lambdalet-no-such-dir/module.mjs' imported from /var/task/index.js" });
      const result = await deployAndInvoke(rt, REQUIRES, {}, { file: 'index.js' });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(node);
    }));

  it('import() of a missing package, scoped package, file, or a path outside the package: ERR_MODULE_NOT_FOUND, as in Node', () =>
    withRuntime(async ({ rt }) => {
      const node = (await nodeImports) as Record<string, unknown>;
      expect(node.missingPackage).toEqual({
        name: 'Error',
        code: 'ERR_MODULE_NOT_FOUND',
        message: "Cannot find package 'lambdalet-no-such-pkg' imported from /var/task/index.mjs",
        keys: ['code'],
        text: "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'lambdalet-no-such-pkg' imported from /var/task/index.mjs",
        header: "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'lambdalet-no-such-pkg' imported from /var/task/index.mjs",
      });
      expect(node.pastTheRoot).toMatchObject({ message: "Cannot find module '/var/lambdalet-outside.mjs' imported from /var/task/index.mjs", url: 'file:///var/lambdalet-outside.mjs' });
      const result = await deployAndInvoke(rt, IMPORTS);
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(node);
    }));

  it('a host file that exists (/etc/hosts) is not there either: guarded, the package deploys and runs; unguarded at the top level, INIT fails as Node fails it', () =>
    withRuntime(async ({ rt, logs }) => {
      const guarded = await deployAndInvoke(rt, `
        let hosts;
        try { hosts = require('/etc/hosts'); } catch (e) { hosts = [e.code, e.message]; }
        exports.handler = async () => hosts;`, {}, { file: 'index.js' });
      expect(guarded.functionError, JSON.stringify(guarded.payload)).toBeUndefined();
      expect(guarded.payload).toEqual(['MODULE_NOT_FOUND', INIT_MESSAGE.slice('Error: '.length)]);
      const unguarded = await deployAndInvoke(rt, "const hosts = require('/etc/hosts');\nexports.handler = async () => hosts;", {}, { file: 'index.js' });
      // The runtime client wraps MODULE_NOT_FOUND: Runtime.ImportModuleError, `Error: ` + Node's message.
      expect(errorOf(unguarded)).toMatchObject({ errorType: 'Runtime.ImportModuleError', errorMessage: INIT_MESSAGE });
      expect(errorOf(unguarded).trace!.slice(0, 4)).toEqual(["Runtime.ImportModuleError: Error: Cannot find module '/etc/hosts'", 'Require stack:', '- /var/task/index.js', '- /var/runtime/index.mjs']);
      // The log line as the runtime client's toFormatted writes it: the name is its class's, not a key.
      const line = logs.lines.find((l) => l.includes('Uncaught Exception'));
      const logged = JSON.parse(line!.slice(line!.indexOf('{'))) as Record<string, unknown>;
      expect(Object.keys(logged)).toEqual(['errorType', 'errorMessage', 'stack']);
      expect(logged.errorMessage).toBe(INIT_MESSAGE);
    }));
});
