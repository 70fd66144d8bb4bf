/**
 * node:net and node:tls client sockets inside the sandbox (issue #12: ioredis, pg, mysql2,
 * mongodb, nodemailer). The socket itself is the host's (environment/socket-service.ts): the guest
 * asks it to connect (`net.connect`, checked against the function's egress policy there), hands it
 * bytes (`net.write`), and takes what arrived for all its sockets with one `net.poll` from its timer
 * ticks — as fetch does (fetch.ts): 1 ms after activity, backing off to 8 ms while nothing comes.
 * A ref'd socket keeps the event loop alive, as in Node (an unref'd one is polled only while
 * something else does).
 *
 * `Socket` is a stream.Duplex with Node's surface (connect, write/end/destroy, setEncoding,
 * setTimeout + 'timeout', setNoDelay, setKeepAlive, ref/unref, address(), the address and byte
 * properties, readyState / connecting / pending; events lookup, connect, ready, data, end, close,
 * error) and Node's errors (the host's own: `connect ECONNREFUSED 127.0.0.1:6390` with errno, code,
 * syscall, address, port; ERR_SOCKET_BAD_PORT for a bad port; EPIPE for a write after the peer
 * ended). Servers (`createServer`, `Server.listen`) stay unavailable: nothing can reach a sandbox.
 * TLS is done by the host's node:tls; the guest's TLSSocket reports what it found (authorized,
 * authorizationError, getPeerCertificate's plain fields, ALPN, protocol, cipher).
 */
import { Buffer } from 'buffer';
import { host, hostCall, nodeError, reviveError } from '../bridge.ts';
import { describeReceived, invalidArgType } from './node-errors.ts';
import { stream } from './stream.ts';
import { unavailableError } from './unavailable-module.ts';

type Callback = (...args: unknown[]) => void;

/** Bytes one `net.write` host call carries (socket-service.ts SOCKET_WRITE_CHUNK_MAX). */
const WRITE_SLICE = 256 * 1024;
const POLL_MIN_MS = 1;
const POLL_MAX_MS = 8;
let pollDelay = POLL_MIN_MS;

/** STARTTLS's take-over (tls.connect({ socket })): a symbol, so Node's Socket shows no such method. */
const ADOPT = Symbol('adopt');
/** The host name each socket was asked to connect to (tls.connect({ socket })'s default server name). */
const connectHosts = new WeakMap<object, string>();

/** The guest's open sockets by host id (polled while any is here). */
const open = new Map<number, Socket>();

// ---- IP addresses (Node's lib/internal/net.js expressions) -------------------------------------

const v4Seg = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const v4Str = `(?:${v4Seg}\\.){3}${v4Seg}`;
const IPv4Reg = new RegExp(`^${v4Str}$`);
const v6Seg = '(?:[0-9a-fA-F]{1,4})';
const IPv6Reg = new RegExp(
  '^(?:' +
    `(?:${v6Seg}:){7}(?:${v6Seg}|:)|` +
    `(?:${v6Seg}:){6}(?:${v4Str}|:${v6Seg}|:)|` +
    `(?:${v6Seg}:){5}(?::${v4Str}|(?::${v6Seg}){1,2}|:)|` +
    `(?:${v6Seg}:){4}(?:(?::${v6Seg}){0,1}:${v4Str}|(?::${v6Seg}){1,3}|:)|` +
    `(?:${v6Seg}:){3}(?:(?::${v6Seg}){0,2}:${v4Str}|(?::${v6Seg}){1,4}|:)|` +
    `(?:${v6Seg}:){2}(?:(?::${v6Seg}){0,3}:${v4Str}|(?::${v6Seg}){1,5}|:)|` +
    `(?:${v6Seg}:){1}(?:(?::${v6Seg}){0,4}:${v4Str}|(?::${v6Seg}){1,6}|:)|` +
    `(?::(?:(?::${v6Seg}){0,5}:${v4Str}|(?::${v6Seg}){1,7}|:))` +
    ')(?:%[0-9a-zA-Z-.:]{1,})?$',
);

export function isIPv4(input: unknown): boolean {
  return IPv4Reg.test(`${input as string}`);
}
export function isIPv6(input: unknown): boolean {
  return IPv6Reg.test(`${input as string}`);
}
export function isIP(input: unknown): 0 | 4 | 6 {
  return isIPv4(input) ? 4 : isIPv6(input) ? 6 : 0;
}

// ---- arguments (Node's lib/net.js normalizeArgs and validators) --------------------------------

/** Node's ERR_SOCKET_BAD_PORT (lib/internal/validators.js validatePort). */
function validatePort(port: unknown): number {
  if (
    (typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== +port >>> 0 ||
    +port > 0xffff
  ) {
    throw nodeError(RangeError, 'ERR_SOCKET_BAD_PORT', `Port should be >= 0 and < 65536. Received ${describeReceived(port)}.`);
  }
  return +port | 0;
}

interface ConnectOptions {
  port?: unknown;
  host?: unknown;
  path?: unknown;
  family?: unknown;
  noDelay?: unknown;
  keepAlive?: unknown;
  keepAliveInitialDelay?: unknown;
  timeout?: unknown;
  allowHalfOpen?: unknown;
  // tls
  servername?: unknown;
  rejectUnauthorized?: unknown;
  ca?: unknown;
  cert?: unknown;
  key?: unknown;
  passphrase?: unknown;
  ALPNProtocols?: unknown;
  minVersion?: unknown;
  maxVersion?: unknown;
  socket?: unknown;
  secureContext?: unknown;
  [key: string]: unknown;
}

/** Node's normalizeArgs: [options, callback] from (options[, cb]), (port[, host][, cb]) or (path[, cb]). */
function normalizeArgs(args: readonly unknown[]): [ConnectOptions, Callback | null] {
  if (args.length === 0) return [{}, null];
  const arg0 = args[0];
  let options: ConnectOptions = {};
  if (typeof arg0 === 'object' && arg0 !== null) options = arg0 as ConnectOptions;
  else if (typeof arg0 === 'string' && !(Number(arg0) >= 0)) options.path = arg0;
  else {
    options.port = arg0;
    if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
  }
  const cb = args[args.length - 1];
  return [options, typeof cb === 'function' ? (cb as Callback) : null];
}

/** A host or server name option as text (Node's String() of it). */
function hostText(value: unknown): string {
  return typeof value === 'string' ? value : `${value as number}`;
}

// ---- Socket ------------------------------------------------------------------------------------

interface ConnectInfo {
  remoteAddress?: string;
  remotePort?: number;
  remoteFamily?: string;
  localAddress?: string;
  localPort?: number;
  tls?: TlsInfo;
}

interface TlsInfo {
  authorized: boolean;
  authorizationError: string | null;
  alpnProtocol: string | false | null;
  protocol: string | null;
  cipher: unknown;
  peer: Record<string, unknown>;
}

interface Update {
  i: number;
  n: number;
  c?: ConnectInfo;
  e?: true;
  x?: { name: string; message: string; [key: string]: unknown };
  z?: true;
  d?: true;
}

type DuplexClass = new (options?: object) => import('stream').Duplex;
const Duplex = stream.Duplex as unknown as DuplexClass;

/** A write waiting for the host (a drain, or the connection). */
interface PendingWrite {
  readonly bytes: Uint8Array;
  at: number;
  readonly cb: (error?: Error | null) => void;
}

export class Socket extends Duplex {
  connecting = false;
  #id: number | undefined;
  #info: ConnectInfo = {};
  #bytesRead = 0;
  #bytesWritten = 0;
  #ref = true;
  /** The guest's readable side is full: the host keeps (and, past its bound, stops reading) the rest. */
  #paused = false;
  /** The host holds its bound of unsent bytes: writes wait for its drain. */
  #hostFull = false;
  #pending: PendingWrite | undefined;
  #finalCb: ((error?: Error | null) => void) | undefined;
  /** Node's `timeout`: undefined until setTimeout is called. */
  #timeoutMs: number | undefined;
  #timer: { unref(): unknown } | undefined;
  #options: { noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelay?: number } = {};
  #host = '';
  /** Set on a plain socket a TLSSocket took over (STARTTLS): they close together. */
  #wrappedBy: Socket | undefined;
  /** Set for TLS (TLSSocket). */
  protected tlsOptions: Record<string, unknown> | undefined;
  protected tlsInfo: TlsInfo | undefined;

  constructor(options: { allowHalfOpen?: boolean; fd?: unknown; handle?: unknown } = {}) {
    super({ allowHalfOpen: options.allowHalfOpen === true, emitClose: false, autoDestroy: true, decodeStrings: true });
    if (options.fd !== undefined || options.handle !== undefined) throw unavailableError("The Node.js module 'net' (net.Socket over a file descriptor or handle)");
  }

  get pending(): boolean {
    return this.#id === undefined || this.connecting;
  }
  get readyState(): string {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }
  get bytesRead(): number {
    return this.#bytesRead;
  }
  get bytesWritten(): number {
    return this.#bytesWritten;
  }
  get remoteAddress(): string | undefined {
    return this.#info.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#info.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.#info.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.#info.localAddress;
  }
  get localPort(): number | undefined {
    return this.#info.localPort;
  }
  get timeout(): number | undefined {
    return this.#timeoutMs;
  }
  get bufferSize(): number {
    return this.writableLength;
  }

  address(): { address: string; family: string; port: number } | Record<string, never> {
    if (this.#info.localAddress === undefined) return {};
    return { address: this.#info.localAddress, family: this.#info.localAddress.includes(':') ? 'IPv6' : 'IPv4', port: this.#info.localPort ?? 0 };
  }

  connect(...args: unknown[]): this {
    const [options, cb] = normalizeArgs(args);
    if (options.path !== undefined && options.path !== null) {
      throw unavailableError("The Node.js module 'net' (a Unix domain socket or named pipe: net.Socket.connect(path))");
    }
    if (options.port === undefined) {
      throw nodeError(TypeError, 'ERR_MISSING_ARGS', 'The "options" or "port" or "path" argument must be specified');
    }
    if (typeof options.port !== 'number' && typeof options.port !== 'string') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "options.port" property must be one of type number or string. Received ${describeReceived(options.port)}`);
    }
    const port = validatePort(options.port);
    const hostName = options.host === undefined || options.host === null ? 'localhost' : hostText(options.host);
    if (this.#id !== undefined) throw nodeError(Error, 'ERR_SOCKET_CONNECTION_TIMEOUT', 'Socket is already connected');
    if (cb) this.once(this.tlsOptions ? 'secureConnect' : 'connect', cb);
    if (options.timeout !== undefined) this.setTimeout(Number(options.timeout));
    if (options.noDelay !== undefined) this.#options.noDelay = options.noDelay === true;
    if (options.keepAlive !== undefined) {
      this.#options.keepAlive = options.keepAlive === true;
      this.#options.keepAliveInitialDelay = Math.floor((Number(options.keepAliveInitialDelay) || 0) / 1000) * 1000;
    }
    this.connecting = true;
    this.#host = hostName;
    connectHosts.set(this, hostName);
    const request = {
      host: hostName,
      port,
      family: options.family === 4 || options.family === 6 ? options.family : undefined,
      ...this.#options,
      ...(this.tlsOptions ? { tls: this.tlsOptions } : {}),
    };
    let id: number;
    try {
      id = hostCall('net.connect', [request]).value as number;
    } catch (error) {
      // Node reports a connection's failure as an 'error' event, never a throw.
      host.enqueueMicrotask(() => {
        this.connecting = false;
        this.destroy(error as Error);
      });
      return this;
    }
    this.#id = id;
    open.set(id, this);
    pollDelay = POLL_MIN_MS;
    return this;
  }

  override setEncoding(encoding?: string): this {
    super.setEncoding(encoding as BufferEncoding);
    return this;
  }

  setNoDelay(noDelay = true): this {
    this.#options.noDelay = noDelay !== false;
    this.#hostOptions({ noDelay: this.#options.noDelay });
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    this.#options.keepAlive = enable === true;
    this.#options.keepAliveInitialDelay = Math.floor((Number(initialDelay) || 0) / 1000) * 1000;
    this.#hostOptions({ keepAlive: this.#options.keepAlive, keepAliveInitialDelay: this.#options.keepAliveInitialDelay });
    return this;
  }

  #hostOptions(options: object): void {
    if (this.#id === undefined || this.connecting || this.destroyed) return; // sent with the connect
    try {
      hostCall('net.options', [this.#id, options]);
    } catch {
      // closed meanwhile: the poll reports it
    }
  }

  /** Node's idle timeout: 'timeout' after `ms` without reading or writing (the socket stays open). */
  setTimeout(ms: number, callback?: Callback): this {
    const value = Number(ms);
    if (!Number.isFinite(value) || value < 0) throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "msecs" is out of range. It must be a non-negative finite number. Received ${String(ms)}`);
    this.#timeoutMs = value;
    if (callback) {
      if (value === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.#armTimer();
    return this;
  }

  #armTimer(): void {
    const g = globalThis as unknown as { setTimeout: (fn: () => void, ms: number) => { unref(): unknown }; clearTimeout: (h: unknown) => void };
    if (this.#timer) g.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#timeoutMs || this.destroyed) return;
    // Unref'd: the idle timer alone does not keep the event loop alive (the socket's ref does).
    this.#timer = g.setTimeout(() => {
      this.#timer = undefined;
      this.emit('timeout');
    }, this.#timeoutMs);
    this.#timer.unref();
  }

  ref(): this {
    this.#ref = true;
    return this;
  }
  unref(): this {
    this.#ref = false;
    return this;
  }
  /** Whether this socket keeps the event loop alive (polled by the module's poller). */
  get keepsAlive(): boolean {
    return this.#ref;
  }

  resetAndDestroy(): this {
    return this.destroy();
  }
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  override _read(): void {
    this.#paused = false;
    if (this.#id !== undefined) pollDelay = POLL_MIN_MS;
  }

  override _write(chunk: Uint8Array, _encoding: string, cb: (error?: Error | null) => void): void {
    this.#pending = { bytes: chunk, at: 0, cb };
    if (!this.connecting) this.#pump();
  }

  /** Sends the pending write to the host in slices while the host has room; its callback once all went. */
  #pump(): void {
    const write = this.#pending;
    if (!write || this.#id === undefined) return;
    while (write.at < write.bytes.length || write.bytes.length === 0) {
      if (this.#hostFull) return;
      const slice = write.bytes.subarray(write.at, write.at + WRITE_SLICE);
      let room: boolean;
      try {
        room = hostCall('net.write', [this.#id], slice).value as boolean;
      } catch (error) {
        this.#pending = undefined;
        write.cb(error as Error);
        return;
      }
      write.at += slice.length;
      this.#bytesWritten += slice.length;
      if (!room) this.#hostFull = true;
      if (write.bytes.length === 0) break;
    }
    this.#pending = undefined;
    pollDelay = POLL_MIN_MS;
    this.#armTimer();
    write.cb();
  }

  override _final(cb: (error?: Error | null) => void): void {
    if (this.connecting) {
      this.#finalCb = cb; // sent once connected
      return;
    }
    // Without an id the host's socket is gone (closed, or never opened): nothing to send.
    if (this.#id !== undefined) {
      try {
        hostCall('net.end', [this.#id]);
      } catch {
        // gone: the poll reports it
      }
    }
    cb();
  }

  /**
   * STARTTLS: this TLSSocket takes over `plain`'s connection (the host wraps its socket in TLS).
   * `plain` stays the object its owner holds: it closes when this does, and destroying it destroys
   * this, as a socket under Node's TLSSocket does.
   */
  [ADOPT](plain: Socket): void {
    if (plain.#id === undefined || plain.destroyed) throw nodeError(Error, 'ERR_SOCKET_CLOSED', 'Socket is closed');
    if (plain.connecting) throw unavailableError("The Node.js module 'tls' (tls.connect({ socket }) over a socket still connecting)");
    const id = plain.#id;
    hostCall('net.starttls', [id, this.tlsOptions]);
    this.#id = id;
    this.#info = plain.#info;
    this.#host = plain.#host;
    this.connecting = true;
    open.set(id, this);
    plain.#id = undefined;
    plain.#wrappedBy = this;
    this.once('close', () => plain.destroy());
    pollDelay = POLL_MIN_MS;
  }

  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    if (this.#wrappedBy && !this.#wrappedBy.destroyed) this.#wrappedBy.destroy(error ?? undefined);
    const g = globalThis as unknown as { clearTimeout: (h: unknown) => void };
    if (this.#timer) g.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.connecting = false;
    if (this.#id !== undefined && open.delete(this.#id)) {
      try {
        hostCall('net.destroy', [this.#id]);
      } catch {
        // already gone
      }
    }
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending) pending.cb(error ?? nodeError(Error, 'ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed'));
    cb(error);
    // Node's 'close' (hadError) after 'error' (which the stream emits on the next tick).
    host.enqueueMicrotask(() => host.enqueueMicrotask(() => this.emit('close', error !== null && error !== undefined)));
  }

  /** A write after the peer ended and this side auto-ended: Node's EPIPE (lib/net.js writeAfterFIN). */
  #writeAfterFIN(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    const callback = typeof encoding === 'function' ? encoding : cb;
    const error = nodeError(Error, 'EPIPE', 'This socket has been ended by the other party');
    if (typeof callback === 'function') host.enqueueMicrotask(() => (callback as Callback)(error));
    this.destroy(error);
    void chunk;
    return false;
  }

  /** One poll's news for this socket (module poller). */
  apply(update: Update, data: Uint8Array | undefined): void {
    if (update.c) this.#connected(update.c);
    if (data && data.length > 0) {
      this.#bytesRead += data.length;
      this.#armTimer();
      if (!this.destroyed && !this.readableEnded && !this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength))) this.#paused = true;
    }
    if (update.d) {
      this.#hostFull = false;
      this.#pump();
    }
    if (update.e && !this.destroyed) {
      this.push(null);
      if (!this.allowHalfOpen) {
        (this as unknown as { write: unknown }).write = this.#writeAfterFIN.bind(this);
      }
    }
    if (update.x) {
      open.delete(update.i);
      const error = socketError(update.x);
      // Node's lookupAndConnect: a name that did not resolve is a 'lookup' with the resolver's error first.
      if (this.connecting && error.syscall === 'getaddrinfo' && isIP(this.#host) === 0) this.emit('lookup', error, undefined, undefined, this.#host);
      this.destroy(error);
    } else if (update.z) {
      open.delete(update.i);
      this.#id = undefined;
      if (!this.readableEnded) this.push(null);
      // Closed by the host's side (the peer's FIN and ours both done, or a reset): nothing more can move.
      if (this.#pending) this.#pending.cb(nodeError(Error, 'EPIPE', 'This socket has been ended by the other party'));
      this.#pending = undefined;
      if (this.writableFinished || this.writableEnded || !this.writable) this.destroy();
      else this.end(() => this.destroy());
    }
  }

  get guestPaused(): boolean {
    return this.#paused;
  }

  #connected(info: ConnectInfo): void {
    this.#info = info;
    this.connecting = false;
    if (info.tls) this.tlsInfo = info.tls;
    if (isIP(this.#host) === 0 && info.remoteAddress !== undefined) {
      this.emit('lookup', null, info.remoteAddress, info.remoteFamily === 'IPv6' ? 6 : 4, this.#host);
    }
    this.#pump();
    if (this.#finalCb) {
      const cb = this.#finalCb;
      this.#finalCb = undefined;
      this._final(cb);
    }
    this.#armTimer();
    this.emit('connect');
    if (this.tlsOptions) this.emit('secureConnect');
    this.emit('ready');
  }
}

/** The host's error as Node's (its own properties in Node's order). */
function socketError(shape: { name: string; message: string; [key: string]: unknown }): Error & Record<string, unknown> {
  const error = reviveError({ name: shape.name, message: shape.message }) as Error & Record<string, unknown>;
  for (const key of ['errno', 'code', 'syscall', 'address', 'port', 'hostname', 'reason', 'host', 'library']) {
    if (shape[key] !== undefined) error[key] = shape[key];
  }
  return error;
}

// ---- the poller --------------------------------------------------------------------------------

function pollSockets(): void {
  if (open.size === 0) return;
  const ids: number[] = [];
  const paused: number[] = [];
  for (const [id, socket] of open) {
    ids.push(id);
    if (socket.guestPaused) paused.push(id);
  }
  const { value, payload } = hostCall('net.poll', [ids, paused]);
  const updates = value as Update[];
  let at = 0;
  let news = false;
  for (const update of updates) {
    const data = update.n > 0 && payload ? payload.subarray(at, at + update.n) : undefined;
    at += update.n;
    news = true;
    const socket = open.get(update.i);
    if (socket) socket.apply(update, data);
  }
  pollDelay = news ? POLL_MIN_MS : Math.min(POLL_MAX_MS, pollDelay * 2);
}

host.pollers.push({
  poll: pollSockets,
  delay: () => (open.size === 0 ? -1 : pollDelay),
  keepsAlive: () => {
    for (const socket of open.values()) if (socket.keepsAlive) return true;
    return false;
  },
});

// ---- net ---------------------------------------------------------------------------------------

export function connect(...args: unknown[]): Socket {
  const [options] = normalizeArgs(args);
  const socket = new Socket({ allowHalfOpen: options.allowHalfOpen === true });
  if (options.timeout !== undefined) socket.setTimeout(Number(options.timeout));
  return socket.connect(...args);
}

let autoSelectFamily = true;
let autoSelectFamilyAttemptTimeout = 250;

/** node:net: client sockets here, the rest (servers, BlockList...) as the unavailable stubs. */
export function netModule(stubs: Record<string, unknown>): Record<string, unknown> {
  return {
    ...stubs,
    Socket,
    Stream: Socket,
    connect,
    createConnection: connect,
    isIP,
    isIPv4,
    isIPv6,
    getDefaultAutoSelectFamily: () => autoSelectFamily,
    setDefaultAutoSelectFamily: (value: unknown) => void (autoSelectFamily = value === true),
    getDefaultAutoSelectFamilyAttemptTimeout: () => autoSelectFamilyAttemptTimeout,
    setDefaultAutoSelectFamilyAttemptTimeout: (value: unknown) => void (autoSelectFamilyAttemptTimeout = Math.max(10, Number(value) || 250)),
  };
}

// ---- tls ---------------------------------------------------------------------------------------

/** PEM text from a string, a Buffer or an array of them. */
function pemList(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.map((item: unknown) => {
    if (typeof item === 'string') return item;
    if (item instanceof Uint8Array) return Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('utf8');
    if (typeof item === 'object' && item !== null && 'pem' in item) return String((item).pem);
    throw invalidArgType(`options.${name}`, 'of type string or an instance of Buffer, TypedArray, or DataView', item);
  });
}

/** ALPNProtocols as strings: an array of strings or Buffers, or Node's wire form (length-prefixed). */
function alpnList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map((item: unknown) => (typeof item === 'string' ? item : Buffer.from(item as Uint8Array).toString('latin1')));
  if (value instanceof Uint8Array) {
    const out: string[] = [];
    for (let at = 0; at < value.length; at += 1 + value[at]!) out.push(Buffer.from(value.subarray(at + 1, at + 1 + value[at]!)).toString('latin1'));
    return out;
  }
  return undefined;
}

export class TLSSocket extends Socket {
  readonly encrypted = true;
  servername: string | undefined;

  constructor(socket?: unknown, options: ConnectOptions = {}) {
    super({ allowHalfOpen: options.allowHalfOpen === true });
    if (socket !== undefined && socket !== null) {
      throw unavailableError("The Node.js module 'tls' (a TLSSocket over an existing socket: STARTTLS, tls.connect({ socket }))");
    }
    this.tlsOptions = tlsRequest(options);
    this.servername = this.tlsOptions.servername as string | undefined;
  }

  get authorized(): boolean {
    return this.tlsInfo?.authorized ?? false;
  }
  get authorizationError(): string | null | undefined {
    return this.tlsInfo ? this.tlsInfo.authorizationError : undefined;
  }
  get alpnProtocol(): string | false | null {
    return this.tlsInfo ? this.tlsInfo.alpnProtocol : null;
  }
  getPeerCertificate(detailed?: boolean): Record<string, unknown> {
    void detailed;
    const peer = this.tlsInfo?.peer;
    if (!peer || Object.keys(peer).length === 0) return {};
    const out: Record<string, unknown> = { ...peer };
    if (typeof peer.raw === 'string') out.raw = Buffer.from(peer.raw, 'base64');
    return out;
  }
  getProtocol(): string | null {
    // Node's answer once the connection is gone.
    if (this.destroyed) return null;
    return this.tlsInfo?.protocol ?? null;
  }
  getCipher(): unknown {
    return this.tlsInfo?.cipher;
  }
  getSession(): undefined {
    return undefined;
  }
  isSessionReused(): boolean {
    return false;
  }
  setServername(name: string): void {
    if (this.tlsOptions) this.tlsOptions.servername = String(name);
    this.servername = String(name);
  }
}

function tlsRequest(options: ConnectOptions): Record<string, unknown> {
  const host = options.host === undefined || options.host === null ? 'localhost' : hostText(options.host);
  const servername = options.servername !== undefined && options.servername !== null ? hostText(options.servername) : isIP(host) === 0 ? host : undefined;
  return {
    ...(servername !== undefined && servername !== '' ? { servername } : {}),
    rejectUnauthorized: options.rejectUnauthorized !== false,
    ...(options.ca !== undefined ? { ca: pemList(options.ca, 'ca') } : {}),
    ...(options.cert !== undefined ? { cert: pemList(options.cert, 'cert') } : {}),
    ...(options.key !== undefined ? { key: pemList(options.key, 'key') } : {}),
    ...(typeof options.passphrase === 'string' ? { passphrase: options.passphrase } : {}),
    ...(options.ALPNProtocols !== undefined ? { ALPNProtocols: alpnList(options.ALPNProtocols) } : {}),
    ...(typeof options.minVersion === 'string' ? { minVersion: options.minVersion } : {}),
    ...(typeof options.maxVersion === 'string' ? { maxVersion: options.maxVersion } : {}),
  };
}

/** tls.connect(options[, cb]), (port[, host][, options][, cb]), (path[, options][, cb]). */
export function tlsConnect(...args: unknown[]): TLSSocket {
  let options: ConnectOptions = {};
  let cb: Callback | undefined;
  const rest = [...args];
  if (typeof rest[rest.length - 1] === 'function') cb = rest.pop() as Callback;
  if (typeof rest[0] === 'object' && rest[0] !== null) options = { ...(rest[0] as ConnectOptions) };
  else {
    if (typeof rest[0] === 'string' && !(Number(rest[0]) >= 0)) options.path = rest[0];
    else options.port = rest[0];
    let next = 1;
    if (typeof rest[1] === 'string') {
      options.host = rest[1];
      next = 2;
    }
    if (typeof rest[next] === 'object' && rest[next] !== null) options = { ...(rest[next] as ConnectOptions), ...options };
  }
  const secureOptions = (options.secureContext as Record<symbol, unknown> | undefined)?.[SECURE_OPTIONS] as ConnectOptions | undefined;
  if (secureOptions) options = { ...secureOptions, ...options };
  if (options.socket !== undefined && options.socket !== null) {
    // STARTTLS (pg, mysql2): TLS over a socket already connected in plain text.
    const plain = options.socket;
    if (!(plain instanceof Socket)) throw unavailableError("The Node.js module 'tls' (tls.connect({ socket }) over something other than a net.Socket)");
    const upgraded = new TLSSocket(undefined, { ...options, socket: undefined, host: options.host ?? connectHosts.get(plain) });
    if (cb) upgraded.once('secureConnect', cb);
    upgraded[ADOPT](plain);
    return upgraded;
  }
  const socket = new TLSSocket(undefined, options);
  if (cb) socket.once('secureConnect', cb);
  const connectOptions: ConnectOptions = { ...options };
  return socket.connect(connectOptions);
}

/** Where createSecureContext keeps its options for tls.connect's `secureContext`. */
const SECURE_OPTIONS = Symbol('secureOptions');

/** The host makes the real context: the guest's "context" carries the options (ca, cert, key, versions) to tls.connect. */
function createSecureContext(options: ConnectOptions = {}): object {
  return { context: {}, [SECURE_OPTIONS]: { ...options } };
}

/** node:tls: client connections here, the rest (servers...) as the unavailable stubs. */
export function tlsModule(stubs: Record<string, unknown>): Record<string, unknown> {
  return { ...stubs, connect: tlsConnect, TLSSocket, createSecureContext };
}
