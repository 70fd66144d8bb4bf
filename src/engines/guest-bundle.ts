/**
 * The guest runtime, shared by every JS engine: one script (guest/index.ts and what it imports)
 * plus the standard library (guest/stdlib/) as separate CommonJS chunks that the guest loads on
 * first use through the `stdlib` host call, which the engines answer from here. Keeping the
 * library out of the script keeps cold starts cheap: QuickJS parses its whole script on every boot.
 *
 * A published build ships both prebuilt (scripts/build-guest.ts writes guest-runtime.js and
 * guest-stdlib.json beside this module); from source they are bundled with esbuild on first use,
 * once per process.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface GuestRuntime {
  /** Script source whose completion value is the guest's `install(log, userModule, hostCall) → dispatch`. */
  readonly script: string;
  /** Standard-library chunk name → CommonJS source. */
  readonly stdlib: Readonly<Record<string, string>>;
}

let cached: Promise<GuestRuntime> | undefined;

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
    const [script, stdlib] = await Promise.all([
      readFile(new URL('./guest-runtime.js', import.meta.url), 'utf8'),
      readFile(new URL('./guest-stdlib.json', import.meta.url), 'utf8'),
    ]);
    return { script, stdlib: JSON.parse(stdlib) as Record<string, string> };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return buildGuest();
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
    const source = typeof name === 'string' && Object.prototype.hasOwnProperty.call(stdlib, name) ? stdlib[name] : undefined;
    if (source === undefined) return `e${JSON.stringify({ name: 'Error', message: `lambdalet: no standard library chunk ${String(name)}` })}`;
    return `o${JSON.stringify(source)}`;
  };
}

/** The standard library's entries (guest/stdlib/*.ts), each loaded by the guest on first use. */
const STDLIB_ENTRIES = ['abort', 'buffer', 'clone', 'crypto', 'encoding', 'events', 'fetch', 'fs', 'os', 'path', 'streams', 'timers', 'url', 'util'];

/** Bundles engines/guest/ into its script and its library chunks (used by the build and from source). */
export async function buildGuest(): Promise<GuestRuntime> {
  const [script, stdlib] = await Promise.all([buildGuestRuntime(), buildStandardLibrary()]);
  return { script, stdlib };
}

/** Bundles engines/guest/index.ts into one script. */
export async function buildGuestRuntime(): Promise<string> {
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
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error('esbuild produced no guest runtime');
  return `(function(){var module={exports:{}},exports=module.exports;${code}\nreturn module.exports.default;})()`;
}

/**
 * guest/stdlib as CommonJS chunks keyed by name (`fs`, `chunk-ABC123`): esbuild's code splitting
 * (ESM only) keeps a module that several entries share in one chunk, then each chunk is turned into
 * CommonJS for the guest's loader (guest/stdlib-loader.ts). The runtime's own modules the library
 * imports (bridge, format) stay the runtime's: they are external, resolved by the loader.
 */
async function buildStandardLibrary(): Promise<Record<string, string>> {
  const { build, transform } = await import('esbuild');
  const dir = fileURLToPath(new URL('./guest/stdlib/', import.meta.url));
  const result = await build({
    entryPoints: Object.fromEntries(STDLIB_ENTRIES.map((name) => [name, `${dir}${name}.ts`])),
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
    plugins: [
      {
        name: 'lambdalet-runtime-modules',
        setup(b) {
          b.onResolve({ filter: /^\.\.\/(bridge|format)\.ts$/ }, (args) => ({ path: `lambdalet:${args.path.slice(3, -3)}`, external: true }));
        },
      },
    ],
  });
  const chunks: Record<string, string> = { unavailable: `module.exports=${JSON.stringify(await unavailableModules())};` };
  for (const file of result.outputFiles) {
    const name = file.path.replace(/^.*\//, '').replace(/\.js$/, '');
    const cjs = await transform(file.text, { format: 'cjs', target: 'es2023', minifyWhitespace: true, minifySyntax: true });
    chunks[name] = cjs.code;
  }
  return chunks;
}

/** The Node built-ins the guest offers (guest/builtins.ts); every other one gets a stub. */
const AVAILABLE = new Set(['fs', 'fs/promises', 'path', 'path/posix', 'buffer', 'events', 'util', 'util/types', 'crypto', 'url', 'os',
  'timers', 'timers/promises', 'string_decoder', 'stream/web', 'process', 'console']);

/**
 * Each built-in the guest does not offer → its export names, read from this Node at build time:
 * the guest's stub for it has the same names, each a function that throws "not available in
 * lambdalet", so a library that imports `http` or `stream/promises` for one optional feature still
 * loads, and fails clearly only if that feature is used.
 */
async function unavailableModules(): Promise<Record<string, string[]>> {
  const { builtinModules, createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const out: Record<string, string[]> = {};
  // Loading some modules warns (punycode's deprecation, experimental modules): not for the host's output.
  const emitWarning = Object.getOwnPropertyDescriptor(process, 'emitWarning');
  process.emitWarning = () => {};
  try {
    for (const name of builtinModules) {
      // `node:`-only modules (node:test, node:sqlite...) are not stubbed: requiring one fails at once.
      if (AVAILABLE.has(name) || name.startsWith('_') || name.startsWith('node:')) continue;
      let names: string[] = [];
      try {
        names = Object.keys(require(`node:${name}`) as object).filter((key) => /^[A-Za-z_$][\w$]*$/.test(key));
      } catch {
        names = [];
      }
      out[name] = names;
    }
  } finally {
    if (emitWarning) Object.defineProperty(process, 'emitWarning', emitWarning);
    else delete (process as { emitWarning?: unknown }).emitWarning; // back to the prototype's
  }
  return out;
}
