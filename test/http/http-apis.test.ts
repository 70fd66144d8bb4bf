/**
 * HTTP APIs with stages, stage variables and canaries, as the Lambda documentation's stage and
 * canary deployments look from a client (API Gateway developer guide: "Working with routes for HTTP
 * APIs" — most specific route wins, greedy `{proxy+}`, `$default`; "Working with stages" — stage
 * variables in the event and in the integration target; payload formats 1.0 and 2.0; "Handling
 * Lambda errors": 502 for a function error or malformed response, 500 when the invocation is refused).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type HttpApiInfo, type LambdaletServer, type Runtime } from '../../src/index.ts';

let rt: Runtime;
let server: LambdaletServer;
let api: HttpApiInfo;
/** The runtime's random source: a queue the canary tests fill; 0.5 when empty. */
const randoms: number[] = [];

const files = (source: string) => ({ files: { 'index.mjs': source } });

beforeAll(async () => {
  rt = await createRuntime({ logSink: silentSink, random: () => randoms.shift() ?? 0.5 });
  const orders = (tag: string) => files(`export const handler = async (e, ctx) => ({ tag: '${tag}', version: ctx.functionVersion, event: e });`);
  await rt.deploy({ name: 'orders', code: orders('one') });
  await rt.publishVersion('orders');
  await rt.updateFunctionCode('orders', orders('two'));
  await rt.publishVersion('orders');
  await rt.createAlias('orders', 'dev', { functionVersion: '$LATEST' });
  await rt.createAlias('orders', 'live', { functionVersion: '1' });
  await rt.createAlias('orders', 'next', { functionVersion: '2' });
  await rt.deploy({ name: 'files', code: files('export const handler = async (e) => e.queryStringParameters?.plain ? { plain: true } : ({ statusCode: 200, multiValueHeaders: { "x-m": ["1", "2"] }, body: JSON.stringify(e) });') });
  await rt.deploy({ name: 'fallback', code: files('export const handler = async (e) => "fallback " + e.rawPath;') });
  await rt.deploy({ name: 'boom', code: files('export const handler = async () => { throw new Error("x"); };') });
  server = await rt.serve({ port: 0 });
  api = rt.createHttpApi({
    name: 'shop',
    routes: [
      { routeKey: 'GET /orders/{id}', target: 'orders:${stageVariables.alias}' },
      { routeKey: 'GET /orders/special', target: 'fallback' },
      { routeKey: 'ANY /files/{proxy+}', target: 'files', payloadFormatVersion: '1.0' },
      { routeKey: 'GET /boom', target: 'boom' },
      { routeKey: 'GET /missing', target: 'nope' },
      { routeKey: '$default', target: 'fallback' },
    ],
    stages: { dev: { variables: { alias: 'dev' } }, prod: { variables: { alias: 'live' }, canary: { percent: 10, variables: { alias: 'next' } } } },
  });
});
afterAll(() => rt.close());

function get(path: string, headers: Record<string, string | string[]> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${api.apiEndpoint}${path}`, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP APIs', () => {
  it('apiEndpoint is on the server; a stage variable picks the alias; the 2.0 event has the route, path parameters and variables', async () => {
    expect(api.apiEndpoint).toBe(`${server.url}execute-api/${api.apiId}`);
    const dev = await get('/dev/orders/42?x=1');
    expect(dev.status).toBe(200);
    const body = JSON.parse(dev.body) as { tag: string; version: string; event: Record<string, any> };
    expect(body).toMatchObject({ tag: 'two', version: '$LATEST' });
    expect(body.event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /orders/{id}',
      rawPath: '/dev/orders/42',
      rawQueryString: 'x=1',
      pathParameters: { id: '42' },
      stageVariables: { alias: 'dev' },
      requestContext: { stage: 'dev', apiId: api.apiId, domainName: `${api.apiId}.execute-api.us-east-1.amazonaws.com`, routeKey: 'GET /orders/{id}' },
    });
    randoms.push(0.5); // over the canary's 10 %: the stage's own variables
    const prod = JSON.parse((await get('/prod/orders/7')).body) as { version: string; event: { stageVariables: unknown } };
    expect(prod.version).toBe('1');
    expect(prod.event.stageVariables).toEqual({ alias: 'live' });
  });

  it('canary: a pick under percent/100 uses the canary variables, at or over it the stage\'s', async () => {
    // percent 10: the runtime's random 0.0999 → canary (version 2); 0.1 → the stage (version 1).
    randoms.push(0.0999, 0.1);
    const canary = JSON.parse((await get('/prod/orders/1')).body) as { version: string; event: { stageVariables: unknown } };
    expect(canary.version).toBe('2');
    expect(canary.event.stageVariables).toEqual({ alias: 'next' });
    expect((JSON.parse((await get('/prod/orders/1')).body) as { version: string }).version).toBe('1');
  });

  it('canary percent 0 and 100 are the limits; -1 and 101 are refused naming the field', () => {
    const make = (percent: number, name: string) => rt.createHttpApi({ name, routes: [{ routeKey: '$default', target: 'fallback' }], stages: { s: { canary: { percent } } } });
    expect(make(0, 'p0').apiId).toMatch(/^[a-z0-9]{10}$/);
    expect(make(100, 'p100').apiId).toMatch(/^[a-z0-9]{10}$/);
    expect(() => make(-1, 'pm1')).toThrow(/stages\.s\.canary\.percent.*a number from 0 to 100/);
    expect(() => make(101, 'p101')).toThrow(/stages\.s\.canary\.percent.*a number from 0 to 100/);
  });

  it('the most specific route wins: a literal segment over a parameter', async () => {
    expect((await get('/dev/orders/special')).body).toBe('fallback /dev/orders/special');
  });

  it('payload 1.0: greedy proxy parameter, multi-value maps, the 1.0 response with multiValueHeaders', async () => {
    const res = await get('/dev/files/a/b/c?q=1&q=2', { 'X-Multi': ['one', 'two'] });
    expect(res.status).toBe(200);
    expect(res.headers['x-m']).toBe('1, 2');
    const event = JSON.parse(res.body) as Record<string, any>;
    expect(event).toMatchObject({
      version: '1.0',
      resource: '/files/{proxy+}',
      path: '/files/a/b/c',
      httpMethod: 'GET',
      pathParameters: { proxy: 'a/b/c' },
      queryStringParameters: { q: '2' },
      multiValueQueryStringParameters: { q: ['1', '2'] },
      stageVariables: { alias: 'dev' },
      body: null,
      isBase64Encoded: false,
      requestContext: { stage: 'dev', path: '/dev/files/a/b/c', resourcePath: '/files/{proxy+}' },
    });
    expect(event.headers['x-multi']).toBe('two');
    expect(event.multiValueHeaders['x-multi']).toEqual(['one', 'two']);
  });

  it('a 1.0 result without statusCode is 502; a function error is 502; a target that does not exist is 500', async () => {
    expect((await get('/dev/files/x?plain=1')).status).toBe(502);
    const boom = await get('/dev/boom');
    expect(boom.status).toBe(502);
    expect(JSON.parse(boom.body)).toEqual({ message: 'Internal Server Error' });
    const missing = await get('/dev/missing');
    expect(missing.status).toBe(500);
  });

  it('$default catches what no route matches; an unknown stage is 404', async () => {
    expect((await get('/dev/anything/else')).body).toBe('fallback /dev/anything/else');
    const noStage = await get('/nostage/orders/1');
    expect(noStage.status).toBe(404);
    expect(JSON.parse(noStage.body)).toEqual({ message: 'Not Found' });
  });
});
