/** Per-environment file systems: /tmp with a quota, read-only /var/task and /opt. */
export { Vfs, type DirEntry, type StatShape, type TmpUsage, type VfsLimits, type VfsOptions } from './vfs.ts';
export { VfsError, type VfsErrorShape } from './errors.ts';
export { diskBackend, hostDirectoryBackend, memoryBackend, type StorageBackend } from './backend.ts';
export { GUEST_CWD, MOUNT_POINTS } from './paths.ts';
export { createEnvironmentVfs, type EnvironmentVfsOptions } from './create.ts';
export { LazyVfs, type TmpImage } from './lazy.ts';
