/**
 * File-system errors as Node reports them: a `code` (ENOENT...), a negative `errno`, the `syscall`
 * and the path(s) — always the guest's own path, never a host path.
 */

/** Linux errno numbers and strerror texts, as libuv words them. */
const ERRNO: Readonly<Record<string, readonly [number, string]>> = {
  EPERM: [-1, 'operation not permitted'],
  ENOENT: [-2, 'no such file or directory'],
  EIO: [-5, 'i/o error'],
  EBADF: [-9, 'bad file descriptor'],
  EACCES: [-13, 'permission denied'],
  EEXIST: [-17, 'file already exists'],
  EXDEV: [-18, 'cross-device link not permitted'],
  ENOTDIR: [-20, 'not a directory'],
  EISDIR: [-21, 'illegal operation on a directory'],
  EINVAL: [-22, 'invalid argument'],
  EMFILE: [-24, 'too many open files'],
  EFBIG: [-27, 'file too large'],
  ENOSPC: [-28, 'no space left on device'],
  EROFS: [-30, 'read-only file system'],
  ENAMETOOLONG: [-36, 'name too long'],
  ENOSYS: [-38, 'function not implemented'],
  ENOTEMPTY: [-39, 'directory not empty'],
  ELOOP: [-40, 'too many symbolic links encountered'],
};

/** The codes a guest may see; anything else a backend throws becomes EIO. */
export type VfsErrorCode = keyof typeof ERRNO;

/** What crosses the bridge for a failed file-system call: plain data. */
export interface VfsErrorShape {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  readonly dest?: string;
  readonly message: string;
}

export class VfsError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string | undefined;
  readonly dest: string | undefined;

  constructor(code: string, syscall: string, path?: string, dest?: string) {
    const [errno, text] = ERRNO[code] ?? ERRNO.EIO!;
    const where = path === undefined ? '' : dest === undefined ? ` '${path}'` : ` '${path}' -> '${dest}'`;
    super(`${code}: ${text}, ${syscall}${where}`);
    this.name = 'VfsError';
    this.code = ERRNO[code] ? code : 'EIO';
    this.errno = errno;
    this.syscall = syscall;
    this.path = path;
    this.dest = dest;
  }

  toShape(): VfsErrorShape {
    return {
      code: this.code,
      errno: this.errno,
      syscall: this.syscall,
      message: this.message,
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.dest === undefined ? {} : { dest: this.dest }),
    };
  }
}

/** A backend's error (memfs or node:fs, which name host paths) re-made with the guest's paths. */
export function fromBackend(error: unknown, syscall: string, path?: string, dest?: string): VfsError {
  if (error instanceof VfsError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  return new VfsError(typeof code === 'string' && code in ERRNO ? code : 'EIO', syscall, path, dest);
}
