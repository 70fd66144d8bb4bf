/**
 * Function URLs served by rt.serve(): the payload 2.0 event and the response mapping as the Lambda
 * developer guide's "Invoking Lambda function URLs" describes them (request payload: lower-cased
 * headers, repeated values comma-joined, `cookies`, `queryStringParameters` comma-joined,
 * `isBase64Encoded` for binary bodies; response: a result without `statusCode` is a 200
 * application/json, a string is the body, `cookies` become Set-Cookie, a function error is 502),
 * CORS ("Cross-origin resource sharing (CORS)" on the same page), AWS_IAM auth (SigV4), the 6 MB
 * request and response limits (Lambda quotas), and RESPONSE_STREAM (configuration-response-streaming).
 */
import { request as httpRequest } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type LambdaletServer, type Runtime } from '../../src/index.ts';
import { sdk } from '../helpers/lambda-sdk.ts';

const KEY = { accessKeyId: 'AKIDURL', secretAccessKey: 'url-secret' };
let rt: Runtime;
let server: LambdaletServer;

const files = (source: string) => ({ files: { 'index.mjs': source } });

beforeAll(async () => {
  rt = await createRuntime({ logSink: silentSink });
  await rt.deploy({ name: 'echo', memoryMb: 1024, code: files('export const handler = async (e) => ({ statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(e) });') });
  await rt.deploy({ name: 'shape', code: files('export const handler = async (e) => JSON.parse(e.body);') });
  await rt.deploy({ name: 'boom', code: files('export const handler = async () => { throw new Error("no"); };') });
  await rt.deploy({ name: 'len', memoryMb: 1024, code: files('export const handler = async (e) => ({ length: e.body.length });') });
  await rt.deploy({ name: 'big', memoryMb: 1024, code: files('export const handler = async (e) => "x".repeat(Number(e.rawQueryString));') });
  await rt.deploy({ name: 'streamer', code: files(`export const handler = awslambda.streamifyResponse(async (e, s) => {
    s = awslambda.HttpResponseStream.from(s, { statusCode: 201, headers: { 'x-streamed': 'yes' }, cookies: ['a=1', 'b=2'] });
    s.write('one;');
    await new Promise((r) => setTimeout(r, 5));
    s.end('two');
  });`) });
  server = await rt.serve({ port: 0, auth: { keys: [KEY] } });
});
afterAll(() => rt.close());

/** A raw node:http request (fetch cannot send repeated headers or set Host). */
function send(url: string, options: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('function URLs', () => {
  it('createFunctionUrlConfig: functionUrl is on the running server, by path; a version number is refused', () => {
    const config = rt.createFunctionUrlConfig('echo', { authType: 'NONE' });
    expect(config.functionUrl).toBe(`${server.url}lambda-url/${config.urlId}/`);
    expect(config.urlId).toMatch(/^[a-z0-9]{32}$/);
    expect(config).toMatchObject({ functionName: 'echo', qualifier: '$LATEST', authType: 'NONE', invokeMode: 'BUFFERED' });
    expect(() => rt.createFunctionUrlConfig('echo', { authType: 'NONE' })).toThrow(/FunctionUrlConfig exists for this Lambda function/);
    expect(() => rt.createFunctionUrlConfig('echo', { authType: 'NONE', qualifier: '1' })).toThrow(/cannot point at a published version/);
  });

  it('the payload 2.0 event: rawPath, query, cookies, joined headers, requestContext', async () => {
    const { functionUrl } = rt.getFunctionUrlConfig('echo');
    const res = await send(`${functionUrl}orders/42?a=1&a=2&b=x%20y`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Multi': ['one', 'two'], Cookie: 'c1=v1; c2=v2', 'User-Agent': 'probe' },
      body: '{"k":1}',
    });
    expect(res.status).toBe(200);
    const event = JSON.parse(res.body.toString()) as Record<string, any>;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/orders/42',
      rawQueryString: 'a=1&a=2&b=x%20y',
      cookies: ['c1=v1', 'c2=v2'],
      queryStringParameters: { a: '1,2', b: 'x y' },
      body: '{"k":1}',
      isBase64Encoded: false,
    });
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.requestContext).toMatchObject({
      accountId: '123456789012',
      domainPrefix: rt.getFunctionUrlConfig('echo').urlId,
      domainName: `${rt.getFunctionUrlConfig('echo').urlId}.lambda-url.us-east-1.on.aws`,
      http: { method: 'POST', path: '/orders/42', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'probe' },
      stage: '$default',
    });
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('a binary body arrives base64 with isBase64Encoded: true', async () => {
    const res = await send(rt.getFunctionUrlConfig('echo').functionUrl, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255]) });
    const event = JSON.parse(res.body.toString()) as { body: string; isBase64Encoded: boolean };
    expect(event).toMatchObject({ isBase64Encoded: true, body: Buffer.from([0, 1, 2, 255]).toString('base64') });
  });

  it('the Host header <urlId>.lambda-url.<region>.on.aws routes too, with the whole path as rawPath', async () => {
    const { urlId } = rt.getFunctionUrlConfig('echo');
    const res = await send(`${server.url}by/host`, { headers: { Host: `${urlId}.lambda-url.us-east-1.on.aws` } });
    expect((JSON.parse(res.body.toString()) as { rawPath: string }).rawPath).toBe('/by/host');
  });

  it('response mapping: no statusCode → 200 JSON; a string is the body; statusCode/headers/cookies/isBase64Encoded honoured', async () => {
    const { functionUrl } = rt.createFunctionUrlConfig('shape', { authType: 'NONE' });
    const post = (result: unknown) => send(functionUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) });
    const plain = await post({ hello: 'world' });
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('application/json');
    expect(plain.body.toString()).toBe('{"hello":"world"}');
    const text = await post('just text');
    expect(text.body.toString()).toBe('just text');
    const full = await post({ statusCode: 418, headers: { 'X-Tea': 'pot' }, cookies: ['s=1; HttpOnly', 't=2'], body: Buffer.from('bytes!').toString('base64'), isBase64Encoded: true });
    expect(full.status).toBe(418);
    expect(full.headers['x-tea']).toBe('pot');
    expect(full.headers['set-cookie']).toEqual(['s=1; HttpOnly', 't=2']);
    expect(full.body.toString()).toBe('bytes!');
    const malformed = await post({ statusCode: 1000 });
    expect(malformed.status).toBe(502);
  });

  it('a function error is 502 Internal Server Error', async () => {
    const { functionUrl } = rt.createFunctionUrlConfig('boom', { authType: 'NONE' });
    const res = await send(functionUrl);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body.toString())).toEqual({ message: 'Internal Server Error' });
  });

  it('6 MB: a body over 6291456 bytes is 413 before it is read whole; the event (body + request data) must fit too', async () => {
    const { functionUrl } = rt.createFunctionUrlConfig('len', { authType: 'NONE' });
    const post = (n: number) => send(functionUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'a'.repeat(n) });
    // Just under: the event (body plus headers and context, ~1 KB) fits in 6 MB.
    const under = await post(6_291_456 - 4096);
    expect(under.status).toBe(200);
    expect(JSON.parse(under.body.toString())).toEqual({ length: 6_291_456 - 4096 });
    // At the limit the body is read, but the event around it is over 6 MB: RequestTooLargeException.
    expect((await post(6_291_456)).status).toBe(413);
    const over = await post(6_291_457);
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body.toString())).toEqual({ message: 'Request Entity Too Large' });
  });

  it('a response over 6 MB is 502 (Function.ResponseSizeTooLarge), just under is served', async () => {
    const { functionUrl } = rt.createFunctionUrlConfig('big', { authType: 'NONE' });
    // The payload is the JSON string: n + 2 quote bytes against Lambda's 6291556-byte response limit.
    const under = await send(`${functionUrl}?${6_291_556 - 2}`);
    expect(under.status).toBe(200);
    expect(under.body.length).toBe(6_291_556 - 2);
    expect((await send(`${functionUrl}?${6_291_556 - 1}`)).status).toBe(502);
  });

  it('CORS: preflight answered from the config without invoking; allowed origins get the headers, others none', async () => {
    const { functionUrl } = rt.updateFunctionUrlConfig('shape', { cors: { allowOrigins: ['https://app.example'], allowMethods: ['POST'], allowHeaders: ['content-type'], exposeHeaders: ['x-tea'], maxAge: 600, allowCredentials: true } });
    const preflight = await send(functionUrl, { method: 'OPTIONS', headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(200);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '600',
      'access-control-allow-credentials': 'true',
    });
    const actual = await send(functionUrl, { method: 'POST', headers: { Origin: 'https://app.example', 'content-type': 'application/json' }, body: '{"statusCode":200,"headers":{"access-control-allow-origin":"*"}}' });
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(actual.headers['access-control-expose-headers']).toBe('x-tea');
    const other = await send(functionUrl, { method: 'POST', headers: { Origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{"ok":1}' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('AWS_IAM: unsigned is 403; signed with a server key is served', async () => {
    await rt.deploy({ name: 'private', code: files('export const handler = async () => "secret";') });
    const { functionUrl } = rt.createFunctionUrlConfig('private', { authType: 'AWS_IAM' });
    expect((await send(functionUrl)).status).toBe(403);
    const url = new URL(functionUrl);
    const signer = new SignatureV4({ credentials: KEY, region: 'us-east-1', service: 'lambda', sha256: Hash.bind(null, 'sha256') });
    const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host } });
    const res = await send(functionUrl, { headers: signed.headers });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('secret');
  });

  it('RESPONSE_STREAM: the prelude\'s status, headers and cookies, the body streamed (chunked)', async () => {
    const { functionUrl } = rt.createFunctionUrlConfig('streamer', { authType: 'NONE', invokeMode: 'RESPONSE_STREAM' });
    const res = await send(functionUrl);
    expect(res.status).toBe(201);
    expect(res.headers['x-streamed']).toBe('yes');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.body.toString()).toBe('one;two');
  });

  it('through the Lambda API: CreateFunctionUrlConfig (201) gives a FunctionUrl that serves; DeleteFunction removes the URL', async () => {
    await rt.deploy({ name: 'viaapi', code: files('export const handler = async () => ({ via: "api" });') });
    const signerClient = new sdk.LambdaClient({ endpoint: server.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
    const created = await signerClient.send(new sdk.CreateFunctionUrlConfigCommand({ FunctionName: 'viaapi', AuthType: 'NONE', Cors: { AllowOrigins: ['*'] } }));
    expect(created.$metadata.httpStatusCode).toBe(201);
    expect(created).toMatchObject({ AuthType: 'NONE', InvokeMode: 'BUFFERED', Cors: { AllowOrigins: ['*'] }, FunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:viaapi' });
    const res = await send(created.FunctionUrl!);
    expect(JSON.parse(res.body.toString())).toEqual({ via: 'api' });
    await signerClient.send(new sdk.DeleteFunctionCommand({ FunctionName: 'viaapi' }));
    expect((await send(created.FunctionUrl!)).status).toBe(404);
    signerClient.destroy();
  });
});
