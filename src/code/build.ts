/**
 * Running esbuild on a materialised package: one ESM bundle of the handler's module and
 * everything it imports, with an in-memory external source map.
 */

import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { build, stop, type BuildFailure, type BuildOptions, type BuildResult, type Message, type Metafile, type Plugin } from 'esbuild';
import { InvalidParameterValueException } from '../errors.ts';
import { BUNDLER_MAX_RSS_BYTES, BundlerMemoryWatch } from './bundler-memory.ts';
import { containmentPlugin, runTimeMissingPlugin } from './containment.ts';
import type { LocatedModule } from './locate-module.ts';
import { builtinsPlugin, IMPORT_META_IDENTIFIER, LOADERS, locationPlugin, type Splice } from './plugins.ts';
import { ROOT_IDENTIFIER } from './wrap.ts';

/** esbuild's output for one function. */
export interface BuildOutput {
  readonly code: string;
  /** Source map JSON; `sources` are relative to the package root. */
  readonly map: string;
  readonly metafile: Metafile;
  /** Declarations spliced into files (see `locationPlugin`), for exact stack remapping. */
  readonly splices: ReadonlyMap<string, Splice>;
}

// Never written: it only anchors the source map's relative `sources` at the package root.
const OUTFILE_NAME = '__lambdalet_bundle.js';

/**
 * esbuild runs as one long-lived child process ("service") for the whole host. When it dies (the
 * kernel's OOM killer, a signal), esbuild's npm API never starts it again: every later build of
 * every function failed with "The service is no longer running" (issue #15: one package of 10 MB
 * of `x=1;` lines, a 15 KB zip, took esbuild to 2.4 GB; 40 MB, a 61 KB zip, to 9.4 GB). A build
 * that finds it dead calls esbuild's `stop()`, after which the next build starts a new service —
 * once per dead service: `serviceGeneration` counts the services, so a build that failed on an old
 * one never stops the new one.
 */
let serviceGeneration = 0;
const DEAD_SERVICE = /^The service (?:is no longer running|was stopped)/;

/** The generation whose service was killed for its memory, and how much it held then. */
let stoppedForMemory: { generation: number; bytes: number; limit: number } | undefined;
// Killed, not stop()ped: esbuild's stop() leaves the builds in flight waiting for good, while a
// dead process makes them fail ("The service was stopped"), which the catch below turns into the
// refusal and a restart.
const memoryWatch = new BundlerMemoryWatch((pid, bytes, limit) => {
  if (stoppedForMemory?.generation === serviceGeneration) return;
  stoppedForMemory = { generation: serviceGeneration, bytes, limit };
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
});

/**
 * Bundles `module` (inside the package at `root`). With `contained`, every import must resolve
 * inside `root` or `contained.optRoot` (containment.ts). Returns esbuild's errors instead of the
 * output when the user's code cannot be bundled.
 */
export async function bundleModule(
  root: string,
  module: LocatedModule,
  nodePaths: readonly string[] = [],
  contained?: { readonly optRoot?: string | undefined },
  maxBundlerBytes = BUNDLER_MAX_RSS_BYTES,
): Promise<{ ok: true; output: BuildOutput } | { ok: false; errors: readonly Message[] }> {
  const splices = new Map<string, Splice>();
  // The synthetic entry hands the export root to the wrapper. ESM: the namespace object. CommonJS:
  // `require` returns `module.exports` itself, as the RIC's `require` does — `import * as` would
  // wrap it, and `default` interop differs with `__esModule`. `export {}` keeps the entry ESM, so
  // esbuild does not turn it into a CommonJS module with an `export default`.
  const target = JSON.stringify(module.file);
  const contents = module.format === 'esm'
    ? `import * as ns from ${target};\n${ROOT_IDENTIFIER} = ns;\nexport {};\n`
    : `${ROOT_IDENTIFIER} = require(${target});\nexport {};\n`;
  const generation = serviceGeneration;
  memoryWatch.begin(maxBundlerBytes);
  try {
    const options = (late: ReadonlySet<string>): BuildOptions & { write: false; metafile: true } => ({
      stdin: { contents, resolveDir: root, sourcefile: 'lambdalet:entry', loader: 'js' },
      absWorkingDir: root,
      outfile: join(root, OUTFILE_NAME),
      write: false,
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2023',
      // Node's resolution: `main` as Node reads it, `module` only as a fallback for ESM-only
      // packages; the `node` condition (esbuild adds `import` or `require` per import kind, and
      // `default`) so package `exports` pick their Node builds.
      mainFields: ['main', 'module'],
      // NODE_PATH: layers' /opt/nodejs/.../node_modules, searched after the package's own.
      nodePaths: [...nodePaths],
      conditions: ['node'],
      resolveExtensions: ['.js', '.json', '.ts', '.tsx', '.jsx', '.mjs', '.cjs'],
      loader: { ...LOADERS },
      define: { 'import.meta': IMPORT_META_IDENTIFIER },
      // A computed `import('node:' + name)` cannot stay an import(): the guest evaluates a classic
      // script without a module loader. esbuild then lowers it to `__require(name)` (as it already
      // does a computed require()), which plugins.ts points at the guest's built-ins.
      supported: { 'dynamic-import': false },
      sourcemap: 'external',
      sourcesContent: false,
      metafile: true,
      logLevel: 'silent',
      plugins: [
        builtinsPlugin(),
        ...entryFormatPlugin(module),
        ...(contained === undefined ? runTimeMissingPlugin(root, late) : [containmentPlugin(root, contained.optRoot, late)]),
        locationPlugin(root, splices),
      ],
    });
    // A relative require() or import() of a file the package lacks fails only when it runs, as in
    // Node (issue #15): esbuild refused it at bundle time, or inside a try/catch left it to the
    // guest's run-time require, without Node's require stack or import() code. The containment
    // plugin sees only specifiers that may leave the package (containment.ts), so the build runs
    // again with those esbuild could not resolve: the cost falls on such packages only.
    const late = new Set<string>();
    let result: BuildResult<{ write: false; metafile: true }> | undefined;
    for (let pass = 0; result === undefined; pass++) {
      const before = late.size;
      try {
        splices.clear();
        const built = await build(options(late));
        // Left to run time (inside a try/catch), silently: the metafile lists it as external.
        if (pass < LATE_PASSES) for (const specifier of leftToRunTime(built.metafile, contained === undefined)) late.add(specifier);
        if (late.size === before) result = built;
      } catch (error) {
        if (pass < LATE_PASSES) for (const specifier of unresolvedIn((error as Partial<BuildFailure>).errors, contained === undefined)) late.add(specifier);
        if (late.size === before) throw error;
      }
    }
    const js = result.outputFiles.find((file) => file.path.endsWith('.js'));
    const map = result.outputFiles.find((file) => file.path.endsWith('.js.map'));
    if (js === undefined || map === undefined) throw new Error('lambdalet: esbuild produced no bundle');
    return { ok: true, output: { code: js.text, map: map.text, metafile: result.metafile, splices } };
  } catch (error) {
    const errors = (error as Partial<BuildFailure>).errors;
    if (Array.isArray(errors) && errors.length > 0) return { ok: false, errors };
    if (error instanceof Error && DEAD_SERVICE.test(error.message)) {
      if (generation === serviceGeneration) {
        serviceGeneration++;
        await stop();
      }
      if (stoppedForMemory?.generation === generation) {
        throw new InvalidParameterValueException(
          'code',
          `Bundling the package needed more than ${stoppedForMemory.limit} bytes of memory (the bundler held ${stoppedForMemory.bytes}); builds running at the same time were stopped too`,
          { cause: error },
        );
      }
    }
    throw error;
  } finally {
    memoryWatch.end(maxBundlerBytes);
  }
}

/** Builds after the first, each with what the last could not resolve (a failed build names one file's imports at a time). */
const LATE_PASSES = 3;
const RELATIVE = /^\.\.?(\/|$)/;

/**
 * Which specifiers a late pass takes: relative ones for a package (its containment plugin answers
 * bare ones itself); for `code.entry`, bare ones too (runTimeMissingPlugin), but never a built-in's
 * name or one the plugins already made external.
 */
function lateCandidate(specifier: string, entry: boolean): boolean {
  if (RELATIVE.test(specifier)) return true;
  return entry && !isBuiltin(specifier) && !specifier.includes(':') && !specifier.startsWith('/');
}

/** The specifiers of esbuild's "Could not resolve" errors a late pass takes. */
function unresolvedIn(messages: readonly Message[] | undefined, entry: boolean): string[] {
  return (messages ?? []).map((message) => /^Could not resolve "(.*)"$/.exec(message.text)?.[1]).filter((s): s is string => s !== undefined && lateCandidate(s, entry));
}

/** The specifiers of the require() and import() calls esbuild left to run time that a late pass takes. */
function leftToRunTime(metafile: Metafile, entry: boolean): string[] {
  return Object.values(metafile.inputs).flatMap((input) =>
    input.imports.filter((entry_) => entry_.external && (entry_.kind === 'require-call' || entry_.kind === 'dynamic-import') && lateCandidate(entry_.path, entry)).map((entry_) => entry_.path));
}

/**
 * Node and the runtime client stop looking for a package.json `type` at a node_modules folder;
 * esbuild does not, so a handler module in node_modules with no package.json of its own would take
 * `"type": "module"` from the package root. A path a plugin resolves carries no package type in
 * esbuild, which then decides by the file's syntax, as Node decides a module without a type.
 */
function entryFormatPlugin(module: LocatedModule): Plugin[] {
  if (module.format !== 'cjs' || module.manifest !== undefined || !module.file.split(/[\\/]/).includes('node_modules')) return [];
  const filter = new RegExp(`^${module.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return [{
    name: 'lambdalet-entry-format',
    setup(build) {
      build.onResolve({ filter }, () => ({ path: module.file, namespace: 'lambdalet-node-format' }));
      build.onLoad({ filter: /.*/, namespace: 'lambdalet-node-format' }, async (args) => ({
        contents: await readFile(args.path, 'utf8'),
        loader: 'js',
        resolveDir: dirname(args.path),
      }));
    },
  }];
}
