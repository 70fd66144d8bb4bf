/**
 * A require the bundle leaves to run time — esbuild found no module and the call sits in a
 * try/catch (an optional dependency), or the name is computed — fails with Node's MODULE_NOT_FOUND,
 * so the common `if (e.code !== 'MODULE_NOT_FOUND') throw e` lets it pass as in Node. Before, it was
 * ERR_LAMBDALET_MODULE_UNAVAILABLE ("... is not a Node.js built-in module"), which such code rethrew.
 */
import { expect, it } from 'vitest';
import { runInNode } from '../compat/node-baseline.ts';
import { deployAndInvoke, forEachEngine } from '../helpers/runtime.ts';

const OPTIONAL = `
  function optional(name) {
    try { return require(name === 'literal' ? 'lambdalet-no-such-optional-dep' : name); }
    catch (e) { if (e.code !== 'MODULE_NOT_FOUND') throw e; return e.code + ': ' + e.message.split('\\n')[0]; }
  }
  exports.handler = async () => [optional('literal'), optional('lambdalet-' + 'computed-dep'), optional('./missing-file.js'), typeof optional('node:path').join];`;

forEachEngine(({ withRuntime }) => {
  it('an optional dependency that is absent, a computed name and a missing file: MODULE_NOT_FOUND as in Node; built-ins load', () =>
    withRuntime(async ({ rt }) => {
      const expected = await runInNode(OPTIONAL);
      expect(expected).toEqual([
        "MODULE_NOT_FOUND: Cannot find module 'lambdalet-no-such-optional-dep'",
        "MODULE_NOT_FOUND: Cannot find module 'lambdalet-computed-dep'",
        "MODULE_NOT_FOUND: Cannot find module './missing-file.js'",
        'function',
      ]);
      const result = await deployAndInvoke(rt, OPTIONAL, {}, { file: 'index.js' });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(expected);
    }));
});
