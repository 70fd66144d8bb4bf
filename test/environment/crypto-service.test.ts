/**
 * The host's crypto service (environment/crypto-service.ts) called as the bridge calls it: every
 * bound at, just under and just over its limit (environment/crypto-limits.ts), and cipher contexts
 * that die with the environment's bridge.
 */
import { Buffer } from 'node:buffer';
import { generateKeyPairSync, pbkdf2Sync, scryptSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CRYPTO_MAX_INPUT_BYTES, MAX_OPEN_CIPHERS, PBKDF2_MAX_WORK, RSA_MAX_MODULUS_BITS, SCRYPT_MAX_WORK } from '../../src/environment/crypto-limits.ts';
import { CryptoService } from '../../src/environment/crypto-service.ts';
import { HostBridge } from '../../src/environment/host-bridge.ts';
import type { LazyVfs } from '../../src/vfs/index.ts';

const pw = Buffer.from('pw');
const salt = Buffer.from('salt');

function rangeError(fn: () => unknown): RangeError & { code?: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RangeError);
    return error as RangeError & { code?: string };
  }
  throw new Error('expected a RangeError');
}

describe('crypto service bounds', () => {
  it('pbkdf2: iterations × output blocks at the limit derive as Node does; one more is ERR_OUT_OF_RANGE naming the bound', () => {
    const service = new CryptoService();
    // sha1 (20-byte blocks): a 40-byte key is 2 blocks, so the limit is PBKDF2_MAX_WORK / 2 iterations.
    const at = PBKDF2_MAX_WORK / 2;
    // Node's answer at the bound, pinned instead of derived again here (the derivation is the case's
    // cost): node 24.22.3, pbkdf2Sync('pw', 'salt', 1_000_000, 40, 'sha1').toString('hex').
    expect(at).toBe(1_000_000);
    expect(service.call('pbkdf2', { iterations: at, keylen: 40, digest: 'sha1' }, [pw, salt]).parts![0]).toEqual(
      Buffer.from('af872905c5952021de17f61c740cd8d9e473e7c85e03e659c7c24535fc0578aedb03f915274497f5', 'hex'),
    );
    expect(service.call('pbkdf2', { iterations: 1, keylen: 40, digest: 'sha1' }, [pw, salt]).parts![0]).toEqual(pbkdf2Sync(pw, salt, 1, 40, 'sha1'));
    const over = rangeError(() => service.call('pbkdf2', { iterations: at + 1, keylen: 40, digest: 'sha1' }, [pw, salt]));
    expect(over.code).toBe('ERR_OUT_OF_RANGE');
    expect(over.message).toBe(`The value of "iterations" is out of range. It must be <= ${at} for a 40-byte sha1 key (lambdalet's limit: iterations × output blocks <= ${PBKDF2_MAX_WORK}). Received ${at + 1}`);
    // Just under for one block: no error.
    expect(service.call('pbkdf2', { iterations: PBKDF2_MAX_WORK - 1, keylen: 20, digest: 'sha1' }, [pw, salt]).parts![0]).toHaveLength(20);
  });

  it('pbkdf2: an unknown digest is refused before any work', () => {
    expect(() => new CryptoService().call('pbkdf2', { iterations: 1, keylen: 8, digest: 'sha999' }, [pw, salt])).toThrow('Invalid digest: sha999');
  });

  it('scrypt: N × r × p at the limit derives as Node does; over it is ERR_OUT_OF_RANGE', () => {
    const service = new CryptoService();
    const atParams = { N: 2 ** 17, r: 8, p: 1 };
    expect(atParams.N * atParams.r * atParams.p).toBe(SCRYPT_MAX_WORK);
    // Node's answers, pinned instead of derived again here (each derivation is most of the case's
    // cost): node 24.22.3, scryptSync('pw', 'salt', 16, { N, r: 8, p: 1, maxmem }).toString('hex')
    // for N = 2 ** 17 (maxmem 2 ** 28) and N = 2 ** 16 (maxmem 2 ** 27). The 1-iteration pbkdf2 above
    // and scrypt's small case below still compare with a live node:crypto call.
    expect(service.call('scrypt', { keylen: 16, ...atParams, maxmem: 2 ** 30 }, [pw, salt]).parts![0]).toEqual(Buffer.from('8e489c9f6e3d1d1fe6d0a5674e5c2010', 'hex'));
    expect(service.call('scrypt', { keylen: 16, N: 2 ** 16, r: 8, p: 1, maxmem: 2 ** 27 }, [pw, salt]).parts![0]).toEqual(Buffer.from('0002c0245bfd961480251c33aca97fd4', 'hex'));
    expect(service.call('scrypt', { keylen: 16, N: 2 ** 10, r: 8, p: 1 }, [pw, salt]).parts![0]).toEqual(scryptSync(pw, salt, 16, { N: 2 ** 10, r: 8, p: 1 }));
    // Node's own bound still applies: 64 MiB needed, 32 MiB (its default maxmem) given.
    expect(() => service.call('scrypt', { keylen: 16, N: 2 ** 16, r: 8, p: 1 }, [pw, salt])).toThrow(/memory limit exceeded/);
    const over = rangeError(() => service.call('scrypt', { keylen: 16, N: 2 ** 17, r: 8, p: 2 }, [pw, salt]));
    expect(over.code).toBe('ERR_OUT_OF_RANGE');
    expect(over.message).toContain(`It must be <= ${SCRYPT_MAX_WORK} (lambdalet's limit). Received ${SCRYPT_MAX_WORK * 2}`);
  });

  it('RSA key generation: modulusLength at the limit is generated; one bit more is refused before any work', () => {
    const service = new CryptoService();
    const at = service.call('key.generate', { type: 'rsa', options: { modulusLength: RSA_MAX_MODULUS_BITS } }).value as { privateKey: { key: { asymmetricKeyDetails: { modulusLength: number } } } };
    expect(at.privateKey.key.asymmetricKeyDetails.modulusLength).toBe(RSA_MAX_MODULUS_BITS);
    const over = rangeError(() => service.call('key.generate', { type: 'rsa', options: { modulusLength: RSA_MAX_MODULUS_BITS + 1 } }));
    expect(over.message).toBe(`The value of "options.modulusLength" is out of range. It must be <= ${RSA_MAX_MODULUS_BITS} (lambdalet's limit). Received ${RSA_MAX_MODULUS_BITS + 1}`);
  }, 60_000);

  it("a failed OpenSSL call does not poison the next key parse (Node leaves scrypt's error queued): the service drains it", () => {
    const failing = new CryptoService();
    const other = new CryptoService();
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(() => failing.call('scrypt', { keylen: 16, N: 2 ** 16, r: 8, p: 1, maxmem: 2 ** 20 }, [pw, salt])).toThrow(/memory limit exceeded/);
    // Another environment's next operation on this thread.
    expect(other.call('key.import', { kind: 'private', format: 'der', type: 'pkcs8' }, [key]).value).toMatchObject({ type: 'private', asymmetricKeyType: 'ec' });
  });

  it('SLH-DSA (seconds per signature) is refused for generation and signing; ML-DSA (fast) is served', () => {
    const service = new CryptoService();
    expect(() => service.call('key.generate', { type: 'slh-dsa-sha2-128f' })).toThrow('slh-dsa-sha2-128f keys are not available in lambdalet');
    const slh = generateKeyPairSync('slh-dsa-sha2-128f');
    const der = slh.privateKey.export({ format: 'der', type: 'pkcs8' });
    expect(() => service.call('sign', { algorithm: null, kind: 'private' }, [der, Buffer.from('x')])).toThrow(/SLH-DSA signature takes seconds/);
    const ml = generateKeyPairSync('ml-dsa-44');
    const sig = service.call('sign', { algorithm: null, kind: 'private' }, [ml.privateKey.export({ format: 'der', type: 'pkcs8' }), Buffer.from('x')]).parts![0]!;
    expect(verify(null, Buffer.from('x'), ml.publicKey, sig)).toBe(true);
  });

  it('input bytes: at the limit accepted, one byte over refused', () => {
    const service = new CryptoService();
    const half = Buffer.alloc(CRYPTO_MAX_INPUT_BYTES / 2);
    expect(service.call('timingSafeEqual', {}, [half, half]).value).toBe(true);
    const over = rangeError(() => service.call('timingSafeEqual', {}, [half, Buffer.alloc(CRYPTO_MAX_INPUT_BYTES / 2 + 1)]));
    expect(over.message).toContain(`<= ${CRYPTO_MAX_INPUT_BYTES} bytes per crypto call`);
  });

  it('cipher contexts: at most MAX_OPEN_CIPHERS open; final() frees one; the last one over is refused', () => {
    const service = new CryptoService();
    const key = Buffer.alloc(16);
    const iv = Buffer.alloc(16);
    const ids: number[] = [];
    for (let i = 0; i < MAX_OPEN_CIPHERS; i++) ids.push(service.call('cipher.create', { algorithm: 'aes-128-cbc' }, [key, iv]).value as number);
    expect(service.openCiphers).toBe(MAX_OPEN_CIPHERS);
    expect(rangeError(() => service.call('cipher.create', { algorithm: 'aes-128-cbc' }, [key, iv])).message).toContain(`<= ${MAX_OPEN_CIPHERS} per environment`);
    service.call('cipher.final', { id: ids[0] });
    expect(service.openCiphers).toBe(MAX_OPEN_CIPHERS - 1);
    expect(typeof service.call('cipher.create', { algorithm: 'aes-128-cbc' }, [key, iv]).value).toBe('number');
    service.dispose();
    expect(service.openCiphers).toBe(0);
  });
});

describe('crypto through the host bridge', () => {
  const bridge = (): HostBridge => new HostBridge({ vfs: {} as LazyVfs, egress: { allowHosts: [] }, maxResponseBytes: 1024 });
  const call = (b: HostBridge, method: string, params: object, parts: Buffer[] = []): string =>
    b.call('crypto', `${JSON.stringify([method, params, parts.map((p) => p.length)])}\n${Buffer.concat(parts).toString('latin1').replace(/\0/g, '\u0100')}`);

  it('answers bytes with their lengths, and node:crypto errors with their code', () => {
    const b = bridge();
    const answer = call(b, 'pbkdf2', { iterations: 1, keylen: 4, digest: 'sha256' }, [pw, salt]);
    const [head, payload] = [answer.slice(1, answer.indexOf('\n')), answer.slice(answer.indexOf('\n') + 1)];
    expect(answer[0]).toBe('o');
    expect(JSON.parse(head)).toEqual({ v: null, l: [4] });
    expect(Buffer.from(payload.replace(/\u0100/g, '\0'), 'latin1')).toEqual(pbkdf2Sync(pw, salt, 1, 4, 'sha256'));
    const bad = call(b, 'cipher.create', { algorithm: 'aes-256-cbc' }, [Buffer.alloc(32), Buffer.alloc(3)]);
    expect(JSON.parse(bad.slice(1))).toEqual({ name: 'TypeError', message: 'Invalid initialization vector', code: 'ERR_CRYPTO_INVALID_IV' });
  });

  it('cipher contexts die with the environment: after dispose() an old context is gone', () => {
    const b = bridge();
    const created = call(b, 'cipher.create', { algorithm: 'aes-128-ctr' }, [Buffer.alloc(16), Buffer.alloc(16)]);
    const id = (JSON.parse(created.slice(1)) as { v: number }).v;
    expect(call(b, 'cipher.update', { id }, [Buffer.from('abc')])[0]).toBe('o');
    b.dispose();
    expect(JSON.parse(call(b, 'cipher.update', { id }, [Buffer.from('abc')]).slice(1))).toMatchObject({ code: 'ERR_CRYPTO_INVALID_STATE' });
  });

  it('malformed crypto calls are refused, not thrown into the engine', () => {
    const b = bridge();
    expect(b.call('crypto', '["pbkdf2"]')[0]).toBe('e');
    expect(b.call('crypto', '["pbkdf2", {}, [5]]\nab')).toContain('bad part lengths');
    expect(b.call('crypto', '["nope", {}, []]')).toContain('Unknown crypto call nope');
  });
});
