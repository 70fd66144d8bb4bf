/**
 * From a function's code package to the one script the guest runs.
 *
 * The pipeline: parse the handler string → put the package on disk → find the handler's module as
 * the RIC would → bundle it with esbuild → wrap the bundle into one async-function expression.
 * Problems in the user's code come back as the init failure Lambda reports; invalid input (a bad
 * zip, a package over the limits) is thrown.
 */

import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { InvalidParameterValueException } from '../errors.ts';
import { bundleModule } from './build.ts';
import { esmSyntaxInCommonJs, failureFromBuild, moduleNotFound, requiredAsyncModule } from './failures.ts';
import { isInitFailure, parseHandler, type ParsedHandler } from './handler-string.ts';
import { resolveLimits, type BundleLimits } from './limits.ts';
import { describe, locateModule, type LocatedModule } from './locate-module.ts';
import { materialise, type MaterialisedPackage } from './materialise.ts';
import { restoreFreeRequire, taskPath } from './plugins.ts';
import { createStackRemapper } from './stack-remap.ts';
import type { BundleOutcome, CodeSource, FunctionBundle } from './types.ts';
import { WRAPPER_LINE_OFFSET, wrapBundle } from './wrap.ts';

export type { BundleOutcome, CodeSource, FunctionBundle, InitFailure } from './types.ts';
export { MAX_PACKAGE_ENTRIES, MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES, type BundleLimits } from './limits.ts';
export { BUILTIN_SYMBOL_KEY } from './plugins.ts';

/**
 * Bundles the function whose code is `code` and whose handler string is `handler`.
 *
 * @returns `{ ok: true, bundle }`, or `{ ok: false, failure }` for a problem Lambda reports at init
 *   (malformed handler, module or dependency not found, syntax error).
 * @throws InvalidParameterValueException for input Lambda refuses at deploy time: an unreadable or
 *   unsafe zip, a package over the limits, a missing directory or entry file, or an `entry` whose
 *   name does not match the handler.
 */
export async function bundleFunction(
  code: CodeSource,
  handler: string,
  options?: BundleLimits,
  resolution?: ModuleResolution,
): Promise<BundleOutcome> {
  const parsed = parseHandler(handler);
  if (isInitFailure(parsed)) return { ok: false, failure: parsed };
  const limits = resolveLimits(options);
  const pkg = await materialise(code, limits);
  try {
    const module = await findModule(pkg, parsed, handler);
    if (module === undefined) {
      return { ok: false, failure: moduleNotFound(joinModulePath(parsed)) };
    }
    // A package (files, zip, dir) is the function's whole world; an entry file bundles with its project's imports.
    const contained = pkg.entryFile === undefined ? { optRoot: resolution?.optRoot } : undefined;
    const built = await bundleModule(pkg.root, module, resolution?.nodePaths ?? [], contained, limits.maxBundlerBytes);
    if (!built.ok) return { ok: false, failure: await failureFromBuild(built.errors, pkg.root) };
    const asyncRequire = requiredAsyncModule(built.output.code, built.output.metafile, pkg.root);
    if (asyncRequire !== undefined) return { ok: false, failure: asyncRequire };
    const esmInCjs = await esmSyntaxInCommonJs(built.output.metafile, pkg.root, module.file);
    if (esmInCjs !== undefined) return { ok: false, failure: esmInCjs };
    const filename = taskPath(pkg.root, module.file);
    const script = wrapBundle(restoreFreeRequire(built.output.code), built.output.metafile, filename);
    const remap = createStackRemapper({
      map: built.output.map,
      root: pkg.root,
      filename,
      lineOffset: WRAPPER_LINE_OFFSET,
      splices: built.output.splices,
    });
    const bundle: FunctionBundle = {
      script,
      filename,
      handlerPath: parsed.handlerPath,
      handler,
      hash: createHash('sha256').update(script).digest('hex'),
      remapStack: remap,
      ...(module.format === 'esm'
        ? { moduleScope: module.manifest !== undefined && module.file.endsWith('.js') ? { typeModulePackageJson: taskPath(pkg.root, module.manifest) } : {} }
        : {}),
    };
    return { ok: true, bundle };
  } finally {
    await pkg.dispose();
  }
}

/** Where bare imports are looked up besides the package's own node_modules. */
export interface ModuleResolution {
  /**
   * Directories searched after node_modules, in order, as NODE_PATH does: a function's layers put
   * theirs at `/opt/nodejs/node22/node_modules` and `/opt/nodejs/node_modules` (host paths here).
   */
  readonly nodePaths?: readonly string[];
  /** The real path of the directory that plays `/opt` (the layers), when the function has layers. */
  readonly optRoot?: string | undefined;
}

async function findModule(pkg: MaterialisedPackage, parsed: ParsedHandler, handler: string): Promise<LocatedModule | undefined> {
  if (pkg.entryFile === undefined) return locateModule(pkg.root, parsed);
  // A lone entry file plays the package's only module: the handler must name it.
  const expected = basename(pkg.entryFile, extname(pkg.entryFile));
  if (parsed.moduleRoot !== '' || parsed.moduleName !== expected) {
    throw new InvalidParameterValueException(
      'handler',
      `handler '${handler}' does not name the entry file ${basename(pkg.entryFile)}: use '${expected}.<export>'`,
    );
  }
  return describe(pkg.root, pkg.entryFile, undefined);
}

function joinModulePath(parsed: ParsedHandler): string {
  return parsed.moduleRoot === '' ? parsed.moduleName : `${parsed.moduleRoot}/${parsed.moduleName}`;
}
