/**
 * node:http's client and the global fetch when the connection fails (issue #12): the guest's errors
 * must be Node's own — `connect ECONNREFUSED 127.0.0.1:<port>` with errno, code, syscall, address,
 * port (not a reset on 'read'); `getaddrinfo ENOTFOUND <name>` with hostname; fetch's
 * `TypeError: fetch failed` whose cause is that socket error — and the Fetch standard's "bad port"
 * list must not apply to node:http (Node's http.get to port 6000 connects); a TLS failure is the
 * TLS error with its code. The handler runs in
 * plain Node (test/compat/node-baseline.ts) and on every engine, and the answers must be equal.
 * The egress policy's own refusal keeps its code (ERR_LAMBDALET_EGRESS_DENIED), which Node cannot have.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployFiles, forEachEngine, GENEROUS_TIMEOUT_MS } from '../helpers/runtime.ts';
import { freePort } from '../helpers/redis.ts';
import { runInNode } from './node-baseline.ts';

/** Every own property of an error and of its cause, in order: what Node's error has, key by key. */
const SOURCE = `
  const http = require('http');
  const shape = (e) => e && { name: e.name, message: e.message, keys: Object.keys(e), own: Object.fromEntries(Object.keys(e).map((k) => [k, e[k]])),
    cause: e.cause === undefined ? 'none' : shape(e.cause), string: String(e) };
  const get = (url, options = {}) => new Promise((resolve) => {
    const req = (url.startsWith('https:') ? require('https') : http).request(url, options, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', (e) => resolve({ error: shape(e) }));
    req.end(options.body);
  });
  const viaFetch = (url) => fetch(url).then((r) => r.text().then((body) => ({ status: r.status, body })), (e) => ({ error: shape(e) }));
  exports.handler = async (event) => {
    const refused = 'http://127.0.0.1:' + event.refused + '/x';
    const out = {};
    out.httpRefused = await get(refused);
    out.fetchRefused = await viaFetch(refused);
    out.localhostRefused = await get('http://localhost:' + event.refused + '/');
    out.httpsRefused = await new Promise((resolve) => require('https').get('https://127.0.0.1:' + event.refused + '/').on('error', (e) => resolve(shape(e))));
    out.notFound = await get('http://nonexistent.invalid/');
    out.fetchNotFound = await viaFetch('http://nonexistent.invalid/');
    if (event.badPort) {
      out.badPortGet = await get('http://127.0.0.1:' + event.badPort + '/hello');
      out.badPortPost = await get('http://127.0.0.1:' + event.badPort + '/echo', { method: 'POST', body: 'posted body' });
      out.badPortEmptyPost = await get('http://127.0.0.1:' + event.badPort + '/echo', { method: 'POST', body: '' });
      out.badPortGzip = await get('http://127.0.0.1:' + event.badPort + '/gzip', { headers: { 'accept-encoding': 'gzip' } });
      out.badPortFetch = await viaFetch('http://127.0.0.1:' + event.badPort + '/hello');
    }
    out.badPortRefused = await get('http://127.0.0.1:' + event.badPortRefused + '/');
    // A certificate no one trusts: the TLS error itself (its code), on https and as fetch's cause.
    out.selfSigned = await get('https://127.0.0.1:' + event.tls + '/');
    out.fetchSelfSigned = await viaFetch('https://127.0.0.1:' + event.tls + '/');
    return out;
  };
`;

let server: Server | undefined;
let tlsServer: HttpsServer | undefined;
let certDir = '';
let event: { refused: number; badPort?: number; badPortRefused: number; tls: number };

/** The Fetch standard's bad ports, one of which a server here can listen on (others may be taken). */
const BAD_PORTS = [6666, 6667, 6668, 6669, 6665, 6000, 10080];

beforeAll(async () => {
  const refused = await freePort();
  const handler = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('zipped'));
      } else {
        res.end(`${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
      }
    });
  });
  let badPort: number | undefined;
  for (const port of BAD_PORTS) {
    const listening = await new Promise<boolean>((resolve) => {
      handler.once('error', () => resolve(false));
      handler.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (listening) {
      badPort = port;
      server = handler;
      break;
    }
  }
  // A bad port nothing listens on: fetch's list must not turn ECONNREFUSED into "bad port".
  const badPortRefused = BAD_PORTS.find((port) => port !== badPort && port !== 6000) ?? 6000;
  certDir = mkdtempSync(join(tmpdir(), 'lambdalet-http-errors-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { stdio: 'ignore' });
  tlsServer = createHttpsServer({ key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) }, (_req, res) => res.end('hi'));
  await new Promise<void>((resolve) => tlsServer!.listen(0, '127.0.0.1', resolve));
  const tls = (tlsServer.address() as { port: number }).port;
  event = { refused, badPortRefused, tls, ...(badPort === undefined ? {} : { badPort }) };
});

afterAll(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await new Promise((resolve) => (tlsServer ? tlsServer.close(resolve) : resolve(undefined)));
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

let nodeAnswer: Promise<unknown> | undefined;
const inNode = (): Promise<unknown> => (nodeAnswer ??= runInNode(SOURCE, event));

it('the baseline: plain Node refuses, fails the lookup, and reaches a bad port through http', async () => {
  const node = (await inNode()) as Record<string, { error?: { own: Record<string, unknown>; cause?: unknown }; status?: number }>;
  expect(node.httpRefused!.error!.own).toEqual({ errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port: event.refused });
  expect(node.notFound!.error!.own).toMatchObject({ code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'nonexistent.invalid' });
  if (event.badPort !== undefined) expect(node.badPortGet!.status).toBe(200);
  expect(node.selfSigned!.error!.own).toEqual({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
});

forEachEngine(({ withRuntime }) => {
  it('http, https and fetch connection failures are Node\'s errors, and http reaches a bad port', () =>
    withRuntime(async ({ rt }) => {
      const expected = await inNode();
      const ports = [event.refused, event.badPortRefused, event.tls, ...(event.badPort === undefined ? [] : [event.badPort])];
      await deployFiles(rt, 'conn-errors', SOURCE, {
        file: 'index.js',
        handler: 'index.handler',
        egress: { allowHosts: [...ports.map((port) => `127.0.0.1:${port}`), `localhost:${event.refused}`, 'nonexistent.invalid'] },
      });
      const result = await rt.invoke('conn-errors', event);
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      // An encoded body differs by design (http-client.ts: the host's fetch decodes it): its text only.
      const { badPortGzip, ...payload } = result.payload as Record<string, unknown>;
      const { badPortGzip: _raw, ...inNodeToo } = expected as Record<string, unknown>;
      expect(payload).toEqual(inNodeToo);
      if (event.badPort !== undefined) expect(badPortGzip).toEqual({ status: 200, body: 'zipped' });
    }), GENEROUS_TIMEOUT_MS);

  it('the egress policy\'s refusal keeps its own code on http and as fetch\'s cause', () =>
    withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'conn-denied', SOURCE, { file: 'index.js', handler: 'index.handler' });
      const result = await rt.invoke('conn-denied', event);
      expect(result.functionError, JSON.stringify(result.payload)).toBeUndefined();
      const denied = `lambdalet egress policy denied http://127.0.0.1:${event.refused}: add "127.0.0.1" to the function's egress.allowHosts`;
      const payload = result.payload as Record<string, { error: unknown }>;
      expect(payload.httpRefused!.error).toMatchObject({ name: 'Error', message: denied, own: { code: 'ERR_LAMBDALET_EGRESS_DENIED' } });
      expect(payload.fetchRefused!.error).toMatchObject({ name: 'TypeError', message: `fetch failed: ${denied}`, cause: { message: denied, own: { code: 'ERR_LAMBDALET_EGRESS_DENIED' } } });
    }), GENEROUS_TIMEOUT_MS);
});
