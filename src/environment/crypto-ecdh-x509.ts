/**
 * The host side of crypto.createECDH and crypto.X509Certificate for the guest: node:crypto's own
 * ECDH and X509Certificate (OpenSSL), stateless — the guest keeps the key or certificate bytes and
 * sends them with every call, so nothing outlives the call and no host object reaches the sandbox.
 */
import { Buffer } from 'node:buffer';
import { createECDH, ECDH, X509Certificate } from 'node:crypto';
import { describeKey, canonicalBytes, keyOf } from './crypto-keys.ts';
import type { CryptoAnswer } from './crypto-service.ts';

type Params = Record<string, unknown>;
type PointFormat = 'uncompressed' | 'compressed' | 'hybrid';

/** `ecdh.<op>`: check | generate | derive (public from private) | compute | convert. */
export function ecdhCall(op: string, params: Params, a: Buffer, b: Buffer): CryptoAnswer {
  const curve = String(params.curve);
  switch (op) {
    case 'convert':
      return { parts: [ECDH.convertKey(a, curve, undefined, undefined, String(params.format) as PointFormat) as Buffer] };
    case 'check':
      createECDH(curve);
      return {};
    case 'generate': {
      const ecdh = createECDH(curve);
      ecdh.generateKeys();
      return { parts: [ecdh.getPrivateKey(), ecdh.getPublicKey()] };
    }
    case 'derive': {
      const ecdh = createECDH(curve);
      ecdh.setPrivateKey(a);
      return { parts: [ecdh.getPrivateKey(), ecdh.getPublicKey()] };
    }
    case 'compute': {
      const ecdh = createECDH(curve);
      ecdh.setPrivateKey(a);
      return { parts: [ecdh.computeSecret(b)] };
    }
    default:
      throw new Error(`Unknown crypto call ecdh.${op}`);
  }
}

/** The data fields of an X509Certificate, as Node reads them (the guest builds its object from these). */
function fields(cert: X509Certificate): Record<string, unknown> {
  return {
    subject: cert.subject, issuer: cert.issuer, subjectAltName: cert.subjectAltName, infoAccess: cert.infoAccess,
    validFrom: cert.validFrom, validTo: cert.validTo, validFromMs: cert.validFromDate.getTime(), validToMs: cert.validToDate.getTime(),
    fingerprint: cert.fingerprint, fingerprint256: cert.fingerprint256, fingerprint512: cert.fingerprint512,
    keyUsage: cert.keyUsage, serialNumber: cert.serialNumber, ca: cert.ca, pem: cert.toString(),
    publicKey: describeKey(cert.publicKey),
  };
}

/** `x509.<op>`: parse | checkHost | checkEmail | checkIP | checkIssued | checkPrivateKey | verify. `a` is the certificate (DER or PEM). */
export function x509Call(op: string, params: Params, a: Buffer, b: Buffer): CryptoAnswer {
  const cert = new X509Certificate(a);
  switch (op) {
    case 'parse':
      return { value: fields(cert), parts: [cert.raw, canonicalBytes(cert.publicKey)] };
    case 'checkHost':
      return { value: cert.checkHost(String(params.name), params.options as object | undefined) ?? null };
    case 'checkEmail':
      return { value: cert.checkEmail(String(params.name), params.options as object | undefined) ?? null };
    case 'checkIP':
      return { value: cert.checkIP(String(params.name)) ?? null };
    case 'checkIssued':
      return { value: cert.checkIssued(new X509Certificate(b)) };
    case 'checkPrivateKey':
      return { value: cert.checkPrivateKey(keyOf('private', b)) };
    case 'verify':
      return { value: cert.verify(keyOf('public', b)) };
    default:
      throw new Error(`Unknown crypto call x509.${op}`);
  }
}
