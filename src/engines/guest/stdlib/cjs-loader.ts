/**
 * Node's CommonJS loader at run time, for the package files a bundle cannot hold: a function's
 * code is bundled at deploy (static imports and requires, and esbuild's globs for template-literal
 * ones), but Node also loads what a require names only when it runs — `createRequire(import.meta.url)
 * ('./package.json')` in an ES module, a plugin loader's `require(path.join(__dirname, 'plugins',
 * name))`. Those are read here from the package's files (/var/task, the layers under /opt, as the
 * function's file system has them) and evaluated in the sandbox, as Node's Module._load would: the
 * resolution of LOAD_AS_FILE / LOAD_AS_DIRECTORY / LOAD_NODE_MODULES (nodejs.org/api/modules.html,
 * "All together"), package.json `main` and `exports` (conditions "require", "node", "default"),
 * `#` specifiers through the nearest package.json's `imports` (LOAD_PACKAGE_IMPORTS: pdfkit names
 * its fonts so), `.js`, `.cjs` and `.json` files, one cache per environment (`require.cache`).
 *
 * Not loaded: ES modules (`.mjs`, or `.js` under `"type": "module"`) — without a module loader in
 * the sandbox they need a static import, which the bundle holds — and native addons. Each fails
 * with an error that says so.
 */
import { host, nodeError } from '../bridge.ts';

interface Stats {
  isFile(): boolean;
  isDirectory(): boolean;
}
interface Fs {
  readFileSync(path: string, encoding: 'utf8'): string;
  statSync(path: string, options: { throwIfNoEntry: false }): Stats | undefined;
}
type Path = typeof import('node:path');

/** A loaded module, as Node's Module has it (the fields CommonJS code reads). */
export interface CjsModule {
  id: string;
  filename: string;
  path: string;
  exports: unknown;
  loaded: boolean;
  children: CjsModule[];
  paths: string[];
  parent?: CjsModule | null;
  require: NodeJS.Require;
}

// Captured before user code runs: a handler that replaces globalThis.eval cannot intercept loading.
const indirectEval = eval;
/** `require.cache` / `Module._cache`: one per environment, keyed by file name. */
export const cache: Record<string, CjsModule> = Object.create(null) as Record<string, CjsModule>;
const EXTENSIONS = ['.js', '.json', '.node'];
const CONDITIONS = ['require', 'node', 'default'];

// The names of Node 24's built-ins (module.builtinModules), fixed at build time (guest-bundle.ts).
declare const LAMBDALET_BUILTIN_MODULES: readonly string[];
export const builtinModules: readonly string[] = Object.freeze([...LAMBDALET_BUILTIN_MODULES]);
const builtinSet = new Set(builtinModules);

export function isBuiltin(name: unknown): boolean {
  if (typeof name !== 'string') return false;
  return builtinSet.has(name) || (name.startsWith('node:') && builtinSet.has(name.slice(5)));
}

const fs = (): Fs => host.resolveBuiltin('fs') as Fs;
const path = (): Path => host.resolveBuiltin('path') as Path;

function stat(file: string): Stats | undefined {
  try {
    return fs().statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
const isFile = (file: string): boolean => stat(file)?.isFile() === true;

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(fs().readFileSync(file, 'utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function notFound(request: string, stack: readonly string[]): Error {
  const error = nodeError(Error, 'MODULE_NOT_FOUND', `Cannot find module '${request}'${stack.length > 0 ? `\nRequire stack:\n- ${stack.join('\n- ')}` : ''}`) as Error & {
    requireStack?: string[];
  };
  error.requireStack = [...stack];
  return error;
}

function loadAsFile(file: string): string | undefined {
  if (isFile(file)) return file;
  for (const extension of EXTENSIONS) if (isFile(file + extension)) return file + extension;
  return undefined;
}

function loadIndex(dir: string): string | undefined {
  for (const extension of EXTENSIONS) if (isFile(`${dir}/index${extension}`)) return `${dir}/index${extension}`;
  return undefined;
}

function loadAsDirectory(dir: string): string | undefined {
  const manifest = readJson(`${dir}/package.json`);
  if (typeof manifest?.main === 'string' && manifest.main !== '') {
    const main = path().resolve(dir, manifest.main);
    return loadAsFile(main) ?? loadIndex(main) ?? loadIndex(dir);
  }
  return loadIndex(dir);
}

/** A package.json `exports` target for `subpath` ('.' or './x'), under {@link CONDITIONS}. */
function exportsTarget(exports: unknown, subpath: string): string | undefined {
  const subpaths = typeof exports === 'object' && exports !== null && !Array.isArray(exports) && Object.keys(exports).some((key) => key.startsWith('.'));
  if (!subpaths) return subpath === '.' ? conditionalTarget(exports) : undefined;
  return mappedTarget(exports as Record<string, unknown>, subpath);
}

/** The target `map` (package.json `exports` subpaths or `imports`) gives `key`: exact, else a `*` pattern. */
function mappedTarget(map: Record<string, unknown>, key: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(map, key)) return conditionalTarget(map[key]);
  for (const [pattern, value] of Object.entries(map)) {
    const star = pattern.indexOf('*');
    if (star < 0) continue;
    const prefix = pattern.slice(0, star);
    const suffix = pattern.slice(star + 1);
    if (key.startsWith(prefix) && key.endsWith(suffix) && key.length >= pattern.length - 1) {
      const target = conditionalTarget(value);
      return target?.replaceAll('*', key.slice(prefix.length, key.length - suffix.length));
    }
  }
  return undefined;
}

/** A target under {@link CONDITIONS}: a string, the first of an array that resolves, or a conditions object's. */
function conditionalTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = conditionalTarget(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (CONDITIONS.includes(key)) {
      const found = conditionalTarget(inner);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Node's PACKAGE_IMPORTS_RESOLVE for a `#` specifier required from the directory `from`
 * (`importer`: the requiring file, for Node's messages): the nearest package.json's `imports`; a
 * target that is not relative (`./`) is a package, resolved from that package's folder.
 */
function loadPackageImports(request: string, from: string, importer: string): string {
  const p = path();
  if (request === '#' || request.startsWith('#/')) {
    throw nodeError(TypeError, 'ERR_INVALID_MODULE_SPECIFIER', `Invalid module "${request}" is not a valid internal imports specifier name imported from ${importer}`);
  }
  for (let dir = from; ; dir = p.dirname(dir)) {
    const manifest = readJson(`${dir}/package.json`);
    if (manifest !== undefined) {
      const imports = manifest.imports;
      const target = typeof imports === 'object' && imports !== null && !Array.isArray(imports) ? mappedTarget(imports as Record<string, unknown>, request) : undefined;
      if (target === undefined) {
        throw nodeError(TypeError, 'ERR_PACKAGE_IMPORT_NOT_DEFINED', `Package import specifier "${request}" is not defined in package ${dir}/package.json imported from ${importer}`);
      }
      if (!target.startsWith('./')) {
        const found = loadNodeModules(target, dir);
        if (found === undefined) throw notFound(target, []);
        return found;
      }
      const file = p.resolve(dir, target);
      // Node names the mapped file, without a Require stack (its ESM resolver's error).
      if (!isFile(file)) throw notFound(file, []);
      return file;
    }
    if (dir === '/' || p.basename(dir) === 'node_modules') {
      throw nodeError(TypeError, 'ERR_PACKAGE_IMPORT_NOT_DEFINED', `Package import specifier "${request}" is not defined imported from ${importer}`);
    }
  }
}

function nodeModulesPaths(from: string): string[] {
  const dirs: string[] = [];
  const parts = from.split('/');
  for (let i = parts.length; i > 0; i--) {
    if (parts[i - 1] === 'node_modules') continue;
    dirs.push(`${parts.slice(0, i).join('/') || ''}/node_modules`);
  }
  const nodePath = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NODE_PATH;
  for (const dir of (nodePath ?? '').split(':')) if (dir !== '' && !dirs.includes(dir)) dirs.push(dir);
  return dirs;
}

function loadNodeModules(request: string, from: string): string | undefined {
  const scoped = request.startsWith('@');
  const segments = request.split('/');
  const name = segments.slice(0, scoped ? 2 : 1).join('/');
  const rest = segments.slice(scoped ? 2 : 1).join('/');
  for (const dir of nodeModulesPaths(from)) {
    const root = `${dir}/${name}`;
    const manifest = readJson(`${root}/package.json`);
    if (manifest?.exports !== undefined) {
      const target = exportsTarget(manifest.exports, rest === '' ? '.' : `./${rest}`);
      if (target !== undefined && isFile(path().resolve(root, target))) return path().resolve(root, target);
      if (stat(root)?.isDirectory()) continue;
    }
    const file = `${dir}/${request}`;
    const found = loadAsFile(file) ?? loadAsDirectory(file);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Node's require.resolve from the directory `from`: the file `request` names. */
export function resolveFrom(request: string, from: string, stack: readonly string[] = []): string {
  if (typeof request !== 'string' || request === '') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'id' must be a non-empty string. Received ${typeof request === 'string' ? "''" : String(request)}`);
  }
  const p = path();
  let found: string | undefined;
  if (request.startsWith('#')) {
    return loadPackageImports(request, from, stack[0] ?? `${from}/`);
  } else if (request.startsWith('/') || request.startsWith('./') || request.startsWith('../') || request === '.' || request === '..') {
    const target = p.resolve(from, request);
    found = loadAsFile(target) ?? loadAsDirectory(target);
  } else {
    found = loadNodeModules(request, from);
  }
  if (found === undefined) throw notFound(request, stack);
  return found;
}

function isModuleSyntaxFile(file: string): boolean {
  if (file.endsWith('.mjs')) return true;
  if (!file.endsWith('.js')) return false;
  const p = path();
  for (let dir = p.dirname(file); ; dir = p.dirname(dir)) {
    const manifest = readJson(`${dir}/package.json`);
    if (manifest !== undefined) return manifest.type === 'module';
    if (dir === '/' || p.basename(dir) === 'node_modules') return false;
  }
}

function makeRequire(module: CjsModule): NodeJS.Require {
  const stack = (): string[] => {
    const files: string[] = [];
    for (let m: CjsModule | null | undefined = module; m; m = m.parent) files.push(m.filename);
    return files;
  };
  const require = (request: string): unknown => requireFrom(request, module.path, module, stack());
  const resolve = (request: string): string => (isBuiltin(request) ? request : resolveFrom(request, module.path, stack()));
  resolve.paths = (request: string): string[] | null => (isBuiltin(request) ? null : nodeModulesPaths(module.path));
  return Object.assign(require, { resolve, cache: cache as unknown as NodeJS.Require['cache'], main: undefined, extensions: Object.create(null) as NodeJS.RequireExtensions });
}

/**
 * `require(request)` as a module in the directory `from` makes it: a built-in, or a package file
 * loaded and evaluated once per environment. `parent` and `stack` give Node's Require stack.
 */
export function requireFrom(request: string, from: string, parent: CjsModule | null = null, stack: readonly string[] = []): unknown {
  if (isBuiltin(request)) return host.resolveBuiltin(request);
  const filename = resolveFrom(request, from, stack);
  const cached = cache[filename];
  if (cached) return cached.exports;
  if (filename.endsWith('.node')) {
    throw nodeError(Error, 'ERR_DLOPEN_FAILED', `Cannot load ${filename}: it is a native addon (machine code for Node's own process), which cannot run in lambdalet's sandbox`);
  }
  if (isModuleSyntaxFile(filename)) {
    throw nodeError(
      Error,
      'ERR_REQUIRE_ESM',
      `require() of ES Module ${filename} not supported: lambdalet loads CommonJS and JSON files at run time; import the ES module statically, so that the deploy's bundle holds it`,
    );
  }
  const p = path();
  const module: CjsModule = {
    id: filename,
    filename,
    path: p.dirname(filename),
    exports: {},
    loaded: false,
    children: [],
    paths: nodeModulesPaths(p.dirname(filename)),
    parent,
    require: undefined as unknown as NodeJS.Require,
  };
  module.require = makeRequire(module);
  parent?.children.push(module);
  cache[filename] = module;
  try {
    const source = fs().readFileSync(filename, 'utf8');
    if (filename.endsWith('.json')) {
      try {
        module.exports = JSON.parse(source.charCodeAt(0) === 0xfeff ? source.slice(1) : source);
      } catch (error) {
        (error as Error).message = `${filename}: ${(error as Error).message}`;
        throw error;
      }
    } else {
      // Node's wrapper; a shebang line is a comment to Node. The sourceURL names the file in stacks.
      const body = source.startsWith('#!') ? `//${source}` : source;
      const wrapper = indirectEval(`(function (exports, require, module, __filename, __dirname) {${body}\n})\n//# sourceURL=${filename}`) as (
        ...args: unknown[]
      ) => void;
      Reflect.apply(wrapper, module.exports, [module.exports, module.require, module, filename, module.path]);
    }
  } catch (error) {
    delete cache[filename];
    throw error;
  }
  module.loaded = true;
  return module.exports;
}
