/**
 * Guest paths → a mount and a confined relative path. Everything the guest names is resolved here,
 * as POSIX paths against the guest's working directory (/var/task): `..` stops at `/`, so no
 * spelling can leave the guest's own tree, and the result never names a host path.
 */
import { posix } from 'node:path';
import { VfsError } from './errors.ts';

/** The guest's working directory (process.cwd() inside the sandbox). */
export const GUEST_CWD = '/var/task';

/** Mount points, and the directories that only exist to hold them. */
export const MOUNT_POINTS = ['/tmp', '/var/task', '/opt'] as const;
export type MountPoint = (typeof MOUNT_POINTS)[number];
const SYNTHETIC_DIRS: Readonly<Record<string, readonly string[]>> = { '/': ['opt', 'tmp', 'var'], '/var': ['task'] };

export interface PathLimits {
  readonly pathMaxBytes: number;
  readonly nameMaxBytes: number;
}

export type Resolved =
  /** Inside a mount: `rel` is '' for the mount's root, else `a/b` (no `.`, `..` or empty parts). */
  | { readonly kind: 'mount'; readonly path: string; readonly mount: MountPoint; readonly rel: string }
  /** `/` or `/var`: a read-only directory listing the mounts. */
  | { readonly kind: 'synthetic'; readonly path: string; readonly children: readonly string[] }
  /** Anywhere else: nothing exists there, and nothing can be created. */
  | { readonly kind: 'none'; readonly path: string };

export function resolveGuestPath(path: unknown, syscall: string, limits: PathLimits): Resolved {
  if (typeof path !== 'string') throw new VfsError('EINVAL', syscall);
  // The guest rejects these as Node does (ERR_INVALID_ARG_VALUE); the host never trusts it to.
  if (path.includes('\0') || path === '') throw new VfsError(path === '' ? 'ENOENT' : 'EINVAL', syscall, path.replace(/\0/g, '\\0'));
  if (Buffer.byteLength(path) > limits.pathMaxBytes) throw new VfsError('ENAMETOOLONG', syscall, path);
  const abs = posix.resolve(GUEST_CWD, path);
  for (const part of abs.split('/')) {
    if (Buffer.byteLength(part) > limits.nameMaxBytes) throw new VfsError('ENAMETOOLONG', syscall, path);
  }
  for (const mount of MOUNT_POINTS) {
    if (abs === mount) return { kind: 'mount', path: abs, mount, rel: '' };
    if (abs.startsWith(`${mount}/`)) return { kind: 'mount', path: abs, mount, rel: abs.slice(mount.length + 1) };
  }
  const children = SYNTHETIC_DIRS[abs];
  return children ? { kind: 'synthetic', path: abs, children } : { kind: 'none', path: abs };
}

/** The parent of a mount-relative path ('' for a top-level entry). */
export function parentRel(rel: string): string {
  const at = rel.lastIndexOf('/');
  return at < 0 ? '' : rel.slice(0, at);
}
