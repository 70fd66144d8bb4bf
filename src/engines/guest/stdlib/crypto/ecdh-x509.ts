/**
 * crypto.createECDH / crypto.ECDH and crypto.X509Certificate: argument handling only. The curve
 * arithmetic and the certificate parsing are the host's node:crypto (OpenSSL), over the `crypto`
 * host call (environment/crypto-ecdh-x509.ts); the guest keeps the key or certificate bytes.
 * https://nodejs.org/docs/latest-v24.x/api/crypto.html#class-ecdh
 * https://nodejs.org/docs/latest-v24.x/api/crypto.html#class-x509certificate
 */
import { Buffer } from 'buffer';
import { nodeError } from '../../bridge.ts';
import { bytesOf, cryptoCall, invalidArgType, output } from './host.ts';
import { keyBytes, makeKey, prepareKey, type KeyDescription, type KeyObject } from './keys.ts';

type Format = 'uncompressed' | 'compressed' | 'hybrid';

function curveName(curve: unknown): string {
  if (typeof curve !== 'string') throw invalidArgType('curve', 'of type string', curve);
  return curve;
}

export class ECDH {
  readonly #curve: string;
  #privateKey: Uint8Array | undefined;
  #publicKey: Uint8Array | undefined;

  constructor(curve: unknown) {
    this.#curve = curveName(curve);
    cryptoCall('ecdh', { op: 'check', curve: this.#curve }); // ERR_CRYPTO_INVALID_CURVE, as Node's constructor
  }

  static convertKey(key: unknown, curve: unknown, inputEncoding?: string, outputEncoding?: string, format: Format = 'uncompressed'): Buffer | string {
    const bytes = bytesOf(key, inputEncoding, 'key');
    return output(cryptoCall('ecdh', { op: 'convert', curve: curveName(curve), format }, [bytes]).parts[0]!, outputEncoding);
  }

  generateKeys(encoding?: string, format?: Format): Buffer | string {
    [this.#privateKey, this.#publicKey] = cryptoCall('ecdh', { op: 'generate', curve: this.#curve }).parts;
    return this.getPublicKey(encoding, format);
  }

  computeSecret(otherPublicKey: unknown, inputEncoding?: string, outputEncoding?: string): Buffer | string {
    const other = bytesOf(otherPublicKey, inputEncoding, 'key');
    return output(cryptoCall('ecdh', { op: 'compute', curve: this.#curve }, [this.#privateKey ?? new Uint8Array(0), other]).parts[0]!, outputEncoding);
  }

  getPublicKey(encoding?: string, format: Format = 'uncompressed'): Buffer | string {
    if (!this.#publicKey) throw nodeError(Error, 'ERR_CRYPTO_OPERATION_FAILED', 'Failed to get ECDH public key');
    if (format === 'uncompressed') return output(this.#publicKey, encoding);
    return ECDH.convertKey(this.#publicKey, this.#curve, undefined, encoding, format);
  }

  getPrivateKey(encoding?: string): Buffer | string {
    if (!this.#privateKey) throw nodeError(Error, 'ERR_CRYPTO_OPERATION_FAILED', 'Failed to get ECDH private key');
    return output(this.#privateKey, encoding);
  }

  setPrivateKey(privateKey: unknown, encoding?: string): this {
    [this.#privateKey, this.#publicKey] = cryptoCall('ecdh', { op: 'derive', curve: this.#curve }, [bytesOf(privateKey, encoding, 'key')]).parts;
    return this;
  }

  /** Deprecated in Node (DEP0031) but still there: sets the public half without checking it. */
  setPublicKey(publicKey: unknown, encoding?: string): this {
    this.#publicKey = bytesOf(publicKey, encoding, 'key');
    return this;
  }
}

export const createECDH = (curve: unknown): ECDH => new ECDH(curve);

interface CertificateFields {
  subject: string; issuer: string; subjectAltName?: string; infoAccess?: string; validFrom: string; validTo: string;
  validFromMs: number; validToMs: number; fingerprint: string; fingerprint256: string; fingerprint512: string;
  keyUsage?: string[]; serialNumber: string; ca: boolean; pem: string; publicKey: KeyDescription;
}

export class X509Certificate {
  readonly #der: Uint8Array;
  readonly #fields: CertificateFields;
  readonly #publicKey: KeyObject;

  constructor(buffer: unknown) {
    if (typeof buffer !== 'string' && !ArrayBuffer.isView(buffer)) {
      throw invalidArgType('buffer', 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView', buffer);
    }
    const answer = cryptoCall('x509', { op: 'parse' }, [bytesOf(buffer, undefined, 'buffer')]);
    this.#fields = answer.value as CertificateFields;
    this.#der = answer.parts[0]!;
    this.#publicKey = makeKey(this.#fields.publicKey, answer.parts[1]!);
  }

  #check(op: string, params: object, other?: Uint8Array): unknown {
    return cryptoCall('x509', { op, ...params }, other ? [this.#der, other] : [this.#der]).value;
  }

  get subject(): string { return this.#fields.subject; }
  get issuer(): string { return this.#fields.issuer; }
  get subjectAltName(): string | undefined { return this.#fields.subjectAltName; }
  get infoAccess(): string | undefined { return this.#fields.infoAccess; }
  get validFrom(): string { return this.#fields.validFrom; }
  get validTo(): string { return this.#fields.validTo; }
  get validFromDate(): Date { return new Date(this.#fields.validFromMs); }
  get validToDate(): Date { return new Date(this.#fields.validToMs); }
  get fingerprint(): string { return this.#fields.fingerprint; }
  get fingerprint256(): string { return this.#fields.fingerprint256; }
  get fingerprint512(): string { return this.#fields.fingerprint512; }
  get keyUsage(): string[] | undefined { return this.#fields.keyUsage; }
  get serialNumber(): string { return this.#fields.serialNumber; }
  get ca(): boolean { return this.#fields.ca; }
  get raw(): Buffer { return Buffer.from(this.#der); }
  get publicKey(): KeyObject { return this.#publicKey; }
  /** Node answers `undefined` (not null) when nothing matches. */
  checkHost(name: string, options?: object): string | undefined { return (this.#check('checkHost', { name, options }) as string | null) ?? undefined; }
  checkEmail(email: string, options?: object): string | undefined { return (this.#check('checkEmail', { name: email, options }) as string | null) ?? undefined; }
  checkIP(ip: string): string | undefined { return (this.#check('checkIP', { name: ip }) as string | null) ?? undefined; }
  checkIssued(other: X509Certificate): boolean {
    if (!(other instanceof X509Certificate)) throw invalidArgType('otherCert', 'an instance of X509Certificate', other);
    return this.#check('checkIssued', {}, other.#der) as boolean;
  }
  checkPrivateKey(privateKey: unknown): boolean { return this.#check('checkPrivateKey', {}, keyBytes(prepareKey(privateKey, 'private', 'pkey'))) as boolean; }
  verify(publicKey: unknown): boolean { return this.#check('verify', {}, keyBytes(prepareKey(publicKey, 'public', 'pkey'))) as boolean; }
  toString(): string { return this.#fields.pem; }
  toJSON(): string { return this.#fields.pem; }
}
