/**
 * The host side of the guest's `node:net` and `node:tls` client sockets (issue #12: database and
 * cache clients — ioredis, pg, mysql2 — talk TCP). The guest never touches a socket: it asks the
 * host to connect (`net.connect`), hands it bytes (`net.write`), and takes what arrived with one
 * `net.poll` for all its sockets from its timer ticks (as fetch's `fetch.done`). Everything
 * crossing is plain data.
 *
 * Bounds, per environment (a guest is hostile: thousands of connects, huge writes, never reading):
 * - at most {@link SOCKETS_MAX} sockets open at once, and every environment of the process together
 *   at most {@link PROCESS_SOCKETS_MAX} (each is one of the host's file descriptors);
 * - bytes received and not yet taken by the guest: at most {@link SOCKET_READ_BUFFER_MAX} per
 *   socket — past it the host socket is paused (TCP's own backpressure then holds the peer), and
 *   resumed once the guest has taken them: nothing is lost;
 * - bytes the guest has written that the kernel has not taken: the guest waits (its Writable
 *   buffers in the guest's own memory) once the host holds {@link SOCKET_WRITE_BUFFER_MAX}, and a
 *   write past twice that is refused.
 *
 * The egress policy is checked before connecting (allowHosts: host-bridge.ts's check, the same as
 * fetch's), and a name must lead to a public address unless `allowPrivateAddresses` — the address
 * connected to is checked by the lookup (public-egress.ts publicOnlyLookup), so DNS rebinding is
 * covered as for fetch.
 *
 * Sockets live as long as the environment, across invocations (connection reuse is what database
 * clients rely on): between invocations the environment is frozen, and what arrives meanwhile waits
 * here (up to the buffer bound, then TCP holds it) until the next invocation's polls. Everything is
 * destroyed when the environment is disposed. At a SnapStart snapshot every socket is closed with
 * an error the guest sees at its next poll (Lambda keeps no connection across a snapshot): see
 * {@link SocketService.closeForSnapshot}.
 */
import { Buffer } from 'node:buffer';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { openFilesLimit } from './fetch-ledger.ts';
import { needsPublicAddress, PrivateAddressRefused, publicOnlyLookup } from './public-egress.ts';

const KIB = 1024;
/** Sockets one environment may have open at once (a connection pool of 10-20 is what database clients use). */
export const SOCKETS_MAX = 64;
/** Sockets every environment of the process may have open together: a quarter of the open-file limit (4,096 assumed where unread), at least one environment's worth. */
export const PROCESS_SOCKETS_MAX = Math.max(SOCKETS_MAX, Math.floor((openFilesLimit() ?? 4096) / 4));
/** Bytes received the host holds for one socket before pausing it. */
export const SOCKET_READ_BUFFER_MAX = 256 * KIB;
/** Bytes written the host holds for one socket (not yet taken by the kernel) before the guest must wait. */
export const SOCKET_WRITE_BUFFER_MAX = 256 * KIB;
/** Largest `net.write` payload (the guest slices larger writes). */
export const SOCKET_WRITE_CHUNK_MAX = 256 * KIB;
/** Bytes one `net.poll` hands over for all sockets together (the rest waits for the next poll). */
const POLL_BYTES_MAX = 4 * 1024 * KIB;

let processSockets = 0;

/** Sockets open in every environment of the process. */
export function processSocketsOpen(): number {
  return processSockets;
}

/** A socket error as the guest rebuilds it (Node's properties: code, errno, syscall, address, port, hostname...). */
export interface SocketErrorShape {
  readonly name: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

/** What the guest asks `net.connect` for (checked here: it is untrusted). */
interface ConnectRequest {
  readonly host: string;
  readonly port: number;
  readonly noDelay?: boolean;
  readonly keepAlive?: boolean;
  readonly keepAliveInitialDelay?: number;
  readonly family?: number;
  readonly tls?: {
    readonly servername?: string;
    readonly rejectUnauthorized?: boolean;
    readonly ca?: readonly string[];
    readonly cert?: readonly string[];
    readonly key?: readonly string[];
    readonly passphrase?: string;
    readonly ALPNProtocols?: readonly string[];
    readonly minVersion?: string;
    readonly maxVersion?: string;
  };
}

interface Entry {
  socket: net.Socket;
  secure: boolean;
  /** What its errors name (`tcp://host:port`), the host and the port. */
  describe: string;
  readonly host: string;
  readonly port: number;
  /** Received and not yet taken. */
  chunks: Buffer[];
  held: number;
  /** The connection's details, once connected and not yet reported. */
  connected: object | undefined;
  /** The peer ended its side (FIN), not yet reported. */
  ended: boolean;
  error: SocketErrorShape | undefined;
  closed: boolean;
  /** The guest was told to wait ({@link SOCKET_WRITE_BUFFER_MAX}); 'drain' sets {@link drained}. */
  full: boolean;
  drained: boolean;
}

/** One update of `net.poll`'s answer: the socket, bytes in the payload, and what happened. */
interface Update {
  /** Socket id. */
  i: number;
  /** Bytes of data in the payload (in order of the updates). */
  n: number;
  c?: object;
  e?: true;
  x?: SocketErrorShape;
  z?: true;
  d?: true;
}

/** Why a connect was refused before anything was sent (egress, bounds): the guest's error. */
export class SocketRefused extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export class SocketService {
  readonly #sockets = new Map<number, Entry>();
  #nextId = 1;
  #closedForSnapshot = false;
  /** Called when a socket has news for the guest (the drive loop then ticks it at once: event-loop.ts PhaseWaker). */
  onNews: (() => void) | undefined;
  /**
   * The runtime's host-memory budget (the dispatcher's, through the environment): asked with what
   * {@link heldBytes} would be before the buffers grow; false pauses the growing socket (TCP then
   * holds the peer, nothing is lost: it resumes when the guest takes bytes) or refuses a write.
   */
  room: ((heldBytes: number) => boolean) | undefined;
  readonly #allowPrivate: boolean;
  /** The egress policy's allowHosts check (host-bridge.ts): throws the refusal with why. */
  readonly #checkHost: (host: string, port: string, scheme: string) => void;

  constructor(allowPrivateAddresses: boolean, checkHost: (host: string, port: string, scheme: string) => void) {
    this.#allowPrivate = allowPrivateAddresses;
    this.#checkHost = checkHost;
  }

  /** Whether the budget has room for the buffers held now plus `more` bytes (no budget: yes). */
  #hasRoom(more: number): boolean {
    return this.room === undefined || this.room(this.heldBytes + more);
  }

  /** Bytes held for the guest (received, not taken) and written, not yet taken by the kernel. */
  get heldBytes(): number {
    let total = 0;
    for (const entry of this.#sockets.values()) total += entry.held + entry.socket.writableLength;
    return total;
  }

  get open(): number {
    return this.#sockets.size;
  }

  /** `net.connect` [request]: the socket's id; the connection's outcome comes through {@link poll}. */
  connect(raw: unknown): number {
    const request = connectRequest(raw);
    const host = request.host.toLowerCase().replace(/^\[|\]$/g, '');
    const scheme = request.tls ? 'tls' : 'tcp';
    this.#checkHost(host, String(request.port), scheme);
    if (this.#sockets.size >= SOCKETS_MAX) {
      throw new SocketRefused(`lambdalet: this environment has ${SOCKETS_MAX} sockets open, its limit; close one (socket.destroy() or end()) before connecting another`, 'EMFILE');
    }
    if (processSockets >= PROCESS_SOCKETS_MAX) {
      throw new SocketRefused(`lambdalet: the runtime has ${PROCESS_SOCKETS_MAX} sockets open for its functions, its limit; try again later`, 'EMFILE');
    }
    const filtered = !this.#allowPrivate && needsPublicAddress(host);
    const base: net.TcpNetConnectOpts = {
      host,
      port: request.port,
      // The guest decides when its side ends (its own allowHalfOpen): the host's socket never ends itself.
      allowHalfOpen: true,
      noDelay: request.noDelay === true,
      keepAlive: request.keepAlive === true,
      keepAliveInitialDelay: request.keepAliveInitialDelay ?? 0,
      ...(request.family === 4 || request.family === 6 ? { family: request.family } : {}),
      ...(filtered ? { lookup: publicOnlyLookup() } : {}),
    };
    const socket = request.tls ? tls.connect({ ...base, ...tlsOptions(request.tls, host) }) : net.connect(base);
    const id = this.#nextId++;
    const describe = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${request.port}`;
    const entry: Entry = {
      socket, secure: request.tls !== undefined, describe, host, port: request.port,
      chunks: [], held: 0, connected: undefined, ended: false, error: undefined, closed: false, full: false, drained: false,
    };
    this.#sockets.set(id, entry);
    processSockets++;
    this.#attach(entry, socket, request.tls !== undefined);
    return id;
  }

  /**
   * `net.starttls` [id, tls options]: TLS over a connected plain socket (STARTTLS: pg and mysql2
   * ask the server in plain text, then call `tls.connect({ socket })`). The host's node:tls wraps
   * the host's socket; the guest's TLSSocket takes over the id, and its 'secureConnect' comes
   * through {@link poll} as a connect.
   */
  upgrade(id: unknown, raw: unknown): void {
    const entry = this.#entry(id);
    if (entry.secure) throw new TypeError('net.starttls: the socket is already TLS');
    const options = tlsRequest(raw);
    const plain = entry.socket;
    // The plain socket's reads now go to TLS: its own listeners report nothing more.
    for (const event of ['connect', 'data', 'end', 'drain', 'close']) plain.removeAllListeners(event);
    const secure = tls.connect({ socket: plain, ...tlsOptions(options, entry.host) });
    entry.socket = secure;
    entry.secure = true;
    entry.describe = entry.describe.replace(/^tcp:/, 'tls:');
    this.#attach(entry, secure, true);
  }

  /** The host socket's events, recorded for the guest's next poll. */
  #attach(entry: Entry, socket: net.Socket, secure: boolean): void {
    const news = (): void => this.onNews?.();
    socket.on(secure ? 'secureConnect' : 'connect', () => {
      entry.connected = connectionInfo(socket, secure);
      news();
    });
    socket.on('data', (chunk: Buffer) => {
      // Kept even when the budget says no: the bytes are already in the process (one read's worth);
      // pausing stops the next ones.
      entry.chunks.push(chunk);
      entry.held += chunk.length;
      if (entry.held >= SOCKET_READ_BUFFER_MAX || !this.#hasRoom(0)) socket.pause();
      news();
    });
    socket.on('end', () => {
      entry.ended = true;
      news();
    });
    socket.on('drain', () => {
      if (entry.full) {
        entry.drained = true;
        news();
      }
      entry.full = false;
    });
    socket.on('error', (error: Error) => {
      entry.error ??= errorShape(error, entry.describe, entry.host, entry.port);
    });
    socket.on('close', () => {
      entry.closed = true;
      news();
    });
  }

  /** `net.write` [id] with the bytes: true while the guest may write on, false when it must wait for a drain (reported by {@link poll}). */
  write(id: unknown, bytes: Uint8Array): boolean {
    const entry = this.#entry(id);
    if (bytes.length > SOCKET_WRITE_CHUNK_MAX) throw new RangeError(`net.write: at most ${SOCKET_WRITE_CHUNK_MAX} bytes per call`);
    const socket = entry.socket;
    if (socket.destroyed || socket.writableEnded) {
      // Node's error for a write to a socket whose other side has gone (the guest turns it into its stream's error).
      throw Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    }
    if (socket.writableLength >= 2 * SOCKET_WRITE_BUFFER_MAX) {
      throw new SocketRefused(`lambdalet: a socket holds at most ${2 * SOCKET_WRITE_BUFFER_MAX} bytes not yet sent; wait for 'drain'`, 'ENOBUFS');
    }
    if (!this.#hasRoom(bytes.length)) {
      throw new SocketRefused(`lambdalet: the runtime's host memory budget has no room for ${bytes.length} more bytes of this environment's socket buffers`, 'ENOBUFS');
    }
    // A copy: the bytes the engine handed over may be a view the next call reuses.
    socket.write(Buffer.from(bytes));
    if (socket.writableLength >= SOCKET_WRITE_BUFFER_MAX) {
      entry.full = true;
      return false;
    }
    return true;
  }

  /** `net.end` [id]: the guest's side is done (FIN once what is written has gone). */
  end(id: unknown): void {
    const entry = this.#sockets.get(Number(id));
    if (entry && !entry.socket.destroyed) entry.socket.end();
  }

  /** `net.destroy` [id]: closes the socket and forgets it (nothing more is reported). Idempotent. */
  destroy(id: unknown): void {
    const key = Number(id);
    const entry = this.#sockets.get(key);
    if (!entry) return;
    this.#forget(key, entry);
  }

  /** `net.options` [id, {noDelay?, keepAlive?, keepAliveInitialDelay?}]. */
  options(id: unknown, raw: unknown): void {
    const entry = this.#entry(id);
    const o = (typeof raw === 'object' && raw !== null ? raw : {}) as { noDelay?: unknown; keepAlive?: unknown; keepAliveInitialDelay?: unknown };
    if (typeof o.noDelay === 'boolean') entry.socket.setNoDelay(o.noDelay);
    if (typeof o.keepAlive === 'boolean') entry.socket.setKeepAlive(o.keepAlive, Math.max(0, Number(o.keepAliveInitialDelay) || 0));
  }

  /**
   * `net.poll` [open ids, paused ids]: for each socket with news, an {@link Update}; the data of all
   * of them back to back as the payload. A paused socket (its guest stream is full) gets no data
   * (its other news still come after the data already taken). An id the guest holds that the host
   * does not know — closed for a snapshot, or a guest restored from one — is reported closed with
   * an error.
   */
  poll(openIds: unknown, pausedIds: unknown): { updates: Update[]; payload: Buffer | undefined } {
    const paused = new Set(Array.isArray(pausedIds) ? pausedIds.slice(0, 4 * SOCKETS_MAX).map(Number) : []);
    const updates: Update[] = [];
    const parts: Buffer[] = [];
    let budget = POLL_BYTES_MAX;
    if (Array.isArray(openIds)) {
      for (const raw of openIds.slice(0, 4 * SOCKETS_MAX)) {
        const id = Number(raw);
        if (!this.#sockets.has(id)) updates.push({ i: id, n: 0, x: this.#goneError(), z: true });
      }
    }
    for (const [id, entry] of this.#sockets) {
      const update: Update = { i: id, n: 0 };
      let news = false;
      if (entry.connected) {
        update.c = entry.connected;
        entry.connected = undefined;
        news = true;
      }
      if (entry.held > 0 && !paused.has(id) && budget > 0) {
        let taken = 0;
        while (entry.chunks.length > 0 && taken < budget) {
          const chunk = entry.chunks[0]!;
          const room = budget - taken;
          if (chunk.length <= room) {
            parts.push(chunk);
            taken += chunk.length;
            entry.chunks.shift();
          } else {
            parts.push(chunk.subarray(0, room));
            entry.chunks[0] = chunk.subarray(room);
            taken += room;
          }
        }
        entry.held -= taken;
        budget -= taken;
        update.n = taken;
        news = true;
      }
      // Paused at its bound or for the budget: reading again once under the bound and the budget has room.
      if (entry.held < SOCKET_READ_BUFFER_MAX && entry.socket.isPaused() && !entry.socket.destroyed && this.#hasRoom(0)) entry.socket.resume();
      if (entry.drained) {
        entry.drained = false;
        update.d = true;
        news = true;
      }
      // End, error and close come after every byte before them has been taken.
      if (entry.held === 0) {
        if (entry.ended) {
          entry.ended = false;
          update.e = true;
          news = true;
        }
        if (entry.closed) {
          if (entry.error) update.x = entry.error;
          update.z = true;
          news = true;
          this.#forget(id, entry);
        }
      }
      if (news) updates.push(update);
    }
    return { updates, payload: parts.length === 0 ? undefined : parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
  }

  /**
   * SnapStart's snapshot (environment.ts, after the before-snapshot hooks): Lambda keeps no
   * connection across a snapshot, so every socket is destroyed now, and the guest's next poll —
   * after restore, in this environment or one restored from its image — reports each closed with
   * an ECONNRESET error saying why (a database client reconnects on it).
   */
  closeForSnapshot(): void {
    this.#closedForSnapshot = true;
    for (const [id, entry] of this.#sockets) this.#forget(id, entry);
  }

  /** Destroys every socket (the environment is ending). */
  dispose(): void {
    for (const [id, entry] of this.#sockets) this.#forget(id, entry);
  }

  #goneError(): SocketErrorShape {
    // Restored from an image, a guest's sockets are unknown to this (new) host: the same story.
    void this.#closedForSnapshot;
    return {
      name: 'Error',
      message: 'read ECONNRESET (lambdalet: the connection was closed at the SnapStart snapshot; Lambda keeps no connection across a snapshot, reconnect after restore)',
      code: 'ECONNRESET',
      errno: -104,
      syscall: 'read',
    };
  }

  #entry(id: unknown): Entry {
    const entry = this.#sockets.get(Number(id));
    if (!entry) throw Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    return entry;
  }

  #forget(id: number, entry: Entry): void {
    if (!this.#sockets.delete(id)) return;
    processSockets--;
    entry.chunks = [];
    entry.held = 0;
    entry.socket.removeAllListeners('data');
    // An error after this is nobody's: without a listener it would be the host's uncaught exception.
    entry.socket.on('error', () => {});
    entry.socket.destroy();
  }
}

function connectRequest(raw: unknown): ConnectRequest {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('net.connect: expected a request object');
  const r = raw as Record<string, unknown>;
  if (typeof r.host !== 'string' || r.host.length === 0 || r.host.length > 253) throw new TypeError('net.connect: bad host');
  const port = r.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('net.connect: bad port');
  const t = r.tls !== undefined && r.tls !== null ? tlsRequest(r.tls) : undefined;
  const delay = Number(r.keepAliveInitialDelay);
  return {
    host: r.host,
    port,
    noDelay: r.noDelay === true,
    keepAlive: r.keepAlive === true,
    keepAliveInitialDelay: Number.isFinite(delay) && delay >= 0 ? delay : 0,
    family: r.family === 4 || r.family === 6 ? r.family : undefined,
    tls: t,
  };
}

type TlsRequest = NonNullable<ConnectRequest['tls']>;

/** A TLS request's options, checked (untrusted). */
function tlsRequest(raw: unknown): TlsRequest {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('net.connect: bad tls options');
  const o = raw as Record<string, unknown>;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const strings = (value: unknown, what: string): readonly string[] | undefined => {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.length > 256 || !value.every((v) => typeof v === 'string')) throw new TypeError(`net.connect: bad ${what}`);
    return value;
  };
  return {
    servername: text(o.servername),
    rejectUnauthorized: o.rejectUnauthorized !== false,
    ca: strings(o.ca, 'ca'),
    cert: strings(o.cert, 'cert'),
    key: strings(o.key, 'key'),
    passphrase: text(o.passphrase),
    ALPNProtocols: strings(o.ALPNProtocols, 'ALPNProtocols'),
    minVersion: text(o.minVersion),
    maxVersion: text(o.maxVersion),
  };
}

/** node:tls's options for a request to `host` (servername: the one asked for, else the host when it is a name). */
function tlsOptions(t: TlsRequest, host: string): tls.ConnectionOptions {
  return {
    rejectUnauthorized: t.rejectUnauthorized !== false,
    ...(t.servername !== undefined ? { servername: t.servername } : net.isIP(host) === 0 ? { servername: host } : {}),
    ...(t.ca ? { ca: [...t.ca] } : {}),
    ...(t.cert ? { cert: [...t.cert] } : {}),
    ...(t.key ? { key: [...t.key] } : {}),
    ...(t.passphrase !== undefined ? { passphrase: t.passphrase } : {}),
    ...(t.ALPNProtocols ? { ALPNProtocols: [...t.ALPNProtocols] } : {}),
    ...(t.minVersion ? { minVersion: t.minVersion as tls.SecureVersion } : {}),
    ...(t.maxVersion ? { maxVersion: t.maxVersion as tls.SecureVersion } : {}),
  };
}

/** What the guest's socket reports once connected (plain data). */
function connectionInfo(socket: net.Socket, secure: boolean): object {
  const info: Record<string, unknown> = {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    remoteFamily: socket.remoteFamily,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
  };
  if (secure) {
    const t = socket as tls.TLSSocket;
    const peer = t.getPeerCertificate();
    info.tls = {
      authorized: t.authorized,
      authorizationError: t.authorizationError === undefined || t.authorizationError === null ? null : String(t.authorizationError),
      alpnProtocol: t.alpnProtocol,
      protocol: t.getProtocol(),
      cipher: t.getCipher(),
      peer: peer && Object.keys(peer).length > 0 ? certificateSubset(peer) : {},
    };
  }
  return info;
}

/** getPeerCertificate()'s plain fields (the raw DER as base64): no issuerCertificate chain. */
function certificateSubset(cert: tls.PeerCertificate): Record<string, unknown> {
  const plain = (value: unknown): unknown => (value && typeof value === 'object' ? { ...(value) } : value);
  return {
    subject: plain(cert.subject),
    issuer: plain(cert.issuer),
    subjectaltname: cert.subjectaltname,
    infoAccess: plain(cert.infoAccess),
    ca: cert.ca,
    bits: cert.bits,
    valid_from: cert.valid_from,
    valid_to: cert.valid_to,
    serialNumber: cert.serialNumber,
    fingerprint: cert.fingerprint,
    fingerprint256: cert.fingerprint256,
    fingerprint512: cert.fingerprint512,
    raw: cert.raw?.toString('base64'),
  };
}

/** A host socket's error as the guest rebuilds it; a refusal of the connect-time address check says why. */
function errorShape(error: Error, describe: string, host: string, port: number): SocketErrorShape {
  if (error instanceof PrivateAddressRefused) {
    return {
      name: 'Error',
      message:
        `lambdalet egress policy denied ${describe}: ${error.message}; set egress.allowPrivateAddresses: true to let allowed names reach it` +
        (error.address.includes(':') ? '' : `, or connect to ${error.address}:${port} by address with "${error.address}:${port}" in egress.allowHosts`),
      code: 'ERR_LAMBDALET_EGRESS_DENIED',
      hostname: host,
    };
  }
  const shape: Record<string, unknown> = { name: error.name === 'TypeError' || error.name === 'RangeError' ? error.name : 'Error', message: error.message };
  for (const key of ['code', 'errno', 'syscall', 'address', 'port', 'hostname', 'reason', 'host', 'library', 'reason']) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'number') shape[key] = value;
  }
  return shape as SocketErrorShape;
}
