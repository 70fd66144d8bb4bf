/**
 * Node's built-in modules inside the sandbox: `require('fs')` / `import 'node:fs'` in a bundle call
 * `resolveBuiltin(name)` (code/plugins.ts rewrites them). Each module is made on first use and
 * cached (its code is loaded then: stdlib-loader.ts), so the standard library costs a cold start
 * almost nothing until a handler needs it.
 *
 * Modules lambdalet cannot offer (processes, sockets, ...) load as stubs with Node's export shapes
 * (stdlib/unavailable-module.ts): data keeps its value, classes construct, and only an operation
 * throws "not available in lambdalet": libraries import `net` or `child_process` at their top
 * level for one optional feature, and must still load.
 */
import { nodeError } from './bridge.ts';
import { snapStartModule } from './snapstart.ts';
import { errorBase } from './stack-header.ts';
import { stdlib } from './stdlib-loader.ts';
import type { ExportShape } from './stdlib/unavailable-module.ts';

type Factory = () => unknown;
type Stream = typeof import('./stdlib/stream.ts');
type Fs = typeof import('./stdlib/fs.ts');
type Net = typeof import('./stdlib/net.ts');

/** node:fs, with its stream classes loaded on first use (their own chunk: stdlib/fs-streams.ts). */
function fsModule(): Fs['fs'] {
  const chunk = stdlib<Fs>('fs');
  chunk.installStreams(() => stdlib<typeof import('./stdlib/fs-streams.ts')>('fs-streams').fsStreams);
  return chunk.fs;
}

/**
 * node:stream/web, with CompressionStream and DecompressionStream as Node exports them (its
 * lib/stream/web.js): read from the zlib chunk on first use, so the streams alone load no zlib.
 */
function webStreamsModule(): Record<string, unknown> {
  const module: Record<string, unknown> = { ...stdlib<typeof import('./stdlib/streams.ts')>('streams').streams };
  for (const name of ['CompressionStream', 'DecompressionStream']) {
    Object.defineProperty(module, name, {
      enumerable: true,
      configurable: true,
      get: () => {
        const value = (stdlib<typeof import('./stdlib/zlib.ts')>('zlib') as unknown as Record<string, unknown>)[name];
        Object.defineProperty(module, name, { value, writable: true, enumerable: true, configurable: true });
        return value;
      },
    });
  }
  return module;
}

const factories: Record<string, Factory> = {
  fs: fsModule,
  'fs/promises': () => (resolveBuiltin('fs') as Fs['fs']).promises,
  path: () => stdlib<typeof import('./stdlib/path.ts')>('path').path,
  'path/posix': () => stdlib<typeof import('./stdlib/path.ts')>('path').path,
  buffer: () => stdlib<typeof import('./stdlib/buffer.ts')>('buffer').bufferModule,
  events: () => stdlib<typeof import('./stdlib/events.ts')>('events').events,
  util: () => stdlib<typeof import('./stdlib/util.ts')>('util').util,
  'util/types': () => stdlib<typeof import('./stdlib/util.ts')>('util').util.types,
  crypto: () => stdlib<typeof import('./stdlib/crypto.ts')>('crypto').cryptoModule,
  url: () => stdlib<typeof import('./stdlib/url.ts')>('url').urlModule,
  os: () => stdlib<typeof import('./stdlib/os.ts')>('os').os,
  timers: () => stdlib<typeof import('./stdlib/timers.ts')>('timers').timers,
  'timers/promises': () => stdlib<typeof import('./stdlib/timers.ts')>('timers').timersPromises,
  string_decoder: () => stdlib<Stream>('stream').stringDecoderModule,
  stream: () => stdlib<Stream>('stream').stream,
  'stream/promises': () => stdlib<Stream>('stream').streamPromises,
  'stream/consumers': () => stdlib<Stream>('stream').streamConsumers,
  'stream/web': webStreamsModule,
  zlib: () => stdlib<typeof import('./stdlib/zlib.ts')>('zlib').zlib,
  querystring: () => stdlib<typeof import('./stdlib/querystring.ts')>('querystring').querystring,
  assert: () => stdlib<typeof import('./stdlib/assert.ts')>('assert').assert,
  'assert/strict': () => stdlib<typeof import('./stdlib/assert.ts')>('assert').assertStrict,
  async_hooks: () => stdlib<typeof import('./stdlib/async-hooks.ts')>('async-hooks').asyncHooks,
  diagnostics_channel: () => stdlib<typeof import('./stdlib/diagnostics-channel.ts')>('diagnostics-channel').diagnosticsChannel,
  perf_hooks: () => stdlib<typeof import('./stdlib/perf-hooks.ts')>('perf-hooks').perfHooks,
  tty: () => stdlib<typeof import('./stdlib/tty.ts')>('tty').tty,
  readline: () => stdlib<typeof import('./stdlib/readline.ts')>('readline').readline,
  'readline/promises': () => stdlib<typeof import('./stdlib/readline.ts')>('readline').readlinePromises,
  module: () => stdlib<typeof import('./stdlib/module.ts')>('module').moduleModule,
  worker_threads: () => stdlib<typeof import('./stdlib/worker-threads.ts')>('worker-threads').workerThreads,
  http: () => stdlib<typeof import('./stdlib/http.ts')>('http').http,
  https: () => stdlib<typeof import('./stdlib/http.ts')>('http').https,
  dns: () => stdlib<typeof import('./stdlib/dns.ts')>('dns').dns,
  // Client sockets served by the host (stdlib/net.ts); servers and the rest stay Node's stubs.
  net: () => stdlib<Net>('net').netModule(unavailableStub('net', 'net') as Record<string, unknown>),
  tls: () => stdlib<Net>('net').tlsModule(unavailableStub('tls', 'tls') as Record<string, unknown>),
  'dns/promises': () => stdlib<typeof import('./stdlib/dns.ts')>('dns').dnsPromises,
  sys: () => resolveBuiltin('util'),
  process: () => globalThis.process,
  console: () => globalThis.console,
  // Not Node's: SnapStart's runtime hooks (code/plugins.ts routes this specifier here).
  'lambdalet/snapstart': () => snapStartModule,
};

const cache = new Map<string, unknown>();

export function resolveBuiltin(name: string): unknown {
  const key = String(name).replace(/^node:/, '');
  if (key.startsWith(MISSING_MODULE_PREFIX)) throw missingModule(key.slice(MISSING_MODULE_PREFIX.length), String(name));
  if (cache.has(key)) return cache.get(key);
  // An absolute path the bundle left to run time (`require(path.join(__dirname, 'plugins', name))`):
  // the package's file, loaded as Node's CommonJS loader would (stdlib/cjs-loader.ts).
  if (key.startsWith('/')) return stdlib<typeof import('./stdlib/cjs-loader.ts')>('cjs-loader').requireFrom(key, '/var/task');
  const factory = Object.prototype.hasOwnProperty.call(factories, key) ? factories[key] : undefined;
  const value = factory ? factory() : unavailableStub(key, String(name));
  cache.set(key, value);
  return value;
}

function unavailableError(what: string): Error {
  return nodeError(
    Error,
    'ERR_LAMBDALET_MODULE_UNAVAILABLE',
    `${what} is not available in lambdalet: handlers run in a sandbox without processes, sockets or native modules. ` +
      `Available modules: ${Object.keys(factories).sort().join(', ')}`,
  );
}

/**
 * A require (or lowered `import()`) the bundle left to run time, because esbuild found no module and
 * the call sits in a try/catch (an optional dependency: `try { require('encoding') } catch {}`), or
 * because its name is computed. Node's MODULE_NOT_FOUND, so `if (e.code !== 'MODULE_NOT_FOUND')
 * throw e` lets it pass as in Node (before: ERR_LAMBDALET_MODULE_UNAVAILABLE, which such code
 * rethrew); the importer is not known here, so there is no Require stack.
 */
function moduleNotFound(name: string): Error {
  return nodeError(
    Error,
    'MODULE_NOT_FOUND',
    `Cannot find module '${name}'\n` +
      '(lambdalet bundles a function at deploy: a module esbuild could not find, or a computed name, is not in the bundle; Node built-ins load at run time)',
  );
}

/**
 * The external the bundler leaves for a `require()` or `import()` of a module that is not there
 * (code/containment.ts `MISSING_MODULE_PREFIX`, the same text, then the error as JSON): outside the
 * package and the layers, or a package no directory holds. Thrown anew at each call, as Node does.
 */
const MISSING_MODULE_PREFIX = 'lambdalet:missing-module:';

type NodeErrorClass = new (message: string) => Error & { code: string };
let nodeErrorClass: NodeErrorClass | undefined;

/**
 * Node's NodeError: the code in the stack's header and in toString (lib/internal/errors.js). Made on
 * first use, over the Error the guest runs with (QuickJS: the stand-in of guest/stack-header.ts).
 */
function NodeErrorClass(): NodeErrorClass {
  nodeErrorClass ??= class NodeError extends errorBase() {
    declare code: string;
    override toString(): string {
      return `${this.name} [${this.code}]: ${this.message}`;
    }
  };
  return nodeErrorClass;
}

function missingModule(json: string, name: string): Error {
  let shape: { code?: unknown; message?: unknown; requireStack?: unknown; url?: unknown };
  try {
    shape = JSON.parse(json) as typeof shape;
  } catch {
    return moduleNotFound(name);
  }
  const message = String(shape.message);
  if (shape.code === 'ERR_MODULE_NOT_FOUND') {
    const error = nodeError(NodeErrorClass(), 'ERR_MODULE_NOT_FOUND', message) as Error & { code: string; url?: string };
    if (typeof shape.url === 'string') error.url = shape.url;
    // The header is formatted when `stack` is first read (V8; QuickJS: guest/stack-header.ts).
    Object.defineProperty(error, 'name', { value: 'Error [ERR_MODULE_NOT_FOUND]', configurable: true, writable: true, enumerable: false });
    void error.stack;
    delete (error as { name?: string }).name;
    return error;
  }
  const error = nodeError(Error, 'MODULE_NOT_FOUND', message) as Error & { requireStack?: string[] };
  if (Array.isArray(shape.requireStack)) error.requireStack = shape.requireStack.map(String);
  return error;
}

/** Node's stub for a built-in lambdalet cannot offer (stdlib/unavailable-module.ts); an unknown name throws at once. */
function unavailableStub(key: string, name: string): object {
  const modules = stdlib<Record<string, Record<string, ExportShape> | undefined>>('unavailable');
  const shapes = Object.prototype.hasOwnProperty.call(modules, key) ? modules[key] : undefined;
  if (!shapes && !name.startsWith('node:') && !stdlib<typeof import('./stdlib/module.ts')>('module').moduleModule.isBuiltin(key)) throw moduleNotFound(name);
  if (!shapes) {
    // A `node:`-only built-in (node:sqlite, node:test, node:sea): Node's, not offered here.
    if (name.startsWith('node:') && stdlib<typeof import('./stdlib/module.ts')>('module').moduleModule.isBuiltin(name)) throw unavailableError(`The Node.js module '${name}'`);
    throw unavailableError(`'${key}' is not a Node.js built-in module and`);
  }
  return stdlib<typeof import('./stdlib/unavailable-module.ts')>('unavailable-module').unavailableModule(key, shapes);
}
