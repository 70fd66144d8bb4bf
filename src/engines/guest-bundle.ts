/**
 * The guest runtime, written once for every JS engine: one script (guest/index.ts and what it
 * imports; bundled for v8, and for QuickJS without what only an engine with WebAssembly uses) plus
 * the standard library (guest/stdlib/) as separate CommonJS chunks that the guest loads on first
 * use through the `stdlib` host call, which the engines answer from here. Keeping the library out
 * of the script keeps cold starts cheap: QuickJS in shared isolation parses the whole script at a
 * boot that finds no spare runtime (quickjs/in-thread.ts), and instance isolation boots from an
 * image of it (quickjs/runtime-image.ts).
 *
 * A published build ships them prebuilt (scripts/build-guest.ts writes guest-runtime.js,
 * guest-runtime-quickjs.js and guest-stdlib.json beside this module); from source they are bundled with esbuild on first use,
 * once per checkout: the bundle is kept in node_modules/.cache, keyed by the sources (guest-cache.ts).
 */
import { existsSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import { cachedGuestRuntime } from './guest-cache.ts';
import { formatjsPatches } from './guest-intl-build.ts';
import { coreJsUrlPatches } from './guest-url-build.ts';
import { INTL_LANGUAGES, INTL_VARIANTS, intlDataChunk, intlGroupChunk } from './guest-intl-locales.ts';

export interface GuestRuntime {
  /** Script source whose completion value is the guest's `install(log, userModule, hostCall) → dispatch` (v8 guests). */
  readonly script: string;
  /**
   * The same runtime for QuickJS guests: without guest/wasm-ledger.ts (a quarter of the script),
   * which only an engine with WebAssembly installs. QuickJS in shared isolation parses the script at
   * every boot, and instance isolation writes the image of it into every new instance.
   */
  readonly quickjsScript: string;
  /** Standard-library chunk name → CommonJS source. */
  readonly stdlib: Readonly<Record<string, string>>;
}

let cached: Promise<GuestRuntime> | undefined;

/** In a worker thread or child process that hosts sandboxes: the guest runtime its host already built. */
export function useGuestRuntime(runtime: GuestRuntime): void {
  cached = Promise.resolve(runtime);
}

/** The guest runtime, built or read once per process. */
export function guestRuntime(): Promise<GuestRuntime> {
  cached ??= load();
  return cached;
}

/** Script source whose completion value is the guest's `install(log, userModule, hostCall) → dispatch`. */
export async function guestRuntimeSource(): Promise<string> {
  return (await guestRuntime()).script;
}

async function load(): Promise<GuestRuntime> {
  try {
    const [script, quickjsScript, stdlib] = await Promise.all([
      readFile(new URL('./guest-runtime.js', import.meta.url), 'utf8'),
      readFile(new URL('./guest-runtime-quickjs.js', import.meta.url), 'utf8'),
      readFile(new URL('./guest-stdlib.json', import.meta.url), 'utf8'),
    ]);
    return { script, quickjsScript, stdlib: JSON.parse(stdlib) as Record<string, string> };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return (await cachedGuestRuntime(buildGuest)).runtime;
  }
}

/**
 * Wraps an environment's host-call handler so the guest's `stdlib` calls are answered with the
 * library's chunks (the environment never sees them).
 */
export function withStandardLibrary(
  stdlib: Readonly<Record<string, string>>,
  next: (op: string, args: string) => string,
): (op: string, args: string) => string {
  return (op, args) => {
    if (op !== 'stdlib') return next(op, args);
    let name: unknown;
    try {
      name = (JSON.parse(args) as unknown[])[0];
    } catch {
      name = undefined;
    }
    const source = typeof name === 'string' ? chunkSource(stdlib, name) : undefined;
    if (source === undefined) return `e${JSON.stringify({ name: 'Error', message: `lambdalet: no standard library chunk ${String(name)}` })}`;
    return `o${JSON.stringify(source)}`;
  };
}

/** What a compressed chunk's text starts with (then base64 of brotli): intl locale data groups. */
const BROTLI = '//brotli:';

/**
 * A chunk's source: its own entry, or for a locale's Intl data (`intl-data-de-CH`), its entry in the
 * compressed group of its language (`intl-locales-de`), inflated here on first use. The last few
 * groups inflated stay inflated (a process that formats in German keeps asking for German).
 */
function chunkSource(stdlib: Readonly<Record<string, string>>, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(stdlib, name)) {
    const source = stdlib[name];
    return source === undefined || source.startsWith(BROTLI) ? undefined : source;
  }
  if (!name.startsWith('intl-data-')) return undefined;
  const group = intlGroupChunk(name.slice('intl-data-'.length));
  let groups = inflated.get(stdlib);
  if (!groups) inflated.set(stdlib, (groups = new Map<string, Record<string, string>>()));
  let sources = groups.get(group);
  if (!sources) {
    const packed = Object.prototype.hasOwnProperty.call(stdlib, group) ? stdlib[group] : undefined;
    if (packed === undefined || !packed.startsWith(BROTLI)) return undefined;
    sources = unpackGroup(brotliDecompressSync(Buffer.from(packed.slice(BROTLI.length), 'base64')).toString('utf8'));
    if (groups.size >= INFLATED_GROUPS) groups.delete(groups.keys().next().value!);
    groups.set(group, sources);
  } else {
    // Most recently used last: the oldest is the one dropped.
    groups.delete(group);
    groups.set(group, sources);
  }
  return Object.prototype.hasOwnProperty.call(sources, name) ? sources[name] : undefined;
}
const INFLATED_GROUPS = 4;

/**
 * A group's chunks as one text: a JSON line of [name, length] pairs, then the sources one after the
 * other (slicing them out costs nothing; a JSON object of them took a JSON.parse of megabytes).
 */
function packGroup(sources: Readonly<Record<string, string>>): string {
  return `${JSON.stringify(Object.entries(sources).map(([name, source]) => [name, source.length]))}\n${Object.values(sources).join('')}`;
}
function unpackGroup(text: string): Record<string, string> {
  const newline = text.indexOf('\n');
  const out: Record<string, string> = {};
  let at = newline + 1;
  for (const [name, length] of JSON.parse(text.slice(0, newline)) as [string, number][]) {
    out[name] = text.slice(at, at + length);
    at += length;
  }
  return out;
}
const inflated = new WeakMap<object, Map<string, Record<string, string>>>();

/** Whether a chunk is stored compressed (never handed to a guest as it is). */
export function isCompressedChunk(source: string): boolean {
  return source.startsWith(BROTLI);
}

/** The standard library's entries (guest/stdlib/*.ts), each loaded by the guest on first use. */
const STDLIB_ENTRIES = ['abort', 'array-from-async', 'assert', 'async-hooks', 'buffer', 'cjs-loader', 'clone', 'console', 'crypto', 'date', 'diagnostics-channel', 'disposable', 'dns', 'encoding', 'error-stack',
  'events', 'fetch', 'fs', 'fs-streams', 'http', 'inspect', 'intl', 'intl-collator', 'intl-install', 'intl-locale', 'intl-segmenter', 'intl-tz', 'messaging', 'module', 'navigator', 'net', 'os', 'path', 'perf-hooks',
  'querystring', 'readline', 'response-stream', 'stream', 'streams', 'timers', 'tty', 'unavailable-module', 'url', 'url-pattern',
  'util', 'worker-threads', 'zlib'];

/**
 * Inside the library, the specifiers the ports (readable-stream, browserify-zlib, assert) import
 * resolve to the library's own modules, so each exists once: `stream` is readable-stream's copy
 * of Node's lib/stream.js; `qs` is Node's querystring; `process` is the guest's process object; `abort-controller` (which
 * readable-stream falls back to while the lazy globals read as absent) is the library's own.
 */
function stdlibAliases(dir: string): Record<string, string> {
  return {
    stream: 'readable-stream/lib/stream.js',
    'abort-controller': `${dir}abort.ts`,
    // The `url` package (node:url's legacy API) parses queries with `qs`; Node's uses querystring.
    qs: 'querystring-es3',
  };
}

/** Bundles engines/guest/ into its script and its library chunks (used by the build and from source). */
export async function buildGuest(): Promise<GuestRuntime> {
  const [script, quickjsScript, stdlib] = await Promise.all([buildGuestRuntime(), buildGuestRuntime('quickjs'), buildStandardLibrary()]);
  return { script, quickjsScript, stdlib };
}

/**
 * What a QuickJS guest's script has in place of guest/wasm-ledger.ts: QuickJS has no WebAssembly,
 * so there is nothing to bound. Should this script ever run in an engine that has one, it fails
 * closed: the global goes (and V8's `gc`, which the ledger would have taken), never left unbounded.
 */
const NO_WASM_LEDGER = `export function installWasmLedger() {
  for (const name of ['WebAssembly', 'gc']) if (Object.getOwnPropertyDescriptor(globalThis, name)?.configurable) delete globalThis[name];
}
export function setWasmBudget() {}
`;

/**
 * Bundles engines/guest/index.ts into one script: for v8 guests, or (`quickjs`) for QuickJS's,
 * without the WebAssembly ledger.
 */
export async function buildGuestRuntime(engine: 'v8' | 'quickjs' = 'v8'): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./guest/index.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'neutral',
    target: 'es2023',
    // Readable names: guest frames appear in users' stack traces (`at startInvocation`).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    plugins:
      engine === 'quickjs'
        ? [
            {
              name: 'lambdalet-no-wasm-ledger',
              setup(b) {
                b.onResolve({ filter: /^\.\/wasm-ledger\.ts$/ }, () => ({ path: 'wasm-ledger', namespace: 'lambdalet-no-wasm-ledger' }));
                b.onLoad({ filter: /.*/, namespace: 'lambdalet-no-wasm-ledger' }, () => ({ contents: NO_WASM_LEDGER, loader: 'js' }));
              },
            },
          ]
        : [],
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error('esbuild produced no guest runtime');
  // Strict, as Node's own built-ins are: a sloppy function owns 'arguments' and 'caller', so every
  // stand-in (Date, ArrayBuffer, Buffer's methods, Intl's wrappers) showed two keys Node's lack.
  return `(function(){"use strict";var module={exports:{}},exports=module.exports;${code}\nreturn module.exports.default;})()`;
}

/**
 * guest/stdlib as CommonJS chunks keyed by name (`fs`, `chunk-ABC123`): esbuild's code splitting
 * (ESM only) keeps a module that several entries share in one chunk, then each chunk is turned into
 * CommonJS for the guest's loader (guest/stdlib-loader.ts). The runtime's own modules the library
 * imports (bridge) stay the runtime's: they are external, resolved by the loader.
 */
async function buildStandardLibrary(): Promise<Record<string, string>> {
  const { build, transform } = await import('esbuild');
  const dir = fileURLToPath(new URL('./guest/stdlib/', import.meta.url));
  const unavailable = await unavailableModules();
  const http = await import('node:http');
  const locales = intlLocales();
  const result = await build({
    entryPoints: {
      ...Object.fromEntries(STDLIB_ENTRIES.map((name) => [name, `${dir}${name}.ts`])),
      ...Object.fromEntries(locales.map((tag) => [intlDataChunk(tag), `lambdalet-intl-data:${tag}`])),
    },
    bundle: true,
    splitting: true,
    write: false,
    outdir: '/stdlib',
    format: 'esm',
    platform: 'neutral',
    // The polyfills (buffer, events, path-browserify) are CommonJS packages with only `main`.
    mainFields: ['module', 'main'],
    target: 'es2023',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    alias: stdlibAliases(dir),
    // Aliases resolve from the working directory: the package's own root, whatever the host's cwd.
    absWorkingDir: fileURLToPath(new URL('../../', import.meta.url)),
    define: {
      LAMBDALET_BUILTIN_MODULES: JSON.stringify(unavailable.builtins),
      // node:http's data, as this Node has it.
      LAMBDALET_HTTP_METHODS: JSON.stringify(http.METHODS),
      LAMBDALET_STATUS_CODES: JSON.stringify(http.STATUS_CODES),
    },
    plugins: [
      formatjsPatches,
      coreJsUrlPatches,
      {
        // A locale's chunk: its data for each polyfill (and its language's plural rules).
        name: 'lambdalet-intl-data',
        setup(b) {
          b.onResolve({ filter: /^lambdalet-intl-data:/ }, (args) => ({ path: args.path.slice('lambdalet-intl-data:'.length), namespace: 'lambdalet-intl-data' }));
          b.onResolve({ filter: /^lambdalet:intl-locales$/ }, () => ({ path: 'intl-locales', namespace: 'lambdalet-intl-locales' }));
          b.onLoad({ filter: /.*/, namespace: 'lambdalet-intl-locales' }, () => ({ contents: `export default ${JSON.stringify(locales)};`, loader: 'js' }));
          b.onLoad({ filter: /.*/, namespace: 'lambdalet-intl-data' }, (args) => ({
            contents: intlDataFiles(args.path).map((file) => `import ${JSON.stringify(file)};`).join('\n'),
            loader: 'js',
            resolveDir: fileURLToPath(new URL('../../', import.meta.url)),
          }));
        },
      },
      {
        name: 'lambdalet-runtime-modules',
        setup(b) {
          // From stdlib/ (`../bridge.ts`) or a folder of it (`../../bridge.ts`).
          b.onResolve({ filter: /^(\.\.\/)+bridge\.ts$/ }, () => ({ path: 'lambdalet:bridge', external: true }));
          // node-inspect-extracted, two engine fixes: it copies Atomics' methods at load (QuickJS has
          // no Atomics), and it prints `err.stack` as is (QuickJS's stack has only the frames: V8's
          // starts with `Name: message`, which Node's output shows first).
          b.onLoad({ filter: /node-inspect-extracted[\\/]dist[\\/]inspect\.js$/ }, async (args) => {
            let source = await readFile(args.path, 'utf8');
            for (const [from, to] of [
              ['y(globalThis[t],e,t)', 'globalThis[t]&&y(globalThis[t],e,t)'],
              ['if("string"==typeof n)return n;', 'if("string"==typeof n)return n.startsWith("    at ")?`${M(e)}\\n${n.replace(/\\n$/,"")}`:n;'],
            ] as const) {
              if (!source.includes(from)) throw new Error(`node-inspect-extracted changed: re-check the patch of ${from}`);
              source = source.replace(from, to);
            }
            return { contents: source, loader: 'js' };
          });
          // feross/buffer lacks Node's `base64url`: its own module adds it (stdlib/buffer-base64url.ts), so
          // every importer of `buffer` in the library gets the one patched Buffer.
          b.onLoad({ filter: /[\\/]node_modules[\\/]buffer[\\/]index\.js$/ }, async (args) => {
            const source = await readFile(args.path, 'utf8');
            if (!source.includes('exports.Buffer = Buffer')) throw new Error('buffer changed: re-check the base64url patch');
            return { contents: `${source}\nrequire(${JSON.stringify(`${dir}buffer-base64url.ts`)}).addBase64Url(Buffer);\n`, loader: 'js', resolveDir: dirname(args.path) };
          });
          b.onLoad({ filter: /[\\/]node_modules[\\/]string_decoder[\\/]lib[\\/]string_decoder\.js$/ }, async (args) => {
            const source = await readFile(args.path, 'utf8');
            if (!source.includes('exports.StringDecoder = StringDecoder')) throw new Error('string_decoder changed: re-check the base64url patch');
            return { contents: `${source}\nrequire(${JSON.stringify(`${dir}buffer-base64url.ts`)}).addBase64UrlDecoder(exports);\n`, loader: 'js', resolveDir: dirname(args.path) };
          });
          // core-js's DisposableStack and AsyncDisposableStack make the SuppressedError of a disposal
          // that threw twice without a message; V8's (Node 24) says "An error was suppressed during
          // disposal" (stdlib/disposable.ts).
          b.onLoad({ filter: /[\\/]core-js-pure[\\/]modules[\\/]es\.(async-)?disposable-stack\.constructor\.js$/ }, async (args) => {
            const source = await readFile(args.path, 'utf8');
            const made = /new SuppressedError\((\w+), suppressed\)/;
            if (!made.test(source)) throw new Error(`${args.path} changed: re-check the SuppressedError message patch`);
            return { contents: source.replace(made, "new SuppressedError($1, suppressed, 'An error was suppressed during disposal')"), loader: 'js', resolveDir: dirname(args.path) };
          });
          // The `process` package (a browser shim with a setTimeout-based nextTick): the guest's own process.
          b.onResolve({ filter: /^process\/?$/ }, () => ({ path: 'process', namespace: 'lambdalet-process' }));
          b.onLoad({ filter: /.*/, namespace: 'lambdalet-process' }, () => ({ contents: 'module.exports = globalThis.process;', loader: 'js' }));
        },
      },
    ],
  });
  const chunks: Record<string, string> = { unavailable: `module.exports=${JSON.stringify(unavailable.modules)};` };
  const groups = new Map<string, Record<string, string>>();
  for (const file of result.outputFiles) {
    const name = file.path.replace(/^.*\//, '').replace(/\.js$/, '');
    const cjs = await transform(file.text, { format: 'cjs', target: 'es2023', minifyWhitespace: true, minifySyntax: true });
    if (name.startsWith('intl-data-')) {
      const group = intlGroupChunk(name.slice('intl-data-'.length));
      groups.set(group, { ...groups.get(group), [name]: cjs.code });
    } else {
      chunks[name] = cjs.code;
    }
  }
  // A language's locales together, so brotli finds what a variant repeats of its base locale.
  // Quality 9, not 11: `npm run build` took 50.3 CPU-s at 11 and 20.1 at 9, for 2,396,239 and
  // 2,814,019 bytes of these chunks (+0.42 MB of a 6.7 MB guest-stdlib.json); at 11 the build's
  // compression had doubled the packed-install test's CPU (27.8 -> 61.8 CPU-s in npm's children) and
  // every checkout's install paid it too (issue #12: the suite's time).
  for (const [group, sources] of groups) {
    const packed = brotliCompressSync(packGroup(sources), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_LGWIN]: 24 } });
    chunks[group] = BROTLI + packed.toString('base64');
  }
  return chunks;
}

const INTL_PACKAGES = ['intl-numberformat', 'intl-datetimeformat', 'intl-relativetimeformat', 'intl-listformat'];

function formatjsDataFile(pkg: string, tag: string): string | undefined {
  const specifier = `@formatjs/${pkg}/locale-data/${tag}.js`;
  try {
    return existsSync(fileURLToPath(import.meta.resolve(specifier))) ? specifier : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The locales of the set (guest-intl-locales.ts) that every polyfill has data for, 'en' aside (the
 * `intl` chunk has it): each gets a chunk.
 */
function intlLocales(): string[] {
  const tags = [...INTL_LANGUAGES, ...INTL_VARIANTS].filter((tag) => tag !== 'en');
  for (const tag of tags) {
    for (const pkg of INTL_PACKAGES) if (!formatjsDataFile(pkg, tag)) throw new Error(`@formatjs/${pkg} has no data for ${tag}: re-check guest-intl-locales.ts`);
  }
  return tags;
}

/** A locale's data files: each polyfill's, and the plural rules of the locale or else of its language. */
function intlDataFiles(tag: string): string[] {
  const files = INTL_PACKAGES.map((pkg) => formatjsDataFile(pkg, tag)!);
  const language = tag.split('-')[0]!;
  const plural = formatjsDataFile('intl-pluralrules', tag) ?? (language === 'en' ? undefined : formatjsDataFile('intl-pluralrules', language));
  return plural ? [...files, plural] : files;
}

/** The Node built-ins the guest offers (guest/builtins.ts); every other one gets a stub. */
export const AVAILABLE_BUILTINS: ReadonlySet<string> = new Set(['assert', 'assert/strict', 'async_hooks', 'buffer', 'console', 'crypto',
  'diagnostics_channel', 'events', 'fs', 'fs/promises', 'http', 'https', 'module', 'os', 'path', 'path/posix', 'perf_hooks', 'process',
  'querystring', 'readline', 'readline/promises', 'stream', 'stream/consumers', 'stream/promises', 'stream/web', 'string_decoder', 'sys', 'timers', 'timers/promises', 'tty',
  'url', 'util', 'util/types', 'worker_threads', 'zlib']);

type ExportShape = 'f' | { readonly c: readonly string[] } | { readonly v: unknown };

/** A class: a function whose prototype has methods of its own, or whose name is capitalised. */
function exportShape(value: unknown): ExportShape | undefined {
  if (typeof value === 'function') {
    const proto = (value as { prototype?: object }).prototype;
    const methods = proto ? Object.getOwnPropertyNames(proto).filter((key) => key !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, key)?.value === 'function') : [];
    return methods.length > 0 || /^[A-Z]/.test(value.name) ? { c: methods } : 'f';
  }
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return { v: value };
  if (typeof value === 'object') {
    try {
      // Data only (constants tables): an object that holds functions or cycles is left out.
      const json = JSON.stringify(value, (_key, inner: unknown) => {
        if (typeof inner === 'function' || typeof inner === 'symbol' || typeof inner === 'bigint') throw new Error('not data');
        return inner;
      });
      return json === undefined ? undefined : { v: JSON.parse(json) as unknown };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Each built-in the guest does not offer → the shapes of its exports, read from this Node at
 * build time (guest/stdlib/unavailable-module.ts makes the stub): functions throw when called,
 * classes construct and their methods throw, data keeps its value. Also Node's list of built-ins.
 */
async function unavailableModules(): Promise<{ modules: Record<string, Record<string, ExportShape>>; builtins: string[] }> {
  const { builtinModules, createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const out: Record<string, Record<string, ExportShape>> = {};
  // Loading some modules warns (punycode's deprecation, experimental modules): not for the host's output.
  const emitWarning = Object.getOwnPropertyDescriptor(process, 'emitWarning');
  process.emitWarning = () => {};
  try {
    for (const name of builtinModules) {
      // `node:`-only modules (node:test, node:sqlite...) are not stubbed: requiring one fails at once.
      if (AVAILABLE_BUILTINS.has(name) || name.startsWith('_') || name.startsWith('node:')) continue;
      const shapes: Record<string, ExportShape> = {};
      try {
        const exported = require(`node:${name}`) as Record<string, unknown>;
        for (const key of Object.keys(exported)) {
          if (!/^[A-Za-z_$][\w$]*$/.test(key)) continue;
          const shape = exportShape(exported[key]);
          if (shape !== undefined) shapes[key] = shape;
        }
      } catch {
        // A module this Node cannot load gets no exports.
      }
      out[name] = shapes;
    }
  } finally {
    if (emitWarning) Object.defineProperty(process, 'emitWarning', emitWarning);
    else delete (process as { emitWarning?: unknown }).emitWarning; // back to the prototype's
  }
  // As Node 24 lists them, `node:`-only ones (node:sqlite, node:test...) included.
  return { modules: out, builtins: [...builtinModules] };
}
