/**
 * Signatures and RSA encryption from the host's node:crypto: createSign / createVerify, sign /
 * verify (RSA PKCS#1 v1.5 and PSS, ECDSA with DER or IEEE P1363 encoding, Ed25519/Ed448),
 * publicEncrypt / privateDecrypt / privateEncrypt / publicDecrypt, diffieHellman.
 */
import type { Buffer } from 'buffer';
import { nodeError } from '../../bridge.ts';
import { bytesOf, cryptoCall, deferToCallback, invalidArgType, output, type BinaryLike } from './host.ts';
import { keyBytes, prepareKey, type KeyObject } from './keys.ts';

/** The padding / saltLength / dsaEncoding a key argument may carry (Node reads them from the key object). */
function signOptions(input: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof input !== 'object' || input === null || ArrayBuffer.isView(input)) return out;
  const { padding, saltLength, dsaEncoding } = input as Record<string, unknown>;
  if (padding !== undefined) out.padding = padding;
  if (saltLength !== undefined) out.saltLength = saltLength;
  if (dsaEncoding !== undefined) {
    if (dsaEncoding !== 'der' && dsaEncoding !== 'ieee-p1363') {
      throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The property 'options.dsaEncoding' is invalid. Received ${JSON.stringify(dsaEncoding) ?? String(typeof dsaEncoding)}`);
    }
    out.dsaEncoding = dsaEncoding;
  }
  return out;
}

function algorithmName(algorithm: unknown): string | null {
  if (algorithm === null || algorithm === undefined) return null;
  if (typeof algorithm !== 'string') throw invalidArgType('algorithm', 'of type string', algorithm);
  return algorithm;
}

function signBytes(algorithm: string | null, data: Uint8Array, keyInput: unknown): Uint8Array {
  const key = prepareKey(keyInput, 'private');
  return cryptoCall('sign', { algorithm, kind: 'private', ...signOptions(keyInput) }, [keyBytes(key), data]).parts[0]!;
}

function verifyBytes(algorithm: string | null, data: Uint8Array, keyInput: unknown, signature: Uint8Array): boolean {
  const key: KeyObject = prepareKey(keyInput, 'public');
  return cryptoCall('verify', { algorithm, kind: 'public', ...signOptions(keyInput) }, [keyBytes(key), data, signature]).value as boolean;
}

/** crypto.sign(algorithm, data, key[, callback]). */
export function sign(algorithm: unknown, data: BinaryLike, key: unknown, callback?: (err: Error | null, sig?: Buffer) => void): Buffer | undefined {
  const name = algorithmName(algorithm);
  const bytes = bytesOf(data, undefined, 'data');
  if (callback === undefined) return output(signBytes(name, bytes, key)) as Buffer;
  deferToCallback(callback, () => output(signBytes(name, bytes, key)) as Buffer);
  return undefined;
}

/** crypto.verify(algorithm, data, key, signature[, callback]). */
export function verify(algorithm: unknown, data: BinaryLike, key: unknown, signature: BinaryLike, callback?: (err: Error | null, ok?: boolean) => void): boolean | undefined {
  const name = algorithmName(algorithm);
  const bytes = bytesOf(data, undefined, 'data');
  const sig = bytesOf(signature, undefined, 'signature');
  if (callback === undefined) return verifyBytes(name, bytes, key, sig);
  deferToCallback(callback, () => verifyBytes(name, bytes, key, sig));
  return undefined;
}

/** Collects the data of a Sign/Verify (the host signs it in one call at the end). */
class Collector {
  readonly #algorithm: string;
  #chunks: Uint8Array[] = [];
  #size = 0;
  protected done = false;
  constructor(algorithm: unknown) {
    if (typeof algorithm !== 'string') throw invalidArgType('algorithm', 'of type string', algorithm);
    this.#algorithm = algorithm;
  }
  update(data: BinaryLike, encoding?: string): this {
    if (typeof data !== 'string' && !ArrayBuffer.isView(data)) {
      throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
    }
    const bytes = bytesOf(data, encoding).slice();
    this.#chunks.push(bytes);
    this.#size += bytes.length;
    return this;
  }
  /** Node's Sign/Verify are Writable streams; `write`/`end` feed update() here. */
  write(data: BinaryLike, encoding?: string): boolean {
    this.update(data, typeof encoding === 'string' ? encoding : undefined);
    return true;
  }
  end(data?: BinaryLike, encoding?: string): this {
    if (data !== undefined && typeof data !== 'function') this.update(data, typeof encoding === 'string' ? encoding : undefined);
    return this;
  }
  protected take(): [string, Uint8Array] {
    const all = new Uint8Array(this.#size);
    let at = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    this.#chunks = [];
    return [this.#algorithm, all];
  }
}

export class Sign extends Collector {
  sign(privateKey: unknown, outputEncoding?: string): Buffer | string {
    if (this.done) throw nodeError(Error, 'ERR_CRYPTO_SIGN_KEY_REQUIRED', 'No key provided to sign');
    const [algorithm, data] = this.take();
    this.done = true;
    return output(signBytes(algorithm, data, privateKey), outputEncoding);
  }
}

export class Verify extends Collector {
  verify(key: unknown, signature: BinaryLike, signatureEncoding?: string): boolean {
    const [algorithm, data] = this.take();
    this.done = true;
    return verifyBytes(algorithm, data, key, bytesOf(signature, signatureEncoding, 'signature'));
  }
}

export const createSign = (algorithm: string): Sign => new Sign(algorithm);
export const createVerify = (algorithm: string): Verify => new Verify(algorithm);

/** node:crypto's RSA_* padding constants (OpenSSL's values). */
const RSA_PKCS1_OAEP_PADDING = 4;

function rsa(op: string, kind: 'public' | 'private', keyInput: unknown, buffer: BinaryLike): Buffer {
  const key = prepareKey(keyInput, kind);
  const options = typeof keyInput === 'object' && keyInput !== null && !ArrayBuffer.isView(keyInput) ? (keyInput as Record<string, unknown>) : {};
  const padding = options.padding ?? (op === 'publicEncrypt' || op === 'privateDecrypt' ? RSA_PKCS1_OAEP_PADDING : undefined);
  const params: Record<string, unknown> = { op, kind: key.type, padding };
  if (options.oaepHash !== undefined) params.oaepHash = options.oaepHash;
  const parts = [keyBytes(key), bytesOf(buffer, undefined, 'buffer')];
  if (options.oaepLabel !== undefined) parts.push(bytesOf(options.oaepLabel, undefined, 'oaepLabel'));
  return output(cryptoCall('rsa', params, parts).parts[0]!) as Buffer;
}

// publicEncrypt and publicDecrypt accept a private key too (Node derives its public half).
export const publicEncrypt = (key: unknown, buffer: BinaryLike): Buffer => rsa('publicEncrypt', 'public', key, buffer);
export const publicDecrypt = (key: unknown, buffer: BinaryLike): Buffer => rsa('publicDecrypt', 'public', key, buffer);
export const privateDecrypt = (key: unknown, buffer: BinaryLike): Buffer => rsa('privateDecrypt', 'private', key, buffer);
export const privateEncrypt = (key: unknown, buffer: BinaryLike): Buffer => rsa('privateEncrypt', 'private', key, buffer);

/** crypto.diffieHellman({ privateKey, publicKey }) for EC and X25519/X448 keys. */
export function diffieHellman(options: { privateKey: KeyObject; publicKey: KeyObject }): Buffer {
  if (typeof options !== 'object' || options === null) throw invalidArgType('options', 'of type object', options);
  const priv = prepareKey(options.privateKey, 'private', 'options.privateKey');
  const pub = prepareKey(options.publicKey, 'public', 'options.publicKey');
  return output(cryptoCall('dh', {}, [keyBytes(priv), keyBytes(pub)]).parts[0]!) as Buffer;
}
