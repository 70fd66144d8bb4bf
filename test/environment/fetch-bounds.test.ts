/**
 * Issue #15 (red team, 2-fetch-host-memory): what an environment's fetches hold in the host's memory
 * is bounded (environment/fetch-ledger.ts) — request bodies of requests in flight, response bodies
 * being received and finished bodies the guest has not taken, together at most the function's
 * memory, and each growth into another MiB asked of the runtime's memory budget; at most
 * FETCHES_IN_FLIGHT_MAX requests in flight. Driven through HostBridge's host calls against a local
 * server (one path never reads what it is sent: a stalled upload), each bound at, just under and
 * just over. Past a bound the guest gets Node's failure shape with the reason in the message: a
 * response, `TypeError: fetch failed` (as for the egress policy); a request body, the RangeError
 * Node's fetch rejects with when it cannot allocate the body's copy (host-bridge.ts cites undici).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostBridge } from '../../src/environment/host-bridge.ts';
import { FETCHES_IN_FLIGHT_MAX } from '../../src/environment/fetch-ledger.ts';
import type { LazyVfs } from '../../src/vfs/lazy.ts';

let server: Server;
let port: number;
/** Responses of /hold, kept open until the test ends them. */
const held: ServerResponse[] = [];
/** What /echo received: its framing headers and the body's digest. */
const echoed: { contentLength: string | undefined; transferEncoding: string | undefined; sha256: string }[] = [];

async function digest(req: IncomingMessage): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of req) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/stall') {
      req.pause(); // never reads the upload, never answers
      return;
    }
    if (url.pathname === '/echo') {
      void digest(req).then((sha256) => {
        echoed.push({ contentLength: req.headers['content-length'], transferEncoding: req.headers['transfer-encoding'], sha256 });
        res.end('ok');
      });
      return;
    }
    if (url.pathname === '/hold') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x');
      held.push(res);
      return;
    }
    const size = Number(url.searchParams.get('size'));
    res.writeHead(200, { 'content-length': size });
    res.end(Buffer.alloc(size, 'b'));
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const res of held) res.end();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const bridge = (maxResponseBytes: number): HostBridge =>
  new HostBridge({ vfs: {} as LazyVfs, egress: { allowHosts: [`127.0.0.1:${port}`] }, maxResponseBytes });

/** `fetch.start` of `path`: the request's id, or the error answer's shape. */
function start(b: HostBridge, path: string): number | { name: string; message: string } {
  const shape = { url: `http://127.0.0.1:${port}${path}`, method: 'GET', headers: [], redirect: 'follow' };
  const answer = b.call('fetch.start', JSON.stringify([shape]));
  return JSON.parse(answer.slice(1)) as number;
}

/**
 * `fetch.start` of a POST of `bytes` bytes to `path`: the request's id, or the error answer's shape.
 * `bytes` (v8's byte path, callBytes) or as latin1 text after the request (the text path of quickjs and
 * process isolation, call).
 */
function post(b: HostBridge, path: string, size: number, form: 'bytes' | 'text' = 'bytes'): number | { name: string; message: string } {
  const shape = JSON.stringify([{ url: `http://127.0.0.1:${port}${path}`, method: 'POST', headers: [], redirect: 'follow' }]);
  const answer = form === 'bytes' ? b.callBytes('fetch.start', shape, new Uint8Array(size).fill(7)) : b.call('fetch.start', `${shape}\n${'\u0007'.repeat(size)}`);
  if (typeof answer !== 'string') throw new Error('fetch.start answered bytes');
  return JSON.parse(answer.slice(1)) as number | { name: string; message: string };
}

/** Polls until the bridge holds `bytes` for its fetches (a request settles on the host after its abort). */
async function heldBecomes(b: HostBridge, bytes: number): Promise<void> {
  for (let i = 0; i < 2000 && b.fetchHeldBytes !== bytes; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(b.fetchHeldBytes).toBe(bytes);
}

const MIB = 1024 * 1024;
const overMemory = (max: number, size: number, held: number): string =>
  `Array buffer allocation failed: lambdalet: request and response bodies held by this function's fetches would exceed the function's memory (${max} bytes) ` +
  `with a request body of ${size} bytes: ${held} bytes are held by requests in flight and responses not yet read`;

/** Waits until request `id` has finished on the host. */
async function finished(b: HostBridge, id: number): Promise<void> {
  for (;;) {
    const done = JSON.parse(b.call('fetch.done', '[]').slice(1)) as number[];
    if (done.includes(id)) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** `fetch.take`: the body's length, or the failure's shape. */
function take(b: HostBridge, id: number): number | { name: string; message: string; cause?: string } {
  const answer = b.call('fetch.take', JSON.stringify([id]));
  if (answer.startsWith('e')) return JSON.parse(answer.slice(1)) as { name: string; message: string };
  const at = answer.indexOf('\n');
  return at < 0 ? 0 : answer.length - at - 1;
}

async function fetchAndWait(b: HostBridge, size: number): Promise<number> {
  const id = start(b, `/?size=${size}`) as number;
  await finished(b, id);
  return id;
}

describe('fetch bounds (host memory held for the guest)', () => {
  it('unread bodies together: at the function memory both are kept, one byte over fails that request, taking one frees room', async () => {
    const b = bridge(1000);
    const first = await fetchAndWait(b, 600);
    const atBound = await fetchAndWait(b, 400);
    expect(b.fetchHeldBytes).toBe(1000);
    const over = await fetchAndWait(b, 1);
    expect(take(b, over)).toMatchObject({
      name: 'TypeError',
      message: "fetch failed: request and response bodies held by this function's fetches would exceed the function's memory (1000 bytes) with 1 more bytes of a response body: 1000 bytes are held by requests in flight and responses not yet read",
    });
    expect(b.fetchHeldBytes).toBe(1000);
    expect(take(b, first)).toBe(600);
    expect(b.fetchHeldBytes).toBe(400);
    const underAgain = await fetchAndWait(b, 599);
    expect(b.fetchHeldBytes).toBe(999);
    const fillsIt = await fetchAndWait(b, 1);
    expect(b.fetchHeldBytes).toBe(1000);
    for (const [id, size] of [[atBound, 400], [underAgain, 599], [fillsIt, 1]] as const) expect(take(b, id)).toBe(size);
    expect(b.fetchHeldBytes).toBe(0);
    b.dispose();
  });

  it('one body alone keeps its own cap and message; a refused body holds nothing afterwards', async () => {
    const b = bridge(1000);
    const whole = await fetchAndWait(b, 1000);
    expect(take(b, whole)).toBe(1000);
    const tooBig = await fetchAndWait(b, 1001);
    expect(take(b, tooBig)).toMatchObject({ name: 'TypeError', message: 'fetch failed', cause: expect.stringContaining('response body larger than') as unknown });
    expect(b.fetchHeldBytes).toBe(0);
    b.dispose();
  });

  it('fetch.abort drops an unread body (and its bytes); dispose drops every one', async () => {
    const b = bridge(1000);
    const dropped = await fetchAndWait(b, 700);
    expect(b.fetchHeldBytes).toBe(700);
    expect(b.call('fetch.abort', JSON.stringify([dropped]))).toBe('onull');
    expect(b.fetchHeldBytes).toBe(0);
    expect(JSON.parse(b.call('fetch.done', '[]').slice(1))).toEqual([]);
    await fetchAndWait(b, 800);
    expect(b.fetchHeldBytes).toBe(800);
    b.dispose();
    expect(b.fetchHeldBytes).toBe(0);
  });

  it(`at most ${FETCHES_IN_FLIGHT_MAX} requests in flight: the next one is refused at start, and starts once one ends`, async () => {
    const b = bridge(1 << 20);
    const ids: number[] = [];
    for (let i = 0; i < FETCHES_IN_FLIGHT_MAX - 1; i++) ids.push(start(b, '/hold') as number);
    const last = start(b, '/hold');
    expect(typeof last).toBe('number'); // the limit itself
    const refused = start(b, '/hold');
    expect(refused).toEqual({ name: 'TypeError', message: `fetch failed: lambdalet: at most ${FETCHES_IN_FLIGHT_MAX} fetch requests in flight per execution environment`, cause: expect.any(String) as unknown });
    // An aborted request leaves room once it has stopped receiving.
    b.call('fetch.abort', JSON.stringify([ids[0]]));
    let again = start(b, '/hold');
    for (let i = 0; typeof again !== 'number' && i < 1000; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      again = start(b, '/hold');
    }
    expect(typeof again).toBe('number');
    // The aborted request left nothing for the guest to take.
    expect(JSON.parse(b.call('fetch.done', '[]').slice(1))).not.toContain(ids[0]);
    b.dispose();
    // Nothing starts after the environment has ended.
    expect(start(b, '/?size=1')).toMatchObject({ name: 'TypeError', message: expect.stringContaining('has ended') as unknown });
  });

  it('request bodies in flight (stalled uploads): at the function memory both are held, one byte over is refused at start and counts nothing', async () => {
    const b = bridge(1000);
    const first = post(b, '/stall', 600);
    const second = post(b, '/stall', 400, 'text');
    expect([typeof first, typeof second]).toEqual(['number', 'number']);
    expect(b.fetchHeldBytes).toBe(1000);
    expect(post(b, '/stall', 1)).toEqual({ name: 'RangeError', message: overMemory(1000, 1, 1000) });
    expect(post(b, '/stall', 1, 'text')).toEqual({ name: 'RangeError', message: overMemory(1000, 1, 1000) });
    expect(b.fetchHeldBytes).toBe(1000);
    // Just under: the 400-byte upload given up (its bytes go once the host's request has settled), 399 more.
    b.call('fetch.abort', JSON.stringify([second]));
    await heldBecomes(b, 600);
    expect(typeof post(b, '/stall', 399)).toBe('number');
    expect(b.fetchHeldBytes).toBe(999);
    expect(typeof post(b, '/stall', 1)).toBe('number');
    expect(b.fetchHeldBytes).toBe(1000);
    // A response body counts with them: nothing more fits.
    const response = await fetchAndWait(b, 1);
    expect(take(b, response)).toMatchObject({ name: 'TypeError', message: expect.stringContaining('fetch failed: request and response bodies held') as unknown });
    b.dispose();
    expect(b.fetchHeldBytes).toBe(0);
  });

  it('a request body alone larger than the function memory is refused; a GET holds no body', () => {
    const b = bridge(1000);
    expect(post(b, '/stall', 1001)).toEqual({ name: 'RangeError', message: overMemory(1000, 1001, 0) });
    expect(b.fetchHeldBytes).toBe(0);
    const shape = JSON.stringify([{ url: `http://127.0.0.1:${port}/?size=0`, method: 'GET', headers: [], redirect: 'follow' }]);
    expect(b.callBytes('fetch.start', shape, new Uint8Array(5000))).toMatch(/^o\d+$/);
    expect(b.fetchHeldBytes).toBe(0);
    b.dispose();
  });

  it('a finished upload gives its bytes back; the request goes out as Node sends a bytes body (Content-Length, not chunked, same bytes)', async () => {
    const size = 3 * MIB + 5;
    const body = new Uint8Array(size).map((_, i) => i % 251);
    echoed.length = 0;
    await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body });
    const b = bridge(8 * MIB);
    const shape = JSON.stringify([{ url: `http://127.0.0.1:${port}/echo`, method: 'POST', headers: [['content-type', 'application/octet-stream']], redirect: 'follow' }]);
    const id = JSON.parse((b.callBytes('fetch.start', shape, body) as string).slice(1)) as number;
    expect(b.fetchHeldBytes).toBe(size);
    await finished(b, id);
    expect(b.fetchHeldBytes).toBe(2); // the upload's bytes given back, the answer's "ok" held until taken
    expect(take(b, id)).toBe(2);
    expect(echoed).toHaveLength(2);
    expect(echoed[1]).toEqual(echoed[0]);
    expect(echoed[0]).toEqual({ contentLength: String(size), transferEncoding: undefined, sha256: createHash('sha256').update(body).digest('hex') });
    b.dispose();
  });

  it('the runtime memory budget is asked before the bytes held grow into another MiB: at it they are held, one byte over is refused (upload and response)', async () => {
    const b = bridge(16 * MIB);
    const asked: number[] = [];
    b.fetchRoom = (bytes) => {
      asked.push(bytes);
      return bytes <= 2 * MIB;
    };
    expect(typeof post(b, '/stall', 2 * MIB - 1)).toBe('number'); // just under
    expect(typeof post(b, '/stall', 1)).toBe('number'); // at: within the MiB already granted, not asked
    expect(asked).toEqual([2 * MIB - 1]);
    expect(b.fetchHeldBytes).toBe(2 * MIB);
    expect(post(b, '/stall', 1)).toEqual({
      name: 'RangeError',
      message: "Array buffer allocation failed: lambdalet: the runtime's memory budget (memoryBudgetMb) has no room for a request body of 1 bytes: this function's fetches would hold 2097153 bytes of host memory",
    });
    expect(asked).toEqual([2 * MIB - 1, 2 * MIB + 1]);
    const response = await fetchAndWait(b, 10);
    expect(take(b, response)).toMatchObject({
      name: 'TypeError',
      message: "fetch failed: the runtime's memory budget (memoryBudgetMb) has no room for 10 more bytes of a response body: this function's fetches would hold 2097162 bytes of host memory",
    });
    expect(b.fetchHeldBytes).toBe(2 * MIB);
    b.dispose();
    expect(b.fetchHeldBytes).toBe(0);
  });
});
