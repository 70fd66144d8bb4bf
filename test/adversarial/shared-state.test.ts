/**
 * Red team of what lambdalet shares or reuses for speed (issue #15: "one tenant must not hurt
 * another"): a hostile function or tenant changes everything it can reach — globals, built-in
 * prototypes, the standard library's module objects, process.env, /tmp, timers that outlive its
 * invocation — and a victim deployed beside it (another function on the same worker thread or
 * child process, another tenant of the same PER_TENANT function, another environment restored
 * from the same SnapStart snapshot) reports what it sees. Every mode of test/helpers/modes.ts, plus
 * quickjs's shared instance; one runtime per mode, shared by its cases (they use distinct
 * functions and tenants), with one engine thread / one child so that neighbours share a host.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownersWithFetchesInFlight, processFetchesInFlight } from '../../src/environment/fetch-ledger.ts';
import { createRuntime, type Runtime } from '../../src/index.ts';
import { RUNTIME_MODES, type RuntimeMode } from '../helpers/modes.ts';
import { captureLogs, type CapturedLogs } from '../helpers/runtime.ts';

const SECRET = `s3cret-${Math.random().toString(36).slice(2)}`;
const PER_TENANT = { isolationMode: 'PER_TENANT' } as const;
/** Far beyond what each case's work needs on a saturated machine: the outcome never depends on the deadline. */
const DEADLINE_MS = 60_000;

const MODES: readonly RuntimeMode[] = RUNTIME_MODES.flatMap((mode) =>
  mode.name === 'quickjs' ? [mode, { name: 'quickjs-shared', engine: 'quickjs', options: { quickjsIsolation: 'shared' } } as const] : [mode],
);

/**
 * One source for hostile and victim: `poison` changes every piece of shared-looking state it can
 * reach and leaves a timer logging after its invocation; `observe` reports what it finds.
 */
const PROBE = `
import path from 'node:path';
import fs from 'node:fs';
import util from 'node:util';
import { Buffer } from 'node:buffer';
import crypto from 'node:crypto';
import events from 'node:events';

export const handler = async (event) => {
  const secret = event.secret;
  if (event.action === 'poison') {
    // Freed memory full of the secret: in quickjs's shared instance, the neighbours' heap.
    for (let k = 0; k < 16; k++) new TextEncoder().encode(secret.repeat(512));
    globalThis.__stolen = secret;
    Object.prototype.__polluted = secret;
    Array.prototype.__polluted = secret;
    const trim = String.prototype.trim;
    String.prototype.trim = function () { return secret + trim.call(this); };
    path.join = () => secret;
    util.format = () => secret;
    Buffer.prototype.toString = () => secret;
    crypto.randomUUID = () => secret;
    events.defaultMaxListeners = 4242;
    process.env.POISON = secret;
    Math.random = () => 0.25;
    Date.now = () => 0;
    fs.writeFileSync('/tmp/secret.txt', secret);
    setInterval(() => console.log('background ' + secret), 1);
    return 'poisoned';
  }
  const seen = [];
  const note = (what, value) => { if (typeof value === 'string' && value.includes(secret)) seen.push(what); };
  note('globalThis.__stolen', String(globalThis.__stolen));
  note('Object.prototype', String(({}).__polluted));
  note('Array.prototype', String([].__polluted));
  note('String.prototype.trim', ' x '.trim());
  note('path.join', path.join('a', 'b'));
  note('util.format', util.format('%s', 'x'));
  note('Buffer.prototype.toString', Buffer.from('x').toString());
  note('crypto.randomUUID', crypto.randomUUID());
  note('process.env', String(process.env.POISON));
  note('/tmp', fs.readdirSync('/tmp').join(',') + (fs.existsSync('/tmp/secret.txt') ? fs.readFileSync('/tmp/secret.txt', 'utf8') : ''));
  if (events.defaultMaxListeners === 4242) seen.push('events.defaultMaxListeners');
  // Memory handed out as zero: a growable SharedArrayBuffer grown, a resizable ArrayBuffer resized, a transfer.
  const nonZero = (bytes) => bytes.some((b) => b !== 0);
  const sab = new SharedArrayBuffer(8, { maxByteLength: 1 << 20 });
  sab.grow(1 << 20);
  if (nonZero(new Uint8Array(sab))) seen.push('SharedArrayBuffer.grow');
  const resizable = new ArrayBuffer(8, { maxByteLength: 1 << 20 });
  resizable.resize(1 << 20);
  if (nonZero(new Uint8Array(resizable))) seen.push('ArrayBuffer.resize');
  if (nonZero(new Uint8Array(new ArrayBuffer(8).transfer(1 << 20)))) seen.push('ArrayBuffer.transfer');
  if (Math.random() === 0.25) seen.push('Math.random');
  if (Date.now() === 0) seen.push('Date.now');
  console.log('victim ' + event.marker);
  return { seen };
};
`;

/**
 * SnapStart /tmp: INIT writes a file into the snapshot's /tmp; `tamper` overwrites it in place
 * (an open r+ write, an append, a truncate) and adds a file; `read` reports what its copy holds.
 */
const SNAP_TMP = `
import fs from 'node:fs';
fs.mkdirSync('/tmp/cache', { recursive: true });
fs.writeFileSync('/tmp/cache/shared.txt', 'from-init');
export const handler = async (event) => {
  if (event.action === 'tamper') {
    const fd = fs.openSync('/tmp/cache/shared.txt', 'r+');
    fs.writeSync(fd, event.secret, 0);
    fs.closeSync(fd);
    fs.appendFileSync('/tmp/cache/shared.txt', event.secret);
    fs.writeFileSync('/tmp/cache/planted.txt', event.secret);
    return fs.readFileSync('/tmp/cache/shared.txt', 'utf8');
  }
  return { shared: fs.readFileSync('/tmp/cache/shared.txt', 'utf8'), files: fs.readdirSync('/tmp/cache') };
};
`;

/** Remembers the first tenant its environment served; a later invocation of another tenant in it would show. */
const TENANT_PIN = `
let owner;
export const handler = async (event, context) => {
  owner ??= context.tenantId;
  await new Promise((resolve) => setTimeout(resolve, event.ms));
  return { owner, tenant: context.tenantId };
};
`;

for (const mode of MODES) {
  describe.concurrent(`shared and reused state [${mode.name}]`, () => {
    let rt: Runtime;
    let logs: CapturedLogs;
    beforeAll(async () => {
      logs = captureLogs();
      // One engine thread and one child: every sandbox of the mode shares one host with its neighbours.
      rt = await createRuntime({ ...mode.options, engineThreads: 1, quickjsThreadsMax: 1, engineProcesses: 1, logSink: logs });
    });
    afterAll(async () => {
      await rt?.close();
    });

    it('a function poisons everything it can reach; a neighbour function on the same host sees none of it, nor its logs; its idle environment runs nothing', async () => {
      await rt.deploy({ name: 'hostile', engine: mode.engine, timeoutMs: DEADLINE_MS, code: { files: { 'index.mjs': PROBE } } });
      await rt.deploy({ name: 'victim', engine: mode.engine, timeoutMs: DEADLINE_MS, code: { files: { 'index.mjs': PROBE } } });
      expect((await rt.invoke('hostile', { action: 'poison', secret: SECRET })).payload).toBe('poisoned');
      for (let i = 0; i < 3; i++) {
        const result = await rt.invoke('victim', { action: 'observe', secret: SECRET, marker: `v${i}` });
        expect(result.payload).toEqual({ seen: [] });
        const lines = logs.forRequest(result.requestId);
        expect(lines.some((l) => l.includes(`victim v${i}`))).toBe(true);
        expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);
      }
      // Frozen between invocations, as Lambda freezes an environment: the hostile's interval never
      // fired, so an idle environment spends none of the host its neighbours share.
      expect(logs.lines.filter((l) => l.includes(`background ${SECRET}`))).toEqual([]);
    });

    it('PER_TENANT: a tenant poisons its environment; another tenant of the same function sees none of it, nor its logs', async () => {
      await rt.deploy({ name: 'saas', engine: mode.engine, timeoutMs: DEADLINE_MS, tenancy: PER_TENANT, code: { files: { 'index.mjs': PROBE } } });
      expect((await rt.invoke('saas', { action: 'poison', secret: SECRET }, { tenantId: 'evil' })).payload).toBe('poisoned');
      for (let i = 0; i < 3; i++) {
        const result = await rt.invoke('saas', { action: 'observe', secret: SECRET, marker: `t${i}` }, { tenantId: 'good' });
        expect(result.payload).toEqual({ seen: [] });
        expect(logs.forRequest(result.requestId).filter((l) => l.includes(SECRET))).toEqual([]);
      }
    });

    it('PER_TENANT with SnapStart: a tenant poisons its restored copy; the next tenant restored from the same snapshot sees none of it', async () => {
      await rt.deploy({ name: 'snap', engine: mode.engine, timeoutMs: DEADLINE_MS, tenancy: PER_TENANT, snapStart: true, code: { files: { 'index.mjs': PROBE } } });
      expect((await rt.invoke('snap', { action: 'poison', secret: SECRET }, { tenantId: 'evil' })).payload).toBe('poisoned');
      const result = await rt.invoke('snap', { action: 'observe', secret: SECRET, marker: 's' }, { tenantId: 'good' });
      expect(result.coldStart).toBe(true);
      expect(result.payload).toEqual({ seen: [] });
    });

    it('PER_TENANT: interleaved bursts of three tenants, on demand and restored from a snapshot: every environment serves only the tenant it first served', async () => {
      await rt.deploy({ name: 'pin', engine: mode.engine, timeoutMs: DEADLINE_MS, tenancy: PER_TENANT, code: { files: { 'index.mjs': TENANT_PIN } } });
      await rt.deploy({ name: 'pin-snap', engine: mode.engine, timeoutMs: DEADLINE_MS, tenancy: PER_TENANT, snapStart: true, code: { files: { 'index.mjs': TENANT_PIN } } });
      const tenants = ['a', 'b', 'c'];
      for (const name of ['pin', 'pin-snap']) {
        for (let round = 0; round < 2; round++) {
          const results = await Promise.all(Array.from({ length: 9 }, (_, i) => rt.invoke(name, { ms: i % 3 }, { tenantId: tenants[i % 3] })));
          for (const result of results) {
            const payload = result.payload as { owner: string; tenant: string };
            expect(payload.owner, name).toBe(payload.tenant);
          }
        }
      }
    });

    it('PER_TENANT, JSON logs: every application line names the tenant whose environment wrote it, INIT\'s too; a guest cannot name another', async () => {
      const source = `console.log('init line');
export const handler = async (event) => {
  console.log({ tenantId: 'victim', note: 'object' });
  console.error(Object.assign(new Error('boom'), { tenantId: 'victim' }));
  console.log(event.marker);
  return 'logged';
};`;
      await rt.deploy({ name: 'json-logs', engine: mode.engine, timeoutMs: DEADLINE_MS, tenancy: PER_TENANT, loggingConfig: { logFormat: 'JSON' }, code: { files: { 'index.mjs': source } } });
      for (const tenantId of ['evil', 'good']) {
        const result = await rt.invoke('json-logs', { marker: `marker-${tenantId}` }, { tenantId });
        expect(result.payload).toBe('logged');
        // The mode's other cases log in the Text format meanwhile: only JSON lines are read.
        const application = logs.lines.filter((line) => line.startsWith('{"timestamp"')).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level !== undefined && (line.requestId === result.requestId || line.message === 'init line'));
        // INIT's line (no request id) and the invocation's three, each once per tenant's environment.
        expect(application.filter((line) => line.requestId === result.requestId)).toHaveLength(3);
        for (const line of application.filter((line) => line.requestId === result.requestId)) expect(line.tenantId, JSON.stringify(line)).toBe(tenantId);
        expect(application.filter((line) => line.message === 'init line').map((line) => line.tenantId)).toContain(tenantId);
      }
    });

    it('PER_TENANT with SnapStart: a tenant rewrites the snapshot\'s /tmp file in place; the next tenant restored gets INIT\'s bytes', async () => {
      await rt.deploy({ name: 'snap-tmp', engine: mode.engine, timeoutMs: DEADLINE_MS, tenancy: PER_TENANT, snapStart: true, code: { files: { 'index.mjs': SNAP_TMP } } });
      const tampered = await rt.invoke('snap-tmp', { action: 'tamper', secret: SECRET }, { tenantId: 'evil' });
      expect(tampered.payload).toBe(`${SECRET}${SECRET}`);
      const result = await rt.invoke('snap-tmp', { action: 'read' }, { tenantId: 'good' });
      expect(result.payload).toEqual({ shared: 'from-init', files: ['shared.txt'] });
    });
  });
}

/** A local HTTP server that records each request's headers and answers by path. */
async function recordingServer(answer: (path: string, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; port: number; seen: { path: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    answer(req.url ?? '', res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

/**
 * fetch is served by the host (one connection pool for the process): what one function's requests
 * carry — a cookie a server set, an Authorization header — must not ride on another's, and a
 * redirect to another origin must not carry the function's own credentials (Node's fetch drops them).
 */
describe.concurrent('fetch through the host\'s shared connection pool', () => {
  let rt: Runtime;
  let origin: Awaited<ReturnType<typeof recordingServer>>;
  let other: Awaited<ReturnType<typeof recordingServer>>;
  const FETCHER = `export const handler = async (event) => {
    const response = await fetch(event.url, { headers: event.headers ?? {} });
    return { status: response.status, body: await response.text() };
  };`;
  beforeAll(async () => {
    other = await recordingServer((_path, res) => res.end('other'));
    origin = await recordingServer((path, res) => {
      if (path === '/login') res.setHeader('set-cookie', `session=${SECRET}; Path=/`);
      if (path === '/away') {
        res.statusCode = 302;
        res.setHeader('location', `http://127.0.0.1:${other.port}/landed`);
      }
      res.end('origin');
    });
    rt = await createRuntime({ logSink: { write() {} } });
    for (const engine of ['v8', 'quickjs'] as const) {
      for (const role of ['hostile', 'victim']) {
        await rt.deploy({ name: `${role}-${engine}`, engine, egress: { allowHosts: [`127.0.0.1:${origin.port}`, `127.0.0.1:${other.port}`] }, code: { files: { 'index.mjs': FETCHER } } });
      }
    }
  });
  afterAll(async () => {
    await rt?.close();
    origin?.server.close();
    other?.server.close();
  });

  for (const engine of ['v8', 'quickjs'] as const) {
    it(`[${engine}] a cookie set for one function and its Authorization are not sent on a neighbour's request to the same origin`, async () => {
      const login = await rt.invoke(`hostile-${engine}`, { url: `http://127.0.0.1:${origin.port}/login`, headers: { authorization: `Bearer ${SECRET}` } });
      expect(login.payload).toEqual({ status: 200, body: 'origin' });
      const victim = await rt.invoke(`victim-${engine}`, { url: `http://127.0.0.1:${origin.port}/victim-${engine}` });
      expect(victim.payload).toEqual({ status: 200, body: 'origin' });
      const request = origin.seen.find((r) => r.path === `/victim-${engine}`)!;
      expect(JSON.stringify(request.headers)).not.toContain(SECRET);
    });

    it(`[${engine}] a redirect to another origin does not carry the function's Authorization or Cookie (as Node's fetch)`, async () => {
      const result = await rt.invoke(`victim-${engine}`, { url: `http://127.0.0.1:${origin.port}/away`, headers: { authorization: `Bearer ${SECRET}`, cookie: `session=${SECRET}`, 'x-trace': engine } });
      expect(result.payload).toEqual({ status: 200, body: 'other' });
      const landed = other.seen.filter((r) => r.path === '/landed' && r.headers['x-trace'] === engine);
      expect(landed).toHaveLength(1);
      expect(landed[0]!.headers.authorization).toBeUndefined();
      expect(landed[0]!.headers.cookie).toBeUndefined();
    });
  }
});

/**
 * The process-wide shares (fetches in flight, fetch-ledger.ts; heavy calls' turns, heavy-work.ts)
 * are kept per owner. Two runtimes of one process (a host giving each customer its own) may both
 * have a function `api`: before, they were one owner, and one runtime's `api` at its share of
 * fetches in flight had the other's refused.
 */
describe("process-wide shares: another runtime's function of the same name is another owner", () => {
  it('two runtimes, a function `api` in each, a fetch in flight from each: two owners', async () => {
    const held: import('node:http').ServerResponse[] = [];
    const server = await recordingServer((_path, res) => held.push(res));
    const source = `export const handler = async () => (await fetch('http://127.0.0.1:${server.port}/')).status;`;
    const runtimes = [await createRuntime({ logSink: { write() {} } }), await createRuntime({ logSink: { write() {} } })];
    try {
      const [processBefore, ownersBefore] = [processFetchesInFlight(), ownersWithFetchesInFlight()];
      for (const rt of runtimes) await rt.deploy({ name: 'api', engine: 'v8', egress: { allowHosts: [`127.0.0.1:${server.port}`] }, code: { files: { 'index.mjs': source } } });
      const invocations = runtimes.map((rt) => rt.invoke('api', {}));
      while (held.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(processFetchesInFlight()).toBe(processBefore + 2);
      expect(ownersWithFetchesInFlight()).toBe(ownersBefore + 2);
      for (const res of held) res.end('ok');
      expect((await Promise.all(invocations)).map((r) => r.payload)).toEqual([200, 200]);
    } finally {
      for (const rt of runtimes) await rt.close();
      server.server.close();
    }
  });
});
