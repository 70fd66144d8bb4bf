/**
 * node:crypto and Web Crypto (globalThis.crypto) inside the sandbox. Hashes and HMAC are
 * @noble/hashes (audited, pure JS, no host call per update); everything that needs a key, a
 * cipher, a signature, a derivation or randomness is the host's own node:crypto over the `crypto`
 * and `random` host calls (environment/crypto-service.ts), bytes in and bytes out, bounded per call
 * (environment/crypto-limits.ts). No cryptography is written here: only argument handling.
 */
import { nodeError } from '../bridge.ts';
import {
  Cipheriv, createCipheriv, createDecipheriv, Decipheriv, hkdf, hkdfSync, pbkdf2, pbkdf2Sync, scrypt, scryptSync,
} from './crypto/cipher.ts';
import { createHash, createHmac, getHashes, Hash, hash, Hmac } from './crypto/hash.ts';
import { bytesOf, cryptoCall } from './crypto/host.ts';
import {
  createPrivateKey, createPublicKey, createSecretKey, generateKey, generateKeyPair, generateKeyPairSync, generateKeySync, KeyObject,
} from './crypto/keys.ts';
import { getRandomValues, randomBytes, randomFillAsync, randomFillSync, randomInt, randomUUID } from './crypto/random.ts';
import {
  createSign, createVerify, diffieHellman, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt, Sign, sign, Verify, verify,
} from './crypto/sign.ts';
import { CryptoKey, SubtleCrypto, subtle } from './crypto/subtle.ts';
import { createECDH, ECDH, X509Certificate } from './crypto/ecdh-x509.ts';

export { getRandomValues, randomUUID };

function timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean {
  const x = bytesOf(a, undefined, 'buf1');
  const y = bytesOf(b, undefined, 'buf2');
  if (x.length !== y.length) throw nodeError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
  return cryptoCall('timingSafeEqual', {}, [x, y]).value as boolean;
}

/** Web Crypto's Crypto interface (globalThis.crypto is its instance). */
export class Crypto {
  get subtle(): SubtleCrypto {
    return subtle;
  }
  getRandomValues<T extends ArrayBufferView | null>(array: T): T {
    return getRandomValues(array);
  }
  randomUUID(): string {
    return randomUUID();
  }
  get [Symbol.toStringTag](): string {
    return 'Crypto';
  }
}

/** globalThis.crypto (Web Crypto). */
export const webcrypto = new Crypto();

/** node:crypto's constants that user code reads (OpenSSL's values, as Node 24 exports them). */
const constants = Object.freeze({
  RSA_PKCS1_PADDING: 1, RSA_NO_PADDING: 3, RSA_PKCS1_OAEP_PADDING: 4, RSA_X931_PADDING: 5, RSA_PKCS1_PSS_PADDING: 6,
  RSA_PSS_SALTLEN_DIGEST: -1, RSA_PSS_SALTLEN_MAX_SIGN: -2, RSA_PSS_SALTLEN_AUTO: -2,
  POINT_CONVERSION_COMPRESSED: 2, POINT_CONVERSION_UNCOMPRESSED: 4, POINT_CONVERSION_HYBRID: 6,
});

const CIPHERS = ['aes-128-cbc', 'aes-128-ctr', 'aes-128-ecb', 'aes-128-gcm', 'aes-192-cbc', 'aes-192-ctr', 'aes-192-ecb', 'aes-192-gcm',
  'aes-256-cbc', 'aes-256-ctr', 'aes-256-ecb', 'aes-256-gcm', 'chacha20-poly1305', 'id-aes128-GCM', 'id-aes192-GCM', 'id-aes256-GCM'];
const CURVES = ['Ed25519', 'Ed448', 'X25519', 'X448', 'prime256v1', 'secp256k1', 'secp384r1', 'secp521r1'];

export const cryptoModule = {
  createHash, createHmac, hash, getHashes, Hash, Hmac,
  createCipheriv, createDecipheriv, Cipheriv, Decipheriv, getCiphers: () => [...CIPHERS], getCurves: () => [...CURVES],
  pbkdf2, pbkdf2Sync, scrypt, scryptSync, hkdf, hkdfSync,
  createSign, createVerify, Sign, Verify, sign, verify, publicEncrypt, publicDecrypt, privateEncrypt, privateDecrypt, diffieHellman,
  KeyObject, createSecretKey, createPublicKey, createPrivateKey, generateKeyPair, generateKeyPairSync, generateKey, generateKeySync,
  randomBytes, pseudoRandomBytes: randomBytes, randomFill: randomFillAsync, randomFillSync, randomInt, randomUUID, getRandomValues,
  timingSafeEqual, constants, webcrypto, subtle, CryptoKey,
  createECDH, ECDH, X509Certificate,
  getFips: () => 0,
};

export { CryptoKey, SubtleCrypto };
