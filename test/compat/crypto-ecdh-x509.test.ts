/**
 * crypto.createECDH and crypto.X509Certificate inside the sandbox, each answer compared with this
 * host's Node running the same handler (the host's node:crypto does the work over the `crypto`
 * host call: environment/crypto-ecdh-x509.ts). Node's API:
 * https://nodejs.org/docs/latest-v24.x/api/crypto.html#class-ecdh and #class-x509certificate.
 * The fixture is a self-signed P-256 certificate made with `openssl req -x509` (valid to 2125).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deployAndInvoke, forEachEngine } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

const CERT = readFileSync(new URL('./fixtures/x509/self-signed.pem', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('./fixtures/x509/self-signed.key.pem', import.meta.url), 'utf8');

const HANDLER = `
  const crypto = require('crypto');
  const CERT = ${JSON.stringify(CERT)};
  const KEY = ${JSON.stringify(KEY)};
  const failure = (fn) => { try { fn(); return 'no error'; } catch (e) { return [e.name, e.code, e.message]; } };
  exports.handler = async () => {
    const alice = crypto.createECDH('prime256v1');
    const bob = crypto.createECDH('prime256v1');
    const alicePub = alice.generateKeys();
    const bobPub = bob.generateKeys('base64', 'compressed');
    const s1 = alice.computeSecret(bobPub, 'base64', 'hex');
    const s2 = bob.computeSecret(alicePub).toString('hex');
    // A fixed private key: every public form is deterministic, so Node's bytes can be compared.
    const fixed = crypto.createECDH('secp256k1').setPrivateKey('0'.repeat(63) + '7', 'hex');
    const cert = new crypto.X509Certificate(CERT);
    const der = new crypto.X509Certificate(cert.raw);
    return {
      agree: s1 === s2, secretLength: s2.length, pubLength: alicePub.length, compressedLength: Buffer.from(bobPub, 'base64').length,
      fixed: [fixed.getPublicKey('hex'), fixed.getPublicKey('hex', 'compressed'), fixed.getPrivateKey('base64')],
      converted: crypto.ECDH.convertKey(fixed.getPublicKey('hex', 'compressed'), 'secp256k1', 'hex', 'hex', 'uncompressed'),
      errors: [
        failure(() => crypto.createECDH('nope')), failure(() => crypto.createECDH(1)),
        failure(() => crypto.createECDH('prime256v1').getPublicKey()), failure(() => crypto.createECDH('prime256v1').getPrivateKey()),
        failure(() => alice.computeSecret(Buffer.alloc(65))),
        failure(() => new crypto.X509Certificate('not a certificate')),
      ],
      cert: [cert.subject, cert.issuer, cert.subjectAltName, cert.validFrom, cert.validTo, cert.validToDate.toISOString(), cert.fingerprint256,
        cert.fingerprint, cert.fingerprint512.length, cert.serialNumber, cert.ca, cert.keyUsage, cert.infoAccess, cert.toString() === CERT, JSON.stringify(cert) === JSON.stringify(CERT)],
      der: der.fingerprint256 === cert.fingerprint256,
      checks: [cert.checkHost('example.test'), cert.checkHost('a.example.test'), cert.checkHost('other.test'), cert.checkEmail('ops@example.test'), cert.checkIP('127.0.0.1'), cert.checkIP('10.0.0.1')],
      issued: [cert.checkIssued(der), cert.verify(cert.publicKey), cert.checkPrivateKey(crypto.createPrivateKey(KEY))],
      publicKey: [cert.publicKey.type, cert.publicKey.asymmetricKeyType, cert.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')],
      shapes: [typeof crypto.ECDH, typeof crypto.X509Certificate, crypto.createECDH.length],
    };
  };`;

describe('plain Node answers the ECDH and X509Certificate questions (the baseline)', () => {
  it('runs the handler in Node', async () => {
    const node = (await runInNode(HANDLER)) as Record<string, unknown>;
    expect(node.agree).toBe(true);
  });
});

forEachEngine(({ withRuntime }) => {
  it('crypto.createECDH and crypto.X509Certificate answer as in Node', () =>
    withRuntime(async ({ rt }) => {
      const expected = await runInNode(HANDLER);
      const result = await deployAndInvoke(rt, HANDLER, {}, { file: 'index.js', timeoutMs: 60_000 });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(expected);
    }));
});
