/**
 * Finding the handler's module file inside a package, and whether Node would load it as ESM or
 * CommonJS — the RIC's load order, decided on disk before bundling.
 */

import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import type { ParsedHandler } from './handler-string.ts';

/** How Node treats a module file. */
export type ModuleFormat = 'esm' | 'cjs';

/** The handler's module, found. */
export interface LocatedModule {
  /** Absolute real path. */
  readonly file: string;
  /** Path relative to the package root, with `/` separators (`src/api/users.mjs`). */
  readonly relativePath: string;
  readonly format: ModuleFormat;
  /** The package.json whose `type` decided the format (absent when the extension decided it or none was found). */
  readonly manifest?: string;
}

// RIC v3 tries the extensionless file, then .js, .mjs, .cjs; RIC v4 (Node 24) adds TypeScript.
const CANDIDATE_EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'] as const;

// Lambda mounts the package at /var/task, so an absolute handler root under it means the package.
const TASK_ROOT = '/var/task';

/**
 * Finds `<moduleRoot>/<moduleName>` in the package at `root`, or returns `undefined`.
 */
export async function locateModule(root: string, handler: ParsedHandler): Promise<LocatedModule | undefined> {
  let moduleRoot = handler.moduleRoot;
  if (moduleRoot === TASK_ROOT || moduleRoot.startsWith(`${TASK_ROOT}/`)) moduleRoot = moduleRoot.slice(TASK_ROOT.length);
  // Any other absolute root points outside the package, where nothing can be found.
  else if (moduleRoot.startsWith('/')) return undefined;
  const base = join(root, moduleRoot, handler.moduleName);
  for (const extension of CANDIDATE_EXTENSIONS) {
    const file = base + extension;
    if (await isFile(file)) return describe(root, file, root);
  }
  return undefined;
}

/**
 * Describes a known module file. `boundary` is the directory the package.json walk stops at
 * (inclusive); `undefined` walks to the filesystem root, as for a lone entry file.
 */
export async function describe(root: string, file: string, boundary: string | undefined): Promise<LocatedModule> {
  const relativePath = relative(root, file).split(sep).join('/');
  const extension = extname(file);
  if (EXTENSION_FORMATS[extension] !== undefined) return { file, relativePath, format: EXTENSION_FORMATS[extension] };
  const found = await nearestPackage(dirname(file), boundary);
  const format = found?.type === 'module' ? 'esm' : 'cjs';
  return found === undefined ? { file, relativePath, format } : { file, relativePath, format, manifest: found.path };
}

const EXTENSION_FORMATS: Readonly<Record<string, ModuleFormat>> = { '.mjs': 'esm', '.mts': 'esm', '.cjs': 'cjs', '.cts': 'cjs' };

/** Node's rule: the extension decides, else the nearest package.json `type` (CommonJS if absent). */
export async function moduleFormat(file: string, boundary: string | undefined): Promise<ModuleFormat> {
  const byExtension = EXTENSION_FORMATS[extname(file)];
  if (byExtension !== undefined) return byExtension;
  return (await nearestPackage(dirname(file), boundary))?.type === 'module' ? 'esm' : 'cjs';
}

/**
 * The `type` a module file's package declares explicitly (`'module'`, `'commonjs'`), or undefined
 * when no package.json up to `boundary` says (Node then detects the format from the syntax).
 */
export async function declaredPackageType(file: string, boundary: string | undefined): Promise<string | undefined> {
  return (await nearestPackage(dirname(file), boundary))?.type;
}

// Walks up from `dir` to the first package.json, as the RIC does; it stops at a node_modules
// directory (a package's type never leaks out of node_modules) and at `boundary`.
async function nearestPackage(dir: string, boundary: string | undefined): Promise<{ path: string; type: string | undefined } | undefined> {
  for (let current = dir; ; current = dirname(current)) {
    // The runtime client's `_hasFolderPackageJsonTypeModule`: a node_modules folder ends the walk
    // before its own package.json is read.
    if (basename(current) === 'node_modules') return undefined;
    const path = join(current, 'package.json');
    const manifest = await readJson(path);
    if (manifest !== undefined) return { path, type: typeof manifest.type === 'string' ? manifest.type : undefined };
    if (current === boundary || dirname(current) === current) return undefined;
  }
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    // Node refuses to load a module under an unparsable package.json; bundling reports that when
    // esbuild reads it. Here it simply decides nothing.
    return {};
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
