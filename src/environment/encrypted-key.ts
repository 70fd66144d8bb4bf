/**
 * The work an encrypted private key asks of the host before it can be read. An encrypted PKCS#8 key
 * (EncryptedPrivateKeyInfo) names its own key derivation and its cost — PBKDF2's iteration count,
 * scrypt's N, r and p, a PKCS#5 v1.5 or PKCS#12 scheme's iterations — and OpenSSL runs it as written
 * when createPrivateKey is given a passphrase, on the calling thread, with no bound of its own
 * (issue #15: a key asking for 50,000,000 PBKDF2 iterations held the host's event loop 31.6 s under
 * a 3 s function timeout; the count may reach 2^31 - 1). So the key's parameters are read here first
 * and held to the bounds of crypto.pbkdf2 and crypto.scrypt (crypto-limits.ts).
 *
 * The reader follows BER as OpenSSL's does (definite and indefinite lengths), and reads only the
 * algorithm identifier: anything not shaped as EncryptedPrivateKeyInfo is some other key, left to
 * node:crypto.
 */
import { Buffer } from 'node:buffer';
import { PBKDF2_MAX_WORK, SCRYPT_MAX_WORK } from './crypto-limits.ts';

/** One BER node (readNode's). */
export interface Node {
  readonly tag: number;
  /** Content bytes of a primitive node. */
  readonly body: Uint8Array;
  /** Children of a constructed node. */
  readonly children?: Node[];
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OID = 0x06;

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const SCRYPT = '1.3.6.1.4.1.11591.4.11';
/** PBES2's PBKDF2 pseudo-random functions, by the bytes of their output (the default is HMAC-SHA1). */
const PRF_BYTES: Readonly<Record<string, number>> = {
  '1.2.840.113549.2.7': 20,
  '1.2.840.113549.2.8': 28,
  '1.2.840.113549.2.9': 32,
  '1.2.840.113549.2.10': 48,
  '1.2.840.113549.2.11': 64,
};
/** The longest key a PBES2 cipher takes (AES-256): the key length assumed when the parameters give none. */
const LONGEST_CIPHER_KEY = 32;
/** PKCS#5 v1.5 (PBES1) and PKCS#12 schemes: their parameters are { salt, iterations }. */
const ITERATED_SCHEMES = /^1\.2\.840\.113549\.1\.(5\.(1|3|4|6|10|11)|12\.1\.[1-6])$/;

/**
 * Throws a RangeError (ERR_OUT_OF_RANGE) when `key` — PEM text or DER bytes, as given to
 * createPrivateKey / createPublicKey with a passphrase — is an encrypted private key whose key
 * derivation costs more than crypto.pbkdf2 or crypto.scrypt may; returns otherwise.
 */
export function checkKeyDerivation(key: Buffer, pem: boolean): void {
  // PEM text is also read as DER, in case OpenSSL's PEM reader takes what is not PEM.
  const ders = pem ? [...pemBodies(key.toString('latin1')), key] : [key];
  for (const der of ders) {
    // Bytes naming a password-based scheme that could not be read as one: refused rather than
    // handed to OpenSSL, whose reader may accept what this one does not.
    if (!checkEncryptedKeyInfo(der) && PBE_OID_PREFIXES.some((prefix) => Buffer.from(der.buffer, der.byteOffset, der.byteLength).includes(prefix))) {
      throw new Error("Unsupported encrypted key: lambdalet reads an encrypted key's key-derivation cost before decrypting it, and could not read this one's");
    }
  }
}

/** The DER of the PKCS#5 (1.2.840.113549.1.5) and PKCS#12 PBE (1.2.840.113549.1.12.1) OID arcs. */
export const PBE_OID_PREFIXES = [Buffer.from('2a864886f70d0105', 'hex'), Buffer.from('2a864886f70d010c01', 'hex')];

/** The base64-decoded body of every PEM block in `text` (header lines such as Proc-Type skipped). */
export function pemBodies(text: string): Buffer[] {
  const bodies: Buffer[] = [];
  for (const match of text.matchAll(/-----BEGIN [^-\r\n]*-----([\s\S]*?)-----END /g)) {
    const lines = match[1]!.split(/\r?\n/).filter((line) => !line.includes(':'));
    bodies.push(Buffer.from(lines.join(''), 'base64'));
  }
  return bodies;
}

/** Checks `der` when it is an encrypted key with a known scheme (true), else returns false. */
function checkEncryptedKeyInfo(der: Uint8Array): boolean {
  const root = readNode(der, 0, 0)?.node;
  // EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier, encryptedData OCTET STRING }
  const algorithm = root?.tag === SEQUENCE ? root.children?.[0] : undefined;
  const scheme = algorithm?.tag === SEQUENCE ? oidOf(algorithm.children?.[0]) : undefined;
  if (scheme === undefined) return false;
  const params = algorithm!.children![1];
  if (scheme === PBES2) {
    // PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier, encryptionScheme AlgorithmIdentifier }
    const kdf = params?.children?.[0];
    const kdfId = oidOf(kdf?.children?.[0]);
    const kdfParams = kdf?.children?.[1]?.children;
    if (kdfId === PBKDF2) {
      // PBKDF2-params ::= SEQUENCE { salt, iterationCount INTEGER, keyLength INTEGER OPTIONAL, prf AlgorithmIdentifier DEFAULT hmacWithSHA1 }
      const iterations = integerOf(kdfParams?.[1]);
      const rest = kdfParams?.slice(2) ?? [];
      const keyLength = rest[0]?.tag === INTEGER ? integerOf(rest[0]) : LONGEST_CIPHER_KEY;
      const prf = rest.find((node) => node.tag === SEQUENCE);
      const prfBytes = (prf === undefined ? 20 : PRF_BYTES[oidOf(prf.children?.[0]) ?? '']) ?? 20;
      boundIterations(iterations, Math.max(1, Math.ceil(keyLength / prfBytes)));
    } else if (kdfId === SCRYPT) {
      // scrypt-params ::= SEQUENCE { salt OCTET STRING, costParameter, blockSize, parallelizationParameter INTEGER, keyLength OPTIONAL }
      const work = integerOf(kdfParams?.[1]) * integerOf(kdfParams?.[2]) * integerOf(kdfParams?.[3]);
      if (!(work <= SCRYPT_MAX_WORK)) {
        throw outOfRange('N × r × p', `<= ${SCRYPT_MAX_WORK} for an encrypted key's scrypt (lambdalet's limit, as for crypto.scrypt)`, work);
      }
    } else {
      return false;
    }
    return true;
  }
  if (ITERATED_SCHEMES.test(scheme)) {
    // PBEParameter / pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
    boundIterations(integerOf(params?.children?.[1]), 1);
    return true;
  }
  return false;
}

function boundIterations(iterations: number, blocks: number): void {
  if (!(iterations * blocks <= PBKDF2_MAX_WORK)) {
    throw outOfRange(
      'iterations',
      `<= ${Math.floor(PBKDF2_MAX_WORK / blocks)} for an encrypted key (lambdalet's limit, as for crypto.pbkdf2: iterations × output blocks <= ${PBKDF2_MAX_WORK})`,
      iterations,
    );
  }
}

function outOfRange(name: string, limit: string, received: number): RangeError {
  const error = new RangeError(`The value of "${name}" is out of range. It must be ${limit}. Received ${Number.isFinite(received) ? received : 'a larger number'}`) as RangeError & { code: string };
  error.code = 'ERR_OUT_OF_RANGE';
  return error;
}

/** An INTEGER's value; NaN when it is not one, Infinity past 2^53 (either fails a bound). */
function integerOf(node: Node | undefined): number {
  if (node?.tag !== INTEGER || node.body.length === 0) return NaN;
  if (node.body[0]! & 0x80) return NaN; // negative: OpenSSL refuses it
  let value = 0;
  for (const byte of node.body) value = value * 256 + byte;
  return Number.isSafeInteger(value) ? value : Infinity;
}

export function oidOf(node: Node | undefined): string | undefined {
  if (node?.tag !== OID || node.body.length === 0) return undefined;
  const parts: number[] = [];
  let value = 0;
  for (const byte of node.body) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (parts.length === 0) parts.push(Math.min(2, Math.floor(value / 40)), value - Math.min(2, Math.floor(value / 40)) * 40);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

const MAX_DEPTH = 16;

/** One BER node at `at`, and where it ends; `undefined` when the bytes are not BER. */
export function readNode(der: Uint8Array, at: number, depth: number): { node: Node; end: number } | undefined {
  if (depth > MAX_DEPTH || at + 2 > der.length) return undefined;
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) return undefined; // high tag numbers: none in these structures
  let length = der[at + 1]!;
  let start = at + 2;
  const constructed = (tag & 0x20) !== 0;
  if (length === 0x80) {
    // Indefinite length (BER): children up to an end-of-contents 00 00.
    if (!constructed) return undefined;
    const children: Node[] = [];
    let next = start;
    while (next + 2 <= der.length && !(der[next] === 0 && der[next + 1] === 0)) {
      const child = readNode(der, next, depth + 1);
      if (child === undefined) return undefined;
      children.push(child.node);
      next = child.end;
    }
    if (next + 2 > der.length) return undefined;
    return { node: { tag, body: der.subarray(start, next), children }, end: next + 2 };
  }
  if (length & 0x80) {
    // Long form; OpenSSL skips leading zero bytes of the length.
    const count = length & 0x7f;
    if (start + count > der.length) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) {
      length = length * 256 + der[start + i]!;
      if (length > der.length) return undefined;
    }
    start += count;
  }
  const end = start + length;
  if (end > der.length) return undefined;
  const body = der.subarray(start, end);
  if (!constructed) return { node: { tag, body }, end };
  const children: Node[] = [];
  for (let next = start; next < end; ) {
    const child = readNode(der, next, depth + 1);
    if (child === undefined || child.end > end) return undefined;
    children.push(child.node);
    next = child.end;
  }
  return { node: { tag, body, children }, end };
}
