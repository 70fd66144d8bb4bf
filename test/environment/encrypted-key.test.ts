/**
 * Encrypted private keys name their own key-derivation cost, which OpenSSL runs on the host's thread
 * when the guest gives a passphrase (environment/encrypted-key.ts): the cost is read first and held
 * to crypto.pbkdf2's and crypto.scrypt's bounds — at, just under and just over them (issue #15).
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, generateKeyPairSync, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PBKDF2_MAX_WORK, SCRYPT_MAX_WORK } from '../../src/environment/crypto-limits.ts';
import { CryptoService } from '../../src/environment/crypto-service.ts';

const PASSPHRASE = 'pw';

// A small DER writer, enough for EncryptedPrivateKeyInfo.
function length(n: number): Buffer {
  if (n < 128) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), length(body.length), body]);
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const octets = (body: Buffer): Buffer => tlv(0x04, body);
const oid = (hex: string): Buffer => tlv(0x06, Buffer.from(hex, 'hex'));
function int(n: number): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
}
// The same structure with every SEQUENCE in BER's indefinite-length form (OpenSSL reads it too).
function indefinite(der: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < der.length; ) {
    const tag = der[at]!;
    let len = der[at + 1]!;
    let start = at + 2;
    if (len & 0x80) {
      const count = len & 0x7f;
      len = der.readUIntBE(start, count);
      start += count;
    }
    const body = der.subarray(start, start + len);
    out.push(tag === 0x30 ? Buffer.concat([Buffer.from([0x30, 0x80]), indefinite(body), Buffer.from([0, 0])]) : der.subarray(at, start + len));
    at = start + len;
  }
  return Buffer.concat(out);
}

const PBES2 = oid('2a864886f70d01050d');
const PBKDF2 = oid('2a864886f70d01050c');
const SCRYPT = oid('2b06010401da47040b');
const HMAC_SHA256 = seq(oid('2a864886f70d0209'), tlv(0x05, Buffer.alloc(0)));
/** aes-256-cbc, 2.16.840.1.101.3.4.1.42. */
const AES_256_CBC = oid('60864801650304012a');

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const plain = privateKey.export({ format: 'der', type: 'pkcs8' });

type Kdf = { readonly pbkdf2: number; readonly sha1?: boolean } | { readonly scrypt: readonly [N: number, r: number, p: number] };

/** An EncryptedPrivateKeyInfo of `plain`, PBES2 with the given KDF and AES-256-CBC; `encrypt: false` writes random bytes (no derivation run here). */
function encryptedKey(kdf: Kdf, encrypt = true): Buffer {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  let kdfId: Buffer;
  let key: Buffer;
  if ('pbkdf2' in kdf) {
    kdfId = seq(PBKDF2, seq(octets(salt), int(kdf.pbkdf2), ...(kdf.sha1 === true ? [] : [HMAC_SHA256])));
    key = encrypt ? pbkdf2Sync(PASSPHRASE, salt, kdf.pbkdf2, 32, kdf.sha1 === true ? 'sha1' : 'sha256') : randomBytes(32);
  } else {
    const [N, r, p] = kdf.scrypt;
    kdfId = seq(SCRYPT, seq(octets(salt), int(N), int(r), int(p)));
    key = encrypt ? scryptSync(PASSPHRASE, salt, 32, { N, r, p, maxmem: 256 * 1024 * 1024 }) : randomBytes(32);
  }
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  return seq(seq(PBES2, seq(kdfId, seq(AES_256_CBC, octets(iv)))), octets(data));
}

function pem(der: Buffer): Buffer {
  return Buffer.from(`-----BEGIN ENCRYPTED PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ENCRYPTED PRIVATE KEY-----\n`);
}

function importPem(key: Buffer, format: 'pem' | 'der' = 'pem'): unknown {
  return new CryptoService().call('key.import', { kind: 'private', format, type: 'pkcs8', passphrase: PASSPHRASE }, [key]);
}

function refusal(fn: () => unknown): RangeError & { code?: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RangeError);
    return error as RangeError & { code?: string };
  }
  throw new Error('expected a RangeError');
}

describe('encrypted private keys: the key derivation they name is bounded before OpenSSL runs it', () => {
  it('PBKDF2 (HMAC-SHA256, one block): at the limit the key is read; one iteration more is ERR_OUT_OF_RANGE, as PEM and as DER', () => {
    const at = encryptedKey({ pbkdf2: PBKDF2_MAX_WORK });
    expect((importPem(pem(at)) as { value: { asymmetricKeyType: string } }).value.asymmetricKeyType).toBe('ec');
    expect((importPem(at, 'der') as { value: { asymmetricKeyType: string } }).value.asymmetricKeyType).toBe('ec');
    const over = encryptedKey({ pbkdf2: PBKDF2_MAX_WORK + 1 }, false);
    for (const error of [refusal(() => importPem(pem(over))), refusal(() => importPem(over, 'der'))]) {
      expect(error.code).toBe('ERR_OUT_OF_RANGE');
      expect(error.message).toBe(
        `The value of "iterations" is out of range. It must be <= ${PBKDF2_MAX_WORK} for an encrypted key (lambdalet's limit, as for crypto.pbkdf2: iterations × output blocks <= ${PBKDF2_MAX_WORK}). Received ${PBKDF2_MAX_WORK + 1}`,
      );
    }
  });

  it('PBKDF2 with the default HMAC-SHA1 makes two blocks of an AES-256 key: half the iterations', () => {
    const half = PBKDF2_MAX_WORK / 2;
    expect((importPem(pem(encryptedKey({ pbkdf2: half - 1, sha1: true }))) as { value: { type: string } }).value.type).toBe('private');
    expect(refusal(() => importPem(pem(encryptedKey({ pbkdf2: half + 1, sha1: true }, false)))).message).toContain(`It must be <= ${half} for an encrypted key`);
  });

  it('a count of 2^31 - 1 (what OpenSSL would run, for minutes) and a BER indefinite-length encoding of it are refused at once', () => {
    const huge = encryptedKey({ pbkdf2: 2 ** 31 - 1 }, false);
    expect(refusal(() => importPem(pem(huge))).message).toContain(`Received ${2 ** 31 - 1}`);
    expect(refusal(() => importPem(indefinite(huge), 'der')).message).toContain(`Received ${2 ** 31 - 1}`);
    expect(refusal(() => importPem(pem(indefinite(huge)))).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('scrypt: N × r × p over the limit is ERR_OUT_OF_RANGE; within it the key is read', () => {
    expect((importPem(pem(encryptedKey({ scrypt: [2 ** 14, 8, 1] }))) as { value: { type: string } }).value.type).toBe('private');
    const over = refusal(() => importPem(pem(encryptedKey({ scrypt: [2 ** 14, 8, SCRYPT_MAX_WORK / 2 ** 17 + 1] }, false))));
    expect(over.code).toBe('ERR_OUT_OF_RANGE');
    expect(over.message).toBe(
      `The value of "N × r × p" is out of range. It must be <= ${SCRYPT_MAX_WORK} for an encrypted key's scrypt (lambdalet's limit, as for crypto.scrypt). Received ${2 ** 14 * 8 * 9}`,
    );
  });

  it('PKCS#5 v1.5 and PKCS#12 schemes: their iteration count is bounded too', () => {
    for (const scheme of ['2a864886f70d01050a', '2a864886f70d010c0103']) {
      const key = seq(seq(oid(scheme), seq(octets(randomBytes(8)), int(PBKDF2_MAX_WORK + 1))), octets(randomBytes(64)));
      expect(refusal(() => importPem(pem(key))).message).toContain(`Received ${PBKDF2_MAX_WORK + 1}`);
    }
  });

  it('a password-based scheme whose parameters cannot be read is refused, not handed to OpenSSL', () => {
    const key = seq(seq(PBES2, seq(seq(PBKDF2, seq(octets(randomBytes(8)), tlv(0x04, Buffer.from([1, 2, 3])))))), octets(randomBytes(64)));
    expect(refusal(() => importPem(pem(key))).code).toBe('ERR_OUT_OF_RANGE');
    const truncated = encryptedKey({ pbkdf2: 2048 }, false).subarray(0, 40);
    expect(() => importPem(truncated, 'der')).toThrow("Unsupported encrypted key: lambdalet reads an encrypted key's key-derivation cost before decrypting it, and could not read this one's");
  });

  it('keys Node encrypts itself, and plain keys given a passphrase, are read as before', () => {
    const nodeEncrypted = privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASSPHRASE });
    expect((importPem(Buffer.from(nodeEncrypted)) as { value: { type: string } }).value.type).toBe('private');
    const plainPem = privateKey.export({ format: 'pem', type: 'pkcs8' });
    expect((importPem(Buffer.from(plainPem)) as { value: { type: string } }).value.type).toBe('private');
    const traditional = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs1', cipher: 'aes-128-cbc', passphrase: PASSPHRASE });
    expect((importPem(Buffer.from(traditional)) as { value: { asymmetricKeyType: string } }).value.asymmetricKeyType).toBe('rsa');
  });
});
