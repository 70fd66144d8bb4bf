/**
 * The guest's node:crypto and Web Crypto against the host's: the same program (crypto-program.ts)
 * runs in a handler on each engine and in this process; deterministic results must be equal byte
 * for byte (errors too: name, code, message), and what is random by design is verified across —
 * the host verifies the guest's signatures and decrypts its ciphertexts, the guest the host's.
 */
import * as nodeCrypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { PBKDF2_MAX_WORK } from '../../src/environment/crypto-limits.ts';
import { deployAndInvoke, forEachEngine } from '../helpers/runtime.ts';
import { CRYPTO_PROGRAM } from './crypto-program.ts';

type Program = (crypto: unknown, input: unknown) => Promise<{ out: Record<string, unknown>; random: Record<string, string> }>;
const TEXT = 'The quick brown fox jumps over the lazy dog — ünïcødé';

function makeInput() {
  const rsa = nodeCrypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = nodeCrypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = nodeCrypto.generateKeyPairSync('ed25519');
  const x1 = nodeCrypto.generateKeyPairSync('x25519');
  const x2 = nodeCrypto.generateKeyPairSync('x25519');
  const pem = (k: nodeCrypto.KeyObject) => k.export({ type: k.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;
  const b64 = (k: nodeCrypto.KeyObject) => (k.export({ type: k.type === 'private' ? 'pkcs8' : 'spki', format: 'der' }) as Buffer).toString('base64');
  const raw = (k: nodeCrypto.KeyObject) => Buffer.from((k.export({ format: 'jwk' }) as { x: string }).x, 'base64url').toString('base64');
  const data = Buffer.from(TEXT);
  const keys = {
    rsa: { privatePem: pem(rsa.privateKey), publicPem: pem(rsa.publicKey), pkcs8B64: b64(rsa.privateKey), spkiB64: b64(rsa.publicKey) },
    ec: { privatePem: pem(ec.privateKey), publicPem: pem(ec.publicKey), privateJwk: ec.privateKey.export({ format: 'jwk' }), publicJwk: ec.publicKey.export({ format: 'jwk' }) },
    ed: { privatePem: pem(ed.privateKey), publicPem: pem(ed.publicKey), publicDerB64: b64(ed.publicKey), pkcs8B64: b64(ed.privateKey), rawB64: raw(ed.publicKey) },
    x1: { privatePem: pem(x1.privateKey), pkcs8B64: b64(x1.privateKey) },
    x2: { publicPem: pem(x2.publicKey), rawB64: raw(x2.publicKey) },
    rsaEnc: { pem: rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pass' }), passphrase: 'pass' },
  };
  const hostSigs = {
    rsa: nodeCrypto.sign('sha256', data, rsa.privateKey).toString('base64'),
    ed: nodeCrypto.sign(null, data, ed.privateKey).toString('base64'),
    ecDer: nodeCrypto.sign('sha256', data, ec.privateKey).toString('base64'),
    ecP1363: nodeCrypto.sign('sha256', data, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64'),
    pss: nodeCrypto.sign('sha256', data, { key: rsa.privateKey, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString('base64'),
    oaep: nodeCrypto.publicEncrypt({ key: rsa.publicKey, oaepHash: 'sha256' }, Buffer.from('secret message')).toString('base64'),
  };
  // The guest's Buffer has no base64url encoding (feross/buffer 6): the JWK's k is made here.
  return { input: { keys, hostSigs, key16Base64url: Buffer.alloc(16, 3).toString('base64url') }, rsa, ec };
}

/** As the payload crosses: JSON (a Uint8Array becomes `{ "0": ..., "1": ... }` on both sides). */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

const fixture = makeInput();
let expected: Awaited<ReturnType<Program>>;

beforeAll(async () => {
  // The program is this file's own constant text, run on the host as the reference.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const run = new Function(`return (${CRYPTO_PROGRAM})`)() as Program;
  expected = await run(nodeCrypto, plain(fixture.input));
});

forEachEngine(({ withRuntime }) => {
  describe('crypto', () => {
    it('node:crypto and crypto.subtle give the host node:crypto\'s results, and each side verifies the other\'s signatures', () =>
      withRuntime(async ({ rt }) => {
        const result = await deployAndInvoke(rt, `import crypto from 'node:crypto';\n${CRYPTO_PROGRAM}\nexport const handler = (input) => run(crypto, input);`,
          plain(fixture.input), { timeoutMs: 60_000, memoryMb: 256 });
        const { out, random } = result.payload as Awaited<ReturnType<Program>>;
        expect(Object.keys(out)).toEqual(Object.keys(expected.out));
        for (const name of Object.keys(expected.out)) expect.soft(plain(out[name]), name).toEqual(plain(expected.out[name]));

        const data = Buffer.from(TEXT);
        const { rsa, ec } = fixture;
        expect(nodeCrypto.verify('sha256', data, ec.publicKey, Buffer.from(random.ecDer!, 'base64'))).toBe(true);
        expect(nodeCrypto.verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(random.ecP1363!, 'base64'))).toBe(true);
        expect(nodeCrypto.verify('sha256', data, { key: ec.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(random.subtleEcdsa!, 'base64'))).toBe(true);
        const pss = { key: rsa.publicKey, padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING };
        expect(nodeCrypto.verify('sha256', data, { ...pss, saltLength: 32 }, Buffer.from(random.pss!, 'base64'))).toBe(true);
        expect(nodeCrypto.verify('sha256', data, { ...pss, saltLength: 32 }, Buffer.from(random.subtlePss!, 'base64'))).toBe(true);
        expect(nodeCrypto.verify('sha256', Buffer.from('tampered'), ec.publicKey, Buffer.from(random.ecDer!, 'base64'))).toBe(false);
        expect(nodeCrypto.privateDecrypt({ key: rsa.privateKey, oaepHash: 'sha256' }, Buffer.from(random.oaep!, 'base64')).toString()).toBe('secret message');
        const generated = random.generated as unknown as { publicPem: string; privateDer: string };
        const genPriv = nodeCrypto.createPrivateKey({ key: Buffer.from(generated.privateDer, 'base64'), format: 'der', type: 'pkcs8' });
        expect(nodeCrypto.createPublicKey(genPriv).export({ type: 'spki', format: 'pem' })).toBe(generated.publicPem);
        expect(genPriv.asymmetricKeyDetails?.modulusLength).toBe(1024);
      }));

    it('a derivation over lambdalet\'s bound is a RangeError naming it (environment still usable); at the bound it runs', () =>
      withRuntime(async ({ rt }) => {
        // sha256, one 32-byte block: the bound counts iterations × output blocks, whatever the digest;
        // 2 M HMAC-SHA256 rounds take ~0.3 CPU-s on the host against ~0.9 for sha512 (this case's cost).
        const name = 'pbkdf2-bound';
        await rt.deploy({ name, timeoutMs: 30_000, code: { files: { 'index.mjs': `
          import crypto from 'node:crypto';
          export const handler = async ({ iterations }) => {
            try { return crypto.pbkdf2Sync('pw', 'salt', iterations, 32, 'sha256').length; }
            catch (e) { return { name: e.name, code: e.code, message: e.message }; }
          };` } } });
        const over = await rt.invoke(name, { iterations: PBKDF2_MAX_WORK + 1 });
        expect(over.payload).toEqual({
          name: 'RangeError', code: 'ERR_OUT_OF_RANGE',
          message: `The value of "iterations" is out of range. It must be <= ${PBKDF2_MAX_WORK} for a 32-byte sha256 key (lambdalet's limit: iterations × output blocks <= ${PBKDF2_MAX_WORK}). Received ${PBKDF2_MAX_WORK + 1}`,
        });
        const at = await rt.invoke(name, { iterations: PBKDF2_MAX_WORK });
        expect(at.payload).toBe(32);
        expect(at.coldStart).toBe(false);
      }));
  });
});
