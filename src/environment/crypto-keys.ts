/**
 * Keys for the guest's crypto host calls. A key crosses the bridge as bytes in one canonical form —
 * a secret's raw bytes, a public key's SPKI DER, a private key's PKCS#8 DER — and is re-made into a
 * host KeyObject by node:crypto for each operation; what the guest learns about it (type, curve,
 * modulus...) is plain data.
 */
import { Buffer } from 'node:buffer';
import { createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { CryptoAnswer } from './crypto-service.ts';
import { checkKeyDerivation } from './encrypted-key.ts';
import { checkPrivateKeyCost } from './key-cost.ts';

export type KeyKind = 'secret' | 'public' | 'private';

/** What the guest's KeyObject shows: Node's properties, a bigint exponent as its decimal string. */
export interface KeyDescription {
  readonly type: KeyKind;
  readonly asymmetricKeyType?: string;
  readonly asymmetricKeyDetails?: Record<string, unknown>;
  readonly symmetricKeySize?: number;
}

/** A host KeyObject from its canonical bytes (a DH or DSA private key within key-cost.ts's bounds). */
export function keyOf(kind: KeyKind, bytes: Buffer): KeyObject {
  switch (kind) {
    case 'secret':
      return createSecretKey(bytes);
    case 'public':
      return createPublicKey({ key: bytes, format: 'der', type: 'spki' });
    case 'private':
      checkPrivateKeyCost(bytes);
      return createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' });
    default:
      throw new TypeError(`Unknown key kind ${String(kind)}`);
  }
}

export function describeKey(key: KeyObject): KeyDescription {
  if (key.type === 'secret') return { type: 'secret', symmetricKeySize: key.symmetricKeySize };
  const details: Record<string, unknown> = { ...key.asymmetricKeyDetails };
  if (typeof details.publicExponent === 'bigint') details.publicExponent = details.publicExponent.toString();
  return { type: key.type, asymmetricKeyType: key.asymmetricKeyType, asymmetricKeyDetails: details };
}

/** A KeyObject's canonical bytes: raw for a secret, SPKI DER for a public, PKCS#8 DER for a private key. */
export function canonicalBytes(key: KeyObject): Buffer {
  if (key.type === 'secret') return key.export();
  if (key.type === 'public') return key.export({ format: 'der', type: 'spki' });
  return key.export({ format: 'der', type: 'pkcs8' });
}

/**
 * createSecretKey / createPublicKey / createPrivateKey. params: `kind`; `format` 'pem' | 'der' |
 * 'jwk' | 'canonical' (the bytes are another key's canonical form, `from` its kind: a public key
 * made from a private KeyObject); `type`, `passphrase` (string) or `passphraseBase64`, `jwk`.
 */
export function importKey(params: Record<string, unknown>, data: Buffer): CryptoAnswer {
  const kind = params.kind as KeyKind;
  const format = String(params.format);
  let key: KeyObject;
  if (format === 'canonical') {
    const source = keyOf(params.from as KeyKind, data);
    key = kind === 'public' && source.type === 'private' ? createPublicKey(source) : source;
  } else if (kind === 'secret') {
    key = format === 'jwk' ? createSecretKey(Buffer.from(String((params.jwk as JsonWebKey).k ?? ''), 'base64url')) : createSecretKey(data);
  } else {
    const passphrase = typeof params.passphraseBase64 === 'string' ? Buffer.from(params.passphraseBase64, 'base64')
      : typeof params.passphrase === 'string' ? params.passphrase : undefined;
    // A passphrase makes OpenSSL run the key's own key derivation, at the cost the key names.
    if (passphrase !== undefined && format !== 'jwk') checkKeyDerivation(data, format !== 'der');
    // A DH or DSA private key costs its size to read (a public key made from one too).
    if (format !== 'jwk') checkPrivateKeyCost(data);
    const input =
      format === 'jwk'
        ? { key: params.jwk as JsonWebKey, format: 'jwk' as const }
        : format === 'der'
          ? { key: data, format: 'der' as const, type: params.type as 'spki', ...(passphrase === undefined ? {} : { passphrase }) }
          : { key: data.toString('utf8'), format: 'pem' as const, ...(passphrase === undefined ? {} : { passphrase }) };
    key = kind === 'public' ? createPublicKey(input) : createPrivateKey(input as Parameters<typeof createPrivateKey>[0]);
  }
  const bytes = canonicalBytes(key);
  // Read from a form whose sizes were not visible before (encrypted; OpenSSL's traditional DSA
  // PEM, which carries the public value): every later operation re-reads the PKCS#8 bytes.
  if (key.type === 'private') checkPrivateKeyCost(bytes);
  return { value: describeKey(key), parts: [bytes] };
}

/** KeyObject#export: `options` as Node's (format pem/der/jwk, type, cipher, passphrase). */
export function exportKey(params: Record<string, unknown>, data: Buffer): CryptoAnswer {
  const key = keyOf(params.kind as KeyKind, data);
  const options = { ...(params.options as Record<string, unknown> | undefined) };
  if (typeof options.passphraseBase64 === 'string') {
    options.passphrase = Buffer.from(options.passphraseBase64, 'base64');
    delete options.passphraseBase64;
  }
  const out = (key.export as (o?: object) => string | Buffer | JsonWebKey)(key.type === 'secret' && options.format !== 'jwk' ? undefined : options);
  if (typeof out === 'string') return { value: { text: out } };
  if (Buffer.isBuffer(out)) return { value: {}, parts: [out] };
  return { value: { jwk: out } };
}
