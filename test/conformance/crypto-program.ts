/**
 * One program run twice: in a handler (the guest's node:crypto and Web Crypto) and on the host
 * (Node's own), by test/conformance/crypto.test.ts. Deterministic results must be equal; results
 * that are random by design (ECDSA and PSS signatures, OAEP ciphertexts, generated keys) are
 * returned under `random` and checked across: the host verifies what the guest made.
 */
export const CRYPTO_PROGRAM = String.raw`
async function run(crypto, input) {
  const out = {};
  const random = {};
  const te = new TextEncoder();
  const hex = (b) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');
  const t = async (name, fn) => {
    try { out[name] = await fn(); } catch (e) { out[name] = { error: e.name, code: e.code, message: e.message }; if (input.debug) out[name].stack = e.stack; }
  };
  const { rsa, ec, ed, x1, x2, rsaEnc } = input.keys;
  const key32 = Buffer.alloc(32, 7), key16 = Buffer.alloc(16, 3), iv16 = Buffer.alloc(16, 9), iv12 = Buffer.alloc(12, 5);
  const text = 'The quick brown fox jumps over the lazy dog — ünïcødé';

  // Hashes and HMAC.
  for (const alg of ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha3-256', 'sha512-256', 'ripemd160', 'RSA-SHA256']) {
    await t('hash-' + alg, () => {
      const h = crypto.createHash(alg).update('abc');
      const c = h.copy();
      return [h.digest('hex'), c.update(Buffer.from([0, 1, 2])).digest('base64'), crypto.createHash(alg).update(text, 'utf8').digest('base64url')];
    });
  }
  await t('hash-one-shot', () => crypto.hash('sha1', 'abc'));
  await t('hash-unknown', () => crypto.createHash('sha257'));
  await t('hash-after-digest', () => { const h = crypto.createHash('sha256'); h.digest(); return h.update('x'); });
  await t('hmac', () => [crypto.createHmac('sha256', 'key').update(text).digest('hex'),
    crypto.createHmac('sha512', Buffer.alloc(200, 1)).update('a').update('b').digest('base64'),
    crypto.createHmac('sha1', crypto.createSecretKey(key16)).update('x').digest('hex')]);

  // Derivations.
  await t('pbkdf2', () => [crypto.pbkdf2Sync('password', 'salt', 1, 20, 'sha1').toString('hex'),
    crypto.pbkdf2Sync(Buffer.from('pw'), Buffer.from('salt'), 1000, 100, 'sha512').toString('hex'),
    crypto.pbkdf2Sync('pw', 'salt', 10, 0, 'sha256').toString('hex')]);
  await t('pbkdf2-callback', () => new Promise((resolve, reject) => crypto.pbkdf2('pw', 'salt', 5, 16, 'sha256', (err, key) => err ? reject(err) : resolve(key.toString('hex')))));
  await t('pbkdf2-no-digest', () => crypto.pbkdf2Sync('pw', 'salt', 5, 16));
  await t('pbkdf2-bad-digest', () => crypto.pbkdf2Sync('pw', 'salt', 5, 16, 'nope'));
  await t('scrypt', () => [crypto.scryptSync('pw', 'salt', 32).toString('hex'), crypto.scryptSync('pw', 'salt', 16, { N: 1024, r: 4, p: 2 }).toString('hex')]);
  await t('scrypt-callback', () => new Promise((resolve, reject) => crypto.scrypt('pw', 'salt', 24, { cost: 256 }, (err, key) => err ? reject(err) : resolve(key.toString('hex')))));
  await t('hkdf', () => hex(crypto.hkdfSync('sha256', 'ikm', 'salt', 'info', 42)));

  // Ciphers.
  await t('aes-cbc', () => {
    const c = crypto.createCipheriv('aes-256-cbc', key32, iv16);
    const enc = c.update(text, 'utf8', 'base64') + c.final('base64');
    const d = crypto.createDecipheriv('aes-256-cbc', key32, iv16);
    return [enc, d.update(enc, 'base64', 'utf8') + d.final('utf8')];
  });
  await t('aes-cbc-nopad', () => { const c = crypto.createCipheriv('aes-128-cbc', key16, iv16); c.setAutoPadding(false); return [c.update(Buffer.alloc(32, 1)).toString('hex'), c.final('hex')]; });
  await t('aes-cbc-nopad-partial', () => { const c = crypto.createCipheriv('aes-128-cbc', key16, iv16); c.setAutoPadding(false); c.update(Buffer.alloc(5)); return c.final(); });
  await t('aes-ctr-streaming', () => { const c = crypto.createCipheriv('aes-256-ctr', key32, iv16); return [c.update('abc', 'utf8', 'hex'), c.update('defgh', 'utf8', 'hex'), c.final('hex')]; });
  await t('aes-ecb', () => { const c = crypto.createCipheriv('aes-128-ecb', key16, null); return Buffer.concat([c.update('sixteen byte msg'), c.final()]).toString('hex'); });
  await t('aes-gcm', () => {
    const c = crypto.createCipheriv('aes-256-gcm', key32, iv12);
    c.setAAD(Buffer.from('header'));
    const ct = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    const tag = c.getAuthTag();
    const d = crypto.createDecipheriv('aes-256-gcm', key32, iv12);
    d.setAAD(Buffer.from('header'));
    d.setAuthTag(tag);
    return [ct.toString('hex'), tag.toString('hex'), Buffer.concat([d.update(ct), d.final()]).toString('utf8')];
  });
  await t('aes-gcm-short-tag', () => { const c = crypto.createCipheriv('aes-128-gcm', key16, iv12, { authTagLength: 12 }); c.update('x'); c.final(); return c.getAuthTag().toString('hex'); });
  await t('aes-gcm-bad-tag', () => { const d = crypto.createDecipheriv('aes-256-gcm', key32, iv12); d.setAuthTag(Buffer.alloc(16)); d.update(Buffer.from('abcd')); return d.final(); });
  await t('chacha20-poly1305', () => { const c = crypto.createCipheriv('chacha20-poly1305', key32, iv12, { authTagLength: 16 }); const ct = c.update('hello', 'utf8', 'hex') + c.final('hex'); return [ct, c.getAuthTag().toString('hex')]; });
  await t('cipher-bad-iv', () => crypto.createCipheriv('aes-256-cbc', key32, Buffer.alloc(3)));
  await t('cipher-bad-key', () => crypto.createCipheriv('aes-256-cbc', key16, iv16));
  await t('cipher-unknown', () => crypto.createCipheriv('aes-999-cbc', key32, iv16));
  await t('cipher-secret-keyobject', () => { const c = crypto.createCipheriv('aes-128-cbc', crypto.createSecretKey(key16), iv16); return c.update('x', 'utf8', 'hex') + c.final('hex'); });

  // Keys: import, describe, export.
  await t('keys', () => {
    const priv = crypto.createPrivateKey(rsa.privatePem);
    const pub = crypto.createPublicKey(rsa.privatePem);
    const fromObj = crypto.createPublicKey(priv);
    const ecPriv = crypto.createPrivateKey({ key: ec.privateJwk, format: 'jwk' });
    const edPub = crypto.createPublicKey({ key: Buffer.from(ed.publicDerB64, 'base64'), format: 'der', type: 'spki' });
    const enc = crypto.createPrivateKey({ key: rsaEnc.pem, passphrase: rsaEnc.passphrase });
    return {
      priv: [priv.type, priv.asymmetricKeyType, priv.asymmetricKeyDetails.modulusLength, String(priv.asymmetricKeyDetails.publicExponent)],
      pubPem: pub.export({ type: 'spki', format: 'pem' }), pkcs1: pub.export({ type: 'pkcs1', format: 'der' }).toString('base64'),
      same: [fromObj.equals(pub), pub.equals(crypto.createPublicKey(ec.publicPem))],
      rsaJwk: pub.export({ format: 'jwk' }), ecJwk: crypto.createPublicKey(ecPriv).export({ format: 'jwk' }),
      ecDetails: ecPriv.asymmetricKeyDetails, edType: edPub.asymmetricKeyType, edPem: edPub.export({ type: 'spki', format: 'pem' }),
      pkcs8: priv.export({ type: 'pkcs8', format: 'pem' }) === rsa.privatePem, sec1: ecPriv.export({ type: 'sec1', format: 'pem' }),
      decrypted: enc.export({ type: 'pkcs8', format: 'pem' }) === rsa.privatePem,
      secret: [crypto.createSecretKey(key16).symmetricKeySize, crypto.createSecretKey('abc', 'utf8').export().toString(), crypto.createSecretKey(key16).export({ format: 'jwk' })],
      instance: [priv instanceof crypto.KeyObject, typeof crypto.KeyObject],
    };
  });
  // OpenSSL's reason for a wrong passphrase depends on its error queue (Node 24 reports "bad decrypt" or
  // "different key types"): only the kind of error is compared.
  await t('key-wrong-passphrase', () => { try { crypto.createPrivateKey({ key: rsaEnc.pem, passphrase: 'wrong' }); return 'accepted'; } catch (e) { return [e.name, /^ERR_OSSL_/.test(e.code)]; } });
  await t('key-garbage', () => crypto.createPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'));
  await t('key-private-from-public', () => crypto.createPrivateKey(crypto.createPublicKey(rsa.privatePem)));
  await t('export-encrypted', () => {
    const pem = crypto.createPrivateKey(ec.privatePem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' });
    return [pem.split('\n')[0], crypto.createPrivateKey({ key: pem, passphrase: 'secret' }).export({ format: 'jwk' }).d === ec.privateJwk.d];
  });

  // Signatures: deterministic ones compared, random ones verified by the other side.
  await t('sign-rsa-pkcs1', () => [crypto.sign('sha256', Buffer.from(text), rsa.privatePem).toString('base64'),
    crypto.createSign('RSA-SHA512').update(text).sign(rsa.privatePem, 'hex'),
    crypto.verify('sha256', Buffer.from(text), rsa.publicPem, Buffer.from(input.hostSigs.rsa, 'base64')),
    crypto.createVerify('SHA256').update(text).verify(rsa.publicPem, input.hostSigs.rsa, 'base64'),
    crypto.verify('sha256', Buffer.from(text + '!'), rsa.publicPem, Buffer.from(input.hostSigs.rsa, 'base64'))]);
  await t('sign-ed25519', () => [crypto.sign(null, Buffer.from(text), ed.privatePem).toString('hex'),
    crypto.verify(null, Buffer.from(text), ed.publicPem, Buffer.from(input.hostSigs.ed, 'base64'))]);
  await t('verify-host-made', () => [
    crypto.verify('sha256', Buffer.from(text), { key: ec.publicPem, dsaEncoding: 'ieee-p1363' }, Buffer.from(input.hostSigs.ecP1363, 'base64')),
    crypto.verify('sha256', Buffer.from(text), ec.publicPem, Buffer.from(input.hostSigs.ecDer, 'base64')),
    crypto.verify('sha256', Buffer.from(text), { key: rsa.publicPem, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, Buffer.from(input.hostSigs.pss, 'base64')),
  ]);
  random.ecDer = crypto.sign('sha256', Buffer.from(text), ec.privatePem).toString('base64');
  random.ecP1363 = crypto.createSign('sha256').update(text).sign({ key: ec.privatePem, dsaEncoding: 'ieee-p1363' }, 'base64');
  random.pss = crypto.sign('sha256', Buffer.from(text), { key: rsa.privatePem, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }).toString('base64');
  random.oaep = crypto.publicEncrypt({ key: rsa.publicPem, oaepHash: 'sha256' }, Buffer.from('secret message')).toString('base64');
  await t('rsa-decrypt-host-made', () => crypto.privateDecrypt({ key: rsa.privatePem, oaepHash: 'sha256' }, Buffer.from(input.hostSigs.oaep, 'base64')).toString());
  await t('rsa-pkcs1-private-encrypt', () => crypto.privateEncrypt(rsa.privatePem, Buffer.from('x')).toString('base64'));
  await t('dh-x25519', () => crypto.diffieHellman({ privateKey: crypto.createPrivateKey(x1.privatePem), publicKey: crypto.createPublicKey(x2.publicPem) }).toString('hex'));
  await t('sign-wrong-key-type', () => crypto.sign('sha256', Buffer.from('x'), crypto.createSecretKey(key16)));
  await t('generate', () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 1024, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
    const pair = crypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    random.generated = { publicPem: publicKey, privateDer: privateKey.toString('base64') };
    return [publicKey.split('\n')[0], Buffer.isBuffer(privateKey), pair.privateKey.asymmetricKeyDetails, pair.publicKey.type, crypto.generateKeySync('hmac', { length: 96 }).symmetricKeySize];
  });

  // Randomness and comparison.
  await t('random', () => [crypto.randomBytes(33).length, typeof crypto.randomUUID(), crypto.randomInt(10, 11), crypto.randomFillSync(Buffer.alloc(8), 2, 3).subarray(0, 2).toString('hex')]);
  await t('randomInt-range', () => crypto.randomInt(5, 5));
  await t('timingSafeEqual', () => [crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abc')), crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abd'))]);
  await t('timingSafeEqual-length', () => crypto.timingSafeEqual(Buffer.from('ab'), Buffer.from('abc')));

  // Web Crypto.
  const s = crypto.webcrypto.subtle;
  const data = te.encode(text);
  await t('subtle-digest', async () => [hex(await s.digest('SHA-256', data)), hex(await s.digest({ name: 'sha-512' }, data)), hex(await s.digest('SHA-1', new ArrayBuffer(3)))]);
  await t('subtle-digest-unknown', () => s.digest('SHA-3', data));
  await t('subtle-hmac', async () => {
    const k = await s.importKey('raw', key32, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
    const sig = await s.sign('HMAC', k, data);
    return [k.algorithm, k.usages, k.type, k.extractable, hex(sig), await s.verify('HMAC', k, sig, data), await s.verify('HMAC', k, new Uint8Array(32), data), await s.exportKey('jwk', k)];
  });
  await t('subtle-aes', async () => {
    const gcm = await s.importKey('raw', key32, 'AES-GCM', true, ['encrypt', 'decrypt']);
    const ct = await s.encrypt({ name: 'AES-GCM', iv: iv12, additionalData: te.encode('aad'), tagLength: 96 }, gcm, data);
    const back = await s.decrypt({ name: 'AES-GCM', iv: iv12, additionalData: te.encode('aad'), tagLength: 96 }, gcm, ct);
    const cbc = await s.importKey('jwk', { kty: 'oct', k: input.key16Base64url, alg: 'A128CBC', ext: true }, { name: 'AES-CBC' }, true, ['encrypt']);
    const ctr = await s.importKey('raw', key16, 'AES-CTR', false, ['encrypt', 'decrypt']);
    return [hex(ct), new TextDecoder().decode(back), gcm.algorithm, hex(await s.encrypt({ name: 'AES-CBC', iv: iv16 }, cbc, data)),
      hex(await s.encrypt({ name: 'AES-CTR', counter: iv16, length: 64 }, ctr, data)), await s.exportKey('jwk', gcm), hex(await s.exportKey('raw', cbc))];
  });
  await t('subtle-aes-bad-tag', async () => {
    const gcm = await s.importKey('raw', key32, 'AES-GCM', true, ['encrypt', 'decrypt']);
    return s.decrypt({ name: 'AES-GCM', iv: iv12 }, gcm, new Uint8Array(40));
  });
  await t('subtle-bad-usage', () => s.importKey('raw', key16, 'AES-GCM', true, ['sign']));
  await t('subtle-bad-length', () => s.importKey('raw', new Uint8Array(5), 'AES-GCM', true, ['encrypt']));
  await t('subtle-wrong-usage', async () => s.sign('HMAC', await s.importKey('raw', key16, { name: 'HMAC', hash: 'SHA-1' }, false, ['verify']), data));
  await t('subtle-export-unextractable', async () => s.exportKey('raw', await s.importKey('raw', key16, 'AES-CBC', false, ['encrypt'])));
  await t('subtle-derive', async () => {
    const pb = await s.importKey('raw', te.encode('password'), 'PBKDF2', false, ['deriveBits', 'deriveKey']);
    const hk = await s.importKey('raw', key32, 'HKDF', false, ['deriveBits']);
    const derived = await s.deriveKey({ name: 'PBKDF2', salt: te.encode('salt'), iterations: 1000, hash: 'SHA-256' }, pb, { name: 'AES-GCM', length: 128 }, true, ['encrypt']);
    return [pb.algorithm, pb.extractable, hex(await s.deriveBits({ name: 'PBKDF2', salt: te.encode('salt'), iterations: 1000, hash: 'SHA-256' }, pb, 256)),
      hex(await s.deriveBits({ name: 'HKDF', salt: te.encode('salt'), info: te.encode('info'), hash: 'SHA-384' }, hk, 128)), hex(await s.exportKey('raw', derived))];
  });
  await t('subtle-asymmetric', async () => {
    const rsaPriv = await s.importKey('pkcs8', Buffer.from(rsa.pkcs8B64, 'base64'), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']);
    const rsaPub = await s.importKey('spki', Buffer.from(rsa.spkiB64, 'base64'), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
    const edPriv = await s.importKey('pkcs8', Buffer.from(ed.pkcs8B64, 'base64'), 'Ed25519', true, ['sign']);
    const edPub = await s.importKey('raw', Buffer.from(ed.rawB64, 'base64'), { name: 'Ed25519' }, true, ['verify']);
    const ecPub = await s.importKey('jwk', ec.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
    const ecPriv = await s.importKey('jwk', ec.privateJwk, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
    const pssPub = await s.importKey('spki', Buffer.from(rsa.spkiB64, 'base64'), { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['verify']);
    const oaepPriv = await s.importKey('pkcs8', Buffer.from(rsa.pkcs8B64, 'base64'), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
    const xPriv = await s.importKey('pkcs8', Buffer.from(x1.pkcs8B64, 'base64'), 'X25519', false, ['deriveBits']);
    const xPub = await s.importKey('raw', Buffer.from(x2.rawB64, 'base64'), 'X25519', true, []);
    random.subtleEcdsa = Buffer.from(await s.sign({ name: 'ECDSA', hash: 'SHA-256' }, ecPriv, data)).toString('base64');
    random.subtlePss = Buffer.from(await s.sign({ name: 'RSA-PSS', saltLength: 32 }, await s.importKey('pkcs8', Buffer.from(rsa.pkcs8B64, 'base64'), { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign']), data)).toString('base64');
    const gen = await s.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']);
    const genSig = await s.sign({ name: 'ECDSA', hash: 'SHA-384' }, gen.privateKey, data);
    return {
      rsaAlg: rsaPub.algorithm, rsaSig: hex(await s.sign('RSASSA-PKCS1-v1_5', rsaPriv, data)), edSig: hex(await s.sign('Ed25519', edPriv, data)),
      edVerify: await s.verify('Ed25519', edPub, await s.sign('Ed25519', edPriv, data), data),
      ecVerifyHost: await s.verify({ name: 'ECDSA', hash: 'SHA-256' }, ecPub, Buffer.from(input.hostSigs.ecP1363, 'base64'), data),
      pssVerifyHost: await s.verify({ name: 'RSA-PSS', saltLength: 32 }, pssPub, Buffer.from(input.hostSigs.pss, 'base64'), data),
      oaep: new TextDecoder().decode(await s.decrypt({ name: 'RSA-OAEP' }, oaepPriv, Buffer.from(input.hostSigs.oaep, 'base64'))),
      x25519: hex(await s.deriveBits({ name: 'X25519', public: xPub }, xPriv, 256)),
      exports: [await s.exportKey('jwk', rsaPub), await s.exportKey('jwk', ecPub), hex(await s.exportKey('raw', ecPub)), await s.exportKey('jwk', edPub), hex(await s.exportKey('spki', edPub))],
      generated: [gen.publicKey.algorithm, gen.privateKey.usages, gen.publicKey.usages, await s.verify({ name: 'ECDSA', hash: 'SHA-384' }, gen.publicKey, genSig, data)],
      keyObject: crypto.KeyObject.from(ecPub).export({ format: 'jwk' }),
      tags: [Object.prototype.toString.call(ecPub), Object.prototype.toString.call(s)],
    };
  });
  await t('subtle-wrap', async () => {
    const kek = await s.importKey('raw', key32, 'AES-GCM', false, ['wrapKey', 'unwrapKey']);
    const hmac = await s.importKey('raw', key16, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
    const wrapped = await s.wrapKey('raw', hmac, kek, { name: 'AES-GCM', iv: iv12 });
    const back = await s.unwrapKey('raw', wrapped, kek, { name: 'AES-GCM', iv: iv12 }, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
    return [hex(wrapped), hex(await s.exportKey('raw', back))];
  });
  await t('subtle-mismatch', async () => s.sign('HMAC', await s.importKey('raw', key16, 'AES-GCM', false, ['encrypt']), data));
  return { out, random };
}`;
