/**
 * node:module. A function's code is bundled at deploy; what a require names only at run time — a
 * `createRequire()` require's relative or bare name, an absolute path — is loaded from the package's
 * files by the run-time CommonJS loader (cjs-loader.ts), built-ins by the guest runtime.
 */
import { host } from '../bridge.ts';
import { builtinModules, cache, isBuiltin, requireFrom, resolveFrom } from './cjs-loader.ts';

function createRequire(filename: string | URL): NodeJS.Require {
  const from = String(filename instanceof URL ? filename.pathname : filename).replace(/^file:\/\//, '');
  const dir = from.endsWith('/') ? from.slice(0, -1) || '/' : from.slice(0, from.lastIndexOf('/')) || '/';
  const require = (name: string): unknown => (isBuiltin(name) ? host.resolveBuiltin(name) : requireFrom(name, dir, null, [from]));
  const resolve = (name: string): string => (isBuiltin(name) ? name : resolveFrom(name, dir, [from]));
  resolve.paths = (name: string): string[] | null => (isBuiltin(name) ? null : ['/var/task/node_modules', '/opt/nodejs/node_modules']);
  return Object.assign(require, { resolve, cache: cache as unknown as NodeJS.Require['cache'], main: undefined, extensions: Object.create(null) as NodeJS.RequireExtensions });
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
  _cache: cache,
});
