/**
 * Web Crypto's CryptoKey and its algorithms' key handling (importKey, exportKey, generateKey), on
 * top of the node:crypto KeyObject (keys.ts): a CryptoKey wraps a KeyObject, so the host parses and
 * uses it exactly as it does Node's. Messages and DOMException names are Node 24's (lib/internal/crypto/).
 */
import { Buffer } from 'buffer';
import { DOMExceptionLike } from '../encoding.ts';
import { bytesOf, encodeText } from './host.ts';
import { createSecretKey, generateKeyPairSync, hooks, KeyObject, prepareKey } from './keys.ts';
import { randomFill } from './random.ts';

export type Usage = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'deriveKey' | 'deriveBits' | 'wrapKey' | 'unwrapKey';
export type Algorithm = Record<string, unknown> & { name: string };

/** Canonical algorithm names (Web Crypto matches them case-insensitively). */
const NAMES = ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'RSA-OAEP', 'ECDSA', 'ECDH', 'Ed25519', 'X25519', 'HMAC', 'AES-GCM', 'AES-CBC', 'AES-CTR',
  'PBKDF2', 'HKDF', 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'];

export const dom = (message: string, name: string): DOMExceptionLike => new DOMExceptionLike(message, name);

/** An algorithm identifier (a string or `{ name, ... }`) with its name in canonical case and its hash normalised. */
export function normalize(algorithm: unknown): Algorithm {
  const object = typeof algorithm === 'string' ? { name: algorithm } : algorithm;
  if (typeof object !== 'object' || object === null || typeof (object as { name?: unknown }).name !== 'string') {
    throw dom('Algorithm: Unrecognized name', 'NotSupportedError');
  }
  const given = (object as { name: string }).name;
  const name = NAMES.find((candidate) => candidate.toLowerCase() === given.toLowerCase());
  if (!name) throw dom('Unrecognized algorithm name', 'NotSupportedError');
  const out: Algorithm = { ...(object), name };
  if (out.hash !== undefined) out.hash = { name: normalize(out.hash).name };
  return out;
}

const SECRET = new Set(['HMAC', 'AES-GCM', 'AES-CBC', 'AES-CTR', 'PBKDF2', 'HKDF']);
/** Usages each key type of an algorithm may have: [public, private] or [secret]. */
const USAGES: Readonly<Record<string, readonly (readonly Usage[])[]>> = {
  'RSASSA-PKCS1-v1_5': [['verify'], ['sign']], 'RSA-PSS': [['verify'], ['sign']], ECDSA: [['verify'], ['sign']], Ed25519: [['verify'], ['sign']],
  'RSA-OAEP': [['encrypt', 'wrapKey'], ['decrypt', 'unwrapKey']], ECDH: [[], ['deriveKey', 'deriveBits']], X25519: [[], ['deriveKey', 'deriveBits']],
  HMAC: [['sign', 'verify']], 'AES-GCM': [['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']], 'AES-CBC': [['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']],
  'AES-CTR': [['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']], PBKDF2: [['deriveKey', 'deriveBits']], HKDF: [['deriveKey', 'deriveBits']],
};

const inner = new WeakMap<object, KeyObject>();
const CONSTRUCT = Symbol('CryptoKey');

export class CryptoKey {
  readonly type: 'secret' | 'public' | 'private';
  readonly extractable: boolean;
  readonly algorithm: Algorithm;
  readonly usages: Usage[];
  /** @internal */
  constructor(token: symbol, key: KeyObject, algorithm: Algorithm, extractable: boolean, usages: Usage[]) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor');
    this.type = key.type;
    this.extractable = extractable;
    this.algorithm = algorithm;
    this.usages = usages;
    inner.set(this, key);
  }
  get [Symbol.toStringTag](): string {
    return 'CryptoKey';
  }
}
hooks.fromCryptoKey = (key) => (typeof key === 'object' && key !== null ? inner.get(key) : undefined);

export function keyObjectOf(key: CryptoKey): KeyObject {
  const found = inner.get(key);
  if (!found) throw new TypeError('The "key" argument must be an instance of CryptoKey.');
  return found;
}

function checkUsages(name: string, type: 'secret' | 'public' | 'private', usages: readonly Usage[]): Usage[] {
  const table = USAGES[name]!;
  const allowed = type === 'private' ? table[1]! : table[0]!;
  for (const usage of usages) {
    if (!allowed.includes(usage)) throw dom(`Unsupported key usage for ${name} key`, 'SyntaxError');
  }
  return [...new Set(usages)];
}

export function makeCryptoKey(key: KeyObject, algorithm: Algorithm, extractable: boolean, usages: readonly Usage[]): CryptoKey {
  const checked = checkUsages(algorithm.name, key.type, usages);
  if (key.type !== 'public' && checked.length === 0) throw dom('Usages cannot be empty when creating a key.', 'SyntaxError');
  return new CryptoKey(CONSTRUCT, key, algorithm, key.type === 'public' ? true : extractable, checked);
}

const CURVES: Readonly<Record<string, string>> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
const POINT_BYTES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/** The algorithm object a CryptoKey shows for an asymmetric KeyObject. */
function asymmetricAlgorithm(key: KeyObject, requested: Algorithm): Algorithm {
  const type = key.asymmetricKeyType;
  const { name } = requested;
  if (name.startsWith('RSA')) {
    if (type !== 'rsa' && !(name === 'RSA-PSS' && type === 'rsa-pss')) throw dom('Invalid key type', 'DataError');
    const details = key.asymmetricKeyDetails as { modulusLength: number; publicExponent: bigint };
    const hex = details.publicExponent.toString(16);
    const exponent = Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
    if (requested.hash === undefined) throw new TypeError("Failed to read the 'hash' property from 'RsaHashedImportParams': Required member is undefined.");
    return { name, modulusLength: details.modulusLength, publicExponent: exponent, hash: requested.hash };
  }
  if (name === 'ECDSA' || name === 'ECDH') {
    const curve = String(requested.namedCurve);
    if (type !== 'ec' || CURVES[curve] !== (key.asymmetricKeyDetails as { namedCurve?: string }).namedCurve) throw dom('Named curve mismatch', 'DataError');
    return { name, namedCurve: curve };
  }
  if (type !== name.toLowerCase()) throw dom('Invalid key type', 'DataError');
  return { name };
}

/** subtle.importKey for every algorithm and format. */
export function importKey(format: string, data: unknown, algorithm: Algorithm, extractable: boolean, usages: readonly Usage[]): CryptoKey {
  const { name } = algorithm;
  if (SECRET.has(name)) {
    let bytes: Uint8Array;
    if (format === 'raw') bytes = bytesOf(data).slice();
    else if (format === 'jwk') {
      const jwk = data as { kty?: string; k?: string; ext?: boolean };
      if (jwk.kty !== 'oct') throw dom('Invalid JWK "kty" Parameter', 'DataError');
      if (jwk.ext === false && extractable) throw dom('JWK "ext" Parameter and extractable mismatch', 'DataError');
      bytes = bytesOf(String(jwk.k ?? ''), 'base64url');
    } else throw dom(`Unable to import ${name} key with format ${format}`, 'NotSupportedError');
    if ((name === 'PBKDF2' || name === 'HKDF') && extractable) throw dom(`${name} keys are not extractable`, 'SyntaxError');
    let shown: Algorithm = { name };
    if (name.startsWith('AES')) {
      if (![16, 24, 32].includes(bytes.length)) throw dom('Invalid key length', 'DataError');
      shown = { name, length: bytes.length * 8 };
    } else if (name === 'HMAC') {
      if (algorithm.hash === undefined) throw new TypeError("Failed to read the 'hash' property from 'HmacImportParams': Required member is undefined.");
      if (bytes.length === 0) throw dom('Zero-length key is not supported', 'DataError');
      shown = { name, length: typeof algorithm.length === 'number' ? algorithm.length : bytes.length * 8, hash: algorithm.hash };
    }
    return makeCryptoKey(createSecretKey(bytes), shown, extractable, usages);
  }
  let key: KeyObject;
  try {
    if (format === 'spki') key = prepareKey({ key: bytesOf(data), format: 'der', type: 'spki' }, 'public');
    else if (format === 'pkcs8') key = prepareKey({ key: bytesOf(data), format: 'der', type: 'pkcs8' }, 'private');
    else if (format === 'jwk') {
      const jwk = data as Record<string, unknown>;
      if (jwk.ext === false && extractable) throw dom('JWK "ext" Parameter and extractable mismatch', 'DataError');
      const clean = Object.fromEntries(Object.entries(jwk).filter(([field]) => !['ext', 'key_ops', 'alg', 'use'].includes(field)));
      key = prepareKey({ key: clean, format: 'jwk' }, typeof jwk.d === 'string' ? 'private' : 'public');
    } else if (format === 'raw') {
      key = prepareKey({ key: rawPublicJwk(name, algorithm, bytesOf(data)), format: 'jwk' }, 'public');
    } else throw dom(`Unable to import ${name} key with format ${format}`, 'NotSupportedError');
  } catch (error) {
    if (error instanceof DOMExceptionLike) throw error;
    throw Object.assign(dom('Invalid keyData', 'DataError'), { cause: error });
  }
  return makeCryptoKey(key, asymmetricAlgorithm(key, algorithm), extractable, usages);
}

/** A raw public key (EC uncompressed point, or an Ed25519/X25519 key's 32 bytes) as a JWK. */
function rawPublicJwk(name: string, algorithm: Algorithm, raw: Uint8Array): object {
  if (name === 'ECDSA' || name === 'ECDH') {
    const curve = String(algorithm.namedCurve);
    const size = POINT_BYTES[curve];
    if (!size || raw.length !== 1 + 2 * size || raw[0] !== 4) throw dom('Invalid keyData', 'DataError');
    const b64 = (bytes: Uint8Array): string => encodeText(bytes, 'base64url');
    return { kty: 'EC', crv: curve, x: b64(raw.subarray(1, 1 + size)), y: b64(raw.subarray(1 + size)) };
  }
  if (name === 'Ed25519' || name === 'X25519') {
    if (raw.length !== 32) throw dom('Invalid keyData', 'DataError');
    return { kty: 'OKP', crv: name, x: encodeText(raw, 'base64url') };
  }
  throw dom(`Unable to import ${name} key with format raw`, 'NotSupportedError');
}

/** JWK "alg" values Node sets on export. */
function jwkAlg(algorithm: Algorithm): string | undefined {
  const hash = (algorithm.hash as { name?: string } | undefined)?.name?.replace('SHA-', '');
  switch (algorithm.name) {
    case 'HMAC': return `HS${hash === '1' ? '1' : hash}`;
    case 'RSASSA-PKCS1-v1_5': return `RS${hash === '1' ? '1' : hash}`;
    case 'RSA-PSS': return `PS${hash === '1' ? '1' : hash}`;
    case 'RSA-OAEP': return hash === '1' ? 'RSA-OAEP' : `RSA-OAEP-${hash}`;
    case 'AES-GCM': case 'AES-CBC': case 'AES-CTR': return `A${String(algorithm.length)}${algorithm.name.slice(4)}`;
    case 'Ed25519': return 'Ed25519';
    default: return undefined;
  }
}

/** subtle.exportKey. */
export function exportKey(format: string, key: CryptoKey): ArrayBuffer | object {
  if (!key.extractable) throw dom('key is not extractable', 'InvalidAccessError');
  const object = keyObjectOf(key);
  const { name } = key.algorithm;
  if (format === 'jwk') {
    const alg = jwkAlg(key.algorithm);
    return { key_ops: [...key.usages], ext: key.extractable, ...(alg === undefined ? {} : { alg }), ...(object.export({ format: 'jwk' }) as object) };
  }
  if (format === 'raw') {
    if (key.type === 'secret') return (object.export() as Buffer).slice().buffer;
    if (key.type !== 'public') throw dom(`Unable to export a raw ${name} ${key.type} key`, 'InvalidAccessError');
    const jwk = object.export({ format: 'jwk' }) as { x: string; y?: string };
    const x = bytesOf(jwk.x, 'base64url');
    const bytes = jwk.y === undefined ? x : Buffer.concat([Buffer.from([4]), x, bytesOf(jwk.y, 'base64url')]);
    return Uint8Array.from(bytes).buffer;
  }
  if ((format === 'spki' && key.type === 'public') || (format === 'pkcs8' && key.type === 'private')) {
    return Uint8Array.from(object.export({ format: 'der', type: format }) as Buffer).buffer;
  }
  throw dom(`Unable to export ${name} ${key.type} key using ${format} format`, 'InvalidAccessError');
}

/** subtle.generateKey: a CryptoKey (secret algorithms) or a CryptoKeyPair. */
export function generateKey(algorithm: Algorithm, extractable: boolean, usages: readonly Usage[]): CryptoKey | { publicKey: CryptoKey; privateKey: CryptoKey } {
  const { name } = algorithm;
  if (SECRET.has(name)) {
    if (name === 'PBKDF2' || name === 'HKDF') throw dom('Unrecognized algorithm name', 'NotSupportedError');
    let bits: number;
    if (name === 'HMAC') {
      const hash = (algorithm.hash as { name: string }).name;
      bits = typeof algorithm.length === 'number' ? algorithm.length : hash === 'SHA-384' || hash === 'SHA-512' ? 1024 : 512;
    } else {
      bits = Number(algorithm.length);
      if (![128, 192, 256].includes(bits)) throw dom('AES key length must be 128, 192, or 256 bits', 'OperationError');
    }
    const shown = name === 'HMAC' ? { name, length: bits, hash: algorithm.hash } : { name, length: bits };
    return makeCryptoKey(createSecretKey(randomFill(new Uint8Array(Math.ceil(bits / 8)))), shown, extractable, usages);
  }
  let pair: { publicKey: KeyObject; privateKey: KeyObject };
  if (name.startsWith('RSA')) {
    const exponent = bytesOf(algorithm.publicExponent as Uint8Array).reduce((n, b) => n * 256 + b, 0);
    pair = generateKeyPairSync('rsa', { modulusLength: algorithm.modulusLength, publicExponent: exponent }) as typeof pair;
  } else if (name === 'ECDSA' || name === 'ECDH') {
    const curve = CURVES[String(algorithm.namedCurve)];
    if (!curve) throw dom('Unrecognized namedCurve', 'NotSupportedError');
    pair = generateKeyPairSync('ec', { namedCurve: curve }) as typeof pair;
  } else {
    pair = generateKeyPairSync(name.toLowerCase(), {}) as typeof pair;
  }
  const shown = asymmetricAlgorithm(pair.publicKey, algorithm);
  const [publicUsages, privateUsages] = USAGES[name]!;
  const publicKey = makeCryptoKey(pair.publicKey, shown, true, usages.filter((u) => publicUsages!.includes(u)));
  for (const usage of usages) {
    if (!publicUsages!.includes(usage) && !privateUsages!.includes(usage)) throw dom(`Unsupported key usage for ${name} key`, 'SyntaxError');
  }
  const privateKey = makeCryptoKey(pair.privateKey, shown, extractable, usages.filter((u) => privateUsages!.includes(u)));
  return { publicKey, privateKey };
}

export { KeyObject };
