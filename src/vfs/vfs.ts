/**
 * One environment's file system as the guest sees it: /tmp (read-write, with a quota), /var/task
 * and /opt (read-only), and `/` and `/var` holding them. Every call takes guest paths, resolves and
 * confines them (paths.ts), enforces the limits, and answers plain data or throws a VfsError that
 * names the guest's path. Storage is a {@link StorageBackend}; the accounting (bytes, entries) is
 * kept here, so the memory and disk backends behave identically.
 *
 * Accounting: /tmp's usage is the sum of its files' sizes in bytes (directories cost 0 bytes) and
 * its entry count is files + directories. A write that would take usage past the quota fails with
 * ENOSPC before anything is written, so no partial file lies past the quota; an entry past
 * `maxEntries` fails with ENOSPC too (ext4 out of inodes).
 */
import { Buffer } from 'node:buffer';
import { fromBackend, VfsError } from './errors.ts';
import { memoryBackend, type StorageBackend } from './backend.ts';
import { parentRel, resolveGuestPath, type MountPoint, type PathLimits, type Resolved } from './paths.ts';

const MIB = 1024 * 1024;

export interface VfsLimits extends PathLimits {
  /** /tmp's size in bytes. */
  readonly quotaBytes: number;
  /** Most files + directories in /tmp. */
  readonly maxEntries: number;
  /** Most file descriptors open at once. */
  readonly maxOpenFiles: number;
}

export interface VfsOptions {
  readonly limits: VfsLimits;
  /** /tmp's storage (empty at start). */
  readonly tmp: StorageBackend;
  /** /var/task's contents (read-only); an empty directory when absent. */
  readonly task?: StorageBackend;
  /** /opt's contents (read-only; layers); an empty directory when absent. */
  readonly opt?: StorageBackend;
  /**
   * /tmp held in the host's memory (the memory backend): asked before a write takes /tmp's usage
   * into a MiB it has not used yet, with the usage it would reach (bytes). False refuses the write
   * with ENOSPC, as a full disk does: the host's memory budget has no room (dispatch/dispatcher.ts).
   */
  readonly hostRoom?: ((bytes: number) => boolean) | undefined;
}

/** `fs.Stats` as plain data. */
export interface StatShape {
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly size: number;
  readonly blksize: number;
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;
}

/** A directory entry: name and type (`f` file, `d` directory, `l` link, `o` other). */
export type DirEntry = readonly [name: string, type: 'f' | 'd' | 'l' | 'o'];

export interface TmpUsage {
  readonly bytes: number;
  readonly entries: number;
  readonly quotaBytes: number;
}

interface OpenFile {
  readonly path: string;
  readonly mount: MountPoint;
  readonly backendFd: number;
  /** The file's inode in its backend when opened: which descriptors share a file when its name goes. */
  readonly ino: number;
  /** Set when the file's name went while this descriptor had it open (shared by its descriptors then). */
  orphan: Orphan | undefined;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly append: boolean;
  position: number;
}

/**
 * A /tmp file unlinked (or replaced by a rename) while descriptors still had it open. Its bytes stay
 * in the usage until the last of them closes, as a disk's blocks stay used on Linux: before, an
 * unlink dropped the file's size from the usage while the descriptor kept its data alive, so a guest
 * could hold any number of quotas (issue #15: 6 × 480 MB behind open descriptors under a 512 MB
 * quota, 3.2 GB of host ArrayBuffers). Descriptors are grouped when the name goes, not by inode
 * later: a backend reuses a freed inode number (memfs at once) for the next file made.
 */
interface Orphan {
  open: number;
}

interface Flags {
  readonly read: boolean;
  readonly write: boolean;
  readonly create: boolean;
  readonly truncate: boolean;
  readonly exclusive: boolean;
  readonly append: boolean;
}

const FLAGS: Readonly<Record<string, Flags>> = (() => {
  const f = (read: boolean, write: boolean, create: boolean, truncate: boolean, exclusive: boolean, append: boolean): Flags => ({
    read, write, create, truncate, exclusive, append,
  });
  return {
    r: f(true, false, false, false, false, false),
    rs: f(true, false, false, false, false, false),
    sr: f(true, false, false, false, false, false),
    'r+': f(true, true, false, false, false, false),
    'rs+': f(true, true, false, false, false, false),
    'sr+': f(true, true, false, false, false, false),
    w: f(false, true, true, true, false, false),
    wx: f(false, true, true, true, true, false),
    xw: f(false, true, true, true, true, false),
    'w+': f(true, true, true, true, false, false),
    'wx+': f(true, true, true, true, true, false),
    'xw+': f(true, true, true, true, true, false),
    a: f(false, true, true, false, false, true),
    ax: f(false, true, true, false, true, true),
    xa: f(false, true, true, false, true, true),
    as: f(false, true, true, false, false, true),
    sa: f(false, true, true, false, false, true),
    'a+': f(true, true, true, false, false, true),
    'ax+': f(true, true, true, false, true, true),
    'xa+': f(true, true, true, false, true, true),
    'as+': f(true, true, true, false, false, true),
    'sa+': f(true, true, true, false, false, true),
  };
})();

const S_IFDIR = 0o040000;
/** Directories that exist only to hold the mounts: read-only, owned by root. */
const SYNTHETIC_STAT: StatShape = {
  dev: 1, ino: 1, mode: S_IFDIR | 0o555, nlink: 2, uid: 0, gid: 0, rdev: 0, size: 4096, blksize: 4096, blocks: 8,
  atimeMs: 0, mtimeMs: 0, ctimeMs: 0, birthtimeMs: 0,
};
/** access() mode bit. */
const W_OK = 2;
/** copyFile() flag. */
const COPYFILE_EXCL = 1;
/** First descriptor handed out (0–2 are the standard streams). */
const FIRST_FD = 3;

export class Vfs {
  readonly #limits: VfsLimits;
  readonly #mounts: Readonly<Record<MountPoint, StorageBackend>>;
  readonly #fds = new Map<number, OpenFile>();
  #bytes = 0;
  #entries = 0;
  #disposed = false;
  readonly #hostRoom: ((bytes: number) => boolean) | undefined;

  constructor(options: VfsOptions) {
    this.#limits = options.limits;
    this.#hostRoom = options.hostRoom;
    this.#mounts = { '/tmp': options.tmp, '/var/task': options.task ?? memoryBackend(), '/opt': options.opt ?? memoryBackend() };
  }

  /** /tmp's usage now. */
  usage(): TmpUsage {
    return { bytes: this.#bytes, entries: this.#entries, quotaBytes: this.#limits.quotaBytes };
  }

  /** Closes every descriptor and frees every backend (the disk backend removes its directory). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const file of this.#fds.values()) {
      try {
        this.#mounts[file.mount].fs.closeSync(file.backendFd);
      } catch {
        // already gone with its backend
      }
    }
    this.#fds.clear();
    for (const backend of Object.values(this.#mounts)) backend.dispose();
  }

  // ---- paths ----------------------------------------------------------------------------------

  stat(path: string, follow = true): StatShape {
    const syscall = follow ? 'stat' : 'lstat';
    const at = this.#resolve(path, syscall);
    if (at.kind === 'synthetic') return SYNTHETIC_STAT;
    if (at.kind === 'none') throw new VfsError('ENOENT', syscall, path);
    return this.#try(syscall, path, () => {
      const fs = this.#fs(at);
      return toStat(follow ? fs.statSync(this.#bp(at)) : fs.lstatSync(this.#bp(at)));
    });
  }

  exists(path: string): boolean {
    try {
      this.stat(path);
      return true;
    } catch {
      return false;
    }
  }

  access(path: string, mode: number): void {
    const at = this.#resolve(path, 'access');
    this.stat(path);
    if ((mode & W_OK) !== 0 && !(at.kind === 'mount' && at.mount === '/tmp')) throw new VfsError('EROFS', 'access', path);
  }

  realpath(path: string): string {
    const at = this.#resolve(path, 'realpath');
    if (at.kind === 'none') throw new VfsError('ENOENT', 'realpath', path);
    this.stat(path);
    return at.path;
  }

  readdir(path: string): DirEntry[] {
    const at = this.#resolve(path, 'scandir');
    if (at.kind === 'synthetic') return at.children.map((name) => [name, 'd'] as const);
    if (at.kind === 'none') throw new VfsError('ENOENT', 'scandir', path);
    return this.#try('scandir', path, () =>
      this.#fs(at)
        .readdirSync(this.#bp(at), { withFileTypes: true })
        .map((d): DirEntry => [String(d.name), d.isDirectory() ? 'd' : d.isFile() ? 'f' : d.isSymbolicLink() ? 'l' : 'o'])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    );
  }

  /**
   * Returns the first directory created (as Node's recursive mkdir does), or undefined. The host's
   * work is O(log depth) lookups and one backend mkdir, whatever the depth: a guest's path of 2,045
   * one-letter directories (within PATH_MAX) cost the host's thread 16 s when every ancestor was
   * looked up and created one by one (issue #15; memfs resolves each path from its root).
   */
  mkdir(path: string, recursive: boolean): string | undefined {
    const at = this.#writable(path, 'mkdir');
    if (at.rel === '' || this.#kind(at.rel) !== undefined) {
      if (recursive && (at.rel === '' || this.#kind(at.rel) === 'd')) return undefined;
      throw new VfsError('EEXIST', 'mkdir', path);
    }
    const parts = at.rel.split('/');
    const prefix = (n: number): string => parts.slice(0, n).join('/');
    const fs = this.#mounts['/tmp'].fs;
    if (!recursive) {
      const parent = this.#kind(prefix(parts.length - 1));
      if (parent !== 'd') throw new VfsError(parent === undefined ? 'ENOENT' : 'ENOTDIR', 'mkdir', path);
      this.#reserveEntries(1, 'mkdir', path);
      this.#try('mkdir', path, () => fs.mkdirSync(this.#mounts['/tmp'].toBackend(at.rel)));
      this.#entries++;
      return undefined;
    }
    const existing = this.#existingPrefix(parts, 0, parts.length);
    if (this.#kind(prefix(existing)) !== 'd') throw new VfsError('ENOTDIR', 'mkdir', path);
    this.#reserveEntries(parts.length - existing, 'mkdir', path);
    try {
      this.#try('mkdir', path, () => fs.mkdirSync(this.#mounts['/tmp'].toBackend(at.rel), { recursive: true }));
      this.#entries += parts.length - existing;
    } catch (error) {
      // Count what was made before the failure, so the entry limit stays true.
      this.#entries += this.#existingPrefix(parts, existing, parts.length) - existing;
      throw error;
    }
    return `/tmp/${prefix(existing + 1)}`;
  }

  /**
   * How many leading parts of `parts` name something that exists in /tmp, by bisection: `lo` parts
   * are known to exist, `hi` not. A path exists only if each of its ancestors does, so the existing
   * ones are a prefix.
   */
  #existingPrefix(parts: readonly string[], lo: number, hi: number): number {
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (this.#kind(parts.slice(0, mid).join('/')) === undefined) hi = mid;
      else lo = mid;
    }
    return lo;
  }

  rmdir(path: string): void {
    const at = this.#writable(path, 'rmdir');
    if (at.rel === '') throw new VfsError('EACCES', 'rmdir', path);
    this.#try('rmdir', path, () => this.#mounts['/tmp'].fs.rmdirSync(this.#bp(at)));
    this.#entries--;
  }

  unlink(path: string): void {
    const at = this.#writable(path, 'unlink');
    const stat = this.stat(path, false);
    if ((stat.mode & S_IFDIR) !== 0) throw new VfsError('EISDIR', 'unlink', path);
    this.#try('unlink', path, () => this.#mounts['/tmp'].fs.unlinkSync(this.#bp(at)));
    this.#unlinked(stat);
    this.#entries--;
  }

  /** fs.rm: files, and directories with `recursive`; `force` ignores a missing path. */
  rm(path: string, recursive: boolean, force: boolean): void {
    const at = this.#resolve(path, 'rm');
    let stat: StatShape;
    try {
      stat = this.stat(path, false);
    } catch (error) {
      if (force && (error as VfsError).code === 'ENOENT') return;
      throw error;
    }
    if (at.kind !== 'mount' || at.mount !== '/tmp') throw new VfsError('EROFS', 'rm', path);
    if (at.rel === '') throw new VfsError('EACCES', 'rm', path);
    if ((stat.mode & S_IFDIR) === 0) return this.unlink(path);
    if (!recursive) throw new VfsError('EISDIR', 'rm', path);
    this.#removeTree(at.rel, path);
  }

  rename(from: string, to: string): void {
    const a = this.#resolve(from, 'rename');
    const b = this.#resolve(to, 'rename');
    if (a.kind !== 'mount' || a.mount !== '/tmp' || b.kind !== 'mount' || b.mount !== '/tmp') {
      const missing = a.kind === 'none' || (a.kind === 'mount' && !this.exists(from));
      throw new VfsError(missing ? 'ENOENT' : a.kind === 'mount' && b.kind === 'mount' && a.mount !== b.mount && b.mount === '/tmp' ? 'EXDEV' : 'EROFS', 'rename', from, to);
    }
    if (a.rel === '' || b.rel === '') throw new VfsError('EACCES', 'rename', from, to);
    this.stat(from, false);
    if (b.rel.startsWith(`${a.rel}/`)) throw new VfsError('EINVAL', 'rename', from, to);
    let replaced: StatShape | undefined;
    try {
      replaced = a.rel === b.rel ? undefined : this.stat(to, false);
    } catch {
      replaced = undefined;
    }
    this.#try('rename', from, () => this.#mounts['/tmp'].fs.renameSync(this.#bp(a), this.#bp(b)), to);
    if (replaced) {
      this.#entries--;
      if ((replaced.mode & S_IFDIR) === 0) this.#unlinked(replaced);
    }
  }

  copyFile(src: string, dest: string, flags: number): void {
    const data = this.readFile(src, 'copyfile');
    const b = this.#resolve(dest, 'copyfile');
    if (b.kind !== 'mount' || b.mount !== '/tmp') throw new VfsError('EROFS', 'copyfile', src, dest);
    if ((flags & COPYFILE_EXCL) !== 0 && this.exists(dest)) throw new VfsError('EEXIST', 'copyfile', src, dest);
    this.writeFile(dest, data, 'w', 'copyfile', src);
  }

  readFile(path: string, syscall = 'open'): Buffer {
    const at = this.#resolve(path, syscall);
    if (at.kind === 'synthetic') throw new VfsError('EISDIR', 'read', undefined);
    if (at.kind === 'none') throw new VfsError('ENOENT', syscall, path);
    return this.#try(syscall, path, () => {
      const fs = this.#fs(at);
      if (fs.statSync(this.#bp(at)).isDirectory()) throw new VfsError('EISDIR', 'read');
      return fs.readFileSync(this.#bp(at));
    });
  }

  /** writeFile / appendFile: `flag` is `w`, `wx`, `a` or `ax` (the `+` forms too). */
  writeFile(path: string, data: Buffer, flag: string, syscall = 'open', shownAs = path): void {
    const flags = parseFlags(flag, syscall, path);
    const at = this.#writable(path, syscall, shownAs);
    if (at.rel === '') throw new VfsError('EISDIR', syscall, shownAs);
    const kind = this.#kind(at.rel);
    if (kind === 'd') throw new VfsError('EISDIR', syscall, shownAs);
    if (kind !== undefined && flags.exclusive) throw new VfsError('EEXIST', syscall, shownAs);
    if (kind === undefined && !flags.create) throw new VfsError('ENOENT', syscall, shownAs);
    this.#parentDir(at.rel, syscall, shownAs);
    const old = kind === undefined ? 0 : this.stat(path, false).size;
    const size = flags.append ? old + data.length : data.length;
    this.#reserveBytes(size - old, syscall, shownAs);
    if (kind === undefined) this.#reserveEntries(1, syscall, shownAs);
    const fs = this.#mounts['/tmp'].fs;
    this.#try(syscall, shownAs, () => {
      if (flags.append && kind !== undefined) {
        const fd = fs.openSync(this.#bp(at), 'r+');
        try {
          fs.writeSync(fd, data, 0, data.length, old);
        } finally {
          fs.closeSync(fd);
        }
      } else fs.writeFileSync(this.#bp(at), data);
    });
    this.#bytes += size - old;
    if (kind === undefined) this.#entries++;
  }

  truncate(path: string, length: number): void {
    const fd = this.open(path, 'r+');
    try {
      this.ftruncate(fd, length, 'open');
    } finally {
      this.close(fd);
    }
  }

  utimes(path: string, atimeMs: number, mtimeMs: number): void {
    const at = this.#writable(path, 'utime');
    this.#try('utime', path, () => this.#mounts['/tmp'].fs.utimesSync(this.#bp(at), atimeMs / 1000, mtimeMs / 1000));
  }

  // ---- descriptors ----------------------------------------------------------------------------

  open(path: string, flag: string): number {
    const flags = parseFlags(flag, 'open', path);
    if (this.#fds.size >= this.#limits.maxOpenFiles) throw new VfsError('EMFILE', 'open', path);
    const at = this.#resolve(path, 'open');
    if (at.kind === 'none') throw new VfsError(flags.create ? 'EROFS' : 'ENOENT', 'open', path);
    if (at.kind === 'synthetic') throw new VfsError(flags.write ? 'EISDIR' : 'EACCES', 'open', path);
    if (flags.write && at.mount !== '/tmp') throw new VfsError('EROFS', 'open', path);
    const kind = at.rel === '' ? 'd' : this.#kind(at.rel, at.mount);
    if (kind === undefined) {
      if (!flags.create) throw new VfsError('ENOENT', 'open', path);
      this.writeFile(path, Buffer.alloc(0), 'wx');
    } else {
      if (flags.exclusive) throw new VfsError('EEXIST', 'open', path);
      if (kind === 'd' && flags.write) throw new VfsError('EISDIR', 'open', path);
      if (flags.truncate && kind === 'f') this.writeFile(path, Buffer.alloc(0), 'w');
    }
    const backend = this.#mounts[at.mount];
    const backendFd = this.#try('open', path, () => backend.fs.openSync(this.#bp(at), flags.write ? 'r+' : 'r'));
    let ino: number;
    try {
      ino = Number(backend.fs.fstatSync(backendFd).ino);
    } catch (error) {
      backend.fs.closeSync(backendFd);
      throw fromBackend(error, 'open', path);
    }
    let fd = FIRST_FD;
    while (this.#fds.has(fd)) fd++;
    this.#fds.set(fd, { path: at.path, mount: at.mount, backendFd, ino, orphan: undefined, readable: flags.read, writable: flags.write, append: flags.append, position: 0 });
    return fd;
  }

  close(fd: number): void {
    const file = this.#fd(fd, 'close');
    this.#fds.delete(fd);
    const fs = this.#mounts[file.mount].fs;
    if (file.orphan !== undefined && --file.orphan.open === 0) {
      // The last descriptor of an unlinked file: its blocks are freed now.
      this.#bytes -= this.#try('close', undefined, () => fs.fstatSync(file.backendFd).size);
    }
    this.#try('close', undefined, () => fs.closeSync(file.backendFd));
  }

  /** Reads up to `length` bytes at `position` (null: the descriptor's position, which advances). */
  read(fd: number, length: number, position: number | null): Buffer {
    const file = this.#fd(fd, 'read');
    if (!file.readable) throw new VfsError('EBADF', 'read');
    const fs = this.#mounts[file.mount].fs;
    const at = position ?? file.position;
    if (!Number.isSafeInteger(at) || at < 0) throw new VfsError('EINVAL', 'read');
    // Never more than the file holds past `at`: the buffer is the host's (a guest reading an empty
    // file into a 64 MiB buffer in a loop had the host zero 64 MiB per call, issue #15).
    const size = this.#try('read', undefined, () => fs.fstatSync(file.backendFd).size);
    const buffer = Buffer.alloc(Math.max(0, Math.min(length, 64 * 1024 * 1024, size - at)));
    const n = buffer.length === 0 ? 0 : this.#try('read', undefined, () => fs.readSync(file.backendFd, buffer, 0, buffer.length, at));
    if (position === null) file.position += n;
    return n === buffer.length ? buffer : buffer.subarray(0, n);
  }

  write(fd: number, data: Buffer, position: number | null): number {
    const file = this.#fd(fd, 'write');
    if (!file.writable) throw new VfsError('EBADF', 'write');
    const fs = this.#mounts[file.mount].fs;
    const size = this.#try('write', undefined, () => fs.fstatSync(file.backendFd).size);
    // A negative position is the descriptor's own, as libuv's pwrite offset -1 (Node passes it on);
    // anything else that is not a byte offset is refused. Before, the accounting used the bogus
    // position while the backend wrote at its own one: writes at -1 (or 1.5, 'x', 2^53) grew a
    // file past the quota uncounted (issue #15: 320 MiB written under a 64 MB /tmp).
    if (position !== null && !(typeof position === 'number' && Number.isSafeInteger(position))) throw new VfsError('EINVAL', 'write');
    const at = file.append ? size : (position === null || position < 0 ? file.position : position);
    this.#reserveBytes(Math.max(0, at + data.length - size), 'write', undefined);
    const n = this.#try('write', undefined, () => fs.writeSync(file.backendFd, data, 0, data.length, at));
    this.#bytes += Math.max(0, at + n - size);
    if (position === null || position < 0 || file.append) file.position = at + n;
    return n;
  }

  fstat(fd: number): StatShape {
    const file = this.#fd(fd, 'fstat');
    return this.#try('fstat', undefined, () => toStat(this.#mounts[file.mount].fs.fstatSync(file.backendFd)));
  }

  ftruncate(fd: number, length: number, syscall = 'ftruncate'): void {
    const file = this.#fd(fd, syscall);
    if (!file.writable) throw new VfsError('EINVAL', syscall);
    // Node clamps a negative length to 0; the accounting must not count one (a length of -1e9 took
    // the usage to -1e9 and gave the guest that much more than its quota, issue #15).
    if (typeof length !== 'number' || !Number.isSafeInteger(length)) throw new VfsError('EINVAL', syscall);
    length = Math.max(0, length);
    const fs = this.#mounts[file.mount].fs;
    const size = this.#try(syscall, undefined, () => fs.fstatSync(file.backendFd).size);
    this.#reserveBytes(length - size, syscall, undefined);
    this.#try(syscall, undefined, () => fs.ftruncateSync(file.backendFd, length));
    this.#bytes += length - size;
  }

  // ---- internals ------------------------------------------------------------------------------

  #resolve(path: string, syscall: string): Resolved {
    if (this.#disposed) throw new VfsError('EIO', syscall, path);
    return resolveGuestPath(path, syscall, this.#limits);
  }

  /** A path a write may touch: inside /tmp, else EROFS. */
  #writable(path: string, syscall: string, shownAs = path): Extract<Resolved, { kind: 'mount' }> {
    const at = this.#resolve(path, syscall);
    if (at.kind !== 'mount' || at.mount !== '/tmp') throw new VfsError('EROFS', syscall, shownAs);
    return at;
  }

  #fs(at: Extract<Resolved, { kind: 'mount' }>) {
    return this.#mounts[at.mount].fs;
  }

  #bp(at: Extract<Resolved, { kind: 'mount' }>): string {
    return this.#mounts[at.mount].toBackend(at.rel);
  }

  #fd(fd: number, syscall: string): OpenFile {
    const file = typeof fd === 'number' ? this.#fds.get(fd) : undefined;
    if (!file || this.#disposed) throw new VfsError('EBADF', syscall);
    return file;
  }

  /** What is at `rel` in a mount, without following links: file, directory, other, or nothing. */
  #kind(rel: string, mount: MountPoint = '/tmp'): 'f' | 'd' | 'o' | undefined {
    const backend = this.#mounts[mount];
    try {
      const stat = backend.fs.lstatSync(backend.toBackend(rel));
      return stat.isDirectory() ? 'd' : stat.isFile() ? 'f' : 'o';
    } catch {
      return undefined;
    }
  }

  #parentDir(rel: string, syscall: string, path: string): void {
    const parent = parentRel(rel);
    if (parent === '') return;
    const kind = this.#kind(parent);
    if (kind === undefined) throw new VfsError('ENOENT', syscall, path);
    if (kind !== 'd') throw new VfsError('ENOTDIR', syscall, path);
  }

  #reserveBytes(delta: number, syscall: string, path: string | undefined): void {
    if (delta <= 0) return;
    const after = this.#bytes + delta;
    if (after > this.#limits.quotaBytes) throw new VfsError('ENOSPC', syscall, path);
    if (this.#hostRoom !== undefined && Math.ceil(after / MIB) > Math.ceil(this.#bytes / MIB) && !this.#hostRoom(after)) {
      throw new VfsError('ENOSPC', syscall, path);
    }
  }

  /**
   * A /tmp file's name is gone: its bytes are free now, or when the last descriptor that still has
   * it open closes. A named file's inode is unique among live files, and descriptors already
   * orphaned hold files with no name, so the match is exact.
   */
  #unlinked(stat: StatShape): void {
    let orphan: Orphan | undefined;
    for (const file of this.#fds.values()) {
      if (file.mount !== '/tmp' || file.orphan !== undefined || file.ino !== stat.ino) continue;
      orphan ??= { open: 0 };
      orphan.open++;
      file.orphan = orphan;
    }
    if (orphan === undefined) this.#bytes -= stat.size;
  }

  #reserveEntries(count: number, syscall: string, path: string): void {
    if (count > 0 && this.#entries + count > this.#limits.maxEntries) throw new VfsError('ENOSPC', syscall, path);
  }

  /** Removes a directory tree bottom-up, keeping the accounting exact even if it stops half-way. */
  #removeTree(rel: string, path: string): void {
    const backend = this.#mounts['/tmp'];
    const fs = backend.fs;
    const names = this.#try('rm', path, () => fs.readdirSync(backend.toBackend(rel), { withFileTypes: true }));
    for (const entry of names) {
      const child = `${rel}/${String(entry.name)}`;
      if (entry.isDirectory()) this.#removeTree(child, path);
      else {
        const stat = this.#try('rm', path, () => toStat(fs.lstatSync(backend.toBackend(child))));
        this.#try('rm', path, () => fs.unlinkSync(backend.toBackend(child)));
        this.#unlinked(stat);
        this.#entries--;
      }
    }
    this.#try('rm', path, () => fs.rmdirSync(backend.toBackend(rel)));
    this.#entries--;
  }

  /** Runs a backend call, re-making its error with the guest's path(s). */
  #try<T>(syscall: string, path: string | undefined, fn: () => T, dest?: string): T {
    try {
      return fn();
    } catch (error) {
      throw fromBackend(error, syscall, path, dest);
    }
  }
}

function parseFlags(flag: string, syscall: string, path: string): Flags {
  const flags = FLAGS[flag];
  if (!flags) throw new VfsError('EINVAL', syscall, path);
  return flags;
}

function toStat(s: { [K in keyof StatShape]: number | bigint }): StatShape {
  const n = (v: number | bigint): number => Number(v);
  return {
    dev: n(s.dev), ino: n(s.ino), mode: n(s.mode), nlink: n(s.nlink), uid: n(s.uid), gid: n(s.gid), rdev: n(s.rdev),
    size: n(s.size), blksize: n(s.blksize), blocks: n(s.blocks), atimeMs: n(s.atimeMs), mtimeMs: n(s.mtimeMs),
    ctimeMs: n(s.ctimeMs), birthtimeMs: n(s.birthtimeMs),
  };
}
