/**
 * createHash / createHmac / hash: @noble/hashes (audited, dependency-free, pure JS: the same bytes
 * on every engine, and no host call per update()). Hash#copy clones the running state.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { md5, ripemd160, sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512, sha512_224, sha512_256 } from '@noble/hashes/sha2.js';
import { sha3_224, sha3_256, sha3_384, sha3_512 } from '@noble/hashes/sha3.js';
import type { Buffer } from 'buffer';
import { nodeError } from '../../bridge.ts';
import { bytesOf, output, type BinaryLike } from './host.ts';
import { KeyObject, keyBytes } from './keys.ts';

function secretBytes(key: KeyObject): Uint8Array {
  if (key.type !== 'secret') throw nodeError(TypeError, 'ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE', `Invalid key object type ${key.type}, expected secret.`);
  return keyBytes(key);
}

/** The running state of an incremental hash (@noble/hashes' Hash, without its per-algorithm types). */
interface Incremental {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
  clone(): Incremental;
}
/** A hash function with an incremental form. */
type Hasher = ((msg: Uint8Array) => Uint8Array) & { create(): Incremental; outputLen: number };

const BY_NAME: Readonly<Record<string, Hasher>> = {
  md5, sha1, sha224, sha256, sha384, sha512, 'sha512-224': sha512_224, 'sha512-256': sha512_256,
  'sha3-224': sha3_224, 'sha3-256': sha3_256, 'sha3-384': sha3_384, 'sha3-512': sha3_512, ripemd160, rmd160: ripemd160,
  'ripemd-160': ripemd160,
  // OpenSSL's aliases, which Node accepts too.
  'rsa-md5': md5, 'rsa-sha1': sha1, 'rsa-sha224': sha224, 'rsa-sha256': sha256, 'rsa-sha384': sha384, 'rsa-sha512': sha512,
  'rsa-sha512/224': sha512_224, 'rsa-sha512/256': sha512_256, 'sha512/224': sha512_224, 'sha512/256': sha512_256,
  'rsa-sha3-224': sha3_224, 'rsa-sha3-256': sha3_256, 'rsa-sha3-384': sha3_384, 'rsa-sha3-512': sha3_512,
  'rsa-ripemd160': ripemd160,
};

/** Web Crypto's digest names. */
export const WEB_HASHES: Readonly<Record<string, Hasher>> = { 'SHA-1': sha1, 'SHA-256': sha256, 'SHA-384': sha384, 'SHA-512': sha512 };

export function getHashes(): string[] {
  return Object.keys(BY_NAME).sort();
}

export function hasher(algorithm: unknown): Hasher {
  if (typeof algorithm !== 'string') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "algorithm" argument must be of type string. Received ${algorithm === undefined ? 'undefined' : typeof algorithm}`);
  }
  const hash = Object.prototype.hasOwnProperty.call(BY_NAME, algorithm.toLowerCase()) ? BY_NAME[algorithm.toLowerCase()] : undefined;
  // Node 24: a plain `Error: Digest method not supported` without a code (OpenSSL's EVP_get_digestbyname failed).
  if (!hash) throw new Error('Digest method not supported');
  return hash;
}

/** node:crypto's Hash and Hmac (the object has no stream methods in lambdalet). */
export class Hash {
  #state: Incremental;
  #done = false;
  readonly #hmac: boolean;
  /** @internal */
  constructor(state: Incremental, isHmac: boolean) {
    this.#state = state;
    this.#hmac = isHmac;
  }
  update(data: BinaryLike, encoding?: string): this {
    if (this.#done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    if (typeof data !== 'string' && !ArrayBuffer.isView(data)) {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.${data === undefined ? ' Received undefined' : ''}`);
    }
    this.#state.update(bytesOf(data, encoding));
    return this;
  }
  digest(encoding?: string): Buffer | string {
    if (this.#done) {
      // Node: a second Hmac#digest returns an empty result; a second Hash#digest throws.
      if (this.#hmac) return output(new Uint8Array(0), encoding);
      throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    }
    this.#done = true;
    return output(this.#state.digest(), encoding);
  }
  /** A new Hash with this one's state (Node 13+; Hmac has no copy). */
  copy(): Hash {
    if (this.#done) throw nodeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
    return new Hash(this.#state.clone(), false);
  }
}

export function createHash(algorithm: string): Hash {
  return new Hash(hasher(algorithm).create(), false);
}

export class Hmac extends Hash {}

export function createHmac(algorithm: string, key: unknown): Hash {
  const hash = hasher(algorithm);
  const keyBytes = key instanceof KeyObject ? secretBytes(key) : bytesOf(key, undefined, 'key');
  const state = hmac.create(hash as unknown as typeof sha256, keyBytes) as unknown as Incremental;
  const h = new Hash(state, true) as Hash & { copy?: unknown };
  Object.setPrototypeOf(h, Hmac.prototype);
  return h;
}

/** crypto.hash(algorithm, data, outputEncoding = 'hex') (Node 21.7+). */
export function hash(algorithm: string, data: BinaryLike, encoding = 'hex'): Buffer | string {
  return output(hasher(algorithm)(bytesOf(data)), encoding);
}
