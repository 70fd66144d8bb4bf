/**
 * DH and DSA private keys of exact sizes, written as DER (PKCS#8, and OpenSSL's traditional DSA
 * form) for the key-cost tests (issue #15). The numbers are random, not valid groups: OpenSSL reads
 * such a key as it is written (it derives g^x mod p and checks nothing else), which is what costs.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

function length(n: number): Buffer {
  if (n < 128) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
export const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), length(body.length), body]);
export const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
/** A DER INTEGER of these bytes (unsigned). */
export const integer = (body: Buffer): Buffer => tlv(0x02, body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body);

/** A random number of exactly `bits` bits (its top bit set), odd when asked. */
export function exactBits(bits: number, odd = false): Buffer {
  const bytes = randomBytes(Math.ceil(bits / 8));
  const top = (bits - 1) % 8;
  bytes[0] = (bytes[0]! & ((1 << top) - 1)) | (1 << top);
  if (odd) bytes[bytes.length - 1]! |= 1;
  return bytes;
}

export const OIDS = {
  dh: Buffer.from('06092a864886f70d010301', 'hex'),
  x942: Buffer.from('06072a8648ce3e0201', 'hex'),
  dsa: Buffer.from('06072a8648ce380401', 'hex'),
} as const;

const TWO = integer(Buffer.from([2]));

/** A PKCS#8 DH (PKCS#3), X9.42 DH or DSA private key: p of `pBits`, x of `xBits` (q of 256 bits for DSA, pBits - 8 for X9.42). */
export function primeKey(type: keyof typeof OIDS, pBits: number, xBits: number): Buffer {
  const p = integer(exactBits(pBits, true));
  const params =
    type === 'dh' ? seq(p, TWO) : type === 'x942' ? seq(p, TWO, integer(exactBits(pBits - 8, true))) : seq(p, integer(exactBits(256, true)), TWO);
  return seq(integer(Buffer.from([0])), seq(OIDS[type], params), tlv(0x04, integer(exactBits(xBits))));
}

/** OpenSSL's traditional DSA private key (SEQUENCE { 0, p, q, g, y, x }): it carries y, so reading it costs nothing. */
export function traditionalDsa(pBits: number, xBits: number): string {
  const der = seq(integer(Buffer.from([0])), integer(exactBits(pBits, true)), integer(exactBits(256, true)), TWO, integer(exactBits(pBits - 8)), integer(exactBits(xBits)));
  return `-----BEGIN DSA PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END DSA PRIVATE KEY-----\n`;
}

export const pem = (der: Buffer): string => `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
