/**
 * Putting a code package on disk, where esbuild resolves it exactly as Node would (node_modules
 * lookup, package.json `exports`, symlink-free real paths).
 *
 * `dir` and `entry` are used in place; `files` and `zip` are written to a private temporary
 * directory that `dispose()` removes.
 */

import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidParameterValueException } from '../errors.ts';
import type { ResolvedLimits } from './limits.ts';
import { normalisePackagePath, unsafePathReason } from './package-path.ts';
import type { CodeSource } from './types.ts';
import { unzipPackage, type PackageFiles } from './unzip.ts';

/** A package on disk, ready to bundle. */
export interface MaterialisedPackage {
  /** Real path of the directory that plays `/var/task`. */
  readonly root: string;
  /** For an `entry` source: the entry file's real path. */
  readonly entryFile?: string;
  /** Removes what was created for this package (nothing for `dir` and `entry`). */
  dispose(): Promise<void>;
}

// How many files are written at once: enough to overlap I/O, few enough not to exhaust descriptors.
const WRITE_BATCH = 64;

/**
 * Checks `code` against the limits and returns it as a directory on disk.
 *
 * @throws InvalidParameterValueException naming the `code.*` field that is wrong.
 */
export async function materialise(code: CodeSource, limits: ResolvedLimits): Promise<MaterialisedPackage> {
  if ('files' in code) return writeTemporary(checkFiles(code.files, limits));
  if ('zip' in code) {
    const bytes = typeof code.zip === 'string' ? await readZip(code.zip, limits) : code.zip;
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidParameterValueException('code.zip', 'code.zip must be a file path or a Uint8Array');
    }
    return writeTemporary(unzipPackage(bytes, limits));
  }
  if ('dir' in code) {
    const root = await existing(code.dir, 'code.dir', 'directory');
    return { root, dispose: async () => {} };
  }
  if ('entry' in code) {
    const entryFile = await existing(code.entry, 'code.entry', 'file');
    return { root: dirname(entryFile), entryFile, dispose: async () => {} };
  }
  throw new InvalidParameterValueException('code', 'code must have one of: files, dir, zip, entry');
}

function checkFiles(files: Readonly<Record<string, string | Uint8Array>>, limits: ResolvedLimits): PackageFiles {
  const names = Object.keys(files);
  if (names.length > limits.maxEntries) {
    throw new InvalidParameterValueException('code.files', `code.files holds ${names.length} files; the most is ${limits.maxEntries}`);
  }
  const encoder = new TextEncoder();
  const checked: PackageFiles = new Map();
  let total = 0;
  for (const name of names) {
    const reason = unsafePathReason(name);
    if (reason !== undefined) {
      throw new InvalidParameterValueException('code.files', `code.files: path ${JSON.stringify(name)} ${reason}`);
    }
    const path = normalisePackagePath(name);
    const value = files[name];
    if (path === '' || value === undefined) {
      throw new InvalidParameterValueException('code.files', `code.files: path ${JSON.stringify(name)} does not name a file`);
    }
    const content = typeof value === 'string' ? encoder.encode(value) : value;
    total += content.byteLength;
    if (total > limits.maxUnzippedBytes) {
      throw new InvalidParameterValueException(
        'code.files',
        `Unzipped size must be at most ${limits.maxUnzippedBytes} bytes (got at least ${total})`,
      );
    }
    checked.set(path, content);
  }
  return checked;
}

async function readZip(path: string, limits: ResolvedLimits): Promise<Uint8Array> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
    size = info.size;
  } catch (error) {
    throw new InvalidParameterValueException('code.zip', `code.zip: no zip file at ${path}`, { cause: error });
  }
  // Checked before reading so an oversized file is never loaded into memory.
  if (size > limits.maxZippedBytes) {
    throw new InvalidParameterValueException('code.zip', `Zipped size must be at most ${limits.maxZippedBytes} bytes (got ${size})`);
  }
  return readFile(path);
}

async function existing(path: string, field: string, kind: 'file' | 'directory'): Promise<string> {
  try {
    const real = await realpath(path);
    const info = await stat(real);
    if (kind === 'file' ? info.isFile() : info.isDirectory()) return real;
  } catch (error) {
    throw new InvalidParameterValueException(field, `${field}: no ${kind} at ${path}`, { cause: error });
  }
  throw new InvalidParameterValueException(field, `${field}: ${path} is not a ${kind}`);
}

async function writeTemporary(files: PackageFiles): Promise<MaterialisedPackage> {
  // realpath: on some systems tmpdir() is itself a symlink, and esbuild reports real paths.
  const root = await realpath(await mkdtemp(join(tmpdir(), 'lambdalet-code-')));
  const dispose = () => rm(root, { recursive: true, force: true });
  try {
    const dirs = new Set<string>();
    for (const path of files.keys()) dirs.add(dirname(join(root, path)));
    for (const dir of dirs) await mkdir(dir, { recursive: true });
    const entries = [...files];
    for (let i = 0; i < entries.length; i += WRITE_BATCH) {
      await Promise.all(entries.slice(i, i + WRITE_BATCH).map(([path, content]) => writeFile(join(root, path), content)));
    }
  } catch (error) {
    await dispose();
    // Only a package whose paths clash can fail here (`a` is both a file and a directory).
    throw new InvalidParameterValueException('code', `Could not write the package: ${(error as Error).message}`, { cause: error });
  }
  return { root, dispose };
}
