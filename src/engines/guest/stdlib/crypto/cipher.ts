/**
 * createCipheriv / createDecipheriv over a cipher context the host holds (environment/
 * crypto-service.ts; one per open cipher, dropped at final(), when the guest's object is collected,
 * or with the environment), and the key derivations: pbkdf2, scrypt, hkdf.
 */
import { Buffer } from 'buffer';
import { hostCall, nodeError } from '../../bridge.ts';
import { bytesOf, cryptoCall, encodeText, deferToCallback, invalidArgType, output, validateFunction, validateInteger, type BinaryLike } from './host.ts';
import { KeyObject, keyBytes } from './keys.ts';

/** Frees the host's context of a cipher the guest dropped without final(). */
const collected = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<number>((id) => {
    try {
      hostCall('crypto', ['cipher.free', { id }, []]);
    } catch {
      // the environment is ending
    }
  })
  : undefined;

/**
 * Turns a cipher's output chunks into text the way Node does (a StringDecoder per cipher), so that
 * `update(..., 'base64') + final('base64')` is the base64 of the whole output.
 */
class OutputText {
  readonly #encoding: string;
  #pending = new Uint8Array(0);
  readonly #utf8: InstanceType<typeof TextDecoder> | undefined;
  constructor(encoding: string) {
    this.#encoding = encoding;
    this.#utf8 = encoding === 'utf8' || encoding === 'utf-8' ? new TextDecoder() : undefined;
  }
  write(bytes: Uint8Array, last: boolean): string {
    if (this.#utf8) return this.#utf8.decode(bytes, { stream: !last });
    if (this.#encoding !== 'base64' && this.#encoding !== 'base64url') return encodeText(bytes, this.#encoding);
    const all = new Uint8Array(this.#pending.length + bytes.length);
    all.set(this.#pending);
    all.set(bytes, this.#pending.length);
    const whole = last ? all.length : all.length - (all.length % 3);
    this.#pending = all.slice(whole);
    return encodeText(all.subarray(0, whole), this.#encoding);
  }
}

function keyInput(key: unknown): Uint8Array {
  if (key instanceof KeyObject) {
    if (key.type !== 'secret') throw nodeError(TypeError, 'ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE', `Invalid key object type ${key.type}, expected secret.`);
    return keyBytes(key);
  }
  return bytesOf(key, undefined, 'key');
}

class CipherBase {
  readonly #id: number;
  readonly #decipher: boolean;
  #text: OutputText | undefined;
  #tag: Buffer | undefined;
  #finished = false;
  constructor(decipher: boolean, algorithm: unknown, key: unknown, iv: unknown, options?: { authTagLength?: number }) {
    if (typeof algorithm !== 'string') throw invalidArgType('cipher', 'of type string', algorithm);
    const parts = [keyInput(key)];
    if (iv !== null) parts.push(bytesOf(iv, undefined, 'iv'));
    const params: Record<string, unknown> = { algorithm, decipher };
    if (options?.authTagLength !== undefined) params.authTagLength = options.authTagLength;
    this.#id = cryptoCall('cipher.create', params, parts).value as number;
    this.#decipher = decipher;
    collected?.register(this, this.#id, this);
  }
  update(data: BinaryLike, inputEncoding?: string, outputEncoding?: string): Buffer | string {
    if (this.#finished) throw nodeError(Error, 'ERR_CRYPTO_INVALID_STATE', 'Invalid state for operation update');
    if (typeof data !== 'string' && !ArrayBuffer.isView(data)) {
      throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
    }
    const out = cryptoCall('cipher.update', { id: this.#id }, [bytesOf(data, inputEncoding)]).parts[0]!;
    return this.#output(out, outputEncoding, false);
  }
  final(outputEncoding?: string): Buffer | string {
    if (this.#finished) throw nodeError(Error, 'ERR_CRYPTO_INVALID_STATE', 'Invalid state for operation final');
    this.#finished = true;
    collected?.unregister(this);
    const { parts } = cryptoCall('cipher.final', { id: this.#id, decipher: this.#decipher }, []);
    if (parts[1]) this.#tag = Buffer.from(parts[1]);
    return this.#output(parts[0]!, outputEncoding, true);
  }
  setAAD(buffer: BinaryLike, options?: { plaintextLength?: number }): this {
    const params: Record<string, unknown> = { id: this.#id };
    if (options?.plaintextLength !== undefined) params.plaintextLength = options.plaintextLength;
    cryptoCall('cipher.aad', params, [bytesOf(buffer, undefined, 'buffer')]);
    return this;
  }
  setAutoPadding(autoPadding = true): this {
    cryptoCall('cipher.padding', { id: this.#id, auto: autoPadding !== false }, []);
    return this;
  }
  protected get tag(): Buffer | undefined {
    return this.#tag;
  }
  protected get id(): number {
    return this.#id;
  }
  #output(bytes: Uint8Array, encoding: string | undefined, last: boolean): Buffer | string {
    if (encoding === undefined || encoding === 'buffer') return output(bytes);
    this.#text ??= new OutputText(encoding);
    return this.#text.write(bytes, last);
  }
}

export class Cipheriv extends CipherBase {
  constructor(algorithm: string, key: unknown, iv: unknown, options?: { authTagLength?: number }) {
    super(false, algorithm, key, iv, options);
  }
  getAuthTag(): Buffer {
    if (!this.tag) throw nodeError(Error, 'ERR_CRYPTO_INVALID_STATE', 'Invalid state for operation getAuthTag');
    return this.tag;
  }
}

export class Decipheriv extends CipherBase {
  constructor(algorithm: string, key: unknown, iv: unknown, options?: { authTagLength?: number }) {
    super(true, algorithm, key, iv, options);
  }
  setAuthTag(tag: BinaryLike, encoding?: string): this {
    cryptoCall('cipher.tag', { id: this.id }, [bytesOf(tag, encoding, 'buffer')]);
    return this;
  }
}

export const createCipheriv = (algorithm: string, key: unknown, iv: unknown, options?: { authTagLength?: number }): Cipheriv =>
  new Cipheriv(algorithm, key, iv, options);
export const createDecipheriv = (algorithm: string, key: unknown, iv: unknown, options?: { authTagLength?: number }): Decipheriv =>
  new Decipheriv(algorithm, key, iv, options);

const MAX_INT = 2 ** 31 - 1;

function pbkdf2Bytes(password: BinaryLike, salt: BinaryLike, iterations: number, keylen: number, digest: unknown): Buffer {
  if (typeof digest !== 'string') throw invalidArgType('digest', 'of type string', digest);
  const pass = bytesOf(password, undefined, 'password');
  const saltBytes = bytesOf(salt, undefined, 'salt');
  validateInteger(iterations, 'iterations', 1, MAX_INT);
  validateInteger(keylen, 'keylen', 0, MAX_INT);
  return output(cryptoCall('pbkdf2', { iterations, keylen, digest }, [pass, saltBytes]).parts[0]!) as Buffer;
}

export const pbkdf2Sync = (password: BinaryLike, salt: BinaryLike, iterations: number, keylen: number, digest: string): Buffer =>
  pbkdf2Bytes(password, salt, iterations, keylen, digest);

export function pbkdf2(password: BinaryLike, salt: BinaryLike, iterations: number, keylen: number, digest: string, callback: (err: Error | null, key?: Buffer) => void): void {
  validateFunction(callback, 'callback');
  // Node validates the arguments synchronously; only the derivation's own failure goes to the callback.
  if (typeof digest !== 'string') throw invalidArgType('digest', 'of type string', digest);
  validateInteger(iterations, 'iterations', 1, MAX_INT);
  validateInteger(keylen, 'keylen', 0, MAX_INT);
  deferToCallback(callback, () => pbkdf2Bytes(password, salt, iterations, keylen, digest));
}

interface ScryptOptions { N?: number; cost?: number; r?: number; blockSize?: number; p?: number; parallelization?: number; maxmem?: number }

function scryptBytes(password: BinaryLike, salt: BinaryLike, keylen: number, options: ScryptOptions = {}): Buffer {
  validateInteger(keylen, 'keylen', 0, MAX_INT);
  const N = options.N ?? options.cost ?? 16384;
  const r = options.r ?? options.blockSize ?? 8;
  const p = options.p ?? options.parallelization ?? 1;
  if ((N & (N - 1)) !== 0 || N < 2) throw nodeError(RangeError, 'ERR_CRYPTO_INVALID_SCRYPT_PARAMS', 'Invalid scrypt params: N must be a power of 2 greater than 1');
  const params: Record<string, unknown> = { keylen, N, r, p, maxmem: options.maxmem ?? 32 * 1024 * 1024 };
  return output(cryptoCall('scrypt', params, [bytesOf(password, undefined, 'password'), bytesOf(salt, undefined, 'salt')]).parts[0]!) as Buffer;
}

export const scryptSync = (password: BinaryLike, salt: BinaryLike, keylen: number, options?: ScryptOptions): Buffer =>
  scryptBytes(password, salt, keylen, options);

export function scrypt(password: BinaryLike, salt: BinaryLike, keylen: number, options: ScryptOptions | ((err: Error | null, key?: Buffer) => void), callback?: (err: Error | null, key?: Buffer) => void): void {
  if (typeof options === 'function') [options, callback] = [{}, options];
  validateFunction(callback, 'callback');
  deferToCallback(callback!, () => scryptBytes(password, salt, keylen, options));
}

function hkdfBytes(digest: unknown, ikm: unknown, salt: BinaryLike, info: BinaryLike, keylen: number): ArrayBuffer {
  if (typeof digest !== 'string') throw invalidArgType('digest', 'of type string', digest);
  const key = ikm instanceof KeyObject ? keyBytes(ikm) : bytesOf(ikm, undefined, 'ikm');
  validateInteger(keylen, 'length', 0, MAX_INT);
  const out = cryptoCall('hkdf', { digest, keylen }, [key, bytesOf(salt, undefined, 'salt'), bytesOf(info, undefined, 'info')]).parts[0]!;
  return out.slice().buffer;
}

export const hkdfSync = (digest: string, ikm: unknown, salt: BinaryLike, info: BinaryLike, keylen: number): ArrayBuffer => hkdfBytes(digest, ikm, salt, info, keylen);

export function hkdf(digest: string, ikm: unknown, salt: BinaryLike, info: BinaryLike, keylen: number, callback: (err: Error | null, key?: ArrayBuffer) => void): void {
  validateFunction(callback, 'callback');
  deferToCallback(callback, () => hkdfBytes(digest, ikm, salt, info, keylen));
}
