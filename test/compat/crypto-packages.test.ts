/**
 * Crypto packages, unchanged, in a handler on every engine, against the same module run by plain
 * Node: jsonwebtoken (HS256, RS256) and jose (ES256 through crypto.subtle). Deterministic results
 * (HS256 and RS256 tokens, verified payloads, errors) must equal Node's; ES256 signatures are
 * random, so the guest's tokens are verified here, by the host's node:crypto.
 */
import * as nodeCrypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { forEachEngine } from '../helpers/runtime.ts';
import { runInNode } from './node-baseline.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/crypto/${name}`, import.meta.url));

const rsa = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: nodeCrypto.KeyObject): string => key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;
const b64url = (value: object | Buffer): string => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

/** A JWT made by the host's node:crypto (not by the library under test). */
function hostJwt(header: object, payload: object, sign: (input: Buffer) => Buffer): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  return `${input}.${b64url(sign(Buffer.from(input)))}`;
}

const secret = 'a shared secret for HS256';
const jwtEvent = {
  secret, privatePem: pem(rsa.privateKey), publicPem: pem(rsa.publicKey),
  hostTokens: {
    hs: hostJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'host', iat: 1700000000 }, (i) => nodeCrypto.createHmac('sha256', secret).update(i).digest()),
    rs: hostJwt({ alg: 'RS256', typ: 'JWT' }, { sub: 'host', iat: 1700000000 }, (i) => nodeCrypto.sign('sha256', i, rsa.privateKey)),
  },
};
const joseEvent = {
  privatePem: pem(ec.privateKey), publicPem: pem(ec.publicKey), publicJwk: ec.publicKey.export({ format: 'jwk' }),
  hostToken: hostJwt({ alg: 'ES256' }, { sub: 'host', iat: 1700000000 }, (i) => nodeCrypto.sign('sha256', i, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' })),
};

/** The same handler in plain Node: the baseline. */
const baseline = {
  jwt: runInNode(`module.exports = require(${JSON.stringify(fixture('jwt.cjs'))});`, jwtEvent),
  jose: runInNode(`exports.handler = async (e) => (await import(${JSON.stringify(fixture('jose.mjs'))})).handler(e);`, joseEvent),
};

/** Verifies an ES256 JWT with the host's node:crypto. */
function hostVerifiesEs256(token: string): boolean {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  return nodeCrypto.verify('sha256', Buffer.from(`${header}.${payload}`), { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
}

forEachEngine(({ withRuntime }) => {
  describe('crypto packages', () => {
    it('jsonwebtoken: HS256 and RS256 tokens byte-identical to Node\'s, verified both ways, same errors', () =>
      withRuntime(async ({ rt }) => {
        await rt.deploy({ name: 'jwt', code: { entry: fixture('jwt.cjs') }, handler: 'jwt.handler', timeoutMs: 30_000 });
        const init = await rt.invoke('jwt', jwtEvent);
        expect(init.functionError, JSON.stringify(init.payload)).toBeUndefined();
        expect(init.payload).toEqual(await baseline.jwt);
        const { rs } = init.payload as { rs: string };
        const [h, p, s] = rs.split('.') as [string, string, string];
        expect(nodeCrypto.verify('sha256', Buffer.from(`${h}.${p}`), rsa.publicKey, Buffer.from(s, 'base64url'))).toBe(true);
      }));

    it('jose: ES256 through crypto.subtle (host verifies the guest\'s token, guest the host\'s), JWK import/export, errors as Node\'s', () =>
      withRuntime(async ({ rt }) => {
        await rt.deploy({ name: 'jose', code: { entry: fixture('jose.mjs') }, handler: 'jose.handler', timeoutMs: 30_000 });
        const result = await rt.invoke('jose', joseEvent);
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        const { token, ...rest } = result.payload as { token: string };
        const { token: nodeToken, ...expected } = (await baseline.jose) as { token: string };
        expect(rest).toEqual(expected);
        expect(hostVerifiesEs256(token)).toBe(true);
        expect(hostVerifiesEs256(nodeToken)).toBe(true);
        expect(token.split('.').slice(0, 2)).toEqual(nodeToken.split('.').slice(0, 2));
      }));
  });
});
