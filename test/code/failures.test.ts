import { describe, it, expect } from 'vitest';
import { bundleFails, bundleOk } from './helpers.ts';
import { missingModules } from './missing-modules.ts';

describe('init failures', () => {
  it('reports a missing module with Lambda\'s text', async () => {
    const failure = await bundleFails({ files: { 'main.mjs': 'export const handler = () => 1;' } }, 'index.handler');
    expect(failure).toEqual({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Error: Cannot find module 'index'\nRequire stack:\n- /var/runtime/index.mjs",
      trace: ["Runtime.ImportModuleError: Error: Cannot find module 'index'", 'Require stack:', '- /var/runtime/index.mjs'],
    });
  });

  it('names the module root of a missing nested module', async () => {
    const failure = await bundleFails({ files: { 'src/api/other.mjs': '' } }, 'src/api/users.list');
    expect(failure.errorMessage).toBe("Error: Cannot find module 'src/api/users'\nRequire stack:\n- /var/runtime/index.mjs");
  });

  it('reports a missing package imported from ESM as Node does', async () => {
    const failure = await bundleFails(
      { files: { 'index.mjs': 'import pad from "left-pad";\nexport const handler = () => pad;' } },
      'index.handler',
    );
    // ERR_MODULE_NOT_FOUND is not MODULE_NOT_FOUND: the runtime client does not wrap it (UserFunction.js).
    expect(failure.errorType).toBe('Error');
    expect(failure.errorMessage).toBe("Cannot find package 'left-pad' imported from /var/task/index.mjs");
    expect(failure.trace[0]).toBe(`Error [ERR_MODULE_NOT_FOUND]: ${failure.errorMessage}`);
    expect(failure.code).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('names the package, not the subpath, of a scoped import', async () => {
    const failure = await bundleFails({ files: { 'index.mjs': 'import "@aws-sdk/client-s3/dist/x.js";' } }, 'index.handler');
    expect(failure.errorMessage).toBe("Cannot find package '@aws-sdk/client-s3' imported from /var/task/index.mjs");
  });

  it('reports a missing relative module with its resolved path', async () => {
    const failure = await bundleFails({ files: { 'lib/index.mjs': 'import "./gone.mjs";' } }, 'lib/index.handler');
    expect(failure.errorMessage).toBe("Cannot find module '/var/task/lib/gone.mjs' imported from /var/task/lib/index.mjs");
  });

  it('leaves a missing require to run time, with Node\'s words and the require stack', async () => {
    // Node fails a require() when it runs (issue #15): the INIT failure comes from the guest,
    // Runtime.ImportModuleError with these words (test/compat/missing-modules.test.ts).
    const bundle = await bundleOk({ files: { 'index.js': 'const x = require("nope");\nexports.handler = () => x;' } }, 'index.handler');
    expect(missingModules(bundle.script)).toEqual([{
      code: 'MODULE_NOT_FOUND',
      message: "Cannot find module 'nope'\nRequire stack:\n- /var/task/index.js\n- /var/runtime/index.mjs",
      requireStack: ['/var/task/index.js', '/var/runtime/index.mjs'],
    }]);
  });

  it('reports a syntax error with file, line and column', async () => {
    const failure = await bundleFails(
      { files: { 'index.mjs': 'export const handler = () => {\n  return 1;\n  x = = 2;\n};\n' } },
      'index.handler',
    );
    expect(failure.errorType).toBe('Runtime.UserCodeSyntaxError');
    // V8's words (Node's own parser), never esbuild's; the position stays in the trace.
    expect(failure.errorMessage).toBe("SyntaxError: Unexpected token '='");
    expect(failure.trace).toContain('    at /var/task/index.mjs:3:7');
    expect(failure.trace[0]).toBe(`Runtime.UserCodeSyntaxError: ${failure.errorMessage}`);
  });

  it('finds a syntax error in an imported file, even one that uses import.meta on line 1', async () => {
    const failure = await bundleFails(
      { files: { 'index.mjs': 'import "./lib/bad.mjs";\nexport const handler = () => 1;', 'lib/bad.mjs': 'const u = import.meta.url; const x = ;\n' } },
      'index.handler',
    );
    expect(failure.errorType).toBe('Runtime.UserCodeSyntaxError');
    expect(failure.trace).toContain('    at /var/task/lib/bad.mjs:1:38');
  });

  it('reports other bundling errors as ImportModuleError with esbuild\'s text', async () => {
    // Valid sloppy-mode CommonJS, but the bundle is one strict-mode script: esbuild refuses `with`.
    const failure = await bundleFails(
      { files: { 'index.cjs': 'with (Math) { exports.handler = () => max(1, 2); }' } },
      'index.handler',
    );
    expect(failure.errorType).toBe('Runtime.ImportModuleError');
    expect(failure.errorMessage).toMatch(/^Error: With statements cannot be used .*\(\/var\/task\/index\.cjs:1:1\)$/);
    expect(failure.trace).toContain('    at /var/task/index.cjs:1:1');
  });

  it('refuses a require() of a module with top-level await, as Node does', async () => {
    const failure = await bundleFails(
      { files: { 'index.cjs': 'exports.handler = require("./lib/mid.mjs").handler;', 'lib/mid.mjs': 'export { handler } from "./tla.mjs";', 'lib/tla.mjs': 'await 1;\nexport const handler = () => 1;' } },
      'index.handler',
    );
    expect(failure.errorType).toBe('Runtime.ImportModuleError');
    expect(failure.errorMessage).toBe(
      'Error: require() cannot be used on an ESM graph with top-level await. Use import() instead.\n  From /var/task/index.cjs\n  Requiring /var/task/lib/mid.mjs',
    );
  });
});
