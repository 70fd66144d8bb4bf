/**
 * A function's (or layer's) code package as bytes: what `codeSha256` is computed over, what a
 * published version keeps so that it is immutable, what code signing signs and what the durable
 * store keeps as a content-addressed blob.
 *
 * `{zip}` is its own bytes (Lambda's CodeSha256 is over the zip too); `{files}` and `{dir}` are
 * packed into a zip whose bytes depend only on the paths and contents (sorted entries, stored
 * uncompressed, a fixed timestamp), so the same files always give the same sha256. `{entry}` is
 * the entry file's bytes: its imports live outside any package, so only the file itself is
 * pinned (documented on the durable store). A `{component}` (engine 'wasm') is its own bytes.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import type { CodeSource } from '../code/types.ts';
import { InvalidParameterValueException } from '../errors.ts';

/**
 * fflate's zip timestamps are local DOS times from 1980: a fixed local date makes the bytes stable
 * in every host time zone (a fixed UTC instant is 1979 west of Greenwich, which fflate refuses).
 */
const fixedMtime = (): Date => new Date(1980, 0, 1); // made per call: the host's TZ may change

export interface CodePackage {
  /** `zip` for every form but `entry` and `component` (engine 'wasm': the component's own bytes). */
  readonly kind: 'zip' | 'entry' | 'component';
  readonly bytes: Uint8Array;
  /** sha256 (hex) of `bytes`. */
  readonly sha256: string;
  /** The code source a published version (or a restarted runtime) uses: the bytes, or the entry path. */
  readonly source: CodeSource;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The package of `code`. @throws InvalidParameterValueException when a path cannot be read. */
export async function packageOf(code: CodeSource): Promise<CodePackage> {
  if ('zip' in code) {
    const bytes = typeof code.zip === 'string' ? await readOrThrow(code.zip, 'code.zip') : code.zip;
    return { kind: 'zip', bytes, sha256: sha256Hex(bytes), source: { zip: bytes } };
  }
  if ('component' in code) {
    const bytes = typeof code.component === 'string' ? await readOrThrow(code.component, 'code.component') : code.component;
    return { kind: 'component', bytes, sha256: sha256Hex(bytes), source: { component: bytes } };
  }
  if ('files' in code) return zipPackage(Object.entries(code.files));
  if ('dir' in code) return zipPackage(await directoryFiles(code.dir));
  const bytes = await readOrThrow(code.entry, 'code.entry');
  return { kind: 'entry', bytes, sha256: sha256Hex(bytes), source: { entry: code.entry } };
}

function zipPackage(entries: Iterable<readonly [string, string | Uint8Array]>): CodePackage {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const zippable: Zippable = {};
  const mtime = fixedMtime();
  for (const [path, content] of sorted) {
    zippable[path] = [typeof content === 'string' ? new TextEncoder().encode(content) : content, { level: 0, mtime }];
  }
  const bytes = zipSync(zippable, { level: 0, mtime });
  return { kind: 'zip', bytes, sha256: sha256Hex(bytes), source: Object.freeze({ zip: bytes }) };
}

/** Every regular file under `dir`, by its POSIX path relative to it (symbolic links are skipped, as bundling refuses them). */
async function directoryFiles(dir: string): Promise<[string, Uint8Array][]> {
  const files: [string, Uint8Array][] = [];
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    throw new InvalidParameterValueException('code.dir', `code.dir ${dir} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await lstat(path)).isSymbolicLink()) continue;
    files.push([relative(dir, path).split(sep).join('/'), await readFile(path)]);
  }
  return files;
}

async function readOrThrow(path: string, field: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new InvalidParameterValueException(field, `${field} ${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
}
