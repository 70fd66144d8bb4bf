/**
 * esbuild plugins that make a bundle behave as the user's code does under Node on Lambda, while
 * leaving nothing for a module loader to do: Node built-ins become calls into the guest runtime,
 * and each file gets its own `import.meta` / `__dirname` / `__filename`.
 */

import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { extname, relative, sep } from 'node:path';
import { transform, type Loader, type Plugin } from 'esbuild';
import { moduleFormat } from './locate-module.ts';

/** The key under which the guest runtime installs its built-in module loader. */
export const BUILTIN_SYMBOL_KEY = 'lambdalet.builtin';

/** The identifier `import.meta` is rewritten to (esbuild `define`); each ESM file declares it. */
export const IMPORT_META_IDENTIFIER = '__lambdalet$importMeta';

/** Where Lambda mounts the package. */
export const TASK_ROOT = '/var/task';

const BUILTIN_NAMESPACE = 'lambdalet-builtin';
const NATIVE_ADDON_NAMESPACE = 'lambdalet-native-addon';

/** Loaders by extension, for the files the meta plugin reads itself. */
export const LOADERS: Readonly<Record<string, Loader>> = {
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.json': 'json',
  '.txt': 'text',
};

/**
 * Resolves `fs`, `node:fs`, `fs/promises`, ... to a tiny CommonJS module that asks the guest
 * runtime for the real thing. CommonJS, so both `import { readFile } from 'fs'` and
 * `require('fs')` work: esbuild's interop reads named imports off `module.exports`.
 */
export function builtinsPlugin(): Plugin {
  return {
    name: 'lambdalet-builtins',
    setup(build) {
      // SnapStart's runtime hooks come from the guest runtime, whatever node_modules holds (the
      // package's own `lambdalet/snapstart` export is its host-side stand-in, for types and tests).
      build.onResolve({ filter: /^lambdalet\/snapstart$/ }, (args) => ({ path: args.path, namespace: BUILTIN_NAMESPACE }));
      build.onResolve({ filter: /^(?:node:)?[a-z_][a-z0-9_/]*$/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        // `node:test` and friends exist only with the prefix; keep it where Node requires it.
        const bare = args.path.replace(/^node:/, '');
        const name = isBuiltin(bare) ? bare : args.path;
        return { path: name, namespace: BUILTIN_NAMESPACE };
      });
      // A native addon (.node: machine code for Node's own process) cannot run in a sandbox; the
      // bundle keeps a module that says so when it is loaded, so INIT fails with that message.
      build.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, namespace: NATIVE_ADDON_NAMESPACE }));
      build.onLoad({ filter: /.*/, namespace: NATIVE_ADDON_NAMESPACE }, (args) => ({
        contents: `const e = new Error(${JSON.stringify(`Cannot load ${args.path}: it is a native addon (a .node file, machine code for Node's own process), and lambdalet runs handlers in a sandbox without native modules`)}); e.code = 'ERR_LAMBDALET_MODULE_UNAVAILABLE'; throw e;`,
        loader: 'js',
      }));
      build.onLoad({ filter: /.*/, namespace: BUILTIN_NAMESPACE }, (args) => ({
        contents: `module.exports = globalThis[Symbol.for(${JSON.stringify(BUILTIN_SYMBOL_KEY)})](${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/** Where a line-1 declaration was spliced into a file, so stack positions can be shifted back. */
export interface Splice {
  /** 1-based line the declaration sits on. */
  readonly line: number;
  /** Characters inserted at the start of that line. */
  readonly length: number;
}

/**
 * Gives each file its own location. esbuild's `define` is global to a build, so per-file values
 * are declared in the file itself, on its first line and without a newline so no line number moves
 * (the column shift on that line is recorded in `splices`, keyed by the path the source map uses):
 *
 * - ESM files mentioning `import.meta` get `var __lambdalet$importMeta = {url, filename, dirname}`
 *   and `define` rewrites `import.meta` to it; a leftover `import.meta` would be a syntax error in
 *   a script.
 * - CommonJS files mentioning `__dirname` / `__filename` get them declared as Node's wrapper does.
 *
 * Files that mention neither are left to esbuild to read, untouched.
 */
export function locationPlugin(root: string, splices: Map<string, Splice>): Plugin {
  return {
    name: 'lambdalet-location',
    setup(build) {
      build.onLoad({ filter: /\.(?:[cm]?[jt]s|[jt]sx)$/, namespace: 'file' }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        const usesMeta = text.includes('import.meta');
        const usesCjsNames = /__(?:dir|file)name/.test(text);
        const mentionsRequire = /\brequire\b/.test(text);
        if (!usesMeta && !usesCjsNames && !mentionsRequire) return undefined;
        const format = await moduleFormat(args.path, undefined);
        if (!usesMeta && !(usesCjsNames && format === 'cjs') && !(mentionsRequire && format === 'esm')) return undefined;
        const filename = taskPath(root, args.path);
        const dirname = filename.slice(0, filename.lastIndexOf('/')) || '/';
        let declaration = '';
        if (usesMeta) {
          const meta = { url: `file://${encodeURI(filename)}`, filename, dirname };
          declaration += `var ${IMPORT_META_IDENTIFIER} = ${JSON.stringify(meta)};`;
        }
        if (usesCjsNames && format === 'cjs') {
          for (const [name, value] of [['__filename', filename], ['__dirname', dirname]] as const) {
            // A file that declares the name itself (ESM syntax in a type-less package) keeps its own.
            if (text.includes(name) && !declares(text, name)) declaration += `var ${name} = ${JSON.stringify(value)};`;
          }
        }
        const loader = LOADERS[extname(args.path)] ?? 'js';
        if (mentionsRequire && format === 'esm') {
          const rewritten = await withoutFreeRequire(text, args.path, loader, declaration);
          if (rewritten !== undefined) return { contents: rewritten, loader: 'js' };
        }
        if (declaration === '') return { contents: text, loader };
        // After a hashbang line, which must stay first.
        const at = text.startsWith('#!') ? text.indexOf('\n') + 1 : 0;
        if (at === 0 && text.startsWith('#!')) return { contents: text, loader };
        splices.set(relative(root, args.path).split(sep).join('/'), { line: at === 0 ? 1 : 2, length: declaration.length });
        return { contents: text.slice(0, at) + declaration + text.slice(at), loader };
      });
    },
  };
}

/**
 * Stands in for `require` where an ES module uses it without declaring it. Node gives an ES module
 * no `require`: reading it is a ReferenceError and `typeof require` is `'undefined'`. esbuild would
 * instead bundle the call as CommonJS, so such uses are renamed to this identifier (bound nowhere,
 * so esbuild leaves it alone) and renamed back to `require` in the finished bundle, where nothing
 * binds it either (see {@link restoreFreeRequire}).
 */
export const FREE_REQUIRE_PLACEHOLDER = '__lambdalet$freeRequire';

/**
 * The file with its free `require` renamed (esbuild's `define` replaces only unbound identifiers),
 * an inline source map back to the original, and `banner` first; undefined when the file has no
 * free `require` (it only declares or mentions one) or does not parse (esbuild reports that).
 */
async function withoutFreeRequire(text: string, path: string, loader: Loader, banner: string): Promise<string | undefined> {
  try {
    const result = await transform(text, {
      loader,
      sourcefile: path,
      sourcemap: 'inline',
      sourcesContent: false,
      define: { require: FREE_REQUIRE_PLACEHOLDER },
      banner,
      logLevel: 'silent',
    });
    return result.code.includes(FREE_REQUIRE_PLACEHOLDER) ? result.code : undefined;
  } catch {
    return undefined;
  }
}

/** The finished bundle with the free `require`s of ES modules back under their own name. */
export function restoreFreeRequire(code: string): string {
  const routed = routeComputedRequire(code);
  return routed.includes(FREE_REQUIRE_PLACEHOLDER) ? routed.replaceAll(FREE_REQUIRE_PLACEHOLDER, 'require') : routed;
}

/**
 * esbuild's `__require` shim (its runtime helper for a require or import() whose name is computed
 * at run time) looks for a global `require`, which the guest never has, and throws "Dynamic require
 * of ... is not supported". It is replaced by the guest's built-in loader, so `import('node:' + name)`
 * and `require('f' + 's')` resolve as their static forms do (the same cached module). A name that is
 * not a built-in throws the loader's error naming it (every file was bundled at deploy). The shim's
 * text is esbuild's own; test/compat/stdlib-gaps.test.ts fails if it is no longer found.
 */
const ESBUILD_REQUIRE_SHIM = /var __require = \/\* @__PURE__ \*\/ \(\(x\) => typeof require !== "undefined" \? require : [\s\S]*?throw Error\('Dynamic require of "' \+ x \+ '" is not supported'\);\n\}\);/;

/**
 * esbuild's `__glob` helper (the map of files a template-literal or concatenated `require('./p/' +
 * name)` may name) looks a name up as given, so `require('./plugins/' + name)` of plugins/alpha.js
 * failed with esbuild's "Module not found in bundle: ./plugins/alpha" where Node finds alpha.js.
 * Replaced by a lookup with Node's LOAD_AS_FILE / LOAD_INDEX order among the bundled files, and
 * Node's MODULE_NOT_FOUND when none is there. Its text is esbuild's own (5 lines, kept).
 */
const ESBUILD_GLOB_HELPER = /var __glob = \(map\) => \(path\) => \{\n {2}var fn = map\[path\];\n {2}if \(fn\) return fn\(\);\n {2}throw new Error\("Module not found in bundle: " \+ path\);\n\};/;

const NODE_GLOB_HELPER = [
  'var __glob = (map) => (path) => {',
  '  var fn = map[path] || map[path + ".js"] || map[path + ".json"] || map[path + "/index.js"] || map[path + "/index.json"];',
  '  if (fn) return fn();',
  '  throw Object.assign(new Error("Cannot find module \'" + path + "\'"), { code: "MODULE_NOT_FOUND" });',
  '};',
].join('\n');

function routeComputedRequire(code: string): string {
  // The replacement keeps the shim's line count: the source map was made for esbuild's text, and
  // every frame below a shorter shim would map to the wrong line (issue #12: an error logged by a
  // handler bundled with pino read `errlog.ts:6994:15` for line 6, or `1:1`).
  return code
    .replace(ESBUILD_REQUIRE_SHIM, (shim) =>
      `var __require = (name) => globalThis[Symbol.for(${JSON.stringify(BUILTIN_SYMBOL_KEY)})](String(name));${'\n'.repeat(shim.split('\n').length - 1)}`)
    .replace(ESBUILD_GLOB_HELPER, NODE_GLOB_HELPER);
}

/**
 * The path a file has under Lambda: `/var/task/...` inside the package. Outside it (a `code.entry`'s
 * dependencies in the project's node_modules above the entry's folder), a package file is where a
 * deployment zip with its node_modules would hold it, `/var/task/node_modules/...` (from the path's
 * first node_modules): stack frames, `__filename` and `import.meta.url` name no host folder. Any
 * other file outside keeps its own path.
 */
export function taskPath(root: string, file: string): string {
  const inside = relative(root, file);
  if (inside.startsWith('..') || inside === '' || /^[A-Za-z]:/.test(inside) || inside.startsWith(sep)) {
    const modules = inside === '' ? -1 : file.indexOf(`${sep}node_modules${sep}`);
    return modules < 0 ? file : `${TASK_ROOT}/${file.slice(modules + 1).split(sep).join('/')}`;
  }
  return `${TASK_ROOT}/${inside.split(sep).join('/')}`;
}

function declares(text: string, name: string): boolean {
  return new RegExp(`\\b(?:var|let|const|function|class|import)\\s+${name.replace(/\$/g, '\\$')}\\b`).test(text);
}
