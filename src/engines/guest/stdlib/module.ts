/**
 * node:module. A function's code is bundled at deploy, so there is no module loader at run time:
 * `createRequire()` returns a require that serves Node's built-ins (what a bundle still reaches
 * for dynamically) and fails for anything else with Node's MODULE_NOT_FOUND, saying why.
 */
import { host, nodeError } from '../bridge.ts';

// The names of Node 24's built-ins (module.builtinModules), fixed at build time (guest-bundle.ts).
declare const LAMBDALET_BUILTIN_MODULES: readonly string[];
const builtinModules: readonly string[] = Object.freeze([...LAMBDALET_BUILTIN_MODULES]);
const builtinSet = new Set(builtinModules);

function isBuiltin(name: unknown): boolean {
  if (typeof name !== 'string') return false;
  return builtinSet.has(name) || (name.startsWith('node:') && builtinSet.has(name.slice(5)));
}

function moduleNotFound(name: string, from: string): Error {
  const error = nodeError(
    Error,
    'MODULE_NOT_FOUND',
    `Cannot find module '${name}'\nRequire stack:\n- ${from}\n` +
      '(lambdalet bundles a function at deploy: only static imports and requires are included, and Node built-ins load at run time)',
  ) as Error & { requireStack?: string[] };
  error.requireStack = [from];
  return error;
}

function createRequire(filename: string | URL): NodeJS.Require {
  const from = String(filename instanceof URL ? filename.pathname : filename).replace(/^file:\/\//, '');
  const require = (name: string): unknown => {
    if (isBuiltin(name)) return host.resolveBuiltin(name);
    throw moduleNotFound(String(name), from);
  };
  const resolve = (name: string): string => {
    if (isBuiltin(name)) return name;
    throw moduleNotFound(String(name), from);
  };
  resolve.paths = (name: string): string[] | null => (isBuiltin(name) ? null : ['/var/task/node_modules', '/opt/nodejs/node_modules']);
  return Object.assign(require, { resolve, cache: Object.create(null) as Record<string, NodeJS.Module>, main: undefined, extensions: Object.create(null) as NodeJS.RequireExtensions });
}

function Module(this: { id: string; exports: object; filename: string | null; loaded: boolean; children: unknown[]; paths: string[] }, id = ''): void {
  this.id = id;
  this.exports = {};
  this.filename = null;
  this.loaded = false;
  this.children = [];
  this.paths = [];
}

export const moduleModule = Object.assign(Module, {
  Module,
  builtinModules,
  isBuiltin,
  createRequire,
  syncBuiltinESMExports: (): void => {},
  register: (): void => {},
  enableCompileCache: () => ({ status: 3, message: 'lambdalet bundles at deploy' }),
  getCompileCacheDir: (): undefined => undefined,
  findSourceMap: (): undefined => undefined,
  _extensions: Object.create(null) as Record<string, unknown>,
  _cache: Object.create(null) as Record<string, unknown>,
});
