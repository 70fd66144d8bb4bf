/**
 * Package files a require names only when it runs (issue #12, a new user's trial: "Cannot find
 * module './lib/helper.cjs'" for a file the package has). Node loads them through its CommonJS loader
 * (nodejs.org/api/modules.html, "All together"); the bundle cannot hold them, so the guest loads them
 * from the package's files at run time (stdlib/cjs-loader.ts): `createRequire(import.meta.url)` in
 * an ES module, an absolute path (`path.join(__dirname, ...)`), a concatenated relative name without
 * its extension (esbuild's glob, looked up in Node's order). The expected values are what Node 24
 * answers for the same files (the files written to a folder and run with `node` on the host, its
 * path read as /var/task), but for one: an absolute path's MODULE_NOT_FOUND has no Require stack
 * here (the bundle's run-time require does not know its caller; Node lists it).
 */
import { expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';

const FILES: Record<string, string> = {
  'package.json': '{"name":"pkg","version":"9.9.9"}',
  'lib/helper.cjs': "module.exports = { name: 'helper', dir: __dirname, file: __filename, sub: require('./sub.js'), same: require('./sub') === require('./sub.js') };",
  'lib/sub.js': "module.exports = 'sub of ' + require('path').basename(__dirname);",
  'lib/esm.mjs': 'export default 1;',
  'lib/broken.json': '{ nope',
  'lib/throws.cjs': "throw new Error('at load');",
  'plugins/alpha.js': "module.exports = { plugin: 'alpha', sub: require('../lib/sub.js') };",
  'plugins/gamma/index.js': "module.exports = 'gamma index';",
  'locales/de.json': '{"hello":"Hallo"}',
  'node_modules/cjsdep/package.json': '{"name":"cjsdep","main":"main.js","version":"1.2.3"}',
  'node_modules/cjsdep/main.js': "exports.dep = 'cjsdep ' + require('./package.json').version;",
  'node_modules/withexports/package.json': '{"name":"withexports","exports":{".":{"import":"./esm.mjs","require":"./cjs.cjs"},"./feature":"./feature.cjs"}}',
  'node_modules/withexports/cjs.cjs': "module.exports = 'withexports via require';",
  'node_modules/withexports/feature.cjs': "module.exports = 'withexports/feature';",
  'node_modules/withexports/esm.mjs': "export default 'withexports via import';",
  // pdfkit's layout: its font files named through package.json "imports" at run time.
  'node_modules/fonts/package.json': '{"name":"fonts","main":"index.js","imports":{"#standard-fonts/*":"./js/standard-fonts/*.cjs","#dep":{"import":"./nope.mjs","require":"cjsdep"}}}',
  'node_modules/fonts/js/standard-fonts/Helvetica.cjs': "module.exports = 'Helvetica AFM';",
  'node_modules/fonts/index.js': `const r = (s) => { try { return require(s); } catch (e) { return e.code + ': ' + e.message; } };
module.exports = (name) => [r('#standard-fonts/' + name), r('#dep'), r('#nope'), r('#standard-fonts/Missing'), r('#')];`,
  'cjs.js': `const path = require('path');
exports.handler = async (event) => {
  const out = {};
  const attempt = (name, f) => { try { out[name] = f(); } catch (e) { out[name] = e.code + ': ' + e.message; } };
  attempt('concatenated', () => require('./plugins/' + event.plugin));
  attempt('template', () => require(\`./plugins/\${event.plugin}.js\`));
  attempt('directoryIndex', () => require('./plugins/' + event.index));
  attempt('absolute', () => require(path.join(__dirname, 'plugins', event.plugin)));
  attempt('absoluteCached', () => require(path.join(__dirname, 'plugins', event.plugin)) === require(path.join(__dirname, 'plugins', event.plugin)));
  attempt('absoluteMissing', () => require(path.join(__dirname, 'plugins', 'nope')));
  return out;
};`,
};

const ESM_HANDLER = `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
export const handler = async (event) => {
  const out = {};
  const attempt = (name, f) => { try { out[name] = f(); } catch (e) { out[name] = e.code + ': ' + e.message; } };
  attempt('helper', () => require('./lib/helper.cjs'));
  attempt('json', () => require('./locales/de.json'));
  attempt('packageVersion', () => require('./package.json').version);
  attempt('bare', () => require('cjsdep'));
  attempt('bareCached', () => require('cjsdep') === require('cjsdep'));
  attempt('exportsRequire', () => require('withexports'));
  attempt('exportsSubpath', () => require('withexports/feature'));
  attempt('packageImports', () => require('fonts')(event.font));
  attempt('builtin', () => typeof require('node:fs').readFileSync);
  attempt('resolve', () => require.resolve('./lib/helper.cjs'));
  attempt('resolveBare', () => require.resolve('cjsdep'));
  attempt('missing', () => require('./nope'));
  attempt('brokenJson', () => require('./lib/broken.json'));
  attempt('throwsAtLoad', () => require('./lib/throws.cjs'));
  attempt('throwsAgain', () => require('./lib/throws.cjs'));
  attempt('cache', () => Object.keys(require.cache).filter((key) => key.startsWith('/var/task/lib/')).sort());
  return out;
};`;

forEachEngine(({ engine, withRuntime }) => {
  it('createRequire(import.meta.url) loads package files, JSON, node_modules and package.json "imports" at run time, as Node does', () =>
    withRuntime(async ({ rt }) => {
      const result = await deployAndInvoke(rt, ESM_HANDLER, { font: 'Helvetica' }, { files: FILES });
      const out = result.payload as Record<string, unknown>;
      expect(out.helper).toEqual({ name: 'helper', dir: '/var/task/lib', file: '/var/task/lib/helper.cjs', sub: 'sub of lib', same: true });
      expect(out.json).toEqual({ hello: 'Hallo' });
      expect(out.packageVersion).toBe('9.9.9');
      expect(out.bare).toEqual({ dep: 'cjsdep 1.2.3' });
      expect(out.bareCached).toBe(true);
      expect(out.exportsRequire).toBe('withexports via require');
      expect(out.exportsSubpath).toBe('withexports/feature');
      // package.json "imports" (Node's PACKAGE_IMPORTS_RESOLVE): a pattern, a conditional bare target,
      // and Node 24's three errors for the same files.
      expect(out.packageImports).toEqual([
        'Helvetica AFM',
        { dep: 'cjsdep 1.2.3' },
        'ERR_PACKAGE_IMPORT_NOT_DEFINED: Package import specifier "#nope" is not defined in package /var/task/node_modules/fonts/package.json imported from /var/task/node_modules/fonts/index.js',
        "MODULE_NOT_FOUND: Cannot find module '/var/task/node_modules/fonts/js/standard-fonts/Missing.cjs'",
        'ERR_INVALID_MODULE_SPECIFIER: Invalid module "#" is not a valid internal imports specifier name imported from /var/task/node_modules/fonts/index.js',
      ]);
      expect(out.builtin).toBe('function');
      expect(out.resolve).toBe('/var/task/lib/helper.cjs');
      expect(out.resolveBare).toBe('/var/task/node_modules/cjsdep/main.js');
      // Node: "Cannot find module './nope'\nRequire stack:\n- <the file createRequire was given>".
      expect(out.missing).toBe("MODULE_NOT_FOUND: Cannot find module './nope'\nRequire stack:\n- /var/task/index.mjs");
      // Node prefixes a JSON file's SyntaxError with its path; the parser's words are the engine's.
      expect(out.brokenJson).toMatch(/^undefined: \/var\/task\/lib\/broken\.json: /);
      // A module that throws while loading is not cached: the next require runs it again.
      expect(out.throwsAtLoad).toBe('undefined: at load');
      expect(out.throwsAgain).toBe('undefined: at load');
      expect(out.cache).toEqual(['/var/task/lib/helper.cjs', '/var/task/lib/sub.js']);
    }), SLOW_CASE_LIMIT_MS);

  it('require of a name computed at run time: concatenated and template globs in Node\'s lookup order, absolute paths from the package', () =>
    withRuntime(async ({ rt }) => {
      const result = await deployAndInvoke(rt, FILES['cjs.js']!, { plugin: 'alpha', index: 'gamma' }, { file: 'cjs.js', handler: 'cjs.handler', files: FILES });
      expect(result.payload).toEqual({
        concatenated: { plugin: 'alpha', sub: 'sub of lib' },
        template: { plugin: 'alpha', sub: 'sub of lib' },
        directoryIndex: 'gamma index',
        absolute: { plugin: 'alpha', sub: 'sub of lib' },
        absoluteCached: true,
        absoluteMissing: "MODULE_NOT_FOUND: Cannot find module '/var/task/plugins/nope'",
      });
    }), SLOW_CASE_LIMIT_MS);

  it('an ES module or a native addon named at run time fails saying why (no module loader in the sandbox)', () =>
    withRuntime(async ({ rt }) => {
      const source = `import { createRequire } from 'node:module';
        const require = createRequire(import.meta.url);
        export const handler = async () => { try { require('./lib/esm.mjs'); return 'loaded'; } catch (e) { return e.code + ': ' + e.message; } };`;
      const result = await deployAndInvoke(rt, source, {}, { files: FILES });
      expect(result.payload).toBe(
        "ERR_REQUIRE_ESM: require() of ES Module /var/task/lib/esm.mjs not supported: lambdalet loads CommonJS and JSON files at run time; import the ES module statically, so that the deploy's bundle holds it",
      );
      expect(engine).toMatch(/^(v8|quickjs)$/);
    }), SLOW_CASE_LIMIT_MS);
});
