/**
 * SigV4 verification of incoming requests (the `Authorization: AWS4-HMAC-SHA256 ...` header the
 * AWS SDK and CLI send). No cryptography of our own: the signature is recomputed by
 * @smithy/signature-v4 — the signer the AWS SDK itself uses — over the same method, path, query,
 * the headers the client says it signed and the body, with the configured secret for the
 * client's access key; the two signatures are compared with node:crypto's timingSafeEqual.
 *
 * Errors are AWS's for each case (403 with `x-amzn-ErrorType`): no Authorization header
 * `MissingAuthenticationTokenException`, a malformed one `IncompleteSignatureException`, an
 * unknown access key `UnrecognizedClientException`, a wrong signature or a request dated more
 * than 15 minutes from the server's clock `InvalidSignatureException` (AWS Signature Version 4
 * documentation: "the request is rejected if the timestamp is more than 15 minutes" off).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpError } from './errors.ts';

/** One access key the server accepts. */
export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** What the verifier needs of a request: all of it as received on the wire. */
export interface SignedRequest {
  readonly method: string;
  /** The path exactly as sent (still percent-encoded), without the query. */
  readonly rawPath: string;
  /** The query string as sent, without `?`. */
  readonly rawQuery: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array;
}

/** Lambda's allowed clock skew between the client's X-Amz-Date and the server (AWS SigV4 docs). */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const sha256 = Hash.bind(null, 'sha256');

export class SigV4Verifier {
  readonly #keys = new Map<string, SignatureV4>();
  readonly #now: () => number;

  /** @param now the server's clock, injectable so tests can put a request at the skew boundary. */
  constructor(keys: readonly AccessKey[], now: () => number = Date.now) {
    for (const key of keys) {
      this.#keys.set(key.accessKeyId, new SignatureV4({ credentials: key, region: 'us-east-1', service: 'lambda', sha256, uriEscapePath: true, applyChecksum: false }));
    }
    this.#now = now;
  }

  /**
   * Resolves with the access key id when the request's signature is valid for `service`
   * (`lambda` for the API and function URLs).
   * @throws HttpError 403 naming what was wrong.
   */
  async verify(request: SignedRequest, service: string): Promise<string> {
    const header = single(request.headers.authorization);
    if (header === undefined) throw new HttpError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const match = AUTH.exec(header);
    if (match === null) {
      throw new HttpError(403, 'IncompleteSignatureException', 'Authorization header requires AWS4-HMAC-SHA256 with Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders and Signature');
    }
    const [, accessKeyId, shortDate, region, signedService, signedHeaderList, signature] = match as unknown as [string, string, string, string, string, string, string];
    const signer = this.#keys.get(accessKeyId);
    if (signer === undefined) throw new HttpError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (signedService !== service) {
      throw new HttpError(403, 'InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`);
    }
    const amzDate = single(request.headers['x-amz-date']);
    const date = amzDate === undefined ? undefined : parseAmzDate(amzDate);
    if (amzDate === undefined || date === undefined) {
      throw new HttpError(403, 'IncompleteSignatureException', 'Authorization header requires existence of a valid X-Amz-Date header (yyyyMMddTHHmmssZ).');
    }
    if (amzDate.slice(0, 8) !== shortDate) throw new HttpError(403, 'InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${shortDate}' != '${amzDate.slice(0, 8)}'`);
    const now = this.#now();
    if (Math.abs(now - date.getTime()) > MAX_CLOCK_SKEW_MS) {
      throw new HttpError(403, 'InvalidSignatureException', `Signature expired: ${amzDate} is outside the 15 minutes allowed around the server's time ${formatAmzDate(new Date(now))}`);
    }
    const signedNames = signedHeaderList.split(';');
    if (!signedNames.includes('host')) throw new HttpError(403, 'InvalidSignatureException', "'Host' must be a signed header.");
    const headers: Record<string, string> = {};
    for (const name of signedNames) {
      const value = request.headers[name];
      if (value === undefined) throw new HttpError(403, 'InvalidSignatureException', `The signed header '${name}' is missing from the request.`);
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const claimedHash = headers['x-amz-content-sha256'];
    if (claimedHash !== undefined && claimedHash !== createHash('sha256').update(request.body).digest('hex')) {
      throw new HttpError(400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
    }
    const signed = await signer.sign(
      { method: request.method, protocol: 'http:', hostname: headers.host ?? '', path: request.rawPath, query: parseQuery(request.rawQuery), headers, body: request.body },
      { signingDate: date, signingRegion: region, signingService: signedService, signableHeaders: new Set(signedNames) },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization))?.[1] ?? '';
    const recomputedList = /SignedHeaders=([^,]+),/.exec(String(signed.headers.authorization))?.[1];
    const ok = recomputedList === signedHeaderList && timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature, 'hex'));
    if (!ok) {
      throw new HttpError(403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    }
    return accessKeyId;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (m === null) return undefined;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The query as the signer wants it: decoded names → value, or values for a repeated name. */
function parseQuery(raw: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const prior = query[name];
    query[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return query;
}
