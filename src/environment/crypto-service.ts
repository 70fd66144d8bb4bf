/**
 * The host side of the guest's `crypto` host call: node:crypto's primitives for one environment,
 * bytes in, bytes out. Keys cross as bytes (a secret's raw bytes, a public key's SPKI DER, a
 * private key's PKCS#8 DER) and are re-made into host KeyObjects for each operation, so no host
 * object ever reaches the sandbox and nothing key-shaped outlives the call. Only cipher contexts
 * (createCipheriv, which streams) are held here between calls, by number, at most
 * MAX_OPEN_CIPHERS, and dropped with the environment.
 *
 * Every input is untrusted: sizes and work factors are bounded (crypto-limits.ts) before OpenSSL
 * sees them; node:crypto validates the rest and its errors (with their `code`) go back to the guest.
 */
import { Buffer } from 'node:buffer';
import {
  createCipheriv, createDecipheriv, createPrivateKey, diffieHellman, generateKeyPair, generateKeyPairSync,
  getHashes, hkdfSync, pbkdf2, pbkdf2Sync, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt, scrypt, scryptSync, sign, timingSafeEqual,
  verify, type Cipheriv, type CipherGCM, type Decipheriv, type DecipherGCM, type KeyObject,
} from 'node:crypto';
import {
  CRYPTO_MAX_INPUT_BYTES, DERIVE_MAX_BYTES, MAX_OPEN_CIPHERS, PBKDF2_MAX_WORK, RSA_MAX_MODULUS_BITS, SCRYPT_MAX_MEMORY_BYTES,
  PRIVATE_KEY_MAX_MODULUS_BITS, SCRYPT_MAXMEM_SLACK, SCRYPT_MAX_WORK, SLOW_SIGNATURE_KEY_TYPES,
} from './crypto-limits.ts';
import { ecdhCall, x509Call } from './crypto-ecdh-x509.ts';
import { canonicalBytes, describeKey, exportKey, importKey, keyOf, type KeyKind } from './crypto-keys.ts';
import { callInCryptoThread } from './crypto-thread.ts';
import { costlyKeyInput } from './key-cost.ts';

type Params = Record<string, unknown>;

/** Heavy calls node:crypto has asynchronous forms of (run in libuv's thread pool). */
const ASYNC_FORMS: ReadonlySet<string> = new Set(['pbkdf2', 'scrypt', 'key.generate']);
/** Stateless calls carrying a key, heavy when the key is costly (key-cost.ts): run in a crypto thread. */
const KEY_METHODS: ReadonlySet<string> = new Set(['key.import', 'key.export', 'sign', 'verify', 'rsa', 'dh', 'x509']);

export interface CryptoAnswer {
  readonly value?: unknown;
  readonly parts?: readonly Uint8Array[];
}

/** Node's ERR_OUT_OF_RANGE, for a lambdalet bound. */
export function outOfRange(name: string, limit: string, received: unknown): RangeError {
  const error = new RangeError(`The value of "${name}" is out of range. It must be ${limit}. Received ${String(received)}`) as RangeError & { code: string };
  error.code = 'ERR_OUT_OF_RANGE';
  return error;
}

function int(params: Params, name: string): number {
  const value = params[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    const error = new TypeError(`The "${name}" argument must be of type number. Received ${typeof value}`) as TypeError & { code: string };
    error.code = 'ERR_INVALID_ARG_TYPE';
    throw error;
  }
  return value;
}

function str(params: Params, name: string): string {
  return String(params[name]);
}

/** Output length in bytes of a digest OpenSSL knows (for PBKDF2's work estimate). */
function digestBytes(digest: string): number {
  const name = digest.toLowerCase();
  if (!getHashes().includes(name)) {
    const error = new TypeError(`Invalid digest: ${digest}`) as TypeError & { code: string };
    error.code = 'ERR_CRYPTO_INVALID_DIGEST';
    throw error;
  }
  if (/512|sha3-512/.test(name) && !/512-2(24|56)/.test(name)) return 64;
  if (/384/.test(name)) return 48;
  if (/256|sm3/.test(name)) return 32;
  if (/224/.test(name)) return 28;
  if (/md5|md4/.test(name)) return 16;
  return 20;
}

/**
 * Node 24 leaves some OpenSSL failures on the thread's error queue (a scrypt over its maxmem, for
 * one), and the next key parse on the thread then fails with that stale error — another
 * environment's key, too. After every failed call the queue is drained: a known-good key parse
 * fails while a stale error is queued and pops it, and succeeds once the queue is empty.
 */
const DRAIN_KEY = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
export function drainOpenSslErrors(): void {
  for (let i = 0; i < 16; i++) {
    try {
      createPrivateKey({ key: DRAIN_KEY, format: 'der', type: 'pkcs8' });
      return;
    } catch {
      // a stale error popped; try again
    }
  }
}

function slowKeyType(type: string): Error {
  const error = new Error(`${type} keys are not available in lambdalet: one SLH-DSA signature takes seconds of the host's CPU`) as Error & { code: string };
  error.code = 'ERR_LAMBDALET_CRYPTO_LIMIT';
  return error;
}

/** A private key whose operations cost what lambdalet allows (crypto-limits.ts). */
function boundedPrivateKey(key: KeyObject): KeyObject {
  const type = key.asymmetricKeyType ?? '';
  if (SLOW_SIGNATURE_KEY_TYPES.test(type)) throw slowKeyType(type);
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits > PRIVATE_KEY_MAX_MODULUS_BITS) {
    throw outOfRange('key modulus', `<= ${PRIVATE_KEY_MAX_MODULUS_BITS} bits for a private-key operation (lambdalet's limit)`, bits);
  }
  return key;
}

export class CryptoService {
  readonly #ciphers = new Map<number, Cipheriv | Decipheriv>();
  #nextCipher = 1;

  /** Runs one operation; throws node:crypto's errors or a RangeError naming a bound. */
  call(method: string, params: Params, parts: readonly Buffer[] = []): CryptoAnswer {
    try {
      return this.#call(method, params, parts);
    } catch (error) {
      drainOpenSslErrors();
      throw error;
    }
  }

  /**
   * Whether `method` may be too heavy for the host's thread (the first look, before the call's
   * bytes are read): pbkdf2, scrypt and key generation (seconds at lambdalet's bounds) always are;
   * a call carrying a key is when its key is costly to read or use ({@link isHeavyCall}).
   */
  static isHeavy(method: string): boolean {
    return ASYNC_FORMS.has(method) || KEY_METHODS.has(method);
  }

  /**
   * Whether this call is too heavy for the host's thread, which {@link callAsync} then runs off it:
   * pbkdf2, scrypt and key generation by node:crypto's asynchronous forms in libuv's thread pool
   * (heavy-work.ts), and a call carrying a DH, DSA, encrypted or large key (key-cost.ts
   * costlyKeyInput: one such key's read cost up to 1.3 s) in a crypto thread (crypto-thread.ts),
   * each checked against the same bounds as {@link call}, answering what {@link call} would.
   */
  static isHeavyCall(method: string, params: Params, parts: readonly Buffer[]): boolean {
    if (ASYNC_FORMS.has(method)) return true;
    if (!KEY_METHODS.has(method)) return false;
    const [a, b] = parts;
    switch (method) {
      case 'key.import':
      case 'key.export':
        return params.kind !== 'secret' && a !== undefined && costlyKeyInput(a);
      case 'dh':
        return (a !== undefined && costlyKeyInput(a)) || (b !== undefined && costlyKeyInput(b));
      case 'x509':
        // The certificate is read cheaply; a key or second certificate beside it may not be.
        return b !== undefined && b.length > 0 && costlyKeyInput(b);
      default:
        return a !== undefined && costlyKeyInput(a);
    }
  }

  /** {@link call} for a call {@link CryptoService.isHeavyCall} names, off the host's thread; rejects as {@link call} throws. */
  async callAsync(method: string, params: Params, parts: readonly Buffer[] = []): Promise<CryptoAnswer> {
    try {
      const total = parts.reduce((n, part) => n + part.length, 0);
      if (total > CRYPTO_MAX_INPUT_BYTES) throw outOfRange('data', `<= ${CRYPTO_MAX_INPUT_BYTES} bytes per crypto call (lambdalet's limit)`, total);
      const [a = Buffer.alloc(0), b = Buffer.alloc(0)] = parts;
      switch (method) {
        case 'pbkdf2': {
          const [iterations, keylen, digest] = pbkdf2Args(params);
          const key = await new Promise<Buffer>((resolve, reject) => pbkdf2(a, b, iterations, keylen, digest, (error, out) => (error ? reject(error) : resolve(out))));
          return { parts: [key] };
        }
        case 'scrypt': {
          const [keylen, options] = scryptArgs(params);
          const key = await new Promise<Buffer>((resolve, reject) => scrypt(a, b, keylen, options, (error, out) => (error ? reject(error) : resolve(out))));
          return { parts: [key] };
        }
        case 'key.generate': {
          const [type, options] = generateArgs(params);
          const pair = await new Promise<KeyPair>((resolve, reject) =>
            (generateKeyPair as (t: string, o: object, cb: (e: Error | null, pub: unknown, priv: unknown) => void) => void)(type, options, (error, publicKey, privateKey) =>
              error ? reject(error) : resolve({ publicKey, privateKey }),
            ),
          );
          return encodePair(pair);
        }
        default:
          if (!KEY_METHODS.has(method)) throw new Error(`lambdalet bug: crypto ${method} has no asynchronous form`);
          // No asynchronous form in Node: the same synchronous call, in a crypto thread.
          return await callInCryptoThread(method, params, parts);
      }
    } catch (error) {
      drainOpenSslErrors();
      throw error;
    }
  }

  #call(method: string, params: Params, parts: readonly Buffer[]): CryptoAnswer {
    const total = parts.reduce((n, part) => n + part.length, 0);
    if (total > CRYPTO_MAX_INPUT_BYTES) throw outOfRange('data', `<= ${CRYPTO_MAX_INPUT_BYTES} bytes per crypto call (lambdalet's limit)`, total);
    const [a = Buffer.alloc(0), b = Buffer.alloc(0), c = Buffer.alloc(0)] = parts;
    switch (method) {
      case 'timingSafeEqual':
        return { value: timingSafeEqual(a, b) };
      case 'pbkdf2':
        return { parts: [this.#pbkdf2(params, a, b)] };
      case 'scrypt':
        return { parts: [this.#scrypt(params, a, b)] };
      case 'hkdf': {
        const keylen = int(params, 'keylen');
        if (keylen > DERIVE_MAX_BYTES) throw outOfRange('keylen', `<= ${DERIVE_MAX_BYTES}`, keylen);
        return { parts: [Buffer.from(hkdfSync(str(params, 'digest'), a, b, c, keylen))] };
      }
      case 'key.import':
        return importKey(params, a);
      case 'key.export':
        return exportKey(params, a);
      case 'key.generate':
        return this.#generate(params);
      case 'sign':
        return { parts: [sign(params.algorithm == null ? null : str(params, 'algorithm'), b, this.#signingKey(params, a, true))] };
      case 'verify':
        return { value: verify(params.algorithm == null ? null : str(params, 'algorithm'), b, this.#signingKey(params, a) as Parameters<typeof verify>[2], c) };
      case 'rsa':
        return { parts: [this.#rsa(params, a, b, c)] };
      case 'dh':
        return { parts: [diffieHellman({ privateKey: boundedPrivateKey(keyOf('private', a)), publicKey: keyOf('public', b) })] };
      case 'ecdh':
        return ecdhCall(str(params, 'op'), params, a, b);
      case 'x509':
        return x509Call(str(params, 'op'), params, a, b);
      case 'cipher.create':
        return { value: this.#cipherCreate(params, a, b, parts.length > 1) };
      case 'cipher.update':
        return { parts: [this.#cipher(params).update(a)] };
      case 'cipher.aad': {
        const options = params.plaintextLength === undefined ? undefined : { plaintextLength: int(params, 'plaintextLength') };
        (this.#cipher(params) as CipherGCM).setAAD(a, options);
        return {};
      }
      case 'cipher.tag':
        (this.#cipher(params) as DecipherGCM).setAuthTag(a);
        return {};
      case 'cipher.padding':
        this.#cipher(params).setAutoPadding(params.auto !== false);
        return {};
      case 'cipher.final':
        return this.#cipherFinal(params);
      case 'cipher.free':
        this.#ciphers.delete(int(params, 'id'));
        return {};
      default:
        throw new Error(`Unknown crypto call ${method}`);
    }
  }

  /** Drops every cipher context (the environment is ending). */
  dispose(): void {
    this.#ciphers.clear();
  }

  /** Open cipher contexts (for tests). */
  get openCiphers(): number {
    return this.#ciphers.size;
  }

  #pbkdf2(params: Params, password: Buffer, salt: Buffer): Buffer {
    return pbkdf2Sync(password, salt, ...pbkdf2Args(params));
  }

  #scrypt(params: Params, password: Buffer, salt: Buffer): Buffer {
    const [keylen, options] = scryptArgs(params);
    return scryptSync(password, salt, keylen, options);
  }

  #generate(params: Params): CryptoAnswer {
    const [type, options] = generateArgs(params);
    return encodePair((generateKeyPairSync as (t: string, o: object) => KeyPair)(type, options));
  }

  /** A sign/verify key: its kind and bytes, with RSA padding and ECDSA encoding options. */
  #signingKey(params: Params, bytes: Buffer, signing = false): Parameters<typeof sign>[2] {
    const key = keyOf(str(params, 'kind') as KeyKind, bytes);
    if (signing) boundedPrivateKey(key);
    const options: Record<string, unknown> = { key };
    if (params.padding !== undefined) options.padding = int(params, 'padding');
    if (params.saltLength !== undefined) options.saltLength = int(params, 'saltLength');
    if (params.dsaEncoding !== undefined) options.dsaEncoding = str(params, 'dsaEncoding');
    return options as unknown as Parameters<typeof sign>[2];
  }

  #rsa(params: Params, keyBytes: Buffer, data: Buffer, label: Buffer): Buffer {
    const op = str(params, 'op');
    const kind = str(params, 'kind') as KeyKind;
    const key = keyOf(kind, keyBytes);
    if (kind === 'private') boundedPrivateKey(key);
    const options: Record<string, unknown> = { key };
    if (params.padding !== undefined) options.padding = int(params, 'padding');
    if (params.oaepHash !== undefined) options.oaepHash = str(params, 'oaepHash');
    if (label.length > 0) options.oaepLabel = label;
    const fn = { publicEncrypt, privateDecrypt, privateEncrypt, publicDecrypt }[op as 'publicEncrypt'];
    if (!fn) throw new Error(`Unknown RSA operation ${op}`);
    return fn(options as unknown as Parameters<typeof publicEncrypt>[0], data);
  }

  #cipherCreate(params: Params, key: Buffer, iv: Buffer, hasIv: boolean): number {
    if (this.#ciphers.size >= MAX_OPEN_CIPHERS) {
      throw outOfRange('open ciphers', `<= ${MAX_OPEN_CIPHERS} per environment (lambdalet's limit; call final() on the ones you are done with)`, this.#ciphers.size + 1);
    }
    const algorithm = str(params, 'algorithm');
    const options = params.authTagLength === undefined ? undefined : { authTagLength: int(params, 'authTagLength') };
    const make = params.decipher === true ? createDecipheriv : createCipheriv;
    const cipher = (make as (a: string, k: Buffer, i: Buffer | null, o?: object) => Cipheriv | Decipheriv)(algorithm, key, hasIv ? iv : null, options);
    const id = this.#nextCipher++;
    this.#ciphers.set(id, cipher);
    return id;
  }

  #cipher(params: Params): Cipheriv | Decipheriv {
    const cipher = this.#ciphers.get(int(params, 'id'));
    if (!cipher) {
      const error = new Error('Cipher context is gone: it was finalised, or the environment was restored from a snapshot') as Error & { code: string };
      error.code = 'ERR_CRYPTO_INVALID_STATE';
      throw error;
    }
    return cipher;
  }

  #cipherFinal(params: Params): CryptoAnswer {
    const cipher = this.#cipher(params);
    this.#ciphers.delete(int(params, 'id'));
    const out = cipher.final();
    if (params.decipher === true) return { parts: [out] };
    let tag: Buffer | undefined;
    try {
      tag = (cipher as CipherGCM).getAuthTag();
    } catch {
      tag = undefined; // not an AEAD mode
    }
    return { parts: tag ? [out, tag] : [out] };
  }
}

/** pbkdf2's iterations, keylen and digest, within lambdalet's work bound. */
function pbkdf2Args(params: Params): [iterations: number, keylen: number, digest: string] {
  const iterations = int(params, 'iterations');
  const keylen = int(params, 'keylen');
  const digest = str(params, 'digest');
  if (keylen > DERIVE_MAX_BYTES) throw outOfRange('keylen', `<= ${DERIVE_MAX_BYTES}`, keylen);
  const blocks = Math.max(1, Math.ceil(keylen / digestBytes(digest)));
  if (iterations * blocks > PBKDF2_MAX_WORK) {
    throw outOfRange('iterations', `<= ${Math.floor(PBKDF2_MAX_WORK / blocks)} for a ${keylen}-byte ${digest} key (lambdalet's limit: iterations × output blocks <= ${PBKDF2_MAX_WORK})`, iterations);
  }
  return [iterations, keylen, digest];
}

/** scrypt's keylen and options, within lambdalet's work bound. */
function scryptArgs(params: Params): [keylen: number, options: { N: number; r: number; p: number; maxmem?: number }] {
  const keylen = int(params, 'keylen');
  const N = int(params, 'N');
  const r = int(params, 'r');
  const p = int(params, 'p');
  if (keylen > DERIVE_MAX_BYTES) throw outOfRange('keylen', `<= ${DERIVE_MAX_BYTES}`, keylen);
  if (N * r * p > SCRYPT_MAX_WORK) throw outOfRange('N × r × p', `<= ${SCRYPT_MAX_WORK} (lambdalet's limit)`, N * r * p);
  // N × r × p <= 2^20 keeps scrypt's memory (128 × N × r bytes) <= 128 MiB as well; maxmem is the
  // caller's own bound, which Node checks against that.
  const maxmem = params.maxmem === undefined ? undefined : Math.min(int(params, 'maxmem'), SCRYPT_MAX_MEMORY_BYTES + SCRYPT_MAXMEM_SLACK);
  return [keylen, { N, r, p, ...(maxmem === undefined ? {} : { maxmem }) }];
}

/** generateKeyPair's type and options, within lambdalet's bounds. */
function generateArgs(params: Params): [type: string, options: Record<string, unknown>] {
  const type = str(params, 'type');
  const options = (params.options ?? {}) as Record<string, unknown>;
  if (type === 'rsa' || type === 'rsa-pss' || type === 'dsa') {
    const bits = options.modulusLength;
    if (typeof bits === 'number' && bits > RSA_MAX_MODULUS_BITS) {
      throw outOfRange('options.modulusLength', `<= ${RSA_MAX_MODULUS_BITS} (lambdalet's limit)`, bits);
    }
  }
  if (type === 'dh') throw new Error("generateKeyPair('dh') is not available in lambdalet");
  if (SLOW_SIGNATURE_KEY_TYPES.test(type)) throw slowKeyType(type);
  return [type, options];
}

interface KeyPair {
  readonly publicKey: unknown;
  readonly privateKey: unknown;
}

/** A generated pair as the guest receives it: PEM text, DER bytes, or a key's description and canonical bytes. */
function encodePair(pair: KeyPair): CryptoAnswer {
  const parts: Uint8Array[] = [];
  const encode = (value: unknown): unknown => {
    if (typeof value === 'string') return { text: value };
    if (Buffer.isBuffer(value)) return { bytes: parts.push(value) - 1 };
    const key = value as KeyObject;
    return { key: describeKey(key), bytes: parts.push(canonicalBytes(key)) - 1 };
  };
  return { value: { publicKey: encode(pair.publicKey), privateKey: encode(pair.privateKey) }, parts };
}
