/**
 * What reading a key costs the host, bounded before OpenSSL reads it, and which key-bearing crypto
 * calls are too heavy for the host's thread (issue #15, red team: a 10,000-bit DH private key's
 * import held the host's event loop 0.56-1.3 s per call, every tenant's invocations stalled).
 *
 * A PKCS#8 DH or DSA private key holds only its private value x: OpenSSL derives the public value
 * g^x mod p whenever it reads the key (createPrivateKey; createPublicKey of a private key; and
 * lambdalet re-reads a key from its PKCS#8 bytes at every operation, crypto-keys.ts), a modular
 * exponentiation costing about bits(p)² × bits(x). OpenSSL's DH decoders refuse p over 10,000 bits
 * (OPENSSL_DH_MAX_MODULUS_BITS), its DSA decoder has no bound, and neither bounds x. Measured on the
 * 2-core build machine (Node 24.22, OpenSSL 3.5.9, load 9-25): DH p = 10,000 bits with a 9,999-bit x
 * 1.0 s, X9.42 DH 1.25 s, DSA 0.6-0.74 s; DSA p = 16,000 bits 8.7 s; DH p = 4,096 bits with a
 * 100,000-bit x 1.4 s — without a bound, minutes to hours within the 64 MiB a call may carry.
 *
 * So, before OpenSSL reads a DH or DSA private key ({@link checkPrivateKeyCost}): p at most
 * {@link DH_DSA_MAX_PRIME_BITS} (DSA too: OpenSSL's DSA limit, OPENSSL_DSA_MAX_MODULUS_BITS, is the
 * same number) and x no wider than p (every valid key has x < q <= p). A key within both is read as
 * Node reads it; past either, ERR_OUT_OF_RANGE naming the bound. Within them a key still costs up to
 * ~1.3 s, so a call carrying a DH or DSA key, an encrypted key (its key derivation: up to ~0.9 s at
 * crypto-limits.ts's bounds) or a key larger than an RSA-4096 private key (an 8,192-bit RSA signature:
 * 37 ms) is heavy ({@link costlyKeyInput}): served in a crypto thread (crypto-thread.ts), never on
 * the host's.
 *
 * Not bounded here: a DH or DSA key inside an encrypted PKCS#8 key, which OpenSSL decrypts and reads
 * in one step (its size is checked once read, so it is refused after that one read; the read runs
 * in a crypto thread).
 */
import { Buffer } from 'node:buffer';
import { oidOf, PBE_OID_PREFIXES, pemBodies, readNode, type Node } from './encrypted-key.ts';

/** Largest prime p (bits) of a DH or DSA private key lambdalet reads: OpenSSL's own DH limit (OPENSSL_DH_MAX_MODULUS_BITS), for DSA too. */
export const DH_DSA_MAX_PRIME_BITS = 10_000;

/**
 * Largest key (DER bytes; a PEM key's decoded body) whose calls run on the host's thread: an
 * RSA-4096 private key's PKCS#8 is 2,374-2,376 bytes, and its signature took 11 ms (8,192 bits: 37 ms).
 */
export const HOST_THREAD_KEY_MAX_BYTES = 2600;

const DH = '1.2.840.113549.1.3.1';
const X942_DH = '1.2.840.10046.2.1';
const DSA = '1.2.840.10040.4.1';
const DSA_OIW = '1.3.14.3.2.12';
const PRIME_KEY_TYPES: Readonly<Record<string, string>> = { [DH]: 'DH', [X942_DH]: 'DH', [DSA]: 'DSA', [DSA_OIW]: 'DSA' };
/** The DER of those OIDs: a key whose bytes hold one is heavy. */
const PRIME_KEY_OIDS = ['2a864886f70d010301', '2a8648ce3e0201', '2a8648ce380401', '2b0e03020c'].map((hex) => Buffer.from(hex, 'hex'));

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;

/**
 * Whether a crypto call carrying `key` (a key's PEM text, DER bytes or canonical bytes) is heavy:
 * a DH, DSA or encrypted key, or one over {@link HOST_THREAD_KEY_MAX_BYTES}. A false positive (data
 * that happens to hold one of those OIDs) only moves the call off the host's thread.
 */
export function costlyKeyInput(key: Buffer): boolean {
  const candidates = derCandidates(key);
  // A PEM key's size is its body's (the text is a third longer).
  const sized = candidates.length > 1 ? candidates.slice(1) : candidates;
  if (sized.some((der) => der.length > HOST_THREAD_KEY_MAX_BYTES)) return true;
  return candidates.some((der) => PRIME_KEY_OIDS.some((oid) => der.includes(oid)) || PBE_OID_PREFIXES.some((prefix) => der.includes(prefix)));
}

/**
 * Throws ERR_OUT_OF_RANGE when `key` (PEM text or DER bytes, or PKCS#8 canonical bytes) is a PKCS#8
 * DH or DSA private key past the bounds of the module comment, or an Error when it is shaped as one
 * whose sizes cannot be read; returns otherwise (any other key is left to node:crypto).
 */
export function checkPrivateKeyCost(key: Buffer): void {
  for (const der of derCandidates(key)) checkPkcs8(der);
}

/** The key's bytes as DER, then every PEM body in them when they look like PEM text. */
function derCandidates(key: Buffer): Buffer[] {
  const candidates = [key];
  if (key.includes('-----BEGIN ')) candidates.push(...pemBodies(key.toString('latin1')));
  return candidates;
}

function checkPkcs8(der: Buffer): void {
  // PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier, privateKey OCTET STRING, ... }
  const root = readNode(der, 0, 0)?.node;
  if (root?.tag !== SEQUENCE || root.children?.[0]?.tag !== INTEGER) return;
  const algorithm = root.children[1];
  const type = algorithm?.tag === SEQUENCE ? PRIME_KEY_TYPES[oidOf(algorithm.children?.[0]) ?? ''] : undefined;
  if (type === undefined) return;
  // DH (PKCS#3) ::= { p, g, ... }, X9.42 ::= { p, g, q, ... }, DSA ::= { p, q, g }: p first in each.
  const prime = algorithm!.children?.[1]?.children?.[0];
  const octets = root.children[2];
  const privateValue = octets?.tag === OCTET_STRING ? readNode(octets.body, 0, 1)?.node : undefined;
  const p = bitsOf(prime);
  const x = bitsOf(privateValue);
  if (p === undefined || x === undefined) {
    throw new Error(`Unsupported ${type} private key: lambdalet reads a ${type} key's sizes before OpenSSL reads the key, and could not read this one's`);
  }
  // OpenSSL's DH decoders refuse such a p themselves, before any work: their error stands.
  if (type === 'DH' && p > DH_DSA_MAX_PRIME_BITS) return;
  if (p > DH_DSA_MAX_PRIME_BITS) {
    throw outOfRange('prime', `<= ${DH_DSA_MAX_PRIME_BITS} bits for a ${type} private key (OpenSSL's limit for DH and for DSA signatures; lambdalet's for reading a key)`, `${p} bits`);
  }
  if (x > p) {
    throw outOfRange('private value', `no wider than the key's prime (${p} bits) for a ${type} private key (lambdalet's limit: reading the key costs bits(p)² × bits(x))`, `${x} bits`);
  }
}

/** A non-negative INTEGER's width in bits; undefined when the node is not one. */
function bitsOf(node: Node | undefined): number | undefined {
  if (node?.tag !== INTEGER || node.body.length === 0 || node.body[0]! & 0x80) return undefined;
  let at = 0;
  while (at < node.body.length - 1 && node.body[at] === 0) at++;
  const lead = node.body[at]!;
  return (node.body.length - at - 1) * 8 + (lead === 0 ? 0 : 32 - Math.clz32(lead));
}

function outOfRange(name: string, limit: string, received: string): RangeError {
  const error = new RangeError(`The value of "${name}" is out of range. It must be ${limit}. Received ${received}`) as RangeError & { code: string };
  error.code = 'ERR_OUT_OF_RANGE';
  return error;
}
