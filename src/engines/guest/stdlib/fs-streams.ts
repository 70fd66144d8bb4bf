/**
 * fs.ReadStream / fs.WriteStream (fs.createReadStream, fs.createWriteStream): Node's stream
 * classes (lib/internal/fs/streams.js) over readable-stream's Readable and Writable, each read
 * and write one host call through the guest's fs (so /tmp's quota and the read-only /var/task
 * hold as for every other fs call). Its own chunk: most handlers never stream a file.
 * https://nodejs.org/docs/latest-v24.x/api/fs.html#class-fsreadstream
 */
import { Buffer } from 'buffer';
import { nodeError } from '../bridge.ts';
import { fs } from './fs.ts';
import { stream } from './stream.ts';

type Callback = (error?: Error | null) => void;
interface StreamOptions {
  flags?: string; encoding?: BufferEncoding; fd?: number | null; mode?: number; autoClose?: boolean; emitClose?: boolean;
  start?: number; end?: number; highWaterMark?: number; signal?: AbortSignal; flush?: boolean;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function streamOptions(options: unknown): StreamOptions {
  if (typeof options === 'string') return { encoding: options as BufferEncoding };
  return (options ?? {});
}

/** Node's validateInteger(value, name, 0): ERR_INVALID_ARG_TYPE or ERR_OUT_OF_RANGE with its wording. */
function position(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be of type number. Received ${typeof value === 'string' ? `type string ('${value}')` : `type ${typeof value}`}`);
  }
  if (!Number.isInteger(value)) throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be an integer. Received ${value}`);
  if (value < 0 || value > MAX_SAFE) throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be >= 0 && <= ${MAX_SAFE}. Received ${value}`);
  return value;
}

function pathOf(path: unknown): string {
  if (path instanceof URL) return decodeURIComponent(path.pathname);
  return Buffer.isBuffer(path) ? path.toString() : (path as string);
}

/** Opens in _construct (a later tick, as Node's async open): 'open' then 'ready' follow the callback, as in Node. */
function construct(self: ReadStream | WriteStream, callback: Callback): void {
  if (self.fd !== null) {
    callback();
    return;
  }
  try {
    self.fd = fs.openSync(self.path, self.flags, self.mode);
  } catch (error) {
    callback(error as Error);
    return;
  }
  callback();
  self.emit('open', self.fd);
  self.emit('ready');
}

function destroy(self: ReadStream | WriteStream, error: Error | null, callback: Callback): void {
  if (self.fd !== null && self.autoClose) {
    try {
      fs.closeSync(self.fd);
    } catch (closeError) {
      error ??= closeError as Error;
    }
    self.fd = null;
  }
  callback(error);
}

export class ReadStream extends stream.Readable {
  path: string;
  fd: number | null;
  flags: string;
  mode: number;
  start: number | undefined;
  end: number;
  pos: number | undefined;
  bytesRead = 0;
  autoClose: boolean;

  constructor(path: unknown, options?: unknown) {
    const o = streamOptions(options);
    super({ highWaterMark: o.highWaterMark ?? 64 * 1024, encoding: o.encoding, emitClose: o.emitClose ?? true, autoDestroy: o.autoClose ?? true, signal: o.signal });
    this.fd = o.fd ?? null;
    this.path = pathOf(path);
    this.flags = o.flags ?? 'r';
    this.mode = o.mode ?? 0o666;
    this.autoClose = o.autoClose ?? true;
    this.start = position(o.start, 'start');
    this.end = o.end === Infinity ? Infinity : (position(o.end, 'end') ?? Infinity);
    if (this.start !== undefined && this.start > this.end) {
      throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "start" is out of range. It must be <= "end" (here: ${this.end}). Received ${this.start}`);
    }
    this.pos = this.start;
  }

  get pending(): boolean {
    return this.fd === null;
  }

  override _construct(callback: Callback): void {
    construct(this, callback);
  }

  override _read(size: number): void {
    const wanted = Math.min(size, this.end - (this.pos ?? this.bytesRead) + 1);
    if (wanted <= 0) {
      this.push(null);
      return;
    }
    const buffer = Buffer.allocUnsafe(wanted);
    let bytes: number;
    try {
      bytes = fs.readSync(this.fd as number, buffer, 0, wanted, this.pos ?? null);
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    if (this.pos !== undefined) this.pos += bytes;
    this.bytesRead += bytes;
    this.push(bytes > 0 ? buffer.subarray(0, bytes) : null);
  }

  override _destroy(error: Error | null, callback: Callback): void {
    destroy(this, error, callback);
  }

  close(callback?: Callback): void {
    if (typeof callback === 'function') stream.finished(this, callback);
    this.destroy();
  }
}

export class WriteStream extends stream.Writable {
  path: string;
  fd: number | null;
  flags: string;
  mode: number;
  start: number | undefined;
  pos: number | undefined;
  bytesWritten = 0;
  autoClose: boolean;

  constructor(path: unknown, options?: unknown) {
    const o = streamOptions(options);
    super({ highWaterMark: o.highWaterMark, defaultEncoding: o.encoding ?? 'utf8', decodeStrings: true, emitClose: o.emitClose ?? true, autoDestroy: o.autoClose ?? true, signal: o.signal });
    this.fd = o.fd ?? null;
    this.path = pathOf(path);
    this.flags = o.flags ?? 'w';
    this.mode = o.mode ?? 0o666;
    this.autoClose = o.autoClose ?? true;
    this.start = position(o.start, 'start');
    this.pos = this.start;
  }

  get pending(): boolean {
    return this.fd === null;
  }

  override _construct(callback: Callback): void {
    construct(this, callback);
  }

  override _write(chunk: Buffer, _encoding: string, callback: Callback): void {
    try {
      const bytes = fs.writeSync(this.fd as number, chunk, 0, chunk.length, this.pos ?? null);
      if (this.pos !== undefined) this.pos += bytes;
      this.bytesWritten += bytes;
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  override _destroy(error: Error | null, callback: Callback): void {
    destroy(this, error, callback);
  }

  /** Node's WriteStream#close: ends the stream; `callback` runs on 'close'. */
  close(callback?: Callback): void {
    if (typeof callback === 'function') {
      if (this.closed) queueMicrotask(() => callback());
      else this.on('close', callback);
    }
    if (!this.autoClose) this.on('finish', () => this.destroy());
    this.end();
  }

  destroySoon(): void {
    this.end();
  }
}

export const fsStreams = {
  ReadStream,
  WriteStream,
  createReadStream: (path: unknown, options?: unknown): ReadStream => new ReadStream(path, options),
  createWriteStream: (path: unknown, options?: unknown): WriteStream => new WriteStream(path, options),
};
