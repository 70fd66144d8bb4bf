/** Builds one environment's file system from its function's configuration. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { resolveLimits } from '../code/limits.ts';
import type { CodeSource } from '../code/types.ts';
import { unzipPackage } from '../code/unzip.ts';
import {
  VFS_MAX_ENTRIES,
  VFS_MAX_OPEN_FILES,
  VFS_NAME_MAX_BYTES,
  VFS_PATH_MAX_BYTES,
  type TmpBackendName,
} from '../config/index.ts';
import { diskBackend, hostDirectoryBackend, memoryBackend, type StorageBackend } from './backend.ts';
import { Vfs, type VfsLimits } from './vfs.ts';

/** Inflated packages by their (frozen, per-deploy) code source: each is read once, not per environment. */
const inflated = new WeakMap<CodeSource, Record<string, Uint8Array>>();

function packageFiles(code: { readonly zip: string | Uint8Array } | { readonly entry: string }): Record<string, Uint8Array> {
  let files = inflated.get(code);
  if (!files) {
    if ('zip' in code) {
      const bytes = typeof code.zip === 'string' ? readFileSync(code.zip) : code.zip;
      files = Object.fromEntries(unzipPackage(bytes, resolveLimits(undefined)));
    } else {
      files = { [basename(code.entry)]: readFileSync(code.entry) };
    }
    inflated.set(code, files);
  }
  return files;
}

const MIB = 1024 * 1024;

export interface EnvironmentVfsOptions {
  readonly ephemeralStorageMb: number;
  readonly tmpBackend: TmpBackendName;
  /** The function's package, for /var/task: `{files}` are copied in, a `{dir}` is mounted read-only. */
  readonly code: CodeSource;
  /** /opt's files (the function's layers merged, later layers winning), by path under /opt. */
  readonly opt?: Readonly<Record<string, Uint8Array>> | undefined;
  /** Overrides for tests (a small entry limit...). */
  readonly limits?: Partial<VfsLimits>;
  /** The host's memory budget for a memory-backed /tmp (VfsOptions.hostRoom); unused for the disk backend. */
  readonly hostRoom?: ((bytes: number) => boolean) | undefined;
}

export function createEnvironmentVfs(options: EnvironmentVfsOptions): Vfs {
  const limits: VfsLimits = {
    quotaBytes: options.ephemeralStorageMb * MIB,
    maxEntries: VFS_MAX_ENTRIES,
    maxOpenFiles: VFS_MAX_OPEN_FILES,
    pathMaxBytes: VFS_PATH_MAX_BYTES,
    nameMaxBytes: VFS_NAME_MAX_BYTES,
    ...options.limits,
  };
  const tmp = options.tmpBackend === 'disk' ? diskBackend() : memoryBackend();
  const hostRoom = options.tmpBackend === 'disk' ? undefined : options.hostRoom;
  return new Vfs({ limits, tmp, task: taskBackend(options.code), ...(options.opt ? { opt: memoryBackend(options.opt) } : {}), hostRoom });
}

/**
 * /var/task. The guest runs the bundle, not these files, but handlers read their own data files
 * (templates, JSON). `{files}` and `{zip}` packages are copied in (a zip inflated under the same
 * limits as at deploy, once per deployed package); `{dir}` packages are mounted read-only as they
 * are on disk; an `{entry}` shows its one file.
 */
function taskBackend(code: CodeSource): StorageBackend | undefined {
  if ('files' in code) return memoryBackend(code.files);
  if ('zip' in code || 'entry' in code) return memoryBackend(packageFiles(code));
  if ('dir' in code) {
    try {
      return hostDirectoryBackend(code.dir);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
