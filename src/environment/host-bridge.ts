/**
 * The host side of the guest's host calls (wire format in engines/guest/protocol.ts): one
 * environment's file system, randomness and outbound fetch. Everything arriving is untrusted text;
 * everything leaving is a string. Never throws into the engine: failures are encoded as `e...`.
 *
 * fetch is asynchronous on the host: `fetch.start` answers an id at once; the guest polls
 * `fetch.done` (from its timer ticks, while it has requests in flight) and takes each finished
 * response with `fetch.take`, or gives it up with `fetch.abort` (its AbortSignal fired). Requests
 * still in flight when the environment ends are aborted. What the bodies (request and response) hold
 * in the host's memory is bounded by the function's memory and counted live against the runtime's
 * memory budget, and their number in flight is bounded too (fetch-ledger.ts).
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import type { BrotliOptions } from 'node:zlib';
import { getGlobalDispatcher, request as undiciRequest, type Dispatcher } from 'undici';
import type { EgressPolicy } from '../config/index.ts';
import type { HostCallCause, HostCallError } from '../engines/guest/protocol.ts';
import { encodePayload, splitPayload } from '../engines/guest/protocol.ts';
import { binaryAnswer, textRequest, type BinaryAnswer } from '../engines/binary-host-call.ts';
import { VfsError, type LazyVfs } from '../vfs/index.ts';
import { CryptoService, type CryptoAnswer } from './crypto-service.ts';
import { FetchBoundError, FetchLedger, FetchMemoryError } from './fetch-ledger.ts';
import { runHeavy } from './heavy-work.ts';
import { needsPublicAddress, PrivateAddressRefused, publicEgressAgent } from './public-egress.ts';
import type { ResponseSink } from './response-sink.ts';
import { SocketService } from './socket-service.ts';

/** Most random bytes one call may ask for (Web Crypto's getRandomValues limit). */
const RANDOM_MAX_BYTES = 65_536;
/** Redirects followed for one request (undici's limit), each checked against the policy. */
const MAX_REDIRECTS = 20;
const MIB = 1024 * 1024;
/**
 * One Brotli call's work is bounded: at most 8 MiB in (above Lambda's 6 MB payloads) and 64 MiB
 * out (and never more than the function's memory). It runs on the host's thread only for an
 * engine that cannot wait for an asynchronous answer (in-process v8): see {@link HostBridge.callAsync}.
 */
export const BROTLI_MAX_INPUT_BYTES = 8 * MIB;
export const BROTLI_MAX_OUTPUT_BYTES = 64 * MIB;
/** What the `zlib.brotli` host call runs: Brotli, or (same limits) Zstandard — Node 22.15 / 23.8's zlib.zstd*. */
type ZlibHostMode = 'compress' | 'decompress' | 'zstdCompress' | 'zstdDecompress';
const zstdParams = (prefix: string): ReadonlySet<number> =>
  new Set(Object.entries(zlib.constants).filter(([name]) => name.startsWith(prefix)).map(([, value]) => value));
const ZSTD_COMPRESS_PARAMS = zstdParams('ZSTD_c_');
const ZSTD_DECOMPRESS_PARAMS = zstdParams('ZSTD_d_');
/** The host's node:zlib function for each mode, callback and synchronous forms. */
// zlib's functions through its namespace: Node 20 has no zstd*, and a named import of them fails to
// link there, before the entry's Node version check can say why (node-version-guard.ts).
const ZLIB_ASYNC = { compress: zlib.brotliCompress, decompress: zlib.brotliDecompress, zstdCompress: zlib.zstdCompress, zstdDecompress: zlib.zstdDecompress } as const;
const ZLIB_SYNC = { compress: zlib.brotliCompressSync, decompress: zlib.brotliDecompressSync, zstdCompress: zlib.zstdCompressSync, zstdDecompress: zlib.zstdDecompressSync } as const;

interface FetchRequestShape {
  readonly url: string;
  readonly method: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly redirect: 'follow' | 'manual' | 'error';
  /**
   * The request is node:http's (stdlib/http-client.ts), not fetch's: the Fetch standard's "bad
   * port" list does not apply (Node's http.get to port 6000 connects), so a request fetch refuses
   * for its port alone is sent through undici's dispatcher instead (#sendNode).
   */
  readonly node?: boolean;
}

/**
 * V8's message when an ArrayBuffer cannot be allocated (message-template.h, kArrayBufferAllocationFailed):
 * what Node's fetch rejects with when it cannot copy the request body (below, {@link HostBridge.call}).
 */
const ALLOCATION_FAILED = 'Array buffer allocation failed';

type FetchOutcome =
  | { readonly ok: true; readonly meta: object; readonly body: Buffer }
  | { readonly ok: false; readonly error: HostCallError };

export interface HostBridgeOptions {
  /** The environment's file system, built on the first fs call. */
  readonly vfs: LazyVfs;
  readonly egress: EgressPolicy;
  /**
   * Largest response body a fetch may bring into the sandbox, and the most all of the environment's
   * response bodies (being received or not yet taken) may hold together: the function's memory.
   */
  readonly maxResponseBytes: number;
  /** Whose turn the environment's heavy calls take in the process's share of libuv's pool (heavy-work.ts); see {@link HostBridge.heavyWorkOwner}. Default: one owner for every bridge made without one. */
  readonly heavyWorkOwner?: string;
}

export class HostBridge {
  readonly #vfs: LazyVfs;
  readonly #egress: EgressPolicy;
  readonly #maxResponseBytes: number;
  readonly #inFlight = new Map<number, AbortController>();
  readonly #finished = new Map<number, FetchOutcome>();
  /** Requests in flight and the body bytes held for the guest (in flight + finished, not taken). */
  readonly #ledger: FetchLedger;
  #nextFetchId = 1;
  /** node:crypto for the guest (its cipher contexts die with the environment). */
  readonly #crypto = new CryptoService();
  /** node:net / node:tls client sockets for the guest (socket-service.ts). */
  readonly #sockets: SocketService;
  /** The running invocation's response stream (InvokeWithResponseStream), if it has one. */
  responseSink: ResponseSink | undefined;
  /**
   * The owner heavy calls are queued under (heavy-work.ts: turns go round the owners): the
   * function's name, and for a PER_TENANT function its name and tenant once the environment knows
   * its tenant (environment.ts sets it at invoke).
   */
  heavyWorkOwner: string;

  constructor(options: HostBridgeOptions) {
    this.heavyWorkOwner = options.heavyWorkOwner ?? '';
    this.#vfs = options.vfs;
    this.#egress = options.egress;
    this.#maxResponseBytes = options.maxResponseBytes;
    this.#ledger = new FetchLedger(options.maxResponseBytes);
    this.#sockets = new SocketService(options.egress.allowPrivateAddresses === true, (host, port, scheme) => checkAllowedHost(this.#egress, host, port, scheme));
  }

  /** Bytes the host holds for this environment's sockets: received and not taken, written and not yet sent. */
  get socketHeldBytes(): number {
    return this.#sockets.heldBytes;
  }

  /** Called when a socket has news for the guest (environment.ts: the drive loop's PhaseWaker). */
  set onSocketNews(fn: (() => void) | undefined) {
    this.#sockets.onNews = fn;
  }

  /** SnapStart: after the before-snapshot hooks, every socket is closed (socket-service.ts closeForSnapshot). */
  closeSocketsForSnapshot(): void {
    this.#sockets.closeForSnapshot();
  }

  /** Bytes the host holds for this environment's fetches now: request bodies in flight, response bodies received and not yet taken. */
  get fetchHeldBytes(): number {
    return this.#ledger.heldBytes;
  }

  /**
   * Asked before the fetches' bytes grow into another MiB, with what {@link fetchHeldBytes} would then
   * be; false refuses that growth (the runtime's memory budget, set by the dispatcher through the environment).
   */
  set fetchRoom(room: ((heldBytes: number) => boolean) | undefined) {
    this.#ledger.room = room;
  }

  /**
   * Asked before the sockets' buffers grow, with what {@link socketHeldBytes} would then be; false
   * pauses the socket that would grow (its bytes wait in TCP) or refuses the write (ENOBUFS).
   */
  set socketRoom(room: ((heldBytes: number) => boolean) | undefined) {
    this.#sockets.room = room;
  }

  /** The SandboxOptions.hostCall handler. */
  readonly call = (op: string, args: string): string => {
    try {
      const [json, payload] = splitPayload(args);
      const parsed: unknown = JSON.parse(json);
      if (!Array.isArray(parsed)) throw new TypeError('host call arguments must be an array');
      return this.#dispatch(op, parsed, payload);
    } catch (error) {
      return `e${JSON.stringify(toHostCallError(error))}`;
    }
  };

  /**
   * The SandboxOptions.hostCallBytes handler: the same calls with a payload as bytes both ways
   * (engines/binary-host-call.ts's shapes). The file contents of `fs` readFile / read / writeFile /
   * write go straight between the guest's ArrayBuffer and the vfs; every other call goes through
   * {@link call}'s text form. Answers exactly what `binaryAnswer(call(op, textRequest(args, bytes)))`
   * would (tested), without turning megabytes into latin1 text and back (issue 21: /tmp on v8). A
   * `fetch.start`'s request body also goes straight to the request.
   */
  readonly callBytes = (op: string, args: string, bytes: Uint8Array | undefined): BinaryAnswer => {
    if (op === 'fetch.start') {
      try {
        const parsed: unknown = JSON.parse(args);
        if (!Array.isArray(parsed)) throw new TypeError('host call arguments must be an array');
        return this.#fetchStartCall(parsed, bytes);
      } catch (error) {
        return `e${JSON.stringify(toHostCallError(error))}`;
      }
    }
    if (op === 'net.write' || op === 'net.poll') {
      try {
        const parsed: unknown = JSON.parse(args);
        if (!Array.isArray(parsed)) throw new TypeError('host call arguments must be an array');
        if (op === 'net.write') return ok(this.#sockets.write(parsed[0], bytes ?? new Uint8Array(0)));
        const { updates, payload } = this.#sockets.poll(parsed[0], parsed[1]);
        return payload === undefined ? ok(updates) : [ok(updates), exactArrayBuffer(payload)];
      } catch (error) {
        return `e${JSON.stringify(toHostCallError(error))}`;
      }
    }
    if (op === 'fs') {
      try {
        const parsed: unknown = JSON.parse(args);
        if (Array.isArray(parsed) && BYTE_FS_METHODS.has(parsed[0] as string)) {
          const data = (): Buffer => (bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.alloc(0));
          const answer = this.#fs(parsed, data);
          return typeof answer === 'string' ? answer : ['o0', exactArrayBuffer(answer)];
        }
      } catch (error) {
        return `e${JSON.stringify(toHostCallError(error))}`;
      }
    }
    return binaryAnswer(this.call(op, textRequest(args, bytes)));
  };

  /**
   * The SandboxOptions.hostCallAsync handler: for the calls whose work is too heavy for the host's
   * thread — `zlib.brotli`, and `crypto` pbkdf2, scrypt, key generation and calls carrying a costly
   * key (crypto-service.ts isHeavyCall) — a promise of exactly what `call(op, textRequest(args,
   * bytes))` would answer, the work done in libuv's thread pool or a crypto thread
   * (heavy-work.ts: a share of it, turns going round the owners; a call still waiting when `signal`
   * aborts never starts and answers an error). Undefined for every other call: those are answered
   * by {@link call}. Never rejects.
   */
  readonly callAsync = (op: string, args: string, bytes: Uint8Array | undefined, signal?: AbortSignal): Promise<string> | undefined =>
    this.#heavy(op, args, bytes, signal)?.then((outcome) => (typeof outcome === 'string' ? outcome : outcome.bytes === undefined ? outcome.head : `${outcome.head}\n${encodePayload(outcome.bytes)}`));

  /**
   * The SandboxOptions.hostCallAsyncBytes handler: {@link callAsync}'s calls, answered as
   * `binaryAnswer` of its text would be, without the text: an answer's bytes (a Brotli output of
   * up to 64 MiB) are never turned into latin1 text and back on the host's thread.
   */
  readonly callAsyncBytes = (op: string, args: string, bytes: Uint8Array | undefined, signal?: AbortSignal): Promise<BinaryAnswer> | undefined =>
    this.#heavy(op, args, bytes, signal)?.then((outcome) => (typeof outcome === 'string' ? outcome : outcome.bytes === undefined ? outcome.head : [outcome.head, exactArrayBuffer(outcome.bytes)]));

  /** A heavy call's work (see {@link callAsync}): its answer as a head and bytes, or an error's text. */
  #heavy(op: string, args: string, bytes: Uint8Array | undefined, signal: AbortSignal | undefined): Promise<HeavyOutcome | string> | undefined {
    if (op !== 'zlib.brotli' && op !== 'crypto') return undefined;
    try {
      // The payload as bytes, never through latin1 text when it came as bytes: this runs on the
      // host's thread, and a Brotli input is up to 8 MiB. (JSON text holds no raw newline, so
      // `args` alone is the JSON when the bytes come apart.)
      const [json, text] = bytes === undefined ? splitPayload(args) : [args, undefined];
      const parsed: unknown = JSON.parse(json);
      if (!Array.isArray(parsed)) throw new TypeError('host call arguments must be an array');
      // Light crypto calls (hashes, ciphers...) are declined before their payload is touched.
      if (op === 'crypto' && !CryptoService.isHeavy(String(parsed[0]))) return undefined;
      const payload = bytes === undefined ? Buffer.from(text ?? '', 'latin1') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      let work: () => Promise<HeavyOutcome>;
      if (op === 'zlib.brotli') {
        const { mode, input, options } = this.#brotliArgs(parsed, payload);
        const run = ZLIB_ASYNC[mode];
        work = () => new Promise<HeavyOutcome>((resolve, reject) => run(input, options, (error, out) => (error ? reject(error) : resolve({ head: 'o0', bytes: out }))));
      } else {
        const { method, params, parts } = cryptoRequest(parsed, payload);
        // A call carrying a key is heavy only when its key is costly (crypto-service.ts isHeavyCall).
        if (!CryptoService.isHeavyCall(method, params, parts)) return undefined;
        work = () => this.#crypto.callAsync(method, params, parts).then(cryptoOutcome);
      }
      return runHeavy(this.heavyWorkOwner, work, signal).catch((error: unknown) => `e${JSON.stringify(toHostCallError(error))}`);
    } catch (error) {
      return Promise.resolve(`e${JSON.stringify(toHostCallError(error))}`);
    }
  }

  /** Aborts every request in flight (the environment is ending). */
  dispose(): void {
    for (const controller of this.#inFlight.values()) controller.abort();
    this.#inFlight.clear();
    this.#finished.clear();
    this.#ledger.close();
    this.#crypto.dispose();
    this.#sockets.dispose();
  }

  #dispatch(op: string, args: unknown[], payload: string | undefined): string {
    switch (op) {
      case 'fs': {
        const answer = this.#fs(args, () => Buffer.from(payload ?? '', 'latin1'));
        return typeof answer === 'string' ? answer : `o0\n${encodePayload(answer)}`;
      }
      case 'random': {
        const n = Number(args[0]);
        if (!Number.isInteger(n) || n < 0 || n > RANDOM_MAX_BYTES) throw new RangeError(`random: 0 to ${RANDOM_MAX_BYTES} bytes`);
        return `o0\n${encodePayload(randomBytes(n))}`;
      }
      case 'tz':
        return ok(zoneInfo(args[0], args[1]));
      case 'zlib.brotli':
        return `o0\n${encodePayload(this.#brotli(args, Buffer.from(payload ?? '', 'latin1')))}`;
      case 'crypto':
        return this.#cryptoCall(args, payload);
      case 'stream.write':
      case 'stream.room':
      case 'stream.end':
        return this.#stream(op, args, payload);
      case 'net.connect':
        return ok(this.#sockets.connect(args[0]));
      case 'net.write':
        return ok(this.#sockets.write(args[0], Buffer.from(payload ?? '', 'latin1')));
      case 'net.starttls':
        this.#sockets.upgrade(args[0], args[1]);
        return ok(null);
      case 'net.end':
        this.#sockets.end(args[0]);
        return ok(null);
      case 'net.destroy':
        this.#sockets.destroy(args[0]);
        return ok(null);
      case 'net.options':
        this.#sockets.options(args[0], args[1]);
        return ok(null);
      case 'net.poll': {
        const { updates, payload: bytes } = this.#sockets.poll(args[0], args[1]);
        return bytes === undefined ? ok(updates) : `${ok(updates)}\n${encodePayload(bytes)}`;
      }
      case 'fetch.start':
        return this.#fetchStartCall(args, payload === undefined ? undefined : Buffer.from(payload, 'latin1'));
      case 'fetch.done':
        return ok([...this.#finished.keys()]);
      case 'fetch.take': {
        const id = Number(args[0]);
        const outcome = this.#finished.get(id);
        if (!outcome) throw new Error(`fetch ${id} has not finished`);
        this.#finished.delete(id);
        if (!outcome.ok) return `e${JSON.stringify(outcome.error)}`;
        this.#ledger.release(outcome.body.length);
        return `o${JSON.stringify(outcome.meta)}\n${encodePayload(outcome.body)}`;
      }
      case 'fetch.abort': {
        // The guest's AbortSignal fired: stop receiving, or drop the finished body it will never take.
        const id = Number(args[0]);
        this.#inFlight.get(id)?.abort();
        const outcome = this.#finished.get(id);
        if (outcome) {
          this.#finished.delete(id);
          if (outcome.ok) this.#ledger.release(outcome.body.length);
        }
        return ok(null);
      }
      default:
        throw new Error(`Unknown host call ${op}`);
    }
  }

  /**
   * A response-streaming invocation's bytes (response-sink.ts): `stream.write` [contentType] with
   * the bytes as payload, `stream.room` [], `stream.end` [contentType]; write and room answer the
   * room left. Refused when the running invocation has no response stream.
   */
  #stream(op: string, args: unknown[], payload: string | undefined): string {
    const sink = this.responseSink;
    if (!sink) throw new Error(`${op}: this invocation has no response stream`);
    if (op === 'stream.room') return ok(sink.room());
    const contentType = args[0];
    if (typeof contentType !== 'string') throw new TypeError(`${op}: expected [contentType]`);
    if (op === 'stream.end') {
      sink.end(contentType);
      return ok(null);
    }
    return ok(sink.write(contentType, Buffer.from(payload ?? '', 'latin1')));
  }

  /**
   * `crypto`: args [method, params, lengths]; the payload is the byte inputs back to back, `lengths`
   * their sizes. The answer: `{ v: value, l: lengths }` and the byte outputs back to back.
   */
  #cryptoCall(args: unknown[], payload: string | undefined): string {
    const { method, params, parts } = cryptoRequest(args, Buffer.from(payload ?? '', 'latin1'));
    return cryptoAnswerText(this.#crypto.call(method, params, parts));
  }

  /** One fs call; `data` gives the request's payload. A Buffer answer is the payload of `o0\n…`. */
  #fs(args: unknown[], data: () => Buffer): string | Buffer {
    const vfs = this.#vfs.get();
    const [method, a, b, c] = args as [string, never, never, never];
    switch (method) {
      case 'stat':
        return ok(vfs.stat(a, b !== false));
      case 'exists':
        return ok(vfs.exists(a));
      case 'access':
        vfs.access(a, Number(b) || 0);
        return ok(null);
      case 'realpath':
        return ok(vfs.realpath(a));
      case 'readdir':
        return ok(vfs.readdir(a));
      case 'mkdir':
        return ok(vfs.mkdir(a, b === true) ?? null);
      case 'rmdir':
        vfs.rmdir(a);
        return ok(null);
      case 'rm':
        vfs.rm(a, b === true, c === true);
        return ok(null);
      case 'unlink':
        vfs.unlink(a);
        return ok(null);
      case 'rename':
        vfs.rename(a, b);
        return ok(null);
      case 'copyFile':
        vfs.copyFile(a, b, Number(c) || 0);
        return ok(null);
      case 'readFile':
        return vfs.readFile(a);
      case 'writeFile':
        vfs.writeFile(a, data(), String(b));
        return ok(null);
      case 'truncate':
        vfs.truncate(a, Number(b) || 0);
        return ok(null);
      case 'utimes':
        vfs.utimes(a, Number(b), Number(c));
        return ok(null);
      case 'open':
        return ok(vfs.open(a, String(b)));
      case 'close':
        vfs.close(a);
        return ok(null);
      case 'read':
        return vfs.read(a, Number(b), c === null ? null : Number(c));
      case 'write':
        return ok(vfs.write(a, data(), b === null ? null : Number(b)));
      case 'fstat':
        return ok(vfs.fstat(a));
      case 'ftruncate':
        vfs.ftruncate(a, Number(b) || 0);
        return ok(null);
      default:
        throw new Error(`Unknown fs call ${String(method)}`);
    }
  }

  /**
   * Brotli and Zstandard for the guest's node:zlib (no maintained pure-JS encoder exists): the
   * host's own node:zlib, synchronous, bytes in and out. Only numeric BROTLI_PARAM_* (ZSTD_c_* /
   * ZSTD_d_* for zstd) keys pass; the output is capped by the function's memory (Node's
   * maxOutputLength, `ERR_BUFFER_TOO_LARGE` past it).
   */
  #brotli(args: unknown[], input: Buffer): Buffer {
    const { mode, options } = this.#brotliArgs(args, input);
    return ZLIB_SYNC[mode](input, options);
  }

  /** A Brotli call's mode and Node options, checked (see {@link #brotli}). */
  #brotliArgs(args: unknown[], input: Buffer): { mode: ZlibHostMode; input: Buffer; options: BrotliOptions } {
    const [mode, rawParams, rawMax, rawPledged] = args;
    if (mode !== 'compress' && mode !== 'decompress' && mode !== 'zstdCompress' && mode !== 'zstdDecompress') {
      throw new TypeError('zlib.brotli: mode must be compress, decompress, zstdCompress or zstdDecompress');
    }
    const zstd = mode === 'zstdCompress' || mode === 'zstdDecompress';
    const params: Record<number, number> = {};
    if (rawParams !== null && typeof rawParams === 'object') {
      for (const [key, value] of Object.entries(rawParams)) {
        const id = Number(key);
        const known = zstd ? (mode === 'zstdCompress' ? ZSTD_COMPRESS_PARAMS : ZSTD_DECOMPRESS_PARAMS).has(id) : Number.isInteger(id) && id >= 0 && id <= 8;
        if (!known) throw new RangeError(`zlib.brotli: unknown ${zstd ? 'Zstandard' : 'Brotli'} parameter ${key}`);
        params[id] = Number(value);
      }
    }
    if (input.length > BROTLI_MAX_INPUT_BYTES) {
      throw new RangeError(`zlib: lambdalet runs ${zstd ? 'Zstandard' : 'Brotli'} on the host, at most ${BROTLI_MAX_INPUT_BYTES} bytes of input per call (got ${input.length})`);
    }
    const limit = Math.min(this.#maxResponseBytes, BROTLI_MAX_OUTPUT_BYTES);
    const cap = typeof rawMax === 'number' && rawMax > 0 ? Math.min(rawMax, limit) : limit;
    const pledged = zstd && typeof rawPledged === 'number' && Number.isSafeInteger(rawPledged) && rawPledged >= 0 ? { pledgedSrcSize: rawPledged } : {};
    return { mode, input, options: { params, maxOutputLength: cap, ...pledged } };
  }

  /**
   * `fetch.start` [request] with the request body's bytes: the request's id. Refused before anything
   * is sent when the environment has ended or is at its requests in flight (as Node's fetch fails
   * out of sockets, EMFILE: `TypeError: fetch failed` whose cause says why), or when the body does not
   * fit the bytes its fetches may hold (fetch-ledger.ts). That refusal has the shape of Node's fetch
   * when the process cannot allocate the body's copy: undici's fetch copies a BufferSource body in
   * `new Request(input, init)` (lib/web/fetch/webidl.js getCopyOfBytesHeldByBufferSource:
   * `new Uint8Array(length)`) and rejects with whatever that constructor throws (lib/web/fetch/index.js
   * fetch: `try { requestObject = new Request(input, init) } catch (e) { p.reject(e) }`), here V8's
   * `RangeError: Array buffer allocation failed` — with lambdalet's reason after it.
   */
  #fetchStartCall(args: unknown[], body: Uint8Array | undefined): string {
    const request = args[0] as FetchRequestShape;
    const sent = request.method === 'GET' || request.method === 'HEAD' ? undefined : body;
    const requestBytes = sent?.length ?? 0;
    const owner = this.heavyWorkOwner;
    try {
      this.#ledger.start(requestBytes, owner);
    } catch (error) {
      if (error instanceof FetchMemoryError) return `e${JSON.stringify({ name: 'RangeError', message: `${ALLOCATION_FAILED}: lambdalet: ${error.message}` })}`;
      return `e${JSON.stringify(fetchFailed(error))}`;
    }
    return ok(this.#fetchStart(request, sent, requestBytes, owner));
  }

  #fetchStart(request: FetchRequestShape, body: Uint8Array | undefined, requestBytes: number, owner: string): number {
    const id = this.#nextFetchId++;
    const controller = new AbortController();
    this.#inFlight.set(id, controller);
    const finish = (outcome: FetchOutcome): void => {
      if (!this.#inFlight.delete(id)) return; // disposed meanwhile
      this.#ledger.settle(owner);
      this.#ledger.release(requestBytes);
      if (controller.signal.aborted) {
        // fetch.abort: the guest has given the request up and will take neither a body nor an error.
        if (outcome.ok) this.#ledger.release(outcome.body.length);
        return;
      }
      this.#finished.set(id, outcome);
    };
    this.#fetch(request, body, controller.signal).then(finish, (error: unknown) => finish({ ok: false, error: fetchFailed(error) }));
    return id;
  }

  async #fetch(request: FetchRequestShape, body: Uint8Array | undefined, signal: AbortSignal): Promise<FetchOutcome> {
    let url = new URL(request.url);
    let method = request.method;
    let payload = body;
    let headers = request.headers as [string, string][];
    for (let hop = 0; ; hop++) {
      this.#checkEgress(url);
      const sent = method === 'GET' || method === 'HEAD' ? undefined : payload;
      const init: RequestInit & { duplex?: 'half' } = { method, headers, redirect: 'manual', signal };
      if (sent !== undefined && sent.length > 0) {
        // The one copy the host holds, handed over in views as the socket drains (requestBodyStream).
        init.body = requestBodyStream(sent);
        init.duplex = 'half';
        if (!headers.some(([name]) => name.toLowerCase() === 'content-length')) {
          init.headers = [...headers, ['content-length', String(sent.length)]];
        }
      } else if (sent !== undefined) {
        init.body = sent; // empty: Content-Length: 0, as Node sends for an empty body
      }
      // Node's own fetch gets the URL and init, not a Request: fetch(Request) makes a second Request
      // that follows the first one's signal, which follows ours only through a WeakRef (undici's
      // Request constructor) — nothing else holds the first Request, so once it is collected an
      // abort never reaches the request: 16 stalled uploads aborted at once left 4 and 11 of them
      // unsettled, their bodies held, in 2 of 6 runs; with (url, init) all 16 settled in 12 of 12.
      const response = await (this.#egress.fetch ? this.#egress.fetch(new Request(url, init)) : this.#hostFetch(url, init, request.node === true));
      const location = response.headers.get('location');
      if (request.redirect !== 'manual' && location !== null && [301, 302, 303, 307, 308].includes(response.status)) {
        if (request.redirect === 'error') throw new TypeError('unexpected redirect');
        if (hop >= MAX_REDIRECTS) throw new TypeError('redirect count exceeded');
        await response.body?.cancel();
        const next = new URL(location, url);
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
          method = 'GET';
          payload = undefined;
          headers = withoutHeaders(headers, REQUEST_BODY_HEADERS);
        }
        // As Node's fetch (undici's HTTP-redirect fetch): the function's credentials for one origin
        // are not handed to another that a redirect names (issue #15: an open redirect on an API a
        // tenant calls sent its Authorization to any host its allowHosts let through).
        if (next.origin !== url.origin) headers = withoutHeaders(headers, CROSS_ORIGIN_DROPPED_HEADERS);
        url = next;
        continue;
      }
      const bytes = await readCapped(response, this.#maxResponseBytes, this.#ledger);
      return {
        ok: true,
        meta: { status: response.status, statusText: response.statusText, headers: [...response.headers], url: url.href, redirected: hop > 0 },
        body: bytes,
      };
    }
  }

  /**
   * Node's fetch; a request to a host name goes through the Agent that refuses non-public
   * addresses at connect time (public-egress.ts), unless the function allows private addresses.
   */
  async #hostFetch(url: URL, init: RequestInit, node: boolean): Promise<Response> {
    const publicOnly = this.#egress.allowPrivateAddresses !== true && needsPublicAddress(hostOf(url));
    try {
      // undici's Agent from npm as Node's fetch's dispatcher (public-egress.ts: checked on Node 24 and 26).
      return await (publicOnly ? fetch(url, { ...init, dispatcher: publicEgressAgent() }) : fetch(url, init));
    } catch (error) {
      // fetch refuses the Fetch standard's "bad ports" (6000, 6667, ...) before connecting; node:http
      // has no such list, so its request goes out through the dispatcher itself.
      if (node && error instanceof Error && (error.cause as { message?: unknown } | undefined)?.message === 'bad port') {
        return this.#sendNode(url, init, publicOnly).catch((failure: unknown) => {
          throw this.#egressRefusal(url, failure) ?? failure;
        });
      }
      throw this.#egressRefusal(url, error) ?? error;
    }
  }

  /**
   * A node:http request fetch would not send (a bad port), through undici's dispatcher — the same
   * connect-time address check — as fetch would have answered it: failures as `fetch failed` with
   * the socket's error as cause, the body decoded as fetch decodes it (the guest's client drops
   * content-encoding, as it does for everything fetch answers).
   */
  async #sendNode(url: URL, init: RequestInit, publicOnly: boolean): Promise<Response> {
    const dispatcher: Dispatcher = publicOnly ? publicEgressAgent() : getGlobalDispatcher();
    let answer: Dispatcher.ResponseData;
    try {
      answer = await undiciRequest(url, {
        method: init.method ?? 'GET',
        headers: (init.headers as [string, string][]).flat(), // undici's request takes [name, value, name, value, ...]
        // #fetch's body: an empty one's bytes, or the stream of views over a non-empty one.
        body: init.body === undefined || init.body === null ? undefined
          : init.body instanceof Uint8Array ? init.body
          : Readable.fromWeb(init.body as import('node:stream/web').ReadableStream<Uint8Array>),
        signal: init.signal ?? undefined,
        dispatcher,
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'AbortError') throw error;
      throw new TypeError('fetch failed', { cause: error });
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) if (one !== undefined) headers.append(name, one);
    }
    const nullBody = [101, 103, 204, 205, 304].includes(answer.statusCode) || init.method === 'HEAD';
    let body: Readable = answer.body;
    const encoding = headers.get('content-encoding')?.trim().toLowerCase();
    if (encoding === 'gzip' || encoding === 'x-gzip') body = body.pipe(zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH }));
    else if (encoding === 'deflate') body = body.pipe(zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH }));
    else if (encoding === 'br') body = body.pipe(zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }));
    if (body !== answer.body) answer.body.on('error', (error) => body.destroy(error));
    if (nullBody) answer.body.resume();
    const inRange = answer.statusCode >= 200 && answer.statusCode <= 599;
    const response = new Response(nullBody ? null : Readable.toWeb(body), {
      status: inRange ? answer.statusCode : 200,
      statusText: answer.statusText,
      headers,
    });
    if (!inRange) Object.defineProperty(response, 'status', { value: answer.statusCode });
    return response;
  }

  /** A refusal of the connect-time address check (public-egress.ts) as the egress policy's own error, or undefined. */
  #egressRefusal(url: URL, error: unknown): EgressDenied | undefined {
    const cause = error instanceof Error ? error.cause : undefined;
    if (!(cause instanceof PrivateAddressRefused)) return undefined;
    const port = portOf(url);
    return new EgressDenied(
      // Adding the address to allowHosts does not let the *name* through (it is refused at each
      // connection whatever allowHosts says): the address helps only when it is the URL's host.
      `lambdalet egress policy denied ${url.protocol}//${url.host}: ${cause.message}; set egress.allowPrivateAddresses: true to let allowed names reach it${
        cause.address.includes(':') ? '' : `, or request ${url.protocol}//${cause.address}:${port} by address with "${cause.address}:${port}" in egress.allowHosts`
      }`,
    );
  }

  #checkEgress(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EgressDenied(`lambdalet egress policy: only http: and https: URLs can be fetched, not ${url.protocol}`);
    }
    checkAllowedHost(this.#egress, hostOf(url), portOf(url), url.protocol.slice(0, -1));
  }
}

/**
 * The egress policy's `allowHosts` for a connection to `host` (lower case, IPv6 without brackets)
 * and `port`: fetch's URLs and the guest's sockets alike. Throws {@link EgressDenied} saying what to add.
 */
function checkAllowedHost(egress: EgressPolicy, host: string, port: string, scheme: string): void {
  const allowed = egress.allowHosts.some((entry) => {
    const [name, entryPort] = entry.split(':') as [string, string | undefined];
    if (entryPort !== undefined && entryPort !== port) return false;
    return name.startsWith('*.') ? host.endsWith(name.slice(1)) : host === name;
  });
  if (!allowed) {
    const shown = host.includes(':') ? `[${host}]` : host;
    const defaultPort = (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443');
    throw new EgressDenied(`lambdalet egress policy denied ${scheme}://${shown}${defaultPort ? '' : `:${port}`}: add "${host}" to the function's egress.allowHosts`);
  }
}

class EgressDenied extends Error {
  readonly code = 'ERR_LAMBDALET_EGRESS_DENIED';
}

/** Dropped when a redirect turns the request into a GET (the Fetch standard's request-body-header names; undici adds content-length). */
const REQUEST_BODY_HEADERS: ReadonlySet<string> = new Set(['content-encoding', 'content-language', 'content-location', 'content-type', 'content-length']);
/** Dropped when a redirect leads to another origin, as undici's fetch does (its Fetch-standard steps, plus cookie and host). */
const CROSS_ORIGIN_DROPPED_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'host']);

/** `headers` without those whose (case-insensitive) name is in `names`. */
function withoutHeaders(headers: [string, string][], names: ReadonlySet<string>): [string, string][] {
  return headers.filter(([name]) => !names.has(name.toLowerCase()));
}

/** A URL's host as the egress policy compares it: lower case, an IPv6 address without brackets. */
function hostOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
}

/** A URL's port, the scheme's default when it names none. */
function portOf(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

const zoneFormats = new Map<string, { offset: Intl.DateTimeFormat; name: Intl.DateTimeFormat } | null>();

/**
 * The guest's local time (engines/guest/stdlib/date.ts): zone `zone`'s UTC offset (minutes east)
 * and long name at instant `ms`, from the host's tz database; null for a zone it does not know.
 */
function zoneInfo(zone: unknown, ms: unknown): { offset: number; name: string } | null {
  if (typeof zone !== 'string' || zone.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(zone)) return null;
  const t = Number(ms);
  if (!Number.isFinite(t)) throw new RangeError('tz: the instant must be a finite number of ms');
  let formats = zoneFormats.get(zone);
  if (formats === undefined) {
    try {
      formats = {
        offset: new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }),
        name: new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'long' }),
      };
    } catch {
      formats = null; // RangeError: not a zone ICU knows
    }
    if (zoneFormats.size < 1024) zoneFormats.set(zone, formats);
  }
  if (formats === null) return null;
  const part = (f: Intl.DateTimeFormat): string => f.formatToParts(t).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const match = /GMT(?:([+-])(\d\d):(\d\d))?/.exec(part(formats.offset));
  const offset = match?.[1] ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
  return { offset, name: part(formats.name) };
}

/** The fs calls whose payload (in or out) is file contents: the byte path of {@link HostBridge.callBytes}. */
const BYTE_FS_METHODS: ReadonlySet<string> = new Set(['readFile', 'read', 'writeFile', 'write']);

/** The bytes as an ArrayBuffer of their own (a Buffer may be a view into a larger pool). */
function exactArrayBuffer(bytes: Buffer): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Bytes of a request body undici is handed at a time (a view, not a copy). */
const REQUEST_CHUNK_BYTES = 64 * 1024;

/**
 * A request body as undici's fetch should get it so that a stalled upload holds the host's memory
 * once: views of the bytes, one pulled each time the socket has drained (highWaterMark 0), with the
 * Content-Length set by the caller so the request goes out exactly as Node sends a bytes body (not
 * chunked). Given the bytes themselves, Node's fetch holds four copies of a stalled upload (the
 * Request's copy — lib/web/fetch/webidl.js getCopyOfBytesHeldByBufferSource — the stream's copy of it
 * — lib/web/fetch/body.js extractBody's pull: `new Uint8Array(result)` — and what the socket
 * buffers): 16 × 8 MiB stalled held 514 MB of ArrayBuffers after GC, a Blob body the same plus the
 * Blob; these views 130 MB.
 */
function requestBodyStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        controller.enqueue(bytes.subarray(at, at + REQUEST_CHUNK_BYTES));
        at += REQUEST_CHUNK_BYTES;
        if (at >= bytes.length) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

function ok(value: unknown): string {
  return `o${JSON.stringify(value ?? null)}`;
}

/**
 * The response's body, at most `max` bytes, each chunk counted in `ledger` as it arrives (so all the
 * environment's bodies together stay within the function's memory). On success the bytes stay
 * counted (the caller releases them when the guest takes the body); on any failure they are released.
 */
async function readCapped(response: Response, max: number, ledger: FetchLedger): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (total + chunk.length > max) throw new RangeError(`response body larger than ${Math.floor(max / MIB)} MB (the function's memory)`);
      ledger.receive(chunk.length);
      total += chunk.length;
      chunks.push(chunk);
    }
  } catch (error) {
    ledger.release(total);
    await response.body.cancel().catch(() => {});
    throw error;
  }
  return Buffer.concat(chunks, total);
}

/**
 * Like undici: a network failure is `TypeError: fetch failed` whose cause is the socket's error,
 * with Node's properties (`connect ECONNREFUSED 127.0.0.1:1`: errno, code, syscall, address, port;
 * `getaddrinfo ENOTFOUND name`: errno, code, syscall, hostname), which node:http's client
 * (stdlib/http-client.ts) reports as Node's http does. A request the egress policy refused also
 * says why in the message (`fetch failed: lambdalet egress policy denied …`): it is lambdalet's
 * rule, not the network, and a bare "fetch failed" in a log hid it; its cause has the policy's code.
 */
function fetchFailed(error: unknown): HostCallError {
  if (error instanceof Error && error.name === 'AbortError') return { name: 'AbortError', message: 'This operation was aborted' };
  const reason = error instanceof Error ? error.message : String(error);
  if (error instanceof EgressDenied) return { name: 'TypeError', message: `fetch failed: ${reason}`, cause: { message: reason, code: error.code } };
  if (error instanceof FetchBoundError) return { name: 'TypeError', message: `fetch failed: ${reason}`, cause: reason };
  const cause = error instanceof Error ? (error.cause as Record<string, unknown> | undefined) : undefined;
  if (cause === undefined || cause === null || typeof cause.message !== 'string') return { name: 'TypeError', message: 'fetch failed', cause: reason };
  // Node's fetch's own failure is "fetch failed" whose cause is what went wrong; anything else
  // (a redirect refused, a body past the cap) is the cause itself.
  if (reason !== 'fetch failed') return { name: 'TypeError', message: 'fetch failed', cause: `${reason}: ${cause.message}` };
  const shape: { -readonly [K in keyof HostCallCause]: HostCallCause[K] } = { message: cause.message };
  if (typeof cause.errno === 'number') shape.errno = cause.errno;
  if (typeof cause.code === 'string') shape.code = cause.code;
  if (typeof cause.syscall === 'string') shape.syscall = cause.syscall;
  if (typeof cause.address === 'string') shape.address = cause.address;
  if (typeof cause.port === 'number') shape.port = cause.port;
  if (typeof cause.hostname === 'string') shape.hostname = cause.hostname;
  return { name: 'TypeError', message: 'fetch failed', cause: shape };
}

function toHostCallError(error: unknown): HostCallError {
  if (error instanceof VfsError) return { name: 'Error', ...error.toShape() };
  if (error instanceof Error) {
    const name = error.name === 'TypeError' || error.name === 'RangeError' ? error.name : 'Error';
    // node:crypto's errors carry Node's code (ERR_OSSL_..., ERR_CRYPTO_...): the guest's error has it too.
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? { name, message: error.message, code } : { name, message: error.message };
  }
  return { name: 'Error', message: String(error) };
}

/**
 * A `crypto` call's request: args [method, params, lengths]; the payload is the byte inputs back to
 * back, `lengths` their sizes.
 */
function cryptoRequest(args: unknown[], bytes: Buffer): { method: string; params: Record<string, unknown>; parts: Buffer[] } {
  const [method, params, lengths] = args as [unknown, unknown, unknown];
  if (typeof method !== 'string' || typeof params !== 'object' || params === null || !Array.isArray(lengths)) {
    throw new TypeError('crypto: expected [method, params, lengths]');
  }
  const parts: Buffer[] = [];
  let at = 0;
  for (const length of lengths as unknown[]) {
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || at + length > bytes.length) throw new RangeError('crypto: bad part lengths');
    parts.push(bytes.subarray(at, at + length));
    at += length;
  }
  return { method, params: params as Record<string, unknown>, parts };
}

/** A `crypto` call's answer: `{ v: value, l: lengths }` and the byte outputs back to back. */
function cryptoAnswerText(answer: CryptoAnswer): string {
  const { head, bytes } = cryptoOutcome(answer);
  return bytes === undefined ? head : `${head}\n${encodePayload(bytes)}`;
}

/** A heavy call's answer before its wire form: the text head (`o…`) and, if it has one, the payload. */
interface HeavyOutcome {
  readonly head: string;
  readonly bytes?: Buffer;
}

/** {@link cryptoAnswerText}'s parts: a payload only when the call has byte outputs (empty ones included). */
function cryptoOutcome(answer: CryptoAnswer): HeavyOutcome {
  const out = answer.parts ?? [];
  const head = `o${JSON.stringify({ v: answer.value ?? null, l: out.map((part) => part.length) })}`;
  return out.length === 0 ? { head } : { head, bytes: Buffer.concat(out) };
}
