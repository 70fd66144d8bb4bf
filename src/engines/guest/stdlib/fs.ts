/**
 * node:fs and node:fs/promises inside the sandbox: every call is one synchronous host call to the
 * environment's file system (src/vfs/), which resolves and confines the path and enforces /tmp's
 * quota. The callback and promise forms run the same call and deliver its result on a later
 * microtask, so callers see Node's ordering (never a synchronous callback).
 */
import { Buffer } from 'buffer';
import { host, hostCall, nodeError } from '../bridge.ts';
import { describeReceived as describe, invalidArgType, outOfRange, validateInteger } from './node-errors.ts';

type PathLike = string | Uint8Array | URL;
type Data = string | ArrayBufferView;
type Options = { encoding?: string | null; flag?: string; mode?: number; recursive?: boolean; force?: boolean; withFileTypes?: boolean; throwIfNoEntry?: boolean } | string | null | undefined;

const constants = {
  F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1,
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_NOCTTY: 256, O_TRUNC: 512, O_APPEND: 1024,
  O_DIRECTORY: 65536, O_NOFOLLOW: 131072, O_SYNC: 1052672, O_DSYNC: 4096,
  S_IFMT: 0o170000, S_IFREG: 0o100000, S_IFDIR: 0o040000, S_IFCHR: 0o020000, S_IFBLK: 0o060000,
  S_IFIFO: 0o010000, S_IFLNK: 0o120000, S_IFSOCK: 0o140000,
  COPYFILE_EXCL: 1, COPYFILE_FICLONE: 2, COPYFILE_FICLONE_FORCE: 4,
};

function fsCall(method: string, args: unknown[], payload?: Uint8Array): { value: unknown; payload: Uint8Array | undefined } {
  return hostCall('fs', [method, ...args], payload);
}

function toPath(path: unknown, name = 'path'): string {
  let text: string;
  if (typeof path === 'string') text = path;
  else if (path instanceof Uint8Array) text = Buffer.from(path).toString('utf8');
  else if (path !== null && typeof path === 'object' && (path as URL).protocol === 'file:' && typeof (path as URL).pathname === 'string') {
    text = decodeURIComponent((path as URL).pathname);
  } else {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type string or an instance of Buffer or URL. Received ${describe(path)}`);
  }
  if (text.includes('\u0000')) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument '${name}' must be a string, Uint8Array, or URL without null bytes. Received ${JSON.stringify(text)}`);
  }
  return text;
}

function toFd(fd: unknown): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "fd" argument must be of type number. Received ${describe(fd)}`);
  }
  return fd;
}

function opts(options: Options): Exclude<Options, string | null | undefined> {
  if (typeof options === 'string') return { encoding: options };
  return options ?? {};
}

function encode(data: Data, encoding?: string | null): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, (encoding ?? 'utf8') as BufferEncoding);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ${describe(data)}`);
}

function decode(payload: Uint8Array | undefined, encoding?: string | null): Buffer | string {
  const bytes = payload ?? new Uint8Array(0);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); // the answer's own bytes: no copy
  return encoding && encoding !== 'buffer' ? buffer.toString(encoding as BufferEncoding) : buffer;
}

/** Numeric open flags → the string form the host understands. */
function flagString(flags: unknown, fallback: string): string {
  if (flags === undefined || flags === null) return fallback;
  if (typeof flags === 'string') return flags;
  if (typeof flags !== 'number') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "flags" argument must be of type string or number');
  const access = flags & 3;
  const c = constants;
  const x = flags & c.O_EXCL ? 'x' : '';
  if (flags & c.O_APPEND) return `a${x}${access === c.O_RDWR ? '+' : ''}`;
  if (flags & c.O_CREAT || flags & c.O_TRUNC) return `w${x}${access === c.O_RDWR ? '+' : ''}`;
  return access === c.O_RDONLY ? 'r' : 'r+';
}

interface StatShape {
  dev: number; ino: number; mode: number; nlink: number; uid: number; gid: number; rdev: number; size: number;
  blksize: number; blocks: number; atimeMs: number; mtimeMs: number; ctimeMs: number; birthtimeMs: number;
}

export class Stats {
  dev = 0; ino = 0; mode = 0; nlink = 0; uid = 0; gid = 0; rdev = 0; size = 0; blksize = 0; blocks = 0;
  atimeMs = 0; mtimeMs = 0; ctimeMs = 0; birthtimeMs = 0;
  atime: Date; mtime: Date; ctime: Date; birthtime: Date;
  constructor(shape: StatShape) {
    Object.assign(this, shape);
    this.atime = new Date(this.atimeMs);
    this.mtime = new Date(this.mtimeMs);
    this.ctime = new Date(this.ctimeMs);
    this.birthtime = new Date(this.birthtimeMs);
  }
  #type(): number {
    return this.mode & constants.S_IFMT;
  }
  isFile(): boolean { return this.#type() === constants.S_IFREG; }
  isDirectory(): boolean { return this.#type() === constants.S_IFDIR; }
  isSymbolicLink(): boolean { return this.#type() === constants.S_IFLNK; }
  isFIFO(): boolean { return this.#type() === constants.S_IFIFO; }
  isSocket(): boolean { return this.#type() === constants.S_IFSOCK; }
  isCharacterDevice(): boolean { return this.#type() === constants.S_IFCHR; }
  isBlockDevice(): boolean { return this.#type() === constants.S_IFBLK; }
}

export class Dirent {
  readonly name: string;
  readonly parentPath: string;
  readonly path: string;
  readonly #type: string;
  constructor(name: string, type: string, parentPath: string) {
    this.name = name;
    this.#type = type;
    this.parentPath = parentPath;
    this.path = parentPath;
  }
  isFile(): boolean { return this.#type === 'f'; }
  isDirectory(): boolean { return this.#type === 'd'; }
  isSymbolicLink(): boolean { return this.#type === 'l'; }
  isFIFO(): boolean { return false; }
  isSocket(): boolean { return false; }
  isCharacterDevice(): boolean { return false; }
  isBlockDevice(): boolean { return false; }
}

// ---- the synchronous API: each one host call ------------------------------------------------

function statSync(path: PathLike, options?: { throwIfNoEntry?: boolean }): Stats | undefined {
  try {
    return new Stats(fsCall('stat', [toPath(path), true]).value as StatShape);
  } catch (error) {
    if (options?.throwIfNoEntry === false && (error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

function lstatSync(path: PathLike, options?: { throwIfNoEntry?: boolean }): Stats | undefined {
  try {
    return new Stats(fsCall('stat', [toPath(path), false]).value as StatShape);
  } catch (error) {
    if (options?.throwIfNoEntry === false && (error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

function readdirSync(path: PathLike, options?: Options): (string | Dirent)[] {
  const o = opts(options);
  const dir = toPath(path);
  const entries = fsCall('readdir', [dir]).value as [string, string][];
  if (!o.recursive) return entries.map(([name, type]) => (o.withFileTypes ? new Dirent(name, type, dir) : name));
  const out: (string | Dirent)[] = [];
  const walk = (base: string, rel: string, list: [string, string][]): void => {
    for (const [name, type] of list) {
      out.push(o.withFileTypes ? new Dirent(name, type, base) : rel + name);
      if (type === 'd') walk(`${base}/${name}`, `${rel}${name}/`, fsCall('readdir', [`${base}/${name}`]).value as [string, string][]);
    }
  };
  walk(dir, '', entries);
  return out;
}

function mkdirSync(path: PathLike, options?: { recursive?: boolean; mode?: number } | number): string | undefined {
  const recursive = typeof options === 'object' && options !== null && options.recursive === true;
  return (fsCall('mkdir', [toPath(path), recursive]).value as string | null) ?? undefined;
}

function readFileSync(path: PathLike | number, options?: Options): Buffer | string {
  const o = opts(options);
  if (typeof path === 'number') {
    const chunks: Buffer[] = [];
    for (;;) {
      const chunk = decode(fsCall('read', [toFd(path), 1024 * 1024, null]).payload) as Buffer;
      if (chunk.length === 0) break;
      chunks.push(chunk);
    }
    const all = Buffer.concat(chunks);
    return o.encoding ? all.toString(o.encoding as BufferEncoding) : all;
  }
  const flag = o.flag ?? 'r';
  if (flag !== 'r') {
    const fd = openSync(path, flag);
    try {
      return readFileSync(fd, options);
    } finally {
      closeSync(fd);
    }
  }
  return decode(fsCall('readFile', [toPath(path)]).payload, o.encoding);
}

function writeFileSync(path: PathLike | number, data: Data, options?: Options): void {
  const o = opts(options);
  const bytes = encode(data, o.encoding);
  if (typeof path === 'number') {
    writeSync(path, bytes);
    return;
  }
  fsCall('writeFile', [toPath(path), o.flag ?? 'w'], bytes);
}

function appendFileSync(path: PathLike | number, data: Data, options?: Options): void {
  const o = opts(options);
  if (typeof path === 'number') {
    writeSync(path, encode(data, o.encoding));
    return;
  }
  fsCall('writeFile', [toPath(path), o.flag ?? 'a'], encode(data, o.encoding));
}

function openSync(path: PathLike, flags?: string | number, _mode?: number): number {
  return fsCall('open', [toPath(path), flagString(flags, 'r')]).value as number;
}

function closeSync(fd: number): void {
  fsCall('close', [toFd(fd)]);
}

function readSync(
  fd: number,
  buffer: ArrayBufferView,
  offsetOrOptions?: number | { offset?: number; length?: number; position?: number | bigint | null },
  length?: number,
  position?: number | bigint | null,
): number {
  let offset = 0;
  if (typeof offsetOrOptions === 'object' && offsetOrOptions !== null) {
    ({ offset = 0, length, position } = offsetOrOptions);
  } else if (offsetOrOptions !== undefined) offset = offsetOrOptions;
  const target = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const len = length ?? target.length - offset;
  if (offset < 0 || len < 0 || offset + len > target.length) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "length" is out of range. It must be >= 0 && <= ${target.length - offset}. Received ${len}`);
  }
  const bytes = fsCall('read', [toFd(fd), len, readPosition(position, len)]).payload ?? new Uint8Array(0);
  target.set(bytes, offset);
  return bytes.length;
}

/**
 * Node's readSync position (lib/fs.js, validatePosition in lib/internal/fs/utils.js): null,
 * undefined and -1 read at the descriptor's own position (null here); otherwise an integer from -1
 * to MAX_SAFE_INTEGER, or a bigint from -1n to 2^63 - 1 - length, else ERR_OUT_OF_RANGE /
 * ERR_INVALID_ARG_TYPE as Node words them.
 */
function readPosition(position: unknown, length: number): number | null {
  if (position === undefined || position === null) return null;
  if (typeof position === 'number') return validateInteger(position, 'position', -1) === -1 ? null : position;
  if (typeof position === 'bigint') {
    const max = 2n ** 63n - 1n - BigInt(length);
    if (!(position >= -1n && position <= max)) throw outOfRange('position', `>= -1 && <= ${max}`, position);
    // Past MAX_SAFE_INTEGER is past the end of any file /tmp can hold: read there, as nothing.
    return position === -1n ? null : Number(position > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : position);
  }
  throw invalidArgType('position', 'of type bigint or integer', position);
}

/** Node's ftruncate length: validateInteger(len, 'len'), then a negative one is 0 (lib/fs.js). */
function truncateLength(len: unknown): number {
  return Math.max(0, validateInteger(len, 'len'));
}

function truncateSync(path: PathLike, len: unknown = 0): void {
  // As Node's truncateSync: open, then ftruncate (a missing file is ENOENT before a bad length).
  const fd = openSync(toPath(path), 'r+');
  try {
    fsCall('ftruncate', [fd, truncateLength(len)]);
  } finally {
    closeSync(fd);
  }
}

function writeSync(fd: number, data: Data, offsetOrPosition?: number | null, lengthOrEncoding?: number | string | null, position?: number | null): number {
  let bytes: Uint8Array;
  let pos: number | null | undefined;
  if (typeof data === 'string') {
    bytes = encode(data, typeof lengthOrEncoding === 'string' ? lengthOrEncoding : 'utf8');
    pos = offsetOrPosition;
  } else {
    const all = encode(data);
    const offset = offsetOrPosition ?? 0;
    const length = typeof lengthOrEncoding === 'number' ? lengthOrEncoding : all.length - offset;
    bytes = all.subarray(offset, offset + length);
    pos = position;
  }
  // Descriptors 1 and 2 are the function's log, as on Lambda (pino writes its lines this way).
  if (fd === 1 || fd === 2) {
    host.writeOutput(fd, new TextDecoder().decode(bytes));
    return bytes.length;
  }
  // Node (lib/fs.js writeSync, src/node_file.cc GetOffset): a position that is not a safe integer is
  // -1, and libuv writes at the descriptor's own position for any negative one — never an error.
  return fsCall('write', [toFd(fd), typeof pos === 'number' && Number.isSafeInteger(pos) && pos >= 0 ? pos : null], bytes).value as number;
}

function rmSync(path: PathLike, options?: { recursive?: boolean; force?: boolean }): void {
  fsCall('rm', [toPath(path), options?.recursive === true, options?.force === true]);
}

function rmdirSync(path: PathLike, options?: { recursive?: boolean }): void {
  if (options?.recursive) rmSync(path, { recursive: true, force: false });
  else fsCall('rmdir', [toPath(path)]);
}

function mkdtempSync(prefix: string, options?: Options): string {
  const o = opts(options);
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  for (;;) {
    const bytes = hostCall('random', [6]).payload ?? new Uint8Array(0);
    const path = `${toPath(prefix, 'prefix')}${Array.from(bytes, (b) => chars[b % chars.length]).join('')}`;
    try {
      fsCall('mkdir', [path, false]);
      return o.encoding === 'buffer' ? (Buffer.from(path) as unknown as string) : path;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
}

function realpathSync(path: PathLike, _options?: Options): string {
  return fsCall('realpath', [toPath(path)]).value as string;
}
realpathSync.native = realpathSync;

const sync = {
  existsSync: (path: PathLike): boolean => {
    try {
      return fsCall('exists', [toPath(path)]).value === true;
    } catch {
      return false;
    }
  },
  accessSync: (path: PathLike, mode = constants.F_OK): void => void fsCall('access', [toPath(path), mode]),
  statSync,
  lstatSync,
  fstatSync: (fd: number): Stats => new Stats(fsCall('fstat', [toFd(fd)]).value as StatShape),
  readdirSync,
  mkdirSync,
  mkdtempSync,
  rmdirSync,
  rmSync,
  unlinkSync: (path: PathLike): void => void fsCall('unlink', [toPath(path)]),
  renameSync: (from: PathLike, to: PathLike): void => void fsCall('rename', [toPath(from, 'oldPath'), toPath(to, 'newPath')]),
  copyFileSync: (src: PathLike, dest: PathLike, mode = 0): void => void fsCall('copyFile', [toPath(src, 'src'), toPath(dest, 'dest'), mode]),
  readFileSync,
  writeFileSync,
  appendFileSync,
  truncateSync,
  ftruncateSync: (fd: number, len: unknown = 0): void => void fsCall('ftruncate', [toFd(fd), truncateLength(len)]),
  utimesSync: (path: PathLike, atime: number | Date, mtime: number | Date): void =>
    void fsCall('utimes', [toPath(path), timeMs(atime), timeMs(mtime)]),
  realpathSync,
  openSync,
  closeSync,
  readSync,
  writeSync,
  fsyncSync: (fd: number): void => void fsCall('fstat', [toFd(fd)]),
  fdatasyncSync: (fd: number): void => void fsCall('fstat', [toFd(fd)]),
  symlinkSync: (target: PathLike, path: PathLike): void => {
    throw Object.assign(nodeError(Error, 'EPERM', `EPERM: operation not permitted, symlink '${toPath(target)}' -> '${toPath(path)}'`), { errno: -1, syscall: 'symlink' });
  },
  linkSync: (existing: PathLike, path: PathLike): void => {
    throw Object.assign(nodeError(Error, 'EPERM', `EPERM: operation not permitted, link '${toPath(existing)}' -> '${toPath(path)}'`), { errno: -1, syscall: 'link' });
  },
  readlinkSync: (path: PathLike): string => {
    const p = toPath(path);
    statSync(p);
    throw Object.assign(nodeError(Error, 'EINVAL', `EINVAL: invalid argument, readlink '${p}'`), { errno: -22, syscall: 'readlink' });
  },
  chmodSync: (path: PathLike): void => void statSync(path),
  chownSync: (path: PathLike): void => void statSync(path),
  cpSync,
};

interface CpOptions {
  readonly recursive?: boolean;
  readonly force?: boolean;
  readonly errorOnExist?: boolean;
  readonly dereference?: boolean;
  readonly filter?: (src: string, dest: string) => unknown;
}

/**
 * Node's fs.cpSync over the other calls (a new user's code failed with the bundler's
 * "import_node_fs.default.cpSync is not a function"): a file, or with `recursive` a directory
 * and what is under it; `force` (default true) overwrites files, `errorOnExist` with force false
 * throws, `filter(src, dest)` skips what it refuses. Node 24's checks and messages, compared with
 * the host's own node:fs in test/conformance/fs-cp.test.ts. /tmp has no links, so `dereference`,
 * `verbatimSymlinks` and the symlink branches have nothing to do; timestamps are not preserved.
 */
function cpSync(src: PathLike, dest: PathLike, options?: CpOptions): void {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "options" argument must be of type object. Received ${describe(options)}`);
  }
  const o = options ?? {};
  if (o.filter !== undefined && typeof o.filter !== 'function') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "options.filter" property must be of type function. Received ${describe(o.filter)}`);
  }
  const from = toPath(src, 'src');
  const to = toPath(dest, 'dest');
  if (!cpFilter(o, from, to)) return;
  const source = lstatSync(from)!;
  const target = lstatSync(to, { throwIfNoEntry: false });
  const dir = (p: string): string => (p.endsWith('/') ? p : `${p}/`);
  if (target !== undefined && realpathSync(from) === realpathSync(to)) throw nodeError(Error, 'ERR_FS_CP_EINVAL', `src and dest cannot be the same ${to}`);
  if (source.isDirectory() && o.recursive !== true) throw nodeError(Error, 'ERR_FS_EISDIR', `Recursive option not enabled, cannot copy a directory: ${dir(from)}`);
  if (target !== undefined && source.isDirectory() && !target.isDirectory()) {
    throw nodeError(Error, 'ERR_FS_CP_DIR_TO_NON_DIR', `Cannot overwrite non-directory ${to} with directory ${from}`);
  }
  if (target !== undefined && !source.isDirectory() && target.isDirectory()) {
    throw nodeError(Error, 'ERR_FS_CP_NON_DIR_TO_DIR', `Cannot overwrite directory ${to} with non-directory ${from}`);
  }
  if (source.isDirectory() && dir(resolvedPath(to)).startsWith(dir(realpathSync(from)))) {
    throw nodeError(Error, 'ERR_FS_CP_EINVAL', `Cannot copy ${dir(from)} to a subdirectory of self ${to}`);
  }
  const parent = to.slice(0, Math.max(0, to.lastIndexOf('/')));
  if (parent !== '' && !sync.existsSync(parent)) mkdirSync(parent, { recursive: true });
  cpEntry(o, from, to, source.isDirectory());
}

function cpFilter(o: CpOptions, from: string, to: string): boolean {
  if (o.filter === undefined) return true;
  const keep = o.filter(from, to);
  if (keep instanceof Promise) {
    throw nodeError(TypeError, 'ERR_INVALID_RETURN_VALUE', 'Expected boolean to be returned from the "filter" function but got an instance of Promise.');
  }
  return Boolean(keep);
}

function cpEntry(o: CpOptions, from: string, to: string, isDirectory: boolean): void {
  if (isDirectory) {
    if (!sync.existsSync(to)) mkdirSync(to);
    for (const name of readdirSync(from) as string[]) {
      const a = `${from}/${name}`;
      const b = `${to}/${name}`;
      if (cpFilter(o, a, b)) cpEntry(o, a, b, lstatSync(a)!.isDirectory());
    }
    return;
  }
  if (lstatSync(to, { throwIfNoEntry: false }) !== undefined) {
    if (o.force === false) {
      if (o.errorOnExist !== true) return;
      throw Object.assign(nodeError(Error, 'ERR_FS_CP_EEXIST', `Target already exists: cp returned EEXIST (${to} already exists) ${to}`), {
        name: 'SystemError', errno: 17, syscall: 'cp', path: to,
      });
    }
  }
  sync.copyFileSync(from, to);
}

/** `p` made absolute against the guest's working directory (/var/task), `.` and `..` resolved. */
function resolvedPath(p: string): string {
  const parts: string[] = [];
  for (const part of (p.startsWith('/') ? p : `/var/task/${p}`).split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '' && part !== '.') parts.push(part);
  }
  return `/${parts.join('/')}`;
}

function timeMs(t: number | Date): number {
  return t instanceof Date ? t.getTime() : Number(t) * 1000;
}

// ---- callback and promise forms -------------------------------------------------------------

type Sync = (...args: unknown[]) => unknown;

/** A Node callback API over a synchronous call; `spread` turns the result into several arguments. */
function callbackForm(fn: Sync, spread?: (result: unknown, args: unknown[]) => unknown[]): Sync {
  return (...args: unknown[]) => {
    const cb = args.pop();
    if (typeof cb !== 'function') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "cb" argument must be of type function. Received ${describe(cb)}`);
    }
    let result: unknown;
    let error: unknown = null;
    try {
      result = fn(...args);
    } catch (err) {
      error = err;
    }
    host.enqueueMicrotask(() => {
      if (error) (cb as Sync)(error);
      else (cb as Sync)(null, ...(spread ? spread(result, args) : [result]));
    });
  };
}

function promiseForm(fn: Sync): (...args: unknown[]) => Promise<unknown> {
  return (...args) => {
    try {
      return Promise.resolve(fn(...args));
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rethrows what the call threw
      return Promise.reject(error);
    }
  };
}

/** fs/promises' FileHandle. */
class FileHandle {
  readonly fd: number;
  constructor(fd: number) {
    this.fd = fd;
  }
  async read(buffer?: ArrayBufferView | { buffer?: ArrayBufferView; offset?: number; length?: number; position?: number | null }, offset?: number, length?: number, position?: number | null) {
    let target: ArrayBufferView;
    if (buffer === undefined || !ArrayBuffer.isView(buffer)) {
      const o = (buffer ?? {});
      target = o.buffer ?? Buffer.alloc(16384);
      ({ offset, length, position } = o);
    } else target = buffer;
    const bytesRead = readSync(this.fd, target, offset ?? 0, length ?? target.byteLength - (offset ?? 0), position ?? null);
    return { bytesRead, buffer: target };
  }
  async write(data: Data, offsetOrPosition?: number | null, lengthOrEncoding?: number | string | null, position?: number | null) {
    const bytesWritten = writeSync(this.fd, data, offsetOrPosition, lengthOrEncoding, position);
    return { bytesWritten, buffer: data };
  }
  async readFile(options?: Options) {
    return readFileSync(this.fd, options);
  }
  async writeFile(data: Data, options?: Options) {
    writeFileSync(this.fd, data, options);
  }
  async appendFile(data: Data, options?: Options) {
    appendFileSync(this.fd, data, options);
  }
  async stat() {
    return sync.fstatSync(this.fd);
  }
  async truncate(len = 0) {
    sync.ftruncateSync(this.fd, len);
  }
  async sync() {}
  async datasync() {}
  async close() {
    closeSync(this.fd);
  }
  async [Symbol.asyncDispose]() {
    await this.close();
  }
}

const promises = {
  constants,
  access: promiseForm(sync.accessSync as Sync),
  stat: promiseForm(statSync as Sync),
  lstat: promiseForm(lstatSync as Sync),
  readdir: promiseForm(readdirSync as Sync),
  mkdir: promiseForm(mkdirSync as Sync),
  mkdtemp: promiseForm(mkdtempSync as Sync),
  rmdir: promiseForm(rmdirSync as Sync),
  rm: promiseForm(rmSync as Sync),
  unlink: promiseForm(sync.unlinkSync as Sync),
  rename: promiseForm(sync.renameSync as Sync),
  copyFile: promiseForm(sync.copyFileSync as Sync),
  cp: promiseForm(cpSync as Sync),
  readFile: promiseForm((path: unknown, options: unknown) =>
    path instanceof FileHandle ? readFileSync(path.fd, options as Options) : readFileSync(path as PathLike, options as Options)),
  writeFile: promiseForm(writeFileSync as Sync),
  appendFile: promiseForm(appendFileSync as Sync),
  truncate: promiseForm(sync.truncateSync as Sync),
  utimes: promiseForm(sync.utimesSync as Sync),
  realpath: promiseForm(realpathSync as Sync),
  symlink: promiseForm(sync.symlinkSync as Sync),
  link: promiseForm(sync.linkSync as Sync),
  readlink: promiseForm(sync.readlinkSync as Sync),
  chmod: promiseForm(sync.chmodSync as Sync),
  chown: promiseForm(sync.chownSync as Sync),
  open: promiseForm((path: unknown, flags: unknown) => new FileHandle(openSync(path as PathLike, flags as string))),
};

const callbacks: Record<string, Sync> = {};
for (const [name, fn] of Object.entries(sync)) {
  if (name === 'existsSync') continue;
  callbacks[name.slice(0, -4)] = callbackForm(fn as Sync);
}
callbacks.read = callbackForm(readSync as Sync, (n, args) => [n, args[1]]);
callbacks.write = callbackForm(writeSync as Sync, (n, args) => [n, args[1]]);
/** fs.exists(path, cb): the one callback without an error argument. */
callbacks.exists = (path: unknown, cb: unknown) => {
  const exists = sync.existsSync(path as PathLike);
  host.enqueueMicrotask(() => (cb as (b: boolean) => void)(exists));
};

export const fs = { ...sync, ...callbacks, constants, Stats, Dirent, promises, F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 };

type FsStreams = typeof import('./fs-streams.ts').fsStreams;

/**
 * fs.createReadStream / createWriteStream / ReadStream / WriteStream, from the `fs-streams` chunk
 * on first read (it pulls in readable-stream): `load` is the guest's chunk loader, which the
 * library's chunks cannot import (builtins.ts hands it over).
 */
export function installStreams(load: () => FsStreams): void {
  for (const name of ['createReadStream', 'createWriteStream', 'ReadStream', 'WriteStream'] as const) {
    Object.defineProperty(fs, name, {
      configurable: true,
      enumerable: true,
      get() {
        const value = load()[name];
        Object.defineProperty(fs, name, { value, writable: true, configurable: true, enumerable: true });
        return value;
      },
      set(value: unknown) {
        Object.defineProperty(fs, name, { value, writable: true, configurable: true, enumerable: true });
      },
    });
  }
}
