/**
 * Module loading as the Node.js runtime client does it, case by case from its own tests:
 * aws/aws-lambda-nodejs-runtime-interface-client @ da5777a, test/unit/UserFunctionTest.js (the
 * `it(...)` named in each case) with the fixtures of test/handlers/ inlined; plus the module-format
 * differences of lambdalet issue #14 (1–5). Expected values are what the runtime client's loader
 * gives under Node 24 (checked by running its src/UserFunction.js on the same files).
 */
import { describe, expect, it } from 'vitest';
import type { InvokeResult, Runtime } from '../../../src/index.ts';
import { errorOf, forEachEngine } from '../../helpers/runtime.ts';

let counter = 0;
async function run(rt: Runtime, files: Record<string, string>, handler: string, event: unknown = 'test event'): Promise<InvokeResult> {
  const name = `ric-${++counter}`;
  await rt.deploy({ name, code: { files }, handler });
  return rt.invoke(name, event);
}

// test/handlers/pkg-less and test/handlers/pkg/*, verbatim apart from their licence headers.
const PKG_LESS = {
  'cjsModule.cjs': "'use strict';\nmodule.exports.getMessage = () => {\n    return \"Hello from CJS!\";\n};\n",
  'esmModule.js': "export const handler = async (_event) => {\n  return 'Hello from ESM.js';\n};\n\nexport const getMessage = () => {\n  return \"Hello from ESM!\";\n};\n",
  'esmInCjs.cjs': "export const handler = async (_event) => {\n  return 'This should fail';\n};\n",
  'cjsInMjs.mjs': "'use strict';\n\nmodule.exports.handler = async (_event) => {\n  return 'This should fail';\n};\n",
  'esmRequireCjs.mjs': "const { getMessage } = require('./cjsModule.cjs')\n\nexport const handler = async (_event) => {\n    return getMessage();\n};\n",
  'esmImportCjs.mjs': "import { getMessage } from './cjsModule.cjs';\n\nexport const handler = async (_event) => {\n    return getMessage();\n};\n",
  'cjsImportESM.cjs': "'use strict';\n\nimport { getMessage } from './esmModule';\n\nmodule.exports.handler = async () => {\n    return getMessage();\n};\n",
  'cjsImportCjs.js': "'use strict';\n\nconst { getMessage } = require('./cjsModule.cjs')\n\nexports.handler = async (_event) => {\n  return getMessage();\n}\n",
  'cjsAndMjs.js': "import { someESMFunction } from './esmModule.js';  // ESM import\n\nmodule.exports.handler = async (event) => {  // CJS export\n    return someESMFunction(event);\n};\n\nexport const esm = 'This is ESM syntax';  // ESM export\n",
};
const pkg = (type: 'commonjs' | 'module') => ({
  'package.json': JSON.stringify({ type }),
  cjs: "module.exports.handler = async () => 'Hello from extensionless CJS';\n",
  'cjsModule.js': "module.exports.handler = async () => 'Hello from CJS.js';\n",
  'esmModule.js': "export const handler = async () => 'Hello from ESM.js';\n",
});

forEachEngine(({ withRuntime }) => {
  describe('RIC UserFunctionTest: module formats', () => {
    it("'should successfully load ESM handler importing from CJS'", () =>
      withRuntime(async ({ rt }) => {
        expect((await run(rt, PKG_LESS, 'esmImportCjs.handler')).payload).toBe('Hello from CJS!');
      }));

    it("'should successfully load CJS handler importing from CJS'", () =>
      withRuntime(async ({ rt }) => {
        expect((await run(rt, PKG_LESS, 'cjsImportCjs.handler')).payload).toBe('Hello from CJS!');
      }));

    it("'should fail to load ESM handler from CJS file without type context' (issue #14.1: Unexpected token 'export')", () =>
      withRuntime(async ({ rt }) => {
        const error = errorOf(await run(rt, PKG_LESS, 'esmInCjs.handler'));
        expect(error).toMatchObject({ errorType: 'Runtime.UserCodeSyntaxError', errorMessage: "SyntaxError: Unexpected token 'export'" });
        expect(error.trace![0]).toBe("Runtime.UserCodeSyntaxError: SyntaxError: Unexpected token 'export'");
      }));

    it("'should fail when CJS tries to import from ESM using static import' (issue #14.1: import in a .cjs)", () =>
      withRuntime(async ({ rt }) => {
        expect(errorOf(await run(rt, PKG_LESS, 'cjsImportESM.handler'))).toMatchObject({
          errorType: 'Runtime.UserCodeSyntaxError',
          errorMessage: 'SyntaxError: Cannot use import statement outside a module',
        });
      }));

    it("'should fail to load CJS handler from MJS file without type context' (issue #14.2)", () =>
      withRuntime(async ({ rt }) => {
        const error = errorOf(await run(rt, PKG_LESS, 'cjsInMjs.handler'));
        expect(error).toMatchObject({ errorType: 'ReferenceError', errorMessage: 'module is not defined in ES module scope' });
        expect(error.trace![0]).toBe('ReferenceError: module is not defined in ES module scope');
        expect(error.trace![1]).toMatch(/\/var\/task\/cjsInMjs\.mjs:3:1\)?$/);
      }));

    it("'should fail when using require in .mjs' (issue #14.2: Node's exact words)", () =>
      withRuntime(async ({ rt }) => {
        const error = errorOf(await run(rt, PKG_LESS, 'esmRequireCjs.handler'));
        expect(error).toMatchObject({
          errorType: 'ReferenceError',
          errorMessage: 'require is not defined in ES module scope, you can use import instead',
        });
        expect(error.trace![1]).toMatch(/\/var\/task\/esmRequireCjs\.mjs:1:24\)?$/);
      }));

    it("'should fail to load mixed context handler from JS file without type context' (issue #14.4: Node's missing-export SyntaxError)", () =>
      withRuntime(async ({ rt }) => {
        expect(errorOf(await run(rt, PKG_LESS, 'cjsAndMjs.handler'))).toMatchObject({
          errorType: 'Runtime.UserCodeSyntaxError',
          errorMessage: "SyntaxError: The requested module './esmModule.js' does not provide an export named 'someESMFunction'",
        });
      }));

    it("'should load CJS handler from extensionless file with type:commonjs' and ':module'", () =>
      withRuntime(async ({ rt }) => {
        expect((await run(rt, pkg('commonjs'), 'cjs.handler')).payload).toBe('Hello from extensionless CJS');
        expect((await run(rt, pkg('module'), 'cjs.handler')).payload).toBe('Hello from extensionless CJS');
      }));

    it("'should load CJS handler from JS file with type:commonjs'", () =>
      withRuntime(async ({ rt }) => {
        expect((await run(rt, pkg('commonjs'), 'cjsModule.handler')).payload).toBe('Hello from CJS.js');
      }));

    it("'should fail to load ESM handler from JS file with type:commonjs' (issue #14.1)", () =>
      withRuntime(async ({ rt }) => {
        expect(errorOf(await run(rt, pkg('commonjs'), 'esmModule.handler'))).toMatchObject({
          errorType: 'Runtime.UserCodeSyntaxError',
          errorMessage: "SyntaxError: Unexpected token 'export'",
        });
      }));

    it("'should load ESM handler from JS file with type:module'", () =>
      withRuntime(async ({ rt }) => {
        expect((await run(rt, pkg('module'), 'esmModule.handler')).payload).toBe('Hello from ESM.js');
      }));

    it("'should fail to load CJS handler from JS file with type:module' (Node's note on the package.json)", () =>
      withRuntime(async ({ rt }) => {
        expect(errorOf(await run(rt, pkg('module'), 'cjsModule.handler'))).toMatchObject({
          errorType: 'ReferenceError',
          errorMessage:
            'module is not defined in ES module scope\nThis file is being treated as an ES module because it has a \'.js\' file extension and ' +
            "'/var/task/package.json' contains \"type\": \"module\". To treat it as a CommonJS script, rename it to use the '.cjs' file extension.",
        });
      }));

    it("'should use commonjs when node_modules is reached before package.json' (issue #14.3)", () =>
      withRuntime(async ({ rt }) => {
        const files = { 'package.json': '{"type":"module"}', 'node_modules/index.js': 'exports.handler = async () => 42;\n' };
        expect((await run(rt, files, 'node_modules/index.handler')).payload).toBe(42);
      }));

    it('a .js file with ESM syntax and no package type is an ES module (Node 22+ syntax detection; the RIC test is xit)', () =>
      withRuntime(async ({ rt }) => {
        expect((await run(rt, PKG_LESS, 'esmModule.handler')).payload).toBe('Hello from ESM.js');
      }));
  });

  describe('issue #14: module-format differences', () => {
    it('1. index.cjs with `export` is Runtime.UserCodeSyntaxError "SyntaxError: Unexpected token \'export\'"', () =>
      withRuntime(async ({ rt }) => {
        expect(errorOf(await run(rt, { 'index.cjs': "export const handler = async () => 'loaded';" }, 'index.handler'))).toMatchObject({
          errorType: 'Runtime.UserCodeSyntaxError',
          errorMessage: "SyntaxError: Unexpected token 'export'",
        });
      }));

    it('1. a CommonJS file deep in the graph with ESM syntax fails INIT the same way', () =>
      withRuntime(async ({ rt }) => {
        const files = { 'index.mjs': "import { x } from './lib.cjs'; export const handler = async () => x;", 'lib.cjs': 'export const x = 1;' };
        expect(errorOf(await run(rt, files, 'index.handler'))).toMatchObject({
          errorType: 'Runtime.UserCodeSyntaxError',
          errorMessage: "SyntaxError: Unexpected token 'export'",
        });
      }));

    it("2. exports.handler in an .mjs: \"exports is not defined in ES module scope\"", () =>
      withRuntime(async ({ rt }) => {
        expect(errorOf(await run(rt, { 'index.mjs': 'exports.handler = async () => 1;' }, 'index.handler'))).toMatchObject({
          errorType: 'ReferenceError',
          errorMessage: 'exports is not defined in ES module scope',
        });
      }));

    it("2. require('node:os') in an .mjs is a ReferenceError, and `typeof require` is 'undefined' as in Node", () =>
      withRuntime(async ({ rt }) => {
        expect(errorOf(await run(rt, { 'index.mjs': "const os = require('node:os');\nexport const handler = async () => 1;" }, 'index.handler'))).toMatchObject({
          errorType: 'ReferenceError',
          errorMessage: 'require is not defined in ES module scope, you can use import instead',
        });
        const typeOf = await run(rt, { 'index.mjs': 'export const handler = async () => typeof require;' }, 'index.handler');
        expect(typeOf.payload).toBe('undefined');
        // Inside the handler (after INIT) Node's module job adds nothing: the plain V8 message.
        const later = await run(rt, { 'index.mjs': "export const handler = async () => require('node:os');" }, 'index.handler');
        expect(errorOf(later)).toMatchObject({ errorType: 'ReferenceError', errorMessage: 'require is not defined' });
        // A require the module declares itself is its own.
        const own = await run(rt, {
          'index.mjs': "const require = (id) => `own ${id}`;\nexport const handler = async () => require('x');",
        }, 'index.handler');
        expect(own.payload).toBe('own x');
      }));

    it("4. import { nope } from './lib.mjs' that does not export it: Node's SyntaxError", () =>
      withRuntime(async ({ rt }) => {
        const files = { 'index.mjs': "import { nope } from './lib.mjs';\nexport const handler = async () => nope;", 'lib.mjs': 'export const x = 1;' };
        expect(errorOf(await run(rt, files, 'index.handler'))).toMatchObject({
          errorType: 'Runtime.UserCodeSyntaxError',
          errorMessage: "SyntaxError: The requested module './lib.mjs' does not provide an export named 'nope'",
        });
      }));

    it("4. import x from 'nope': errorType Error, \"Cannot find package 'nope' imported from /var/task/index.mjs\"", () =>
      withRuntime(async ({ rt, logs }) => {
        const result = await run(rt, { 'index.mjs': "import x from 'nope';\nexport const handler = async () => x;" }, 'index.handler');
        const error = errorOf(result);
        expect(error).toMatchObject({ errorType: 'Error', errorMessage: "Cannot find package 'nope' imported from /var/task/index.mjs" });
        expect(error.trace![0]).toBe("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'nope' imported from /var/task/index.mjs");
        const line = logs.lines.find((l) => l.includes('Uncaught Exception'))!;
        const json = JSON.parse(line.slice(line.indexOf('\t{') + 1)) as Record<string, unknown>;
        expect(Object.keys(json)).toEqual(['errorType', 'errorMessage', 'code', 'stack']);
        expect(json.code).toBe('ERR_MODULE_NOT_FOUND');
      }));

    it('5. a syntax error reads as V8 words it, never as esbuild does', () =>
      withRuntime(async ({ rt }) => {
        for (const [file, source, message] of [
          ['index.js', 'exports.handler = async () => {\n', 'SyntaxError: Unexpected end of input'],
          ['index.mjs', 'export const handler = async () => {\n', 'SyntaxError: Unexpected end of input'],
          ['index.mjs', 'const y = = 2;\nexport const handler = async () => y;', "SyntaxError: Unexpected token '='"],
          ['index.cjs', 'let let = 1;', "SyntaxError: let is disallowed as a lexically bound name"],
        ] as const) {
          const error = errorOf(await run(rt, { [file]: source }, 'index.handler'));
          expect(error).toMatchObject({ errorType: 'Runtime.UserCodeSyntaxError', errorMessage: message });
          expect(error.trace![0]).toBe(`Runtime.UserCodeSyntaxError: ${message}`);
        }
      }));
  });
});
