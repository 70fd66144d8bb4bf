/**
 * A code package is the function's whole world: its imports resolve inside the package (`/var/task`)
 * and the layers (`/opt`), never to the host's files (issue #15).
 *
 * The bundler runs on the host, over the package written to a temporary directory, and esbuild
 * resolves as Node would on that machine: an absolute specifier (`import p from
 * '/srv/app/config.json'`), `../` past the package root, or a bare one found in a `node_modules` of
 * a parent directory reached the host's file system — the file's contents were bundled into the
 * tenant's function (seen: a package of one file read the host's package.json and /etc/hostname).
 * On Lambda such a path names a file of the execution environment, not of anyone's host.
 *
 * Here a specifier is resolved as esbuild would, then kept only when the file is inside an allowed
 * root; otherwise it is "Could not resolve", which the init failure words as Node does (failures.ts:
 * ERR_MODULE_NOT_FOUND / MODULE_NOT_FOUND). Lambda's own absolute paths mean what they mean there:
 * `/var/task/...` is the package and `/opt/...` the layers (such a file's format is decided by its
 * syntax and extension, not its package.json `type`: esbuild gives a path a plugin returns no
 * package type).
 *
 * For `code.dir`, which is the package as much as a zip is, the same holds (a `node_modules` it
 * needs must be inside it, as in a zip); `code.entry` — one file of the caller's own project,
 * bundled with that project's imports — is not contained (code/index.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { OnResolveArgs, OnResolveResult, Plugin, PluginBuild } from 'esbuild';
import { TASK_ROOT } from './plugins.ts';

/** Lambda's mount point of the layers. */
const OPT_ROOT = '/opt';
/** Specifiers that may leave the package: bare, absolute, or with a `..` segment anywhere. */
const ESCAPE_CANDIDATE = /^(?:[^.]|\.[^./]|\.\.)|(?:^|\/)\.\.(?:\/|$)/;
/** Marks the plugin's own `build.resolve` calls, which it must not answer again. */
const OWN_RESOLVE = Symbol('lambdalet-containment');

/** True when `file` is `root` or inside it (both real, absolute paths). */
function inside(root: string, file: string): boolean {
  const rel = relative(root, file);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Keeps every resolved import of the bundle inside `packageRoot` or `optRoot` (real paths of the
 * directories that play `/var/task` and `/opt`; `optRoot` only when the function has layers).
 */
export function containmentPlugin(packageRoot: string, optRoot: string | undefined): Plugin {
  const roots = optRoot === undefined ? [packageRoot] : [packageRoot, optRoot];
  const within = (file: string): boolean => roots.some((root) => inside(root, file));
  // Whether `<dir>/node_modules/<name>` exists, by that path: bare imports are most of a large
  // package's, and a second resolution of each cost a 1.6 MB AWS SDK bundle ~1.3x its time.
  const found = new Map<string, boolean>();
  const manifests = new Map<string, boolean>();
  const hasPackage = (dir: string, name: string): boolean => {
    const path = join(dir, 'node_modules', name);
    let known = found.get(path);
    if (known === undefined) found.set(path, (known = existsSync(path)));
    return known;
  };
  return {
    name: 'lambdalet-containment',
    setup(build) {
      // Every specifier but a plain './x' (which stays under its importer): esbuild asks the plugin
      // (a round trip to this thread) only for those.
      build.onResolve({ filter: ESCAPE_CANDIDATE }, async (args) => {
        if (args.pluginData === OWN_RESOLVE || args.kind === 'entry-point' || (args.namespace !== 'file' && args.namespace !== '')) return undefined;
        const specifier = lambdaPath(args.path, packageRoot, optRoot);
        const pathLike = isAbsolute(specifier) || /^\.\.?(\/|$)/.test(specifier);
        if (pathLike) {
          // A path names its file: inside a root or not, before any resolution (a package from a
          // zip or files holds no symlinks; a code.dir's are followed to their real path, which the
          // load check below holds to the roots too: a pnpm workspace link or `npm link` out of the
          // directory is refused, as the same zip on Lambda would not hold its target).
          if (!within(resolve(args.resolveDir, specifier))) return { errors: [unresolved(args.path, args.kind)] };
          if (specifier === args.path) return undefined;
        } else {
          const pkg = packageInside(args.resolveDir, specifier);
          if (pkg !== undefined) {
            // Its package.json may point its entry out of the package: refused here with the
            // import's kind (the load check below words every such case as an ES import).
            return entryLeaves(pkg) ? { errors: [unresolved(args.path, args.kind)] } : undefined;
          }
        }
        // Lambda's absolute paths, and bare imports no node_modules inside the package holds (the
        // layers' NODE_PATH may, or a parent directory's node_modules on the host): resolved as
        // esbuild would, then kept only inside a root.
        const resolved = await build.resolve(specifier, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          namespace: 'file',
          with: args.with,
          pluginData: OWN_RESOLVE,
        });
        if (resolved.errors.length > 0) return specifier === args.path ? undefined : { errors: [unresolved(args.path, args.kind)] };
        if (!(resolved.external || resolved.namespace !== 'file' || within(resolved.path))) {
          // A parent directory's node_modules (a code.dir in a project or monorepo) does not exist
          // on Lambda: it must not hide the layers' copy, which NODE_PATH finds after the package.
          // Before, `import 'x'` with x in a layer and in the parent's node_modules failed INIT.
          const layered = pathLike ? undefined : await fromLayers(build, specifier, args);
          return layered ?? { errors: [unresolved(args.path, args.kind)] };
        }
        // Allowed: esbuild resolves it again itself, since a path a plugin returns carries no
        // package `type` (esbuild would then decide a `.js` file's format by its syntax, not by
        // its package.json, as Node does). Only Lambda's absolute paths need the path from here.
        if (specifier === args.path) return undefined;
        return { path: resolved.path, namespace: resolved.namespace, external: resolved.external, sideEffects: resolved.sideEffects, suffix: resolved.suffix };
      });
      // The last word, on every file the bundle reads: a bare import found in the package's own
      // node_modules is left to esbuild above, and its package.json (`main`, `module`, `browser`)
      // or a tsconfig's `paths` may name any file — `"main": "../../../../etc/hostname"` bundled
      // the host's file (issue #15). Loading is checked once per file, not per import.
      // The error names the file as seen from /var/task, never by its host path.
      build.onLoad({ filter: /.*/, namespace: 'file' }, (args) =>
        within(args.path) ? undefined : { errors: [unresolved(posix.resolve(TASK_ROOT, relative(packageRoot, args.path).split(sep).join('/')), 'import-statement')] },
      );
    },
  };

  /**
   * A bare import resolved from the layers' NODE_PATH directories alone (in order), as on Lambda when
   * no node_modules of the package holds it; undefined when none does. The path is returned, so
   * esbuild decides the file's format by its syntax and extension rather than its package `type`.
   */
  async function fromLayers(build: PluginBuild, specifier: string, args: OnResolveArgs): Promise<OnResolveResult | undefined> {
    if (optRoot === undefined) return undefined;
    const name = packageName(specifier);
    for (const dir of build.initialOptions.nodePaths ?? []) {
      if (!within(dir) || !existsSync(join(dir, name))) continue;
      // From the directory that holds this node_modules, the walk up finds it first.
      const resolved = await build.resolve(specifier, { kind: args.kind, importer: args.importer, resolveDir: dirname(dir), namespace: 'file', with: args.with, pluginData: OWN_RESOLVE });
      if (resolved.errors.length === 0 && !resolved.external && resolved.namespace === 'file' && within(resolved.path)) {
        return { path: resolved.path, namespace: 'file', sideEffects: resolved.sideEffects, suffix: resolved.suffix };
      }
    }
    return undefined;
  }

  /** The directory of the package `specifier` names, when a node_modules between `dir` and the package root (inclusive) holds it. */
  function packageInside(dir: string, specifier: string): string | undefined {
    const name = packageName(specifier);
    for (let at = dir; within(at); at = dirname(at)) {
      if (hasPackage(at, name)) return join(at, 'node_modules', name);
      if (at === dirname(at)) break;
    }
    return undefined;
  }

  /** Whether the package.json of the package at `dir` names a `main` or `module` outside the roots (read once per package). */
  function entryLeaves(dir: string): boolean {
    let leaves = manifests.get(dir);
    if (leaves === undefined) {
      let manifest: { main?: unknown; module?: unknown } = {};
      try {
        manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof manifest;
      } catch {
        // No or no readable package.json: esbuild's own resolution decides (and the load check holds).
      }
      leaves = [manifest.main, manifest.module].some((entry) => typeof entry === 'string' && !within(resolve(dir, entry)));
      manifests.set(dir, leaves);
    }
    return leaves;
  }
}

/** The package a bare specifier names: `x` of `x/sub`, `@scope/x` of `@scope/x/sub`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** `/var/task/x` and `/opt/x` as the host paths that play them; any other specifier unchanged. */
function lambdaPath(specifier: string, packageRoot: string, optRoot: string | undefined): string {
  if (specifier === TASK_ROOT || specifier.startsWith(`${TASK_ROOT}/`)) return join(packageRoot, specifier.slice(TASK_ROOT.length));
  if (optRoot !== undefined && (specifier === OPT_ROOT || specifier.startsWith(`${OPT_ROOT}/`))) return join(optRoot, specifier.slice(OPT_ROOT.length));
  return specifier;
}

/** esbuild's own words for a specifier it cannot resolve (failures.ts reads them, and the note for `require`). */
function unresolved(specifier: string, kind: string): { text: string; notes: { text: string }[] } {
  return {
    text: `Could not resolve "${specifier}"`,
    notes: kind === 'require-call' || kind === 'require-resolve' ? [{ text: 'You can mark the path as external, or surround this "require" call with a try/catch block to handle this failure at run-time instead of bundle-time.' }] : [],
  };
}
