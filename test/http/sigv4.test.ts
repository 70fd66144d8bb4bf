/**
 * SigV4 verification (`rt.serve({ auth: { keys } })`): the real SDK signs and is accepted; a wrong
 * secret, an unknown key, no signature, a tampered body and a request dated outside AWS's
 * 15-minute window are 403 with AWS's exception names (AWS General Reference, "Signature Version 4
 * signing": requests more than 15 minutes from the service's clock are rejected;
 * UnrecognizedClientException / InvalidSignatureException / MissingAuthenticationTokenException
 * as AWS services send them).
 */
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type LambdaletServer, type Runtime } from '../../src/index.ts';
import { sdk } from '../helpers/lambda-sdk.ts';

const KEY = { accessKeyId: 'AKIDLAMBDALET', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const FIXED = Date.UTC(2026, 0, 2, 3, 4, 5);
let now = FIXED;
let rt: Runtime;
let server: LambdaletServer;

beforeAll(async () => {
  rt = await createRuntime({ logSink: silentSink });
  await rt.deploy({ name: 'hello', code: { files: { 'index.mjs': 'export const handler = async (e) => ({ hi: e.name });' } } });
  server = await rt.serve({ port: 0, auth: { keys: [KEY] }, clock: () => now });
});
afterAll(() => rt.close());

/** Signs a POST to Invoke at `date` with `key`, optionally changing the body after signing. */
async function signedInvoke(date: number, key = KEY, body = '{"name":"Ada"}', sentBody = body, applyChecksum = false): Promise<Response> {
  // applyChecksum adds a signed x-amz-content-sha256 header (as S3 clients do); the Lambda client does not.
  const signer = new SignatureV4({ credentials: key, region: 'us-east-1', service: 'lambda', sha256: Hash.bind(null, 'sha256'), applyChecksum });
  const host = `127.0.0.1:${server.port}`;
  const signed = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: server.port, path: '/2015-03-31/functions/hello/invocations', query: {}, headers: { host, 'content-type': 'application/json' }, body },
    { signingDate: new Date(date) },
  );
  const headers = { ...signed.headers } as Record<string, string>;
  delete headers.host;
  return fetch(`${server.url}2015-03-31/functions/hello/invocations`, { method: 'POST', headers, body: sentBody });
}

describe('SigV4 verification', () => {
  it('the real SDK, signing with a configured key, is accepted', async () => {
    now = Date.now();
    const client = new sdk.LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
    const out = await client.send(new sdk.InvokeCommand({ FunctionName: 'hello', Payload: '{"name":"sdk"}' }));
    expect(JSON.parse(new TextDecoder().decode(out.Payload))).toEqual({ hi: 'sdk' });
    client.destroy();
  });

  it('a wrong secret is InvalidSignatureException (403)', async () => {
    now = Date.now();
    const client = new sdk.LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...KEY, secretAccessKey: 'not-the-secret' }, maxAttempts: 1 });
    const error = await client.send(new sdk.GetFunctionCommand({ FunctionName: 'hello' })).then(
      () => ({ name: 'resolved', message: '', $metadata: { httpStatusCode: 200 } }),
      (e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode: number } },
    );
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toMatch(/^The request signature we calculated does not match the signature you provided/);
    client.destroy();
  });

  it('an unknown access key is UnrecognizedClientException (403)', async () => {
    now = FIXED;
    const res = await signedInvoke(FIXED, { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: KEY.secretAccessKey });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('UnrecognizedClientException');
    expect(await res.json()).toEqual({ Type: 'User', Message: 'The security token included in the request is invalid.' });
  });

  it('no Authorization header is MissingAuthenticationTokenException (403)', async () => {
    const res = await fetch(`${server.url}2015-03-31/functions/hello`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });

  it('a body changed after signing is InvalidSignatureException', async () => {
    now = FIXED;
    const res = await signedInvoke(FIXED, KEY, '{"name":"Ada"}', '{"name":"Eve"}');
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
    // With a signed x-amz-content-sha256, the header no longer matches the body: refused before signing.
    const hashed = await signedInvoke(FIXED, KEY, '{"name":"Ada"}', '{"name":"Eve"}', true);
    expect(hashed.status).toBe(400);
    expect(hashed.headers.get('x-amzn-errortype')).toBe('XAmzContentSHA256Mismatch');
    expect((await signedInvoke(FIXED, KEY, '{"name":"Ada"}', '{"name":"Ada"}', true)).status).toBe(200);
  });

  it('clock skew: 15 minutes either way is accepted, one millisecond more is refused', async () => {
    const window = 15 * 60 * 1000;
    for (const skew of [0, window - 1, window, -window]) {
      now = FIXED + skew;
      const res = await signedInvoke(FIXED);
      expect(res.status, `skew ${skew}`).toBe(200);
      expect(await res.json()).toEqual({ hi: 'Ada' });
    }
    for (const skew of [window + 1, -window - 1]) {
      now = FIXED + skew;
      const res = await signedInvoke(FIXED);
      expect(res.status, `skew ${skew}`).toBe(403);
      expect(res.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
      expect(((await res.json()) as { Message: string }).Message).toMatch(/^Signature expired: 20260102T030405Z is outside the 15 minutes/);
    }
  });
});
