/** Builds one environment's file system from its function's configuration. */
import type { CodeSource } from '../code/types.ts';
import {
  VFS_MAX_ENTRIES,
  VFS_MAX_OPEN_FILES,
  VFS_NAME_MAX_BYTES,
  VFS_PATH_MAX_BYTES,
  type TmpBackendName,
} from '../config/index.ts';
import { diskBackend, hostDirectoryBackend, memoryBackend, type StorageBackend } from './backend.ts';
import { Vfs, type VfsLimits } from './vfs.ts';

const MIB = 1024 * 1024;

export interface EnvironmentVfsOptions {
  readonly ephemeralStorageMb: number;
  readonly tmpBackend: TmpBackendName;
  /** The function's package, for /var/task: `{files}` are copied in, a `{dir}` is mounted read-only. */
  readonly code: CodeSource;
  /** Overrides for tests (a small entry limit...). */
  readonly limits?: Partial<VfsLimits>;
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
  return new Vfs({ limits, tmp, task: taskBackend(options.code) });
}

/**
 * /var/task. The guest runs the bundle, not these files, but handlers read their own data files
 * (templates, JSON). `{files}` packages are copied in; `{dir}` packages are mounted read-only as
 * they are on disk; `{zip}` and `{entry}` packages are not exposed yet (an empty /var/task).
 */
function taskBackend(code: CodeSource): StorageBackend | undefined {
  if ('files' in code) return memoryBackend(code.files);
  if ('dir' in code) {
    try {
      return hostDirectoryBackend(code.dir);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
