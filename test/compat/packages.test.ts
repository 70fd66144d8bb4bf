/**
 * Real packages, bundled unchanged, at INIT and in the handler on every engine, each compared with
 * the same module run by plain Node: axios (its Node http adapter) against a loopback server the
 * function's egress policy allows, Express through serverless-http, pino and winston writing to
 * the function's log.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachEngine } from '../helpers/runtime.ts';
import { runFixtureInNode } from './node-baseline.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/**
 * Plain Node's run of a fixture for an event and env: one child process, shared by every engine's
 * case (and the baseline case), instead of one per engine. What differs run to run (Express's date
 * and etag, the loggers' pid and hostname) is left out by the comparisons, as before.
 */
const nodeRuns = new Map<string, ReturnType<typeof runFixtureInNode>>();
function inNode(file: string, event: unknown = {}, env: Record<string, string> = {}): ReturnType<typeof runFixtureInNode> {
  const key = JSON.stringify([file, event, env]);
  let run = nodeRuns.get(key);
  if (run === undefined) nodeRuns.set(key, (run = runFixtureInNode(file, event, env)));
  return run;
}

let server: Server;
let base = '';
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${String(req.headers['x-trace'] ?? '')}`);
      if (req.url?.startsWith('/items/1')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 1, url: req.url }));
      } else if (req.url === '/items' && req.method === 'POST') {
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ created: JSON.parse(body) as unknown, type: req.headers['content-type'] }));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function apiEvent(method: string, rawPath: string, rawQueryString = '', body?: string): Record<string, unknown> {
  return {
    version: '2.0', routeKey: '$default', rawPath, rawQueryString, headers: { host: 'abc.execute-api.us-east-1.amazonaws.com', 'content-type': 'application/json' },
    requestContext: {
      accountId: '123456789012', apiId: 'abc', domainName: 'abc.execute-api.us-east-1.amazonaws.com', domainPrefix: 'abc',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '1.2.3.4', userAgent: 'test' },
      requestId: 'r', routeKey: '$default', stage: '$default', time: '01/Jan/2026:00:00:00 +0000', timeEpoch: 0,
    },
    isBase64Encoded: false, ...(body === undefined ? {} : { body }),
  };
}

/** serverless-http's answer without the headers that differ run to run. */
function stable(payload: unknown): unknown {
  const { headers, ...rest } = payload as { headers: Record<string, string> };
  const { date: _date, etag: _etag, ...kept } = headers;
  return { ...rest, headers: kept };
}

describe('packages in plain Node (the baseline works)', () => {
  it('axios answers in Node', async () => {
    const { result } = await inNode(fixture('axios-client.mjs'), {}, { COMPAT_BASE_URL: base });
    expect(result).toMatchObject({ get: { status: 200 }, post: { status: 201 }, missing: { status: 404 } });
  });
});

forEachEngine(({ withRuntime }) => {
  it('axios: GET and POST through its Node http adapter reach a loopback server the egress policy allows, as in Node', () =>
    withRuntime(async ({ rt }) => {
      const env = { COMPAT_BASE_URL: base };
      const expected = (await inNode(fixture('axios-client.mjs'), {}, env)).result;
      await rt.deploy({ name: 'axios', code: { entry: fixture('axios-client.mjs') }, handler: 'axios-client.handler', env, egress: { allowHosts: [`127.0.0.1:${new URL(base).port}`] } });
      const result = await rt.invoke('axios', {});
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      expect(result.payload).toEqual(expected);
    }));

  it('axios: a host outside the egress policy is refused with a network error naming the policy', () =>
    withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'axios-denied', code: { entry: fixture('axios-client.mjs') }, handler: 'axios-client.handler', env: { COMPAT_BASE_URL: base } });
      const result = await rt.invoke('axios-denied', {});
      expect(result.functionError).toBe('Unhandled');
      expect(JSON.stringify(result.payload)).toContain('egress policy denied');
    }));

  it('Express through serverless-http answers API Gateway events as in Node', () =>
    withRuntime(async ({ rt }) => {
      await rt.deploy({ name: 'express', code: { entry: fixture('express-app.mjs') }, handler: 'express-app.handler' });
      for (const event of [apiEvent('GET', '/hello/world', 'q=1'), apiEvent('POST', '/echo', '', '{"a":[1,2]}'), apiEvent('GET', '/nope')]) {
        const expected = (await inNode(fixture('express-app.mjs'), event)).result;
        const result = await rt.invoke('express', event);
        expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
        expect(stable(result.payload)).toEqual(stable(expected));
      }
    }));

  it('pino and winston: their JSON lines appear in the function log, at INIT and in the handler, as Node prints them', () =>
    withRuntime(async ({ rt, logs }) => {
      const node = await inNode(fixture('loggers.mjs'), { n: 3 });
      await rt.deploy({ name: 'loggers', code: { entry: fixture('loggers.mjs') }, handler: 'loggers.handler' });
      const result = await rt.invoke('loggers', { n: 3 });
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      // winston writes through an async stream pipeline: its lines and pino's interleave differently run to run, in Node too.
      const jsonLines = (lines: string[]): string[] =>
        lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).map(({ pid: _pid, hostname: _host, ...rest }) => JSON.stringify(rest)).sort();
      expect(jsonLines(logs.lines)).toEqual(jsonLines(node.stdout));
      expect(jsonLines(logs.lines)).toHaveLength(4);
    }));
});
