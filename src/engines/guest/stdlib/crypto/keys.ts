/**
 * KeyObject and the key factories (createSecretKey, createPublicKey, createPrivateKey,
 * generateKeyPair(Sync), generateKey(Sync)). A KeyObject keeps its key's canonical bytes (a secret's
 * raw bytes, SPKI DER, PKCS#8 DER) out of reach of user code; the host parses them into its own
 * KeyObject for each operation, so nothing the host holds outlives a call and keys survive SnapStart.
 */
import { Buffer } from 'buffer';
import { nodeError } from '../../bridge.ts';
import { bytesOf, cryptoCall, deferToCallback, invalidArgType, validateFunction } from './host.ts';
import { randomFill } from './random.ts';

export type KeyKind = 'secret' | 'public' | 'private';
export interface KeyDescription {
  type: KeyKind;
  asymmetricKeyType?: string;
  asymmetricKeyDetails?: Record<string, unknown>;
  symmetricKeySize?: number;
}

const CONSTRUCT = Symbol('KeyObject');
const material = new WeakMap<object, { description: KeyDescription; bytes: Uint8Array }>();

export class KeyObject {
  /** @internal Made by the factories only (Node's constructor is not public either). */
  constructor(token: symbol, description: KeyDescription, bytes: Uint8Array) {
    if (token !== CONSTRUCT) throw nodeError(TypeError, 'ERR_ILLEGAL_CONSTRUCTOR', 'Illegal constructor');
    material.set(this, { description, bytes: bytes.slice() });
  }
  get type(): KeyKind {
    return describe(this).type;
  }
  get asymmetricKeyType(): string | undefined {
    return describe(this).asymmetricKeyType;
  }
  get asymmetricKeyDetails(): Record<string, unknown> | undefined {
    const details = describe(this).asymmetricKeyDetails;
    if (!details) return undefined;
    const copy = { ...details };
    if (typeof copy.publicExponent === 'string') copy.publicExponent = BigInt(copy.publicExponent);
    return copy;
  }
  get symmetricKeySize(): number | undefined {
    return describe(this).symmetricKeySize;
  }
  /** Node's KeyObject#export: a secret's bytes (or JWK); PEM / DER / JWK for asymmetric keys. */
  export(options?: { format?: string; type?: string; cipher?: string; passphrase?: string | ArrayBufferView }): Buffer | string | object {
    const bytes = keyBytes(this);
    if (this.type === 'secret' && (options === undefined || options.format !== 'jwk')) return Buffer.from(bytes);
    if (this.type !== 'secret' && (typeof options !== 'object' || options === null)) throw invalidArgType('options', 'of type object', options);
    const wire: Record<string, unknown> = { ...options };
    if (options?.passphrase !== undefined && typeof options.passphrase !== 'string') {
      wire.passphraseBase64 = Buffer.from(bytesOf(options.passphrase)).toString('base64');
      delete wire.passphrase;
    }
    const { value, parts } = cryptoCall('key.export', { kind: this.type, options: wire }, [bytes]);
    const out = value as { text?: string; jwk?: object };
    if (out.text !== undefined) return out.text;
    if (out.jwk !== undefined) return out.jwk;
    return Buffer.from(parts[0]!);
  }
  equals(other: KeyObject): boolean {
    if (!(other instanceof KeyObject)) throw invalidArgType('otherKeyObject', 'an instance of KeyObject', other);
    const a = keyBytes(this);
    const b = keyBytes(other);
    return this.type === other.type && a.length === b.length && (cryptoCall('timingSafeEqual', {}, [a, b]).value as boolean);
  }
  /** KeyObject.from(cryptoKey). */
  static from(key: unknown): KeyObject {
    const found = hooks.fromCryptoKey(key);
    if (!found) throw invalidArgType('key', 'an instance of CryptoKey', key);
    return found;
  }
  get [Symbol.toStringTag](): string {
    return 'KeyObject';
  }
}

function describe(key: KeyObject): KeyDescription {
  const entry = material.get(key);
  if (!entry) throw nodeError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type KeyObject');
  return entry.description;
}

/** A KeyObject's canonical bytes (for this library's own host calls). */
export function keyBytes(key: KeyObject): Uint8Array {
  const entry = material.get(key);
  if (!entry) throw nodeError(TypeError, 'ERR_INVALID_THIS', 'Value of "this" must be of type KeyObject');
  return entry.bytes;
}

/** Set by the subtle module: the KeyObject inside a CryptoKey. */
export const hooks = { fromCryptoKey: (_key: unknown): KeyObject | undefined => undefined };

export function makeKey(description: KeyDescription, bytes: Uint8Array): KeyObject {
  return new KeyObject(CONSTRUCT, description, bytes);
}

function imported(params: object, data?: Uint8Array): KeyObject {
  const { value, parts } = cryptoCall('key.import', params, data === undefined ? [] : [data]);
  return makeKey(value as KeyDescription, parts[0]!);
}

export function createSecretKey(key: unknown, encoding?: string): KeyObject {
  if (key instanceof KeyObject) throw invalidArgType('key', 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView', key);
  const bytes = bytesOf(key, encoding, 'key');
  return makeKey({ type: 'secret', symmetricKeySize: bytes.length }, bytes);
}

/** Parsed PEM strings, by kind and text: jsonwebtoken passes the same PEM on every sign/verify. */
const pemCache = new Map<string, KeyObject>();
const PEM_CACHE_MAX = 64;

/**
 * Node's key arguments (string/Buffer PEM, { key, format, type, passphrase, encoding }, JWK,
 * KeyObject, CryptoKey) → a KeyObject of `kind` (a public key may be made from private input).
 */
export function prepareKey(input: unknown, kind: 'public' | 'private', name = 'key'): KeyObject {
  const fromCrypto = hooks.fromCryptoKey(input);
  if (fromCrypto) input = fromCrypto;
  if (input instanceof KeyObject) return convertKeyObject(input, kind);
  if (typeof input === 'string' || ArrayBuffer.isView(input) || input instanceof ArrayBuffer) return prepareKey({ key: input }, kind, name);
  if (typeof input !== 'object' || input === null) {
    throw invalidArgType(name, 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey', input);
  }
  const options = input as { key?: unknown; format?: string; type?: string; passphrase?: unknown; encoding?: string };
  const inner = hooks.fromCryptoKey(options.key) ?? options.key;
  if (inner instanceof KeyObject) return convertKeyObject(inner, kind);
  const format = options.format ?? 'pem';
  if (format === 'jwk') {
    if (typeof inner !== 'object' || inner === null) throw invalidArgType('key.key', 'of type object', inner);
    return imported({ kind, format: 'jwk', jwk: inner });
  }
  if (format !== 'pem' && format !== 'der') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The property 'key.format' is invalid. Received '${String(format)}'`);
  }
  const params: Record<string, unknown> = { kind, format, type: options.type };
  if (typeof options.passphrase === 'string') params.passphrase = options.passphrase;
  else if (options.passphrase !== undefined) params.passphraseBase64 = Buffer.from(bytesOf(options.passphrase, undefined, 'passphrase')).toString('base64');
  const data = bytesOf(inner, options.encoding, `${name}.key`);
  const cacheable = typeof inner === 'string' && options.passphrase === undefined && format === 'pem';
  const cacheKey = `${kind}\n${String(inner)}`;
  if (cacheable) {
    const hit = pemCache.get(cacheKey);
    if (hit) return hit;
  }
  const key = imported(params, data);
  if (cacheable) {
    if (pemCache.size >= PEM_CACHE_MAX) pemCache.delete(pemCache.keys().next().value!);
    pemCache.set(cacheKey, key);
  }
  return key;
}

function convertKeyObject(key: KeyObject, kind: 'public' | 'private'): KeyObject {
  if (key.type === kind) return key;
  if (key.type === 'private' && kind === 'public') return imported({ kind: 'public', format: 'canonical', from: 'private' }, keyBytes(key));
  throw nodeError(TypeError, 'ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE', `Invalid key object type ${key.type}, expected ${kind}.`);
}

export function createPublicKey(key: unknown): KeyObject {
  return prepareKey(key, 'public');
}

export function createPrivateKey(key: unknown): KeyObject {
  // Node takes no KeyObject here (a public one cannot become private; a private one is already made).
  if (key instanceof KeyObject || hooks.fromCryptoKey(key)) {
    const type = (hooks.fromCryptoKey(key) ?? (key as KeyObject)).type;
    throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "key" argument must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, or URL. Received an instance of ${type[0]!.toUpperCase()}${type.slice(1)}KeyObject`);
  }
  return prepareKey(key, 'private');
}

type KeyPairOutput = { publicKey: KeyObject | string | Buffer; privateKey: KeyObject | string | Buffer };

export function generateKeyPairSync(type: string, options: Record<string, unknown> = {}): KeyPairOutput {
  if (typeof type !== 'string') throw invalidArgType('type', 'of type string', type);
  const wire: Record<string, unknown> = { ...options };
  if (typeof wire.publicExponent === 'bigint') wire.publicExponent = Number(wire.publicExponent);
  for (const field of ['publicKeyEncoding', 'privateKeyEncoding']) {
    const encoding = wire[field] as Record<string, unknown> | undefined;
    if (encoding && encoding.passphrase !== undefined && typeof encoding.passphrase !== 'string') {
      wire[field] = { ...encoding, passphraseBase64: Buffer.from(bytesOf(encoding.passphrase)).toString('base64'), passphrase: undefined };
    }
  }
  const { value, parts } = cryptoCall('key.generate', { type, options: wire }, []);
  type Encoded = { text?: string; bytes?: number; key?: KeyDescription };
  const decode = (encoded: Encoded): KeyObject | string | Buffer => {
    if (encoded.text !== undefined) return encoded.text;
    if (encoded.key) return makeKey(encoded.key, parts[encoded.bytes!]!);
    return Buffer.from(parts[encoded.bytes!]!);
  };
  const pair = value as { publicKey: Encoded; privateKey: Encoded };
  return { publicKey: decode(pair.publicKey), privateKey: decode(pair.privateKey) };
}

export function generateKeyPair(type: string, options: Record<string, unknown> | undefined, callback: (err: Error | null, pub?: unknown, priv?: unknown) => void): void {
  if (typeof options === 'function') [options, callback] = [undefined, options];
  validateFunction(callback, 'callback');
  deferToCallback<KeyPairOutput>((err, pair) => (err ? callback(err) : callback(null, pair!.publicKey, pair!.privateKey)), () => generateKeyPairSync(type, options));
}

/** generateKeySync('hmac' | 'aes', { length }) (bits): random bytes from the host. */
export function generateKeySync(type: string, options: { length?: unknown } = {}): KeyObject {
  const length = options?.length;
  if (type !== 'hmac' && type !== 'aes') {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The argument 'type' must be a supported key type. Received '${String(type)}'`);
  }
  if (typeof length !== 'number' || !Number.isInteger(length)) throw invalidArgType('options.length', 'of type number', length);
  if (type === 'aes' && ![128, 192, 256].includes(length)) {
    throw nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The property 'options.length' must be one of: 128, 192, 256. Received ${length}`);
  }
  if (type === 'hmac' && (length < 8 || length > 2 ** 31 - 1)) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "options.length" is out of range. It must be >= 8 && <= 2147483647. Received ${length}`);
  }
  return createSecretKey(randomFill(new Uint8Array(Math.floor(length / 8))));
}

export function generateKey(type: string, options: { length?: unknown }, callback: (err: Error | null, key?: KeyObject) => void): void {
  validateFunction(callback, 'callback');
  deferToCallback(callback, () => generateKeySync(type, options));
}
