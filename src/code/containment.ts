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
 * root. Otherwise a static `import` is "Could not resolve", which the init failure words as Node does
 * (failures.ts: ERR_MODULE_NOT_FOUND; Node links an ES module's imports before running any of it),
 * while a `require()` or `import()` becomes a module that is not there (`missingModule`): Node throws
 * only when that line runs, so a guarded optional require (`try { require('/etc/x') } catch {}`)
 * must not fail INIT (issue #15). The host file is never read, nor is anything of it bundled. Lambda's own absolute paths mean what they mean there:
 * `/var/task/...` is the package and `/opt/...` the layers (such a file's format is decided by its
 * syntax and extension, not its package.json `type`: esbuild gives a path a plugin returns no
 * package type).
 *
 * For `code.dir`, which is the package as much as a zip is, the same holds (a `node_modules` it
 * needs must be inside it, as in a zip); `code.entry` — one file of the caller's own project,
 * bundled with that project's imports — is not contained (code/index.ts).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { OnResolveArgs, OnResolveResult, Plugin, PluginBuild } from 'esbuild';
import { TASK_ROOT, taskPath } from './plugins.ts';

/** Lambda's mount point of the layers. */
const OPT_ROOT = '/opt';
/** Specifiers that may leave the package: bare, absolute, or with a `..` segment anywhere. */
const ESCAPE_CANDIDATE = /^(?:[^.]|\.[^./]|\.\.)|(?:^|\/)\.\.(?:\/|$)/;
/** The require stack's last entry on Lambda: the runtime client loads the handler. */
const RUNTIME_LOADER = '/var/runtime/index.mjs';
/** Import kinds Node resolves when the line runs, not before the module runs. */
const RUN_TIME_KINDS: ReadonlySet<string> = new Set(['require-call', 'dynamic-import']);
/**
 * The external specifier of a module that is not there: the guest's loader (guest/builtins.ts
 * `MISSING_MODULE_PREFIX`, the same text) throws the error its JSON describes.
 */
export const MISSING_MODULE_PREFIX = 'lambdalet:missing-module:';

/** Directory entries {@link containmentPlugin}'s search for a link out of the package reads at most. */
const LINK_SCAN_ENTRIES = 100_000;

/** A symbolic link inside the package whose target is outside it. */
interface Link {
  /** The link, as Lambda would name it (`/var/task/node_modules/x`). */
  readonly link: string;
  /** What the link holds, as written (`../../packages/x`). */
  readonly target: string;
  /** Its target's real path on the host (never shown). */
  readonly real: string;
}

/** What the user needs to fix a link out of the package: which link, where it points, and why it does not count. */
function linkNote(link: Link): string {
  return `(lambdalet: ${link.link} is a symbolic link to ${link.target}, outside the package directory, whose files alone make the function; ` +
    'install or copy what it holds into the directory (pnpm: `pnpm deploy`, or node-linker=hoisted), or deploy with code.entry, which bundles from the project)';
}

/** What the guest throws for a module that is not there. */
interface MissingModuleError {
  readonly code: 'MODULE_NOT_FOUND' | 'ERR_MODULE_NOT_FOUND';
  readonly message: string;
  readonly requireStack?: readonly string[];
  readonly url?: string;
}

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
export function containmentPlugin(packageRoot: string, optRoot: string | undefined, late: ReadonlySet<string> = new Set()): Plugin {
  const roots = optRoot === undefined ? [packageRoot] : [packageRoot, optRoot];
  const within = (file: string): boolean => roots.some((root) => inside(root, file));
  // Whether `<dir>/node_modules/<name>` exists, by that path: bare imports are most of a large
  // package's, and a second resolution of each cost a 1.6 MB AWS SDK bundle ~1.3x its time.
  const found = new Map<string, boolean>();
  const manifests = new Map<string, boolean>();
  const links = new Map<string, Link | null>();
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
          if (!within(resolve(args.resolveDir, specifier))) return refused(args);
          if (specifier === args.path) return undefined;
        } else {
          const pkg = packageInside(args.resolveDir, specifier);
          const link = pkg === undefined ? undefined : linkOut(pkg);
          // A pnpm or workspace link (`node_modules/x -> ../../packages/x`), `npm link`: the package
          // is not in the directory. Node's words for the import, and which link points where.
          if (link !== undefined) return refused(args, linkNote(link));
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
        if (resolved.errors.length > 0) {
          // A `require('x')` or `import('x')` no directory holds fails when it runs, as in Node (left
          // to esbuild: a bundle-time failure, or inside a try/catch a run-time require whose error
          // had no require stack and, for import(), the wrong code: MODULE_NOT_FOUND).
          // (A `node:` name no built-in has stays the guest loader's: Node's error for it is not this one.)
          if (RUN_TIME_KINDS.has(args.kind) && !specifier.startsWith('node:')) return missingModule(args);
          return specifier === args.path ? undefined : refused(args);
        }
        if (!(resolved.external || resolved.namespace !== 'file' || within(resolved.path))) {
          // A parent directory's node_modules (a code.dir in a project or monorepo) does not exist
          // on Lambda: it must not hide the layers' copy, which NODE_PATH finds after the package.
          // Before, `import 'x'` with x in a layer and in the parent's node_modules failed INIT.
          const layered = pathLike ? undefined : await fromLayers(build, specifier, args);
          return layered ?? refused(args);
        }
        // Allowed: esbuild resolves it again itself, since a path a plugin returns carries no
        // package `type` (esbuild would then decide a `.js` file's format by its syntax, not by
        // its package.json, as Node does). Only Lambda's absolute paths need the path from here.
        if (specifier === args.path) return undefined;
        return { path: resolved.path, namespace: resolved.namespace, external: resolved.external, sideEffects: resolved.sideEffects, suffix: resolved.suffix };
      });
      // Relative specifiers an earlier build of the package could not resolve (build.ts): a
      // `require()` or `import()` of one that is not there fails when it runs, as in Node.
      if (late.size > 0) {
        const filter = new RegExp(`^(?:${[...late].map((specifier) => specifier.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
        build.onResolve({ filter }, async (args) => {
          if (args.pluginData === OWN_RESOLVE || !RUN_TIME_KINDS.has(args.kind) || (args.namespace !== 'file' && args.namespace !== '')) return undefined;
          const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, namespace: 'file', with: args.with, pluginData: OWN_RESOLVE });
          return resolved.errors.length > 0 ? missingModule(args) : undefined;
        });
      }
      // The last word, on every file the bundle reads: a bare import found in the package's own
      // node_modules is left to esbuild above, and its package.json (`main`, `module`, `browser`)
      // or a tsconfig's `paths` may name any file — `"main": "../../../../etc/hostname"` bundled
      // the host's file (issue #15). Loading is checked once per file, not per import.
      // The error names the file as seen from /var/task, never by its host path.
      build.onLoad({ filter: /.*/, namespace: 'file' }, (args) => {
        if (within(args.path)) return undefined;
        // Reached through a symbolic link inside the package (a directory linked out of a code.dir):
        // the file by the link's path, and the link named. Otherwise the file's path as seen from
        // /var/task, never its host path.
        const link = linkLeadingTo(args.path);
        if (link !== undefined) {
          const file = posix.join(link.link, relative(link.real, args.path).split(sep).join('/'));
          return { errors: [{ ...unresolved(file, 'import-statement'), notes: [{ text: linkNote(link) }] }] };
        }
        return { errors: [unresolved(posix.resolve(TASK_ROOT, relative(packageRoot, args.path).split(sep).join('/')), 'import-statement')] };
      });
    },
  };

  /**
   * The answer for an import that leaves the roots: esbuild's error for a static import (the INIT
   * failure), a module that is not there for `require()` and `import()`.
   */
  function refused(args: OnResolveArgs, note?: string): OnResolveResult {
    if (RUN_TIME_KINDS.has(args.kind)) return missingModule(args, note);
    const error = unresolved(args.path, args.kind);
    return { errors: [note === undefined ? error : { ...error, notes: [...error.notes, { text: note }] }] };
  }

  /** A module that is not there, its importer named as Lambda names it. */
  function missingModule(args: OnResolveArgs, note?: string): OnResolveResult {
    return missingModuleResult(args, lambdaFile(args.importer), note);
  }

  /**
   * The symbolic link inside the package through which `dir` (a package found in a node_modules of
   * the package) leaves the roots, or undefined when its real path is inside them. Read once per
   * package directory.
   */
  function linkOut(dir: string): Link | undefined {
    let link = links.get(dir);
    if (link === undefined) {
      link = null;
      let real: string | undefined;
      try {
        real = realpathSync(dir);
      } catch {
        // A dangling link: esbuild's resolution reports it.
      }
      if (real !== undefined && !within(real)) {
        for (let at = dir; at !== packageRoot && inside(packageRoot, at); at = dirname(at)) {
          if (lstatSync(at).isSymbolicLink()) {
            link = { link: lambdaFile(at), target: readlinkSync(at), real: realpathSync(at) };
            break;
          }
        }
      }
      links.set(dir, link);
    }
    return link ?? undefined;
  }

  /**
   * The symbolic link under the package root whose target holds `file` (a real path outside the
   * roots), found by walking the package without following links. Only on the way to an INIT
   * failure, and at most {@link LINK_SCAN_ENTRIES} entries.
   */
  function linkLeadingTo(file: string): Link | undefined {
    const pending = [packageRoot];
    let seen = 0;
    while (pending.length > 0 && seen < LINK_SCAN_ENTRIES) {
      const dir = pending.shift()!;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        seen++;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) pending.push(path);
        if (!entry.isSymbolicLink()) continue;
        try {
          const real = realpathSync(path);
          if (inside(real, file)) return { link: lambdaFile(path), target: readlinkSync(path), real };
        } catch {
          // dangling: leads nowhere
        }
      }
    }
    return undefined;
  }

  /** A file of the bundle as Lambda names it: under /var/task or /opt. */
  function lambdaFile(file: string): string {
    for (const [root, mount] of [[packageRoot, TASK_ROOT], [optRoot, OPT_ROOT]] as const) {
      if (root !== undefined && inside(root, file)) return posix.join(mount, relative(root, file).split(sep).join('/'));
    }
    return file;
  }

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

/**
 * An external the bundle leaves to run time: the guest's module loader (guest/builtins.ts) throws
 * Node's error for it, a new one at each call as Node does — a module esbuild bundled would throw
 * once, then return `{}` (its CommonJS wrapper keeps the half-made module). Node's words
 * (lib/internal/modules/cjs/loader.js, lib/internal/modules/esm/resolve.js), with the importer as
 * Lambda names it:
 * - `require(x)`: MODULE_NOT_FOUND, `Cannot find module 'x'\nRequire stack:\n- <importer>\n-
 *   /var/runtime/index.mjs` and `requireStack` (the runtime client loads the handler; the same words
 *   as the INIT failure of failures.ts);
 * - `import(x)`: ERR_MODULE_NOT_FOUND, `Cannot find module '<path>' imported from <importer>` with
 *   `url` for a path (resolved against the importer, as Node resolves its URL), `Cannot find
 *   package '<name>' imported from <importer>` for a bare name.
 */
export function missingModuleResult(args: OnResolveArgs, importer: string, note?: string): OnResolveResult {
  let error: MissingModuleError;
  if (args.kind === 'dynamic-import') {
    const bare = !isAbsolute(args.path) && !/^\.\.?(\/|$)/.test(args.path);
    const path = bare ? undefined : posix.resolve(posix.dirname(importer), args.path);
    error = path === undefined
      ? { code: 'ERR_MODULE_NOT_FOUND', message: `Cannot find package '${packageName(args.path)}' imported from ${importer}` }
      : { code: 'ERR_MODULE_NOT_FOUND', message: `Cannot find module '${path}' imported from ${importer}`, url: `file://${encodeURI(path)}` };
  } else {
    const requireStack = [importer, RUNTIME_LOADER];
    error = { code: 'MODULE_NOT_FOUND', message: `Cannot find module '${args.path}'\nRequire stack:\n${requireStack.map((file) => `- ${file}`).join('\n')}`, requireStack };
  }
  if (note !== undefined) error = { ...error, message: `${error.message}\n${note}` };
  return { path: `${MISSING_MODULE_PREFIX}${JSON.stringify(error)}`, external: true };
}

/**
 * For `code.entry` (one file of the caller's project, not contained): the `require()` and `import()`
 * specifiers an earlier build could not resolve (build.ts `late`) become modules that are not there,
 * thrown when the line runs with Node's words, as for a package (issue #12: an entry's unguarded
 * `await import('x')` inside the handler failed INIT, and a guarded one threw MODULE_NOT_FOUND
 * "Cannot find module 'x'" where Node throws ERR_MODULE_NOT_FOUND "Cannot find package 'x' imported
 * from ..."). A static import of such a specifier stays esbuild's error: the INIT failure.
 */
export function runTimeMissingPlugin(root: string, late: ReadonlySet<string>): Plugin[] {
  if (late.size === 0) return [];
  const filter = new RegExp(`^(?:${[...late].map((specifier) => specifier.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
  return [{
    name: 'lambdalet-run-time-missing',
    setup(build) {
      build.onResolve({ filter }, async (args) => {
        if (args.pluginData === OWN_RESOLVE || !RUN_TIME_KINDS.has(args.kind) || (args.namespace !== 'file' && args.namespace !== '')) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, namespace: 'file', with: args.with, pluginData: OWN_RESOLVE });
        if (resolved.errors.length === 0) return undefined;
        return missingModuleResult(args, taskPath(root, args.importer));
      });
    },
  }];
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
