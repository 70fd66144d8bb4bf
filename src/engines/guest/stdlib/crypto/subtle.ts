/**
 * globalThis.crypto.subtle: Web Crypto's SubtleCrypto for RSASSA-PKCS1-v1_5, RSA-PSS, RSA-OAEP,
 * ECDSA, ECDH (P-256/384/521), Ed25519, X25519, HMAC, AES-GCM/CBC/CTR, PBKDF2, HKDF and SHA-*.
 * Each operation is the node:crypto call Node's own Web Crypto makes (lib/internal/crypto/*.js),
 * served by the host; digests are @noble/hashes. Results are promises, as in Node.
 */
import { Buffer } from 'buffer';
import { DOMExceptionLike } from '../encoding.ts';
import { createCipheriv, createDecipheriv, hkdfSync, pbkdf2Sync } from './cipher.ts';
import { WEB_HASHES, createHmac } from './hash.ts';
import { arrayBufferOf, bytesOf, cryptoCall } from './host.ts';
import { keyBytes } from './keys.ts';
import { diffieHellman, privateDecrypt, publicEncrypt, sign, verify } from './sign.ts';
import { CryptoKey, dom, exportKey, generateKey, importKey, keyObjectOf, normalize, type Algorithm, type Usage } from './web-key.ts';

const nodeHash = (algorithm: Algorithm): string => String((algorithm.hash as { name: string }).name).replace('SHA-', 'sha');
const RSA_PKCS1_PSS_PADDING = 6;
const RSA_PKCS1_OAEP_PADDING = 4;
const OPERATION_FAILED = 'The operation failed for an operation-specific reason';

function useKey(key: unknown, algorithm: Algorithm, usage: Usage): CryptoKey {
  if (!(key instanceof CryptoKey)) throw new TypeError('The "key" argument must be an instance of CryptoKey.');
  if (key.algorithm.name !== algorithm.name) throw dom('Key algorithm mismatch', 'InvalidAccessError');
  if (!key.usages.includes(usage)) throw dom(`Unable to use this key to ${usage}`, 'InvalidAccessError');
  return key;
}

/** Runs `work` and settles a promise with it, as Node's async Web Crypto does. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function signBytes(algorithm: Algorithm, key: CryptoKey, data: Uint8Array): Uint8Array {
  const object = keyObjectOf(key);
  switch (algorithm.name) {
    case 'HMAC':
      return createHmac(nodeHash(key.algorithm), object).update(data).digest() as Buffer;
    case 'RSASSA-PKCS1-v1_5':
      return sign(nodeHash(key.algorithm), data, object)!;
    case 'RSA-PSS':
      return sign(nodeHash(key.algorithm), data, { key: object, padding: RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength })!;
    case 'ECDSA':
      return sign(nodeHash(algorithm), data, { key: object, dsaEncoding: 'ieee-p1363' })!;
    case 'Ed25519':
      return sign(null, data, object)!;
    default:
      throw dom('Unrecognized algorithm name', 'NotSupportedError');
  }
}

function verifyBytes(algorithm: Algorithm, key: CryptoKey, signature: Uint8Array, data: Uint8Array): boolean {
  const object = keyObjectOf(key);
  switch (algorithm.name) {
    case 'HMAC': {
      const expected = createHmac(nodeHash(key.algorithm), object).update(data).digest() as Buffer;
      return expected.length === signature.length && (cryptoCall('timingSafeEqual', {}, [expected, signature]).value as boolean);
    }
    case 'RSASSA-PKCS1-v1_5':
      return verify(nodeHash(key.algorithm), data, object, signature)!;
    case 'RSA-PSS':
      return verify(nodeHash(key.algorithm), data, { key: object, padding: RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength }, signature)!;
    case 'ECDSA':
      return verify(nodeHash(algorithm), data, { key: object, dsaEncoding: 'ieee-p1363' }, signature)!;
    case 'Ed25519':
      return verify(null, data, object, signature)!;
    default:
      throw dom('Unrecognized algorithm name', 'NotSupportedError');
  }
}

function aesName(key: CryptoKey, mode: string): string {
  return `aes-${String(key.algorithm.length)}-${mode}`;
}

function cipherBytes(decrypt: boolean, algorithm: Algorithm, key: CryptoKey, data: Uint8Array): Uint8Array {
  const object = keyObjectOf(key);
  try {
    switch (algorithm.name) {
      case 'AES-GCM': {
        const tagBytes = (algorithm.tagLength === undefined ? 128 : Number(algorithm.tagLength)) / 8;
        if (![4, 8, 12, 13, 14, 15, 16].includes(tagBytes)) throw dom(`${String(algorithm.tagLength)} is not a valid AES-GCM tag length`, 'OperationError');
        const iv = bytesOf(algorithm.iv);
        if (decrypt) {
          if (data.length < tagBytes) throw dom('The provided data is too small.', 'OperationError');
          const d = createDecipheriv(aesName(key, 'gcm'), object, iv, { authTagLength: tagBytes });
          if (algorithm.additionalData !== undefined) d.setAAD(bytesOf(algorithm.additionalData));
          d.setAuthTag(data.subarray(data.length - tagBytes));
          return Buffer.concat([d.update(data.subarray(0, data.length - tagBytes)) as Buffer, d.final() as Buffer]);
        }
        const c = createCipheriv(aesName(key, 'gcm'), object, iv, { authTagLength: tagBytes });
        if (algorithm.additionalData !== undefined) c.setAAD(bytesOf(algorithm.additionalData));
        return Buffer.concat([c.update(data) as Buffer, c.final() as Buffer, c.getAuthTag()]);
      }
      case 'AES-CBC':
      case 'AES-CTR': {
        const mode = algorithm.name === 'AES-CBC' ? 'cbc' : 'ctr';
        const iv = bytesOf(mode === 'cbc' ? algorithm.iv : algorithm.counter);
        if (iv.length !== 16) throw dom(mode === 'cbc' ? 'algorithm.iv must contain exactly 16 bytes' : 'algorithm.counter must contain exactly 16 bytes', 'OperationError');
        const c = (decrypt ? createDecipheriv : createCipheriv)(aesName(key, mode), object, iv);
        return Buffer.concat([c.update(data) as Buffer, c.final() as Buffer]);
      }
      case 'RSA-OAEP': {
        const options = { key: object, padding: RSA_PKCS1_OAEP_PADDING, oaepHash: nodeHash(key.algorithm), ...(algorithm.label === undefined ? {} : { oaepLabel: bytesOf(algorithm.label) }) };
        return decrypt ? privateDecrypt(options, data) : publicEncrypt(options, data);
      }
      default:
        throw dom('Unrecognized algorithm name', 'NotSupportedError');
    }
  } catch (error) {
    if (error instanceof DOMExceptionLike) throw error;
    throw dom(OPERATION_FAILED, 'OperationError');
  }
}

function deriveBitsBytes(algorithm: Algorithm, key: CryptoKey, length: number | null): Uint8Array {
  const object = keyObjectOf(key);
  let bits: Uint8Array;
  switch (algorithm.name) {
    case 'PBKDF2':
    case 'HKDF': {
      if (length === null || length % 8 !== 0) throw dom('length must be a multiple of 8', 'OperationError');
      const bytes = length / 8;
      bits = algorithm.name === 'PBKDF2'
        ? pbkdf2Sync(keyBytes(object), bytesOf(algorithm.salt), Number(algorithm.iterations), bytes, nodeHash(algorithm))
        : new Uint8Array(hkdfSync(nodeHash(algorithm), object, bytesOf(algorithm.salt), bytesOf(algorithm.info), bytes));
      return bits;
    }
    case 'ECDH':
    case 'X25519': {
      const pub = algorithm.public;
      if (!(pub instanceof CryptoKey) || pub.type !== 'public') throw dom('algorithm.public must be a public key', 'InvalidAccessError');
      if (pub.algorithm.name !== algorithm.name) throw dom('The public and private keys must be of the same type', 'InvalidAccessError');
      bits = diffieHellman({ privateKey: object, publicKey: keyObjectOf(pub) });
      if (length === null) return bits;
      if (length > bits.length * 8) throw dom('derived bit length is too small', 'OperationError');
      const out = bits.slice(0, Math.ceil(length / 8));
      if (length % 8 !== 0) out[out.length - 1]! &= 0xff << (8 - (length % 8));
      return out;
    }
    default:
      throw dom('Unrecognized algorithm name', 'NotSupportedError');
  }
}

/** Bits a derived key of `type` needs (deriveKey's length). */
function derivedLength(type: Algorithm): number {
  if (type.name === 'HMAC') {
    if (typeof type.length === 'number') return type.length;
    const hash = (type.hash as { name: string }).name;
    return hash === 'SHA-384' || hash === 'SHA-512' ? 1024 : 512;
  }
  if (type.name.startsWith('AES')) return Number(type.length);
  throw dom('Unrecognized algorithm name', 'NotSupportedError');
}

export class SubtleCrypto {
  digest(algorithm: unknown, data: unknown): Promise<ArrayBuffer> {
    return settle(() => {
      const { name } = normalize(algorithm);
      const hash = WEB_HASHES[name];
      if (!hash) throw dom('Unrecognized algorithm name', 'NotSupportedError');
      return arrayBufferOf(hash(bytesOf(data)));
    });
  }
  importKey(format: string, keyData: unknown, algorithm: unknown, extractable: boolean, usages: Usage[]): Promise<CryptoKey> {
    return settle(() => importKey(format, keyData, normalize(algorithm), extractable, usages));
  }
  exportKey(format: string, key: CryptoKey): Promise<ArrayBuffer | object> {
    return settle(() => exportKey(format, key));
  }
  generateKey(algorithm: unknown, extractable: boolean, usages: Usage[]): Promise<CryptoKey | { publicKey: CryptoKey; privateKey: CryptoKey }> {
    return settle(() => generateKey(normalize(algorithm), extractable, usages));
  }
  sign(algorithm: unknown, key: CryptoKey, data: unknown): Promise<ArrayBuffer> {
    return settle(() => {
      const alg = normalize(algorithm);
      return arrayBufferOf(signBytes(alg, useKey(key, alg, 'sign'), bytesOf(data)));
    });
  }
  verify(algorithm: unknown, key: CryptoKey, signature: unknown, data: unknown): Promise<boolean> {
    return settle(() => {
      const alg = normalize(algorithm);
      return verifyBytes(alg, useKey(key, alg, 'verify'), bytesOf(signature), bytesOf(data));
    });
  }
  encrypt(algorithm: unknown, key: CryptoKey, data: unknown): Promise<ArrayBuffer> {
    return settle(() => {
      const alg = normalize(algorithm);
      return arrayBufferOf(cipherBytes(false, alg, useKey(key, alg, 'encrypt'), bytesOf(data)));
    });
  }
  decrypt(algorithm: unknown, key: CryptoKey, data: unknown): Promise<ArrayBuffer> {
    return settle(() => {
      const alg = normalize(algorithm);
      return arrayBufferOf(cipherBytes(true, alg, useKey(key, alg, 'decrypt'), bytesOf(data)));
    });
  }
  deriveBits(algorithm: unknown, baseKey: CryptoKey, length: number | null = null): Promise<ArrayBuffer> {
    return settle(() => {
      const alg = normalize(algorithm);
      return arrayBufferOf(deriveBitsBytes(alg, useKey(baseKey, alg, 'deriveBits'), length));
    });
  }
  deriveKey(algorithm: unknown, baseKey: CryptoKey, derivedKeyType: unknown, extractable: boolean, usages: Usage[]): Promise<CryptoKey> {
    return settle(() => {
      const alg = normalize(algorithm);
      const type = normalize(derivedKeyType);
      const bits = deriveBitsBytes(alg, useKey(baseKey, alg, 'deriveKey'), derivedLength(type));
      return importKey('raw', bits, type, extractable, usages);
    });
  }
  wrapKey(format: string, key: CryptoKey, wrappingKey: CryptoKey, wrapAlgorithm: unknown): Promise<ArrayBuffer> {
    return settle(() => {
      const alg = normalize(wrapAlgorithm);
      const exported = exportKey(format, key);
      const bytes = format === 'jwk' ? Buffer.from(JSON.stringify(exported)) : new Uint8Array(exported as ArrayBuffer);
      return arrayBufferOf(cipherBytes(false, alg, useKey(wrappingKey, alg, 'wrapKey'), bytes));
    });
  }
  unwrapKey(format: string, wrappedKey: unknown, unwrappingKey: CryptoKey, unwrapAlgorithm: unknown, unwrappedKeyAlgorithm: unknown, extractable: boolean, usages: Usage[]): Promise<CryptoKey> {
    return settle(() => {
      const alg = normalize(unwrapAlgorithm);
      const bytes = cipherBytes(true, alg, useKey(unwrappingKey, alg, 'unwrapKey'), bytesOf(wrappedKey));
      const data: unknown = format === 'jwk' ? JSON.parse(Buffer.from(bytes).toString('utf8')) : bytes;
      return importKey(format, data, normalize(unwrappedKeyAlgorithm), extractable, usages);
    });
  }
  get [Symbol.toStringTag](): string {
    return 'SubtleCrypto';
  }
}

export const subtle = new SubtleCrypto();
export { CryptoKey };
