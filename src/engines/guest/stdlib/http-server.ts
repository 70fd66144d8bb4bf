/**
 * The server-side objects of node:http that Lambda adapters construct around an event (no server
 * listens: a sandbox has no sockets): IncomingMessage, a Readable carrying the request, and
 * ServerResponse, an OutgoingMessage (http-outgoing.ts) that writes `HTTP/1.1 <status>` and its
 * headers ahead of the body to whatever socket the adapter assigns. serverless-http and
 * @codegenie/serverless-express (Express, Koa, Fastify through them) use exactly these.
 */
import { nodeError } from '../bridge.ts';
import { callParent, functionConstructor } from './http-constructor.ts';
import { OutgoingMessage } from './http-outgoing.ts';
import { stream } from './stream.ts';

declare const LAMBDALET_STATUS_CODES: Record<string, string>;
export const STATUS_CODES: Readonly<Record<string, string>> = { ...LAMBDALET_STATUS_CODES };

type SocketLike = Record<string, unknown> | null | undefined;

const kHeaders = Symbol('kHeaders');
const kTrailers = Symbol('kTrailers');

/** IncomingMessage's methods; its constructor is the function below (http-constructor.ts: Node's are function constructors). */
class IncomingMessageBody extends stream.Readable {
  [key: string]: unknown;
  declare socket: SocketLike;
  declare httpVersionMajor: number;
  declare httpVersionMinor: number;
  declare httpVersion: string;
  declare complete: boolean;
  declare rawHeaders: string[];
  declare rawTrailers: string[];
  declare aborted: boolean;
  declare upgrade: boolean;
  declare url: string;
  declare method: string | null;
  declare statusCode: number | null;
  declare statusMessage: string | null;
  declare [kHeaders]: Record<string, string | string[]> | undefined;
  declare [kTrailers]: Record<string, string>;

  get connection(): SocketLike {
    return this.socket;
  }

  /** From rawHeaders on first read (Node's lazy header object); assignable, as in Node. */
  get headers(): Record<string, string | string[]> {
    if (!this[kHeaders]) {
      const headers: Record<string, string | string[]> = {};
      for (let i = 0; i + 1 < this.rawHeaders.length; i += 2) addHeader(headers, this.rawHeaders[i]!, this.rawHeaders[i + 1]!);
      this[kHeaders] = headers;
    }
    return this[kHeaders];
  }

  set headers(value: Record<string, string | string[]>) {
    this[kHeaders] = value;
  }

  get headersDistinct(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [key, value] of Object.entries(this.headers)) out[key] = Array.isArray(value) ? value : [value];
    return out;
  }

  get trailers(): Record<string, string> {
    return this[kTrailers];
  }

  set trailers(value: Record<string, string>) {
    this[kTrailers] = value;
  }

  override _read(): void {}

  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    return this;
  }
}

export const IncomingMessage = functionConstructor(IncomingMessageBody, stream.Readable, 'IncomingMessage', 1, function IncomingMessage(this: IncomingMessageBody, socket?: SocketLike) {
  callParent(stream.Readable, this);
  this.socket = socket ?? null;
  this.httpVersionMajor = 1;
  this.httpVersionMinor = 1;
  this.httpVersion = '1.1';
  this.complete = false;
  this.rawHeaders = [];
  this.rawTrailers = [];
  this.aborted = false;
  this.upgrade = false;
  this.url = '';
  this.method = null;
  this.statusCode = null;
  this.statusMessage = null;
  this[kHeaders] = undefined;
  this[kTrailers] = {};
});
export type IncomingMessage = IncomingMessageBody;

/** Node's rule for joining repeated headers (lib/_http_incoming.js matchKnownFields, simplified). */
export function addHeader(headers: Record<string, string | string[]>, rawName: string, value: string): void {
  const name = rawName.toLowerCase();
  const existing = headers[name];
  if (name === 'set-cookie') {
    headers[name] = existing === undefined ? [value] : [...(existing as string[]), value];
  } else if (existing === undefined) {
    headers[name] = value;
  } else if (!['content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization',
    'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag', 'last-modified',
    'server', 'age', 'expires'].includes(name)) {
    headers[name] = `${existing as string}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
}

/** ServerResponse's methods; its constructor is the function below (http-constructor.ts: Node's are function constructors). */
class ServerResponseBody extends OutgoingMessage {
  declare statusCode: number;
  declare statusMessage: string | undefined;
  declare req: unknown;
  declare _sent100: boolean;
  declare _expect_continue: boolean;

  writeHead(statusCode: number, reason?: string | Record<string, unknown> | unknown[], headers?: Record<string, unknown> | unknown[]): this {
    if (this._header) throw nodeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
    const code = Number(statusCode) | 0;
    if (code < 100 || code > 999) throw nodeError(RangeError, 'ERR_HTTP_INVALID_STATUS_CODE', `Invalid status code: ${String(statusCode)}`);
    let message = typeof reason === 'string' ? reason : undefined;
    const extra = typeof reason === 'string' ? headers : reason;
    message ??= this.statusMessage ?? STATUS_CODES[code] ?? 'unknown';
    this.statusCode = code;
    this.statusMessage = message;
    if (Array.isArray(extra)) {
      for (let i = 0; i + 1 < extra.length; i += 2) this.appendHeader(String(extra[i]), extra[i + 1] as string);
    } else if (extra) {
      for (const [name, value] of Object.entries(extra)) if (value !== undefined) this.setHeader(name, value as string);
    }
    if (code === 204 || code === 304 || (code >= 100 && code <= 199)) this._hasBody = false;
    // As Node's _storeHeader: Date and Content-Length go on the wire, not into getHeaders().
    let implicit = '';
    if (this.sendDate && !this.hasHeader('date')) implicit += `Date: ${new Date().toUTCString()}\r\n`;
    if (this._contentLength !== null && !this.hasHeader('content-length') && !this.hasHeader('transfer-encoding') && this._hasBody) {
      implicit += `Content-Length: ${this._contentLength}\r\n`;
    }
    this._storeHeader(`HTTP/1.1 ${code} ${message}\r\n`, null, implicit);
    return this;
  }

  override _implicitHeader(): void {
    this.writeHead(this.statusCode);
  }

  writeContinue(callback?: () => void): void {
    this._writeRaw('HTTP/1.1 100 Continue\r\n\r\n', 'ascii', callback);
    this._sent100 = true;
  }

  writeProcessing(callback?: () => void): void {
    this._writeRaw('HTTP/1.1 102 Processing\r\n\r\n', 'ascii', callback);
  }

  writeEarlyHints(_hints: unknown, callback?: () => void): void {
    if (callback) globalThis.process.nextTick(callback);
  }
}

type RequestLike = { method?: string; httpVersionMajor?: number; httpVersionMinor?: number } | null;

export const ServerResponse = functionConstructor(ServerResponseBody, OutgoingMessage, 'ServerResponse', 2, function ServerResponse(this: ServerResponseBody, req?: RequestLike, options?: object) {
  callParent(OutgoingMessage, this, options);
  this.statusCode = 200;
  this.statusMessage = undefined;
  this.req = req;
  this._sent100 = false;
  this._expect_continue = false;
  if (req?.method === 'HEAD') this._hasBody = false;
  this.sendDate = true;
});
export type ServerResponse = ServerResponseBody;
