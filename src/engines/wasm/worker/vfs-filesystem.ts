/**
 * wasi:filesystem for a component, served by the environment's own file system (src/vfs) through
 * the host-call bridge: the component's only preopen is `/tmp`, and every operation is a host call
 * (`fs`, the same calls the JS engines' `node:fs` makes), so the host's own file system is never
 * reachable. Plugged into preview2-shim's browser `createFilesystem({ adapter })`, whose Descriptor
 * and streams the transpiled component already understands.
 *
 * Paths: a guest path is resolved against its descriptor's directory; absolute paths and `..`
 * above the preopen are `not-permitted` (as wasmtime and preview2-shim 0.26 answer).
 */
import type * as FsTypes from '@bytecodealliance/preview2-shim/interfaces/wasi-filesystem-types';

type HostCall = (op: string, args: string) => string;
type DescriptorType = FsTypes.DescriptorType;
type DescriptorStat = FsTypes.DescriptorStat;
type DescriptorFlags = FsTypes.DescriptorFlags;
type NewTimestamp = FsTypes.NewTimestamp;

/** What preview2-shim's io module gives us to make streams of the guest's own classes. */
export interface StreamFactory {
  readonly inputStreamCreate: (handler: object) => unknown;
  readonly outputStreamCreate: (handler: object) => unknown;
  readonly pollableCreate: () => unknown;
}

/** A failed filesystem call: jco's glue reads `payload` as the WASI error-code. */
class WasiFsError extends Error {
  readonly payload: string;
  constructor(code: string) {
    super(code);
    this.payload = code;
  }
}

const ERRNO_TO_WASI: Readonly<Record<string, string>> = {
  EACCES: 'access',
  EBADF: 'bad-descriptor',
  EBUSY: 'busy',
  EDQUOT: 'quota',
  EEXIST: 'exist',
  EFBIG: 'file-too-large',
  EINVAL: 'invalid',
  EISDIR: 'is-directory',
  ELOOP: 'loop',
  EMFILE: 'insufficient-memory',
  ENAMETOOLONG: 'name-too-long',
  ENOENT: 'no-entry',
  ENOSPC: 'insufficient-space',
  ENOTDIR: 'not-directory',
  ENOTEMPTY: 'not-empty',
  EPERM: 'not-permitted',
  EROFS: 'read-only',
  EXDEV: 'cross-device',
};

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

interface StatShape {
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly size: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** One `fs` host call; throws the WASI error-code of a failure. */
function fsCall(call: HostCall, args: unknown[], bytes?: Uint8Array): { json: unknown; bytes: Buffer | undefined } {
  const text = JSON.stringify(['fs', ...args].slice(1));
  const answer = call('fs', bytes === undefined ? text : `${text}\n${Buffer.from(bytes).toString('latin1')}`);
  const at = answer.indexOf('\n');
  const json = at < 0 ? answer.slice(1) : answer.slice(1, at);
  if (answer[0] !== 'o') {
    let code = 'io';
    try {
      code = ERRNO_TO_WASI[(JSON.parse(json) as { code?: string }).code ?? ''] ?? 'io';
    } catch {
      // An unreadable answer is an I/O error for the guest.
    }
    throw new WasiFsError(code);
  }
  // Binary answers are latin1 text; Buffer's latin1 decoding keeps the low 8 bits (U+0100 → 0).
  return { json: JSON.parse(json) as unknown, bytes: at < 0 ? undefined : Buffer.from(answer.slice(at + 1), 'latin1') };
}

function typeOf(mode: number): DescriptorType {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return 'directory';
    case S_IFREG:
      return 'regular-file';
    case S_IFLNK:
      return 'symbolic-link';
    default:
      return 'unknown';
  }
}

function timestamp(ms: number): { seconds: bigint; nanoseconds: number } {
  const whole = Math.floor(ms);
  return { seconds: BigInt(Math.floor(whole / 1000)), nanoseconds: (whole % 1000) * 1_000_000 };
}

function toStat(stat: StatShape): DescriptorStat {
  return {
    type: typeOf(stat.mode),
    linkCount: BigInt(stat.nlink),
    size: BigInt(stat.size),
    dataAccessTimestamp: timestamp(stat.atimeMs),
    dataModificationTimestamp: timestamp(stat.mtimeMs),
    statusChangeTimestamp: timestamp(stat.ctimeMs),
  };
}

/** A descriptor: a directory or file of the environment's file system, by its absolute path. */
class VfsDescriptor {
  readonly #call: HostCall;
  readonly #streams: StreamFactory;
  readonly #root: string;
  readonly path: string;
  readonly #flags: DescriptorFlags;

  constructor(call: HostCall, streams: StreamFactory, root: string, path: string, flags: DescriptorFlags) {
    this.#call = call;
    this.#streams = streams;
    this.#root = root;
    this.path = path;
    this.#flags = flags;
  }

  /** `relative` resolved against this directory, refusing anything outside the preopen. */
  #resolve(relative: string): string {
    if (relative.startsWith('/')) throw new WasiFsError('not-permitted');
    const parts = this.path === this.#root ? [] : this.path.slice(this.#root.length + 1).split('/');
    for (const part of relative.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (parts.length === 0) throw new WasiFsError('not-permitted');
        parts.pop();
      } else parts.push(part);
    }
    return parts.length === 0 ? this.#root : `${this.#root}/${parts.join('/')}`;
  }

  #fs(...args: unknown[]): unknown {
    return fsCall(this.#call, args).json;
  }

  #stat(path: string): StatShape {
    return this.#fs('stat', path, true) as StatShape;
  }

  #tryStat(path: string): StatShape | undefined {
    try {
      return this.#stat(path);
    } catch (error) {
      if (error instanceof WasiFsError && error.payload === 'no-entry') return undefined;
      throw error;
    }
  }

  #withFd<T>(flag: string, use: (fd: number) => T): T {
    const fd = this.#fs('open', this.path, flag) as number;
    try {
      return use(fd);
    } finally {
      this.#fs('close', fd);
    }
  }

  readViaStream(offset: bigint): never {
    let position = offset;
    const stream = this.#streams.inputStreamCreate({
      blockingRead: (length: bigint) => {
        const [bytes, eof] = this.read(length, position);
        // wasi:io's stream-error `closed`, which preview2-shim's streams throw as this plain object.
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        if (bytes.byteLength === 0 && eof) throw { tag: 'closed' };
        position += BigInt(bytes.byteLength);
        return bytes;
      },
      subscribe: () => this.#streams.pollableCreate(),
    });
    return stream as never;
  }

  writeViaStream(offset: bigint): never {
    let position = offset;
    const stream = this.#streams.outputStreamCreate({
      write: (bytes: Uint8Array) => {
        position += this.write(bytes, position);
      },
      blockingFlush: () => {},
      subscribe: () => this.#streams.pollableCreate(),
    });
    return stream as never;
  }

  appendViaStream(): never {
    const stream = this.#streams.outputStreamCreate({
      write: (bytes: Uint8Array) => {
        this.write(bytes, BigInt(this.#stat(this.path).size));
      },
      blockingFlush: () => {},
      subscribe: () => this.#streams.pollableCreate(),
    });
    return stream as never;
  }

  advise(): void {}
  syncData(): void {}
  sync(): void {}

  getFlags(): DescriptorFlags {
    return this.#flags;
  }

  getType(): DescriptorType {
    // The preopen is a directory: the adapter asks at instantiation, which must not build /tmp.
    if (this.path === this.#root) return 'directory';
    return typeOf(this.#stat(this.path).mode);
  }

  setSize(size: bigint): void {
    this.#fs('truncate', this.path, Number(size));
  }

  setTimes(atime: NewTimestamp, mtime: NewTimestamp): void {
    this.#setTimes(this.path, atime, mtime);
  }

  #setTimes(path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    const stat = this.#stat(path);
    const pick = (value: NewTimestamp, current: number): number => {
      if (value.tag === 'no-change') return current;
      if (value.tag === 'now') return Date.now();
      return Number(value.val.seconds) * 1000 + value.val.nanoseconds / 1e6;
    };
    this.#fs('utimes', path, pick(atime, stat.atimeMs) / 1000, pick(mtime, stat.mtimeMs) / 1000);
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    const wanted = Number(length);
    const bytes = this.#withFd('r', (fd) => fsCall(this.#call, ['read', fd, wanted, Number(offset)]).bytes ?? Buffer.alloc(0));
    return [new Uint8Array(bytes), bytes.byteLength < wanted];
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    if (!this.#flags.write) throw new WasiFsError('bad-descriptor');
    const written = this.#withFd('r+', (fd) => fsCall(this.#call, ['write', fd, Number(offset)], buffer).json as number);
    return BigInt(written);
  }

  readDirectory(): { readDirectoryEntry(): FsTypes.DirectoryEntry | undefined } {
    const entries = this.#fs('readdir', this.path) as [string, 'f' | 'd' | 'l' | 'o'][];
    const types = { f: 'regular-file', d: 'directory', l: 'symbolic-link', o: 'unknown' } as const;
    let next = 0;
    return {
      readDirectoryEntry: () => {
        const entry = entries[next++];
        return entry ? { name: entry[0], type: types[entry[1]] } : undefined;
      },
    };
  }

  createDirectoryAt(path: string): void {
    this.#fs('mkdir', this.#resolve(path), false);
  }

  stat(): DescriptorStat {
    return toStat(this.#stat(this.path));
  }

  statAt(_flags: FsTypes.PathFlags, path: string): DescriptorStat {
    return toStat(this.#stat(this.#resolve(path)));
  }

  setTimesAt(_flags: FsTypes.PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    this.#setTimes(this.#resolve(path), atime, mtime);
  }

  linkAt(): void {
    throw new WasiFsError('unsupported');
  }

  openAt(_flags: FsTypes.PathFlags, path: string, open: FsTypes.OpenFlags, flags: DescriptorFlags): VfsDescriptor {
    const full = this.#resolve(path);
    const stat = this.#tryStat(full);
    if (stat === undefined) {
      if (!open.create || open.directory) throw new WasiFsError('no-entry');
      this.#fs('close', this.#fs('open', full, 'wx'));
    } else {
      const isDirectory = (stat.mode & S_IFMT) === S_IFDIR;
      if (open.create && open.exclusive) throw new WasiFsError('exist');
      if (open.directory && !isDirectory) throw new WasiFsError('not-directory');
      if (isDirectory && flags.write) throw new WasiFsError('is-directory');
      if (open.truncate) this.#fs('truncate', full, 0);
    }
    return new VfsDescriptor(this.#call, this.#streams, this.#root, full, flags);
  }

  readlinkAt(): string {
    throw new WasiFsError('unsupported');
  }

  removeDirectoryAt(path: string): void {
    this.#fs('rmdir', this.#resolve(path));
  }

  renameAt(oldPath: string, newDescriptor: unknown, newPath: string): void {
    if (!(newDescriptor instanceof VfsDescriptor)) throw new WasiFsError('cross-device');
    this.#fs('rename', this.#resolve(oldPath), newDescriptor.#resolve(newPath));
  }

  symlinkAt(): void {
    throw new WasiFsError('unsupported');
  }

  unlinkFileAt(path: string): void {
    this.#fs('unlink', this.#resolve(path));
  }

  isSameObject(other: unknown): boolean {
    return other instanceof VfsDescriptor && other.path === this.path;
  }

  metadataHash(): FsTypes.MetadataHashValue {
    return this.#hash(this.path);
  }

  metadataHashAt(_flags: FsTypes.PathFlags, path: string): FsTypes.MetadataHashValue {
    return this.#hash(this.#resolve(path));
  }

  #hash(path: string): FsTypes.MetadataHashValue {
    const stat = this.#stat(path);
    return { lower: BigInt(stat.ino), upper: BigInt(Math.floor(stat.mtimeMs)) };
  }
}

/** preview2-shim's BrowserFilesystemAdapter, as far as createFilesystem uses it. */
export interface FilesystemAdapter {
  getRoot(root: string): unknown;
}

/** The adapter: `getRoot('/tmp')` is the preopen's descriptor. */
export function vfsAdapter(call: HostCall, streams: StreamFactory): FilesystemAdapter {
  const all: DescriptorFlags = { read: true, write: true, mutateDirectory: true };
  return { getRoot: (root) => new VfsDescriptor(call, streams, root, root, all) };
}
