/**
 * Reading a DH or DSA private key costs OpenSSL a modular exponentiation of bits(p)² × bits(x),
 * unbounded in x and (for DSA) in p (environment/key-cost.ts, issue #15: a 10,000-bit DH key held
 * the host's event loop 0.56-1.3 s per read). Its sizes are read first and bounded — at, just under
 * and just over each bound — and a key within them is read exactly as Node reads it; which calls
 * are heavy (served in a crypto thread) is decided from the key's bytes.
 */
import { Buffer } from 'node:buffer';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CryptoService } from '../../src/environment/crypto-service.ts';
import { costlyKeyInput, DH_DSA_MAX_PRIME_BITS, HOST_THREAD_KEY_MAX_BYTES } from '../../src/environment/key-cost.ts';
import { integer, OIDS, pem, primeKey, seq, tlv, traditionalDsa } from './key-cost-keys.ts';

const crypto = new CryptoService();

function importKey(key: Buffer | string, kind: 'private' | 'public' = 'private'): { value: Record<string, unknown>; bytes: Buffer } {
  const der = typeof key !== 'string';
  const answer = crypto.call('key.import', der ? { kind, format: 'der', type: 'pkcs8' } : { kind, format: 'pem' }, [Buffer.from(key)]);
  return { value: answer.value as Record<string, unknown>, bytes: Buffer.from(answer.parts![0]!) };
}

function refusal(run: () => unknown): Error & { code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a refusal');
}

/** Node's own reading of the same key: what the guest must get. */
function nodeReads(key: Buffer | string): { asymmetricKeyType: string | undefined; pkcs8: Buffer } {
  const object: KeyObject = typeof key === 'string' ? createPrivateKey(key) : createPrivateKey({ key, format: 'der', type: 'pkcs8' });
  return { asymmetricKeyType: object.asymmetricKeyType, pkcs8: object.export({ format: 'der', type: 'pkcs8' }) };
}

function expectReadAsNode(key: Buffer | string): void {
  const node = nodeReads(key);
  const ours = importKey(key);
  expect(ours.value.asymmetricKeyType).toBe(node.asymmetricKeyType);
  expect(ours.bytes.equals(node.pkcs8)).toBe(true);
}

const primeMessage = (type: string, bits: number): string =>
  `The value of "prime" is out of range. It must be <= ${DH_DSA_MAX_PRIME_BITS} bits for a ${type} private key (OpenSSL's limit for DH and for DSA signatures; lambdalet's for reading a key). Received ${bits} bits`;
const widthMessage = (type: string, p: number, x: number): string =>
  `The value of "private value" is out of range. It must be no wider than the key's prime (${p} bits) for a ${type} private key (lambdalet's limit: reading the key costs bits(p)² × bits(x)). Received ${x} bits`;

describe("a DH or DSA private key's sizes are bounded before OpenSSL reads it", () => {
  it(`DSA's prime: just under and at ${DH_DSA_MAX_PRIME_BITS} bits the key is read as Node reads it; one bit over is ERR_OUT_OF_RANGE, as DER and PEM`, () => {
    expectReadAsNode(primeKey('dsa', DH_DSA_MAX_PRIME_BITS - 1, 255));
    expectReadAsNode(primeKey('dsa', DH_DSA_MAX_PRIME_BITS, 255));
    const over = primeKey('dsa', DH_DSA_MAX_PRIME_BITS + 1, 255);
    for (const error of [refusal(() => importKey(over)), refusal(() => importKey(pem(over)))]) {
      expect(error).toBeInstanceOf(RangeError);
      expect(error.code).toBe('ERR_OUT_OF_RANGE');
      expect(error.message).toBe(primeMessage('DSA', DH_DSA_MAX_PRIME_BITS + 1));
    }
  });

  it("DSA's prime far over (a read OpenSSL would spend hours on: p and x of 200,000 bits) is refused at once", () => {
    expect(refusal(() => importKey(primeKey('dsa', 200_000, 199_999))).message).toBe(primeMessage('DSA', 200_000));
  });

  it("DH's prime over 10,000 bits: OpenSSL's own decoder refuses it, before any work, with the error Node throws", () => {
    for (const type of ['dh', 'x942'] as const) {
      const over = primeKey(type, DH_DSA_MAX_PRIME_BITS + 1, 255);
      const node = refusal(() => createPrivateKey({ key: over, format: 'der', type: 'pkcs8' }));
      const ours = refusal(() => importKey(over));
      expect({ name: ours.name, code: ours.code, message: ours.message }).toEqual({ name: node.name, code: node.code, message: node.message });
      expect(ours.code).toBe('ERR_OSSL_UNSUPPORTED');
    }
  });

  it('the private value x: one bit narrower than p and as wide as p the key is read as Node reads it; one bit wider is ERR_OUT_OF_RANGE (DH, X9.42 DH, DSA)', () => {
    for (const [type, name] of [['dh', 'DH'], ['x942', 'DH'], ['dsa', 'DSA']] as const) {
      expectReadAsNode(primeKey(type, 2048, 2047));
      expectReadAsNode(primeKey(type, 2048, 2048));
      const error = refusal(() => importKey(primeKey(type, 2048, 2049)));
      expect(error.code).toBe('ERR_OUT_OF_RANGE');
      expect(error.message).toBe(widthMessage(name, 2048, 2049));
    }
  });

  it('an x of 4,000,000 bits beside a 2,048-bit p (minutes of OpenSSL) is refused at once; so is a public key made from such a private key', () => {
    const key = primeKey('dh', 2048, 4_000_000);
    expect(refusal(() => importKey(key)).message).toBe(widthMessage('DH', 2048, 4_000_000));
    expect(refusal(() => importKey(pem(key), 'public')).message).toBe(widthMessage('DH', 2048, 4_000_000));
  });

  it('a key read from a form that hid its sizes (traditional DSA PEM, which carries y) is refused once read, when its PKCS#8 bytes are past the bound', () => {
    const at = traditionalDsa(DH_DSA_MAX_PRIME_BITS, 255);
    expectReadAsNode(at);
    const over = traditionalDsa(DH_DSA_MAX_PRIME_BITS + 1, 255);
    expect(nodeReads(over).asymmetricKeyType).toBe('dsa'); // Node reads it (cheaply: y is in it)...
    expect(refusal(() => importKey(over)).message).toBe(primeMessage('DSA', DH_DSA_MAX_PRIME_BITS + 1)); // ...and its PKCS#8, re-read at every use, would cost
  });

  it('canonical PKCS#8 bytes (what every later operation re-reads) are held to the same bounds', () => {
    const over = primeKey('dsa', DH_DSA_MAX_PRIME_BITS + 1, 255);
    const error = refusal(() => crypto.call('key.export', { kind: 'private', options: { format: 'der', type: 'pkcs8' } }, [over]));
    expect(error.message).toBe(primeMessage('DSA', DH_DSA_MAX_PRIME_BITS + 1));
    const wide = primeKey('dsa', 2048, 2049);
    expect(refusal(() => crypto.call('sign', { kind: 'private', algorithm: 'sha256' }, [wide, Buffer.from('data')])).message).toBe(widthMessage('DSA', 2048, 2049));
  });

  it('a DH or DSA PKCS#8 key whose sizes cannot be read (x not an INTEGER) is refused, not handed to OpenSSL', () => {
    const p = integer(Buffer.from('c5', 'hex'));
    const key = seq(integer(Buffer.from([0])), seq(OIDS.dsa, seq(p, integer(Buffer.from([0x11])), integer(Buffer.from([2])))), tlv(0x04, tlv(0x04, Buffer.from([3]))));
    expect(refusal(() => importKey(key)).message).toBe("Unsupported DSA private key: lambdalet reads a DSA key's sizes before OpenSSL reads the key, and could not read this one's");
  });
});

describe('costlyKeyInput: which key-bearing calls leave the host thread', () => {
  const der = (key: KeyObject): Buffer => key.export({ format: 'der', type: key.type === 'private' ? 'pkcs8' : 'spki' });
  const pemOf = (key: KeyObject): Buffer => Buffer.from(key.export({ format: 'pem', type: key.type === 'private' ? 'pkcs8' : 'spki' }));

  it('RSA-2048, P-256 and Ed25519 keys stay on the host thread, as DER and as PEM', () => {
    for (const pair of [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('ed25519')]) {
      for (const key of [pair.privateKey, pair.publicKey]) {
        expect(costlyKeyInput(der(key))).toBe(false);
        expect(costlyKeyInput(pemOf(key))).toBe(false);
      }
    }
  });

  it('DH, X9.42 DH and DSA keys (any size) and encrypted keys do not, as DER and as PEM', () => {
    for (const type of ['dh', 'x942', 'dsa'] as const) {
      const key = primeKey(type, 512, 255);
      expect(costlyKeyInput(key)).toBe(true);
      expect(costlyKeyInput(Buffer.from(pem(key)))).toBe(true);
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    const encrypted = privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' });
    expect(costlyKeyInput(Buffer.from(encrypted))).toBe(true);
    expect(costlyKeyInput(privateKey.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }))).toBe(true);
  });

  it(`size: a key of ${HOST_THREAD_KEY_MAX_BYTES - 1} or ${HOST_THREAD_KEY_MAX_BYTES} bytes stays; ${HOST_THREAD_KEY_MAX_BYTES + 1} bytes leave (as DER, and as a PEM body)`, () => {
    const bytes = (n: number): Buffer => Buffer.alloc(n, 0x41);
    expect(costlyKeyInput(bytes(HOST_THREAD_KEY_MAX_BYTES - 1))).toBe(false);
    expect(costlyKeyInput(bytes(HOST_THREAD_KEY_MAX_BYTES))).toBe(false);
    expect(costlyKeyInput(bytes(HOST_THREAD_KEY_MAX_BYTES + 1))).toBe(true);
    expect(costlyKeyInput(Buffer.from(pem(bytes(HOST_THREAD_KEY_MAX_BYTES))))).toBe(false);
    expect(costlyKeyInput(Buffer.from(pem(bytes(HOST_THREAD_KEY_MAX_BYTES + 1))))).toBe(true);
  });
});
