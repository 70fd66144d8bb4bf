/**
 * Node's OutgoingMessage as lambdalet needs it, after lib/_http_outgoing.js: the header store
 * (setHeader / getHeader / getHeaders / removeHeader / hasHeader / getHeaderNames, names
 * case-insensitive, validated with Node's errors), and the write path of a response —
 * `_storeHeader` builds the status line and headers into `_header`, `_send` writes it ahead of
 * the first body chunk to the assigned socket (`assignSocket`), `end()` emits 'prefinish' and
 * 'finish'. serverless-http and @codegenie/serverless-express drive a ServerResponse through
 * exactly these members with a socket of their own. No chunked framing: there is no wire.
 */
import { nodeError } from '../bridge.ts';
import { callParent, functionConstructor } from './http-constructor.ts';
import { stream } from './stream.ts';

type HeaderValue = number | string | readonly string[];
interface SocketLike {
  write(data: unknown, encoding?: unknown, cb?: () => void): boolean;
  writable?: boolean;
  _httpMessage?: unknown;
  on?(...args: unknown[]): unknown;
}

const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
 
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export function validateHeaderName(name: unknown, label = 'Header name'): void {
  if (typeof name !== 'string' || !name || !TOKEN.test(name)) {
    throw nodeError(TypeError, 'ERR_INVALID_HTTP_TOKEN', `${label} must be a valid HTTP token ["${String(name)}"]`);
  }
}

export function validateHeaderValue(name: string, value: unknown): void {
  if (Array.isArray(value)) {
    for (const one of value) validateHeaderValue(name, one);
    return;
  }
  if (value === undefined) throw nodeError(TypeError, 'ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "${String(value)}" for header "${name}"`);
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
  if (INVALID_VALUE.test(text)) throw nodeError(TypeError, 'ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
}

const Stream = stream.Stream as unknown as new () => InstanceType<typeof stream.Stream>;

/** OutgoingMessage's methods; its constructor is the function below (http-constructor.ts: Node's are function constructors). */
class OutgoingMessageBody extends Stream {
  [key: string]: unknown;
  declare _headers: Map<string, [string, HeaderValue]>;
  declare _header: string | null;
  declare _headerSent: boolean;
  declare _contentLength: number | null;
  declare _hasBody: boolean;
  declare finished: boolean;
  declare writable: boolean;
  declare destroyed: boolean;
  declare chunkedEncoding: boolean;
  declare useChunkedEncodingByDefault: boolean;
  declare sendDate: boolean;
  declare shouldKeepAlive: boolean;
  declare socket: SocketLike | null;
  declare outputData: { data: unknown; encoding: unknown; callback?: () => void }[];
  declare outputSize: number;

  get connection(): SocketLike | null {
    return this.socket;
  }

  get headersSent(): boolean {
    return !!this._header;
  }

  get writableEnded(): boolean {
    return this.finished;
  }

  get writableFinished(): boolean {
    return this.finished && this.outputData.length === 0;
  }

  get writableLength(): number {
    return this.outputSize;
  }

  get writableHighWaterMark(): number {
    return 16384;
  }

  get writableObjectMode(): boolean {
    return false;
  }

  get writableCorked(): number {
    return 0;
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this._header) throw nodeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot set headers after they are sent to the client');
    validateHeaderName(name);
    validateHeaderValue(name, value);
    this._headers.set(name.toLowerCase(), [name, value]);
    return this;
  }

  setHeaders(headers: Headers | Map<string, HeaderValue>): this {
    for (const [name, value] of headers as Iterable<[string, HeaderValue]>) this.setHeader(name, value);
    return this;
  }

  appendHeader(name: string, value: HeaderValue): this {
    const existing = this._headers.get(name.toLowerCase());
    if (!existing) return this.setHeader(name, value);
    const list = ([] as string[]).concat(existing[1] as string, value as string);
    this._headers.set(name.toLowerCase(), [existing[0], list]);
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this._headers.get(String(name).toLowerCase())?.[1];
  }

  getHeaders(): Record<string, HeaderValue> {
    const out = Object.create(null) as Record<string, HeaderValue>;
    for (const [key, [, value]] of this._headers) out[key] = value;
    return out;
  }

  getHeaderNames(): string[] {
    return [...this._headers.keys()];
  }

  getRawHeaderNames(): string[] {
    return [...this._headers.values()].map(([name]) => name);
  }

  hasHeader(name: string): boolean {
    return this._headers.has(String(name).toLowerCase());
  }

  removeHeader(name: string): void {
    if (this._header) throw nodeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot remove headers after they are sent to the client');
    this._headers.delete(String(name).toLowerCase());
  }

  /** `firstLine` plus every header as `Name: value\r\n`, then the blank line (Node's _storeHeader). */
  _storeHeader(firstLine: string, extra?: Record<string, HeaderValue> | null, implicit = ''): void {
    if (extra) for (const [name, value] of Object.entries(extra)) this.setHeader(name, value);
    let header = firstLine + implicit;
    for (const [name, value] of this._headers.values()) {
      for (const one of Array.isArray(value) ? value : [value]) header += `${name}: ${String(one)}\r\n`;
    }
    this._header = `${header}\r\n`;
    this._headerSent = false;
  }

  _implicitHeader(): void {
    throw nodeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The _implicitHeader() method is not implemented');
  }

  assignSocket(socket: SocketLike): void {
    socket._httpMessage = this;
    this.socket = socket;
    this.emit('socket', socket);
    this._flushOutput();
  }

  detachSocket(socket: SocketLike): void {
    if (socket._httpMessage === this) socket._httpMessage = null;
    this.socket = null;
  }

  _send(data: unknown, encoding?: unknown, callback?: () => void): boolean {
    if (!this._headerSent && this._header !== null) {
      if (typeof data === 'string' && (encoding === 'utf8' || encoding === 'latin1' || !encoding)) {
        data = this._header + data;
      } else {
        this.outputData.unshift({ data: this._header, encoding: 'latin1' });
        this.outputSize += this._header.length;
      }
      this._headerSent = true;
    }
    return this._writeRaw(data, encoding, callback);
  }

  _writeRaw(data: unknown, encoding?: unknown, callback?: () => void): boolean {
    const conn = this.socket;
    if (conn && conn._httpMessage === this && conn.writable !== false) {
      this._flushOutput();
      return conn.write(data, encoding, callback);
    }
    this.outputData.push({ data, encoding, callback });
    this.outputSize += typeof data === 'string' ? data.length : ((data as Uint8Array | undefined)?.length ?? 0);
    return false;
  }

  _flushOutput(): void {
    const conn = this.socket;
    if (!conn || conn._httpMessage !== this) return;
    const pending = this.outputData;
    this.outputData = [];
    this.outputSize = 0;
    for (const { data, encoding, callback } of pending) conn.write(data, encoding, callback);
  }

  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (this.finished) {
      const error = nodeError(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
      globalThis.process.nextTick(() => {
        if (typeof callback === 'function') (callback as (e: Error) => void)(error);
        this.emit('error', error);
      });
      return true;
    }
    if (!this._header) this._implicitHeader();
    if (chunk === null) throw nodeError(TypeError, 'ERR_STREAM_NULL_VALUES', 'May not write null values to stream');
    if (!this._hasBody) return true;
    return this._send(chunk, encoding ?? 'utf8', callback as (() => void) | undefined);
  }

  end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
    if (typeof chunk === 'function') {
      callback = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (this.finished) {
      if (typeof callback === 'function') globalThis.process.nextTick(callback);
      return this;
    }
    if (chunk !== undefined && chunk !== null && this._hasBody) {
      if (!this._header) this._contentLength = typeof chunk === 'string' ? globalThis.Buffer.byteLength(chunk, encoding as 'utf8') : (chunk as Uint8Array).length;
      this.write(chunk, encoding);
    } else if (!this._header) {
      this._contentLength = 0;
      this._implicitHeader();
    }
    if (typeof callback === 'function') this.once('finish', callback as () => void);
    const finish = (): void => {
      this.emit('finish');
    };
    this.finished = true;
    if (!this._headerSent && this._header !== null) this._send('', 'latin1', finish);
    else this._writeRaw('', 'latin1', finish);
    this.emit('prefinish');
    return this;
  }

  flushHeaders(): void {
    if (!this._header) this._implicitHeader();
    this._send('');
  }

  cork(): void {}
  uncork(): void {}

  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    return this;
  }

  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (error) globalThis.process.nextTick(() => this.emit('error', error));
    globalThis.process.nextTick(() => this.emit('close'));
    return this;
  }
}

export const OutgoingMessage = functionConstructor(OutgoingMessageBody, Stream, 'OutgoingMessage', 1, function OutgoingMessage(this: OutgoingMessageBody, _options?: object) {
  callParent(Stream, this);
  this._headers = new Map();
  this._header = null;
  this._headerSent = false;
  this._contentLength = null;
  this._hasBody = true;
  this.finished = false;
  this.writable = true;
  this.destroyed = false;
  this.chunkedEncoding = false;
  this.useChunkedEncodingByDefault = true;
  this.sendDate = false;
  this.shouldKeepAlive = false;
  this.socket = null;
  this.outputData = [];
  this.outputSize = 0;
});
export type OutgoingMessage = OutgoingMessageBody;
