/**
 * node:crypto's commonly used part and Web Crypto's `getRandomValues`, `randomUUID` and
 * `subtle.digest`. Randomness comes from the host (node:crypto.randomBytes through a host call);
 * hashes from @noble/hashes (audited, dependency-free, pure JS: identical on every engine).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { Buffer } from 'buffer';
import { hostCall, fromLatin1, nodeError } from '../bridge.ts';
import { DOMExceptionLike } from './encoding.ts';

/** A hash function with an incremental form (@noble/hashes' CHash, without its per-algorithm types). */
type Hasher = ((msg: Uint8Array) => Uint8Array) & { create(): Incremental };
const HASHES: Readonly<Record<string, Hasher>> = {
  md5: md5, sha1: sha1, sha224: sha224, sha256: sha256,
  sha384: sha384, sha512: sha512,
  'sha-1': sha1, 'sha-256': sha256, 'sha-384': sha384,
  'sha-512': sha512,
};
/** Most bytes one getRandomValues call may fill (Web Crypto's QuotaExceededError limit). */
const RANDOM_MAX = 65_536;

function hasher(algorithm: string): Hasher {
  const hash = HASHES[String(algorithm).toLowerCase()];
  if (!hash) throw nodeError(Error, 'ERR_OSSL_EVP_UNSUPPORTED', `Digest method not supported: ${algorithm} (lambdalet offers md5, sha1, sha224, sha256, sha384, sha512)`);
  return hash;
}

type Input = string | ArrayBufferView | ArrayBuffer;
function bytesOf(data: Input, encoding?: string): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, (encoding ?? 'utf8') as BufferEncoding);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.');
}

function output(bytes: Uint8Array, encoding?: string): Buffer | string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return encoding === undefined || encoding === 'buffer' ? buffer : buffer.toString(encoding as BufferEncoding);
}

interface Incremental {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

class Hash {
  readonly #state: Incremental;
  #done = false;
  constructor(state: Incremental) {
    this.#state = state;
  }
  update(data: Input, encoding?: string): this {
    if (this.#done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    this.#state.update(bytesOf(data, encoding));
    return this;
  }
  digest(encoding?: string): Buffer | string {
    if (this.#done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    this.#done = true;
    return output(this.#state.digest(), encoding);
  }
}

/** Fills `n` bytes from the host's CSPRNG, 64 KiB per host call. */
function randomFill(target: Uint8Array): Uint8Array {
  for (let offset = 0; offset < target.length; offset += RANDOM_MAX) {
    const n = Math.min(RANDOM_MAX, target.length - offset);
    target.set(fromLatin1(hostCall('random', [n]).payload ?? ''), offset);
  }
  return target;
}

export function getRandomValues<T extends ArrayBufferView | null>(array: T): T {
  if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
    throw new DOMExceptionLike("The data argument must be an integer-type TypedArray", 'TypeMismatchError');
  }
  if (array.byteLength > RANDOM_MAX) {
    throw new DOMExceptionLike(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (${RANDOM_MAX})`, 'QuotaExceededError');
  }
  randomFill(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return array;
}

export function randomUUID(): `${string}-${string}-${string}-${string}-${string}` {
  const b = randomFill(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function randomBytes(size: number, callback?: (err: Error | null, buf: Buffer) => void): Buffer | undefined {
  if (!Number.isInteger(size) || size < 0 || size > 2 ** 31 - 1) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received ${String(size)}`);
  }
  const buffer = Buffer.from(randomFill(new Uint8Array(size)));
  if (!callback) return buffer;
  globalThis.process.nextTick(callback, null, buffer);
  return undefined;
}

function randomInt(min: number, max?: number): number {
  if (max === undefined) [min, max] = [0, min];
  const range = max - min;
  const b = randomFill(new Uint8Array(6));
  const n = b.reduce((acc, x) => acc * 256 + x, 0);
  return min + (n % range);
}

function timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) throw nodeError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

const subtle = {
  async digest(algorithm: string | { name: string }, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer> {
    const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
    const hash = HASHES[String(name).toLowerCase()];
    if (!hash || name.toLowerCase() === 'md5') throw new DOMExceptionLike('Unrecognized algorithm name', 'NotSupportedError');
    const digest = hash(bytesOf(data));
    return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer;
  },
};

/** globalThis.crypto (Web Crypto). */
export const webcrypto = { getRandomValues, randomUUID, subtle };

export const cryptoModule = {
  createHash: (algorithm: string) => new Hash(hasher(algorithm).create()),
  createHmac: (algorithm: string, key: Input) => new Hash(hmac.create(hasher(algorithm) as unknown as typeof sha256, bytesOf(key)) as Incremental),
  getHashes: () => ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'],
  hash: (algorithm: string, data: Input, encoding = 'hex') => output(hasher(algorithm)(bytesOf(data)), encoding),
  randomBytes,
  randomFillSync: <T extends ArrayBufferView>(buf: T) => (randomFill(bytesOf(buf)), buf),
  randomUUID,
  randomInt,
  getRandomValues,
  timingSafeEqual,
  webcrypto,
  subtle,
};
