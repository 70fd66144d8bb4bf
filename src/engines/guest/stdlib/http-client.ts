/**
 * node:http / node:https clients carried over the sandbox's fetch (stdlib/fetch.ts), so every
 * request passes the function's egress policy on the host. ClientRequest keeps Node's surface
 * (an OutgoingMessage: headers, write/end, 'socket' / 'response' / 'error' / 'close' events,
 * setTimeout, abort/destroy) and sends one fetch when the body ends; the response is an
 * IncomingMessage. Differences that follow from the transport: the host's fetch has already
 * decoded a compressed body, so `content-encoding` / `content-length` are dropped from the
 * response headers (the body is the decoded bytes); hop-by-hop request headers (connection,
 * keep-alive, transfer-encoding, upgrade, expect, host) are left to the host's HTTP client;
 * `Expect: 100-continue` gets its 'continue' at once; redirects are returned, not followed.
 */
import { nodeError } from '../bridge.ts';
import { events } from './events.ts';
import { fetchForHttp } from './fetch.ts';
import { callParent, functionConstructor } from './http-constructor.ts';
import { OutgoingMessage } from './http-outgoing.ts';
import { IncomingMessage, STATUS_CODES } from './http-server.ts';

type EventEmitterLike = InstanceType<typeof import('node:events').EventEmitter>;
const EventEmitter = events.EventEmitter as new (options?: object) => EventEmitterLike;

export interface AgentOptions {
  keepAlive?: boolean;
  keepAliveMsecs?: number;
  maxSockets?: number;
  maxTotalSockets?: number;
  maxFreeSockets?: number;
  timeout?: number;
  scheduling?: 'fifo' | 'lifo';
  [key: string]: unknown;
}

/** Connection pooling is the host's: an Agent keeps Node's options and (empty) socket tables. Its constructor is the function below (http-constructor.ts). */
class AgentBody extends EventEmitter {
  declare readonly options: AgentOptions;
  declare defaultPort: number;
  declare protocol: string;
  declare keepAlive: boolean;
  declare keepAliveMsecs: number;
  declare maxSockets: number;
  declare maxTotalSockets: number;
  declare maxFreeSockets: number;
  declare scheduling: string;
  declare readonly sockets: Record<string, unknown[]>;
  declare readonly freeSockets: Record<string, unknown[]>;
  declare readonly requests: Record<string, unknown[]>;

  getName(options: { host?: string; port?: number | string; localAddress?: string } = {}): string {
    return `${options.host ?? 'localhost'}:${options.port ?? ''}:${options.localAddress ?? ''}`;
  }

  destroy(): void {}
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

export const Agent = functionConstructor(AgentBody, EventEmitter, 'Agent', 1, function Agent(this: AgentBody, options: AgentOptions = {}) {
  callParent(EventEmitter, this);
  const self = this as Writable<AgentBody>;
  self.options = { __proto__: null, ...options };
  self.defaultPort = 80;
  self.protocol = 'http:';
  self.requests = Object.create(null) as Record<string, unknown[]>;
  self.sockets = Object.create(null) as Record<string, unknown[]>;
  self.freeSockets = Object.create(null) as Record<string, unknown[]>;
  self.keepAliveMsecs = options.keepAliveMsecs ?? 1000;
  self.keepAlive = options.keepAlive ?? false;
  self.maxSockets = options.maxSockets ?? Infinity;
  self.maxFreeSockets = options.maxFreeSockets ?? 256;
  self.scheduling = options.scheduling ?? 'lifo';
  self.maxTotalSockets = options.maxTotalSockets ?? Infinity;
});
export type Agent = AgentBody;

const AgentConstructor = Agent;

/** https.Agent (Node's is also named `Agent`): an Agent for https: on 443. */
class HttpsAgentBody extends Agent {}

export const HttpsAgent = functionConstructor(HttpsAgentBody, Agent, 'Agent', 1, function Agent(this: HttpsAgentBody, options: AgentOptions = {}) {
  callParent(AgentConstructor, this, options);
  this.defaultPort = 443;
  this.protocol = 'https:';
});
export type HttpsAgent = HttpsAgentBody;

/** What a request's 'socket' event hands out: it connects at once (the host holds the real one). */
class RequestSocket extends EventEmitter {
  connecting = false;
  readonly encrypted: boolean;
  writable = true;
  readable = true;
  destroyed = false;
  remoteAddress: string;
  remotePort: number;
  constructor(secure: boolean, host: string, port: number) {
    super();
    this.encrypted = secure;
    this.remoteAddress = host;
    this.remotePort = port;
  }
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  address(): { address: string; family: string; port: number } {
    return { address: '127.0.0.1', family: 'IPv4', port: 0 };
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  end(): this {
    return this;
  }
}

export interface RequestOptions {
  protocol?: string;
  host?: string;
  hostname?: string;
  port?: number | string;
  path?: string;
  method?: string;
  headers?: Record<string, unknown> | readonly string[];
  auth?: string;
  agent?: Agent | boolean;
  timeout?: number;
  signal?: AbortSignal;
  setHost?: boolean;
  defaultPort?: number;
  [key: string]: unknown;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'host', 'content-length', 'proxy-connection', 'te', 'trailer']);

export class ClientRequest extends OutgoingMessage {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly protocol: string;
  readonly agent: Agent | undefined;
  aborted = false;
  reusedSocket = false;
  maxHeadersCount: number | null = null;
  /** The response once it arrived, null before: Node's ClientRequest sets `req.res` (lib/_http_client.js), and got reads it to tell a finished request's 'close' from a server abort. */
  res: IncomingMessage | null = null;
  readonly #url: string;
  readonly #port: number;
  readonly #chunks: Uint8Array[] = [];
  readonly #controller = new AbortController();
  #timeout: ReturnType<typeof setTimeout> | undefined;
  #timeoutMs = 0;
  #responded = false;

  constructor(input: string | URL | RequestOptions, options?: RequestOptions | ((res: IncomingMessage) => void), callback?: (res: IncomingMessage) => void, defaultProtocol = 'http:') {
    super();
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    const fromUrl: RequestOptions = typeof input === 'string' || input instanceof URL ? urlToOptions(new URL(String(input))) : { ...input };
    const o: RequestOptions = { ...fromUrl, ...(options ?? {}) };
    const agent = o.agent instanceof Agent ? o.agent : undefined;
    this.protocol = o.protocol ?? agent?.protocol ?? defaultProtocol;
    if (this.protocol !== 'http:' && this.protocol !== 'https:') {
      throw nodeError(TypeError, 'ERR_INVALID_PROTOCOL', `Protocol "${this.protocol}" not supported. Expected "${defaultProtocol}"`);
    }
    this.agent = agent;
    this.method = String(o.method ?? 'GET').toUpperCase();
    this.path = o.path ?? '/';
    // eslint-disable-next-line no-control-regex -- Node's INVALID_PATH_REGEX: control characters and space.
    if (/[\u0000-\u0020]/.test(this.path)) throw nodeError(TypeError, 'ERR_UNESCAPED_CHARACTERS', 'Request path contains unescaped characters');
    const hostname = (o.hostname ?? o.host ?? 'localhost').replace(/^\[|\]$/g, '');
    this.host = hostname;
    const port = Number(o.port ?? o.defaultPort ?? agent?.defaultPort ?? (this.protocol === 'https:' ? 443 : 80));
    const hostPart = hostname.includes(':') ? `[${hostname}]` : hostname;
    this.#url = `${this.protocol}//${hostPart}:${port}${this.path}`;
    this.#port = port;
    if (Array.isArray(o.headers)) {
      for (let i = 0; i + 1 < o.headers.length; i += 2) this.appendHeader(String(o.headers[i]), o.headers[i + 1] as string);
    } else if (o.headers) {
      for (const [name, value] of Object.entries(o.headers)) if (value !== undefined) this.setHeader(name, value as string);
    }
    if (o.auth && !this.hasHeader('authorization')) this.setHeader('Authorization', `Basic ${globalThis.Buffer.from(o.auth).toString('base64')}`);
    if (o.timeout !== undefined) this.setTimeout(Number(o.timeout));
    if (o.signal) {
      const signal = o.signal;
      if (signal.aborted) globalThis.process.nextTick(() => this.destroy(abortError(signal.reason)));
      else signal.addEventListener('abort', () => this.destroy(abortError(signal.reason)), { once: true });
    }
    if (callback) this.once('response', callback);
    const socket = new RequestSocket(this.protocol === 'https:', hostname, port);
    this.socket = socket as unknown as OutgoingMessage['socket'];
    globalThis.process.nextTick(() => {
      if (this.destroyed) return;
      this.emit('socket', socket);
      const expect = this.getHeader('expect');
      if (typeof expect === 'string' && expect.toLowerCase() === '100-continue') this.emit('continue');
    });
  }

  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (this.finished) throw nodeError(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
    if (chunk !== undefined && chunk !== null) {
      this.#chunks.push(typeof chunk === 'string' ? globalThis.Buffer.from(chunk, (encoding as 'utf8' | undefined) ?? 'utf8') : new Uint8Array(chunk as ArrayBufferLike));
    }
    if (typeof callback === 'function') globalThis.process.nextTick(callback);
    return true;
  }

  override end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
    if (typeof chunk === 'function') {
      callback = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (this.finished) return this;
    if (chunk !== undefined && chunk !== null) this.write(chunk, encoding);
    this.finished = true;
    if (typeof callback === 'function') this.once('finish', callback as () => void);
    globalThis.process.nextTick(() => {
      this.emit('prefinish');
      this.emit('finish');
      this.#send();
    });
    return this;
  }

  override setTimeout(ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    this.#timeoutMs = ms;
    this.#armTimeout();
    return this;
  }

  setNoDelay(): void {}
  setSocketKeepAlive(): void {}

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    globalThis.process.nextTick(() => this.emit('abort'));
    this.destroy();
  }

  override destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.#clearTimeout();
    this.#controller.abort();
    globalThis.process.nextTick(() => {
      if (error) this.emit('error', error);
      else if (!this.#responded) this.emit('error', connReset());
      this.emit('close');
    });
    return this;
  }

  #armTimeout(): void {
    this.#clearTimeout();
    if (this.#timeoutMs > 0) this.#timeout = setTimeout(() => this.emit('timeout'), this.#timeoutMs);
  }

  #clearTimeout(): void {
    if (this.#timeout !== undefined) clearTimeout(this.#timeout);
    this.#timeout = undefined;
  }

  #send(): void {
    if (this.destroyed) return;
    const headers: [string, string][] = [];
    for (const [name, value] of this._headers.values()) {
      if (HOP_BY_HOP.has(name.toLowerCase())) continue;
      for (const one of Array.isArray(value) ? value : [value]) headers.push([name, String(one)]);
    }
    let body: Uint8Array | undefined;
    try {
      body = this.#chunks.length === 0 ? undefined : this.#chunks.length === 1 ? this.#chunks[0] : globalThis.Buffer.concat(this.#chunks);
    } catch (error) {
      // The body's copy past the memory cap (RangeError: Array buffer allocation failed): Node
      // reports a request's failures on its 'error' event, never as an uncaught exception (issue #15).
      this.#chunks.length = 0;
      this.#fail(error as Error);
      return;
    }
    this.#chunks.length = 0;
    const hasBody = body !== undefined && this.method !== 'GET' && this.method !== 'HEAD';
    this._header = `${this.method} ${this.path} HTTP/1.1\r\n`;
    fetchForHttp(this.#url, { method: this.method, headers, body: hasBody ? body : undefined, redirect: 'manual', signal: this.#controller.signal })
      .then(
        async (response) => {
          const bytes = new Uint8Array(await response.arrayBuffer());
          if (this.destroyed) return;
          this.#clearTimeout();
          this.#respond(response, bytes);
        },
        (error: unknown) => {
          if (this.destroyed) return;
          this.#fail(networkError(error, this.#port));
        },
      );
  }

  /** The request failed before a response: 'error', then 'close', as Node's ClientRequest. */
  #fail(error: Error): void {
    this.#clearTimeout();
    this.destroyed = true;
    this.emit('error', error);
    this.emit('close');
  }

  #respond(response: { status: number; statusText: string; headers: Iterable<[string, string]> }, bytes: Uint8Array): void {
    this.#responded = true;
    const res = new IncomingMessage(this.socket as unknown as Record<string, unknown>);
    res.statusCode = response.status;
    res.statusMessage = response.statusText || STATUS_CODES[response.status] || '';
    const raw: string[] = [];
    for (const [name, value] of response.headers) {
      if (name === 'content-encoding' || name === 'content-length') continue;
      raw.push(name, value);
    }
    raw.push('content-length', String(bytes.length));
    res.rawHeaders = raw;
    res.req = this;
    this.res = res;
    res.url = '';
    if (bytes.length > 0 && this.method !== 'HEAD') res.push(globalThis.Buffer.from(bytes));
    res.push(null);
    res.once('end', () => {
      res.complete = true;
      globalThis.process.nextTick(() => {
        this.destroyed = true;
        this.emit('close');
      });
    });
    // Node drops the body of a response no one listens for (counted before emit: `once` listeners leave during it).
    if (this.listenerCount('response') === 0) res.resume();
    this.emit('response', res);
  }
}

function urlToOptions(url: URL): RequestOptions {
  return {
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    auth: url.username ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
  };
}

function abortError(reason: unknown): Error {
  const error = nodeError(Error, 'ABORT_ERR', 'The operation was aborted');
  error.name = 'AbortError';
  (error as Error & { cause?: unknown }).cause = reason;
  return error;
}

function connReset(): Error {
  return nodeError(Error, 'ECONNRESET', 'socket hang up');
}

/** Node's errno for the socket errors a connection can fail with (libuv's, as on Linux). */
const ERRNO: Readonly<Record<string, number>> = { ECONNREFUSED: -111, ECONNRESET: -104, ETIMEDOUT: -110, EHOSTUNREACH: -113, ENETUNREACH: -101, EPIPE: -32 };

/**
 * A failed fetch as Node's http client reports it: the socket's own error (the host's fetch's
 * cause: `connect ECONNREFUSED 127.0.0.1:1` with errno, code, syscall, address, port;
 * `getaddrinfo ENOTFOUND name` with errno, code, syscall, hostname; a TLS error with its code),
 * undici's connect timeout as the kernel's `connect ETIMEDOUT`, a connection closed before the
 * response as `socket hang up`; the egress policy's refusal keeps its own code and reason.
 */
function networkError(error: unknown, port: number): Error {
  if (error instanceof Error && error.name === 'AbortError') return connReset();
  const cause = error instanceof Error && error.cause instanceof Error ? (error.cause as Error & Record<string, unknown>) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (!cause || code === undefined) {
    // No socket error (the host's own bounds: too many requests in flight): its reason, as a reset.
    const reason = cause?.message ?? (error instanceof Error ? error.message : String(error));
    return Object.assign(nodeError(Error, 'ECONNRESET', reason), { errno: ERRNO.ECONNRESET, syscall: 'read' });
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    // "Connect Timeout Error (attempted address: 10.0.0.1:81, timeout: 10000ms)"
    const attempted = /attempted address: (.*):(\d+),/.exec(cause.message);
    const address = attempted?.[1] ?? '';
    const to = attempted ? Number(attempted[2]) : port;
    return socketError({ message: `connect ETIMEDOUT ${address}:${to}`, errno: ERRNO.ETIMEDOUT, code: 'ETIMEDOUT', syscall: 'connect', address, port: to });
  }
  if (code.startsWith('UND_ERR_')) return connReset(); // the peer closed or the socket failed before the response
  const shape: Record<string, unknown> = { message: cause.message };
  for (const key of ['errno', 'code', 'syscall', 'address', 'port', 'hostname']) if (cause[key] !== undefined) shape[key] = cause[key];
  return socketError(shape as { message: string });
}

/** An Error with Node's socket-error properties, in Node's order (errno, code, syscall, address, port, hostname). */
function socketError(shape: { message: string; [key: string]: unknown }): Error {
  const error = new Error(shape.message) as Error & Record<string, unknown>;
  for (const key of ['errno', 'code', 'syscall', 'address', 'port', 'hostname']) if (shape[key] !== undefined) error[key] = shape[key];
  return error;
}
