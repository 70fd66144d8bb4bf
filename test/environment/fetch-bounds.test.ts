/**
 * Issue #15 (red team, 2-fetch-host-memory): what an environment's fetches hold in the host's memory
 * is bounded (environment/fetch-ledger.ts) — response bodies being received plus finished bodies the
 * guest has not taken, together at most the function's memory; at most FETCHES_IN_FLIGHT_MAX requests
 * in flight. Driven through HostBridge's host calls against a local server, each bound at, just under
 * and just over. Past a bound the guest gets Node's fetch failure shape (`TypeError: fetch failed`)
 * with the reason in the message, as for the egress policy.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostBridge } from '../../src/environment/host-bridge.ts';
import { FETCHES_IN_FLIGHT_MAX } from '../../src/environment/fetch-ledger.ts';
import type { LazyVfs } from '../../src/vfs/lazy.ts';

let server: Server;
let port: number;
/** Responses of /hold, kept open until the test ends them. */
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
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
    expect(take(b, over)).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/^fetch failed: response bodies held by this function's fetches would exceed the function's memory \(1000 bytes\): 1000 bytes are held/) as unknown });
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
});
