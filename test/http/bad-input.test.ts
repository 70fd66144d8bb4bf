/**
 * Bad input to the server: each gets a clear HTTP error in Lambda's shape (x-amzn-ErrorType +
 * {"Type","Message"}) and the server keeps serving. Unknown paths and methods, malformed JSON,
 * a non-JSON Content-Type on a JSON call, bodies over a call's limit (at, under and over), headers
 * that trickle in past headersTimeoutMs, a body cut short, and requests past maxInFlight.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type LambdaletServer, type Runtime } from '../../src/index.ts';
import { CONTROL_REQUEST_MAX_BYTES } from '../../src/http/lambda-api/routes.ts';

let rt: Runtime;
let server: LambdaletServer;

beforeAll(async () => {
  rt = await createRuntime({ logSink: silentSink });
  await rt.deploy({ name: 'hello', code: { files: { 'index.mjs': 'export const handler = async () => "hi";' } } });
  server = await rt.serve({ port: 0, headersTimeoutMs: 300, requestTimeoutMs: 600 });
});
afterAll(() => rt.close());

async function stillServing(): Promise<void> {
  const res = await fetch(`${server.url}2015-03-31/functions/hello/invocations`, { method: 'POST', body: '{}' });
  expect(res.status).toBe(200);
  expect(await res.json()).toBe('hi');
}

/** Writes raw bytes on a fresh connection and collects what comes back until the server closes it. */
function raw(chunks: readonly string[], { end = true } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(server.port, '127.0.0.1', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (end) socket.end();
    });
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('HTTP bad input', () => {
  it('an unknown path is 404 UnknownOperationException; a known path with another method is 405 with Allow', async () => {
    const unknown = await fetch(`${server.url}2015-03-31/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await unknown.json()).toEqual({ Type: 'User', Message: 'No Lambda API operation has the path GET /2015-03-31/nothing-here' });
    const wrongMethod = await fetch(`${server.url}2015-03-31/functions/hello/invocations`, { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    await stillServing();
  });

  it('malformed JSON in a control-plane call is 400 InvalidRequestContentException', async () => {
    const res = await fetch(`${server.url}2015-03-31/functions/hello/aliases`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"Name": ' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(((await res.json()) as { Message: string }).Message).toMatch(/^Could not parse request body into json: /);
    await stillServing();
  });

  it('a non-JSON Content-Type on a JSON call is 415 UnsupportedMediaTypeException', async () => {
    const res = await fetch(`${server.url}2015-03-31/functions/hello/aliases`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"Name":"x","FunctionVersion":"$LATEST"}' });
    expect(res.status).toBe(415);
    expect(res.headers.get('x-amzn-errortype')).toBe('UnsupportedMediaTypeException');
    expect(((await res.json()) as { Message: string }).Message).toContain('got Content-Type: text/plain');
  });

  it(`a control-plane body of ${CONTROL_REQUEST_MAX_BYTES} bytes is read; one more is 413 RequestTooLargeException`, async () => {
    // A JSON object padded to n bytes: the call then fails on its content (the alias's fields), not its size.
    const padded = (n: number): string => {
      const head = '{"pad":"';
      return `${head}${'x'.repeat(n - head.length - 2)}"}`;
    };
    for (const n of [CONTROL_REQUEST_MAX_BYTES - 1, CONTROL_REQUEST_MAX_BYTES]) {
      const res = await fetch(`${server.url}2015-03-31/functions/hello/aliases`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: padded(n) });
      expect(res.status, `${n} bytes`).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
    }
    const over = await fetch(`${server.url}2015-03-31/functions/hello/aliases`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: padded(CONTROL_REQUEST_MAX_BYTES + 1) });
    expect(over.status).toBe(413);
    expect(over.headers.get('x-amzn-errortype')).toBe('RequestTooLargeException');
    expect(((await over.json()) as { Message: string }).Message).toBe(`Request must be smaller than ${CONTROL_REQUEST_MAX_BYTES} bytes for the CreateAlias operation`);
    await stillServing();
  });

  it('a chunked body that passes the limit is refused without a Content-Length', async () => {
    const big = 'x'.repeat(CONTROL_REQUEST_MAX_BYTES + 10);
    const res = await fetch(`${server.url}2015-03-31/functions/hello/aliases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close(); } }),
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    await stillServing();
  });

  it('headers trickled in past headersTimeoutMs get 408 and the connection closes', async () => {
    const reply = await raw(['POST /2015-03-31/functions/hello/invocations HTTP/1.1\r\nHost: x\r\n'], { end: false });
    expect(reply).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(reply).toContain('x-amzn-ErrorType: RequestTimeoutException');
    await stillServing();
  });

  it('garbage instead of HTTP is 400 BadRequestException', async () => {
    const reply = await raw(['NOT HTTP AT ALL\r\n\r\n']);
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await stillServing();
  });

  it('a body cut short (the client goes away) ends that request only', async () => {
    await raw(['POST /2015-03-31/functions/hello/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":']);
    await stillServing();
    expect(server.inFlight).toBe(0);
  });
});

describe('maxInFlight', () => {
  it('at the limit requests are taken; one over is 429 at once; the held ones still finish', async () => {
    const rt2 = await createRuntime({ logSink: silentSink });
    await rt2.deploy({ name: 'hello', code: { files: { 'index.mjs': 'export const handler = async (e) => e;' } } });
    const s = await rt2.serve({ port: 0, maxInFlight: 2 });
    try {
      // Two requests held open: their bodies (Content-Length 7) are not complete yet.
      const held: Socket[] = [];
      const replies: Promise<string>[] = [];
      for (let i = 0; i < 2; i++) {
        const socket = connect(s.port, '127.0.0.1');
        held.push(socket);
        replies.push(new Promise((resolve) => {
          let text = '';
          socket.on('data', (d) => (text += d.toString()));
          socket.on('close', () => resolve(text));
        }));
        socket.write('POST /2015-03-31/functions/hello/invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 7\r\n\r\n{"n":');
      }
      while (s.inFlight < 2) await new Promise((r) => setTimeout(r, 10));
      const refused = await fetch(`${s.url}2015-03-31/functions/hello/invocations`, { method: 'POST', body: '{}' });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
      for (const socket of held) socket.write('1}');
      for (const reply of await Promise.all(replies)) expect(reply).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\{"n":1\}$/);
      const after = await fetch(`${s.url}2015-03-31/functions/hello/invocations`, { method: 'POST', body: '{"n":2}' });
      expect(after.status).toBe(200);
    } finally {
      await rt2.close();
    }
  });
});

describe('overload at 10x the concurrency limit', () => {
  it('concurrency 2, 20 requests held at once: exactly 2 run, 18 get 429 at once, every request is answered', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const rt3 = await createRuntime({ logSink: silentSink, concurrency: 2 });
    try {
      // The handler waits on the host's gate (egress.fetch), so its two environments stay busy until the test opens it.
      await rt3.deploy({
        name: 'held',
        egress: { allowHosts: ['gate.test'], fetch: async () => (await gate, new Response('go')) },
        code: { files: { 'index.mjs': 'export const handler = async () => { await fetch("http://gate.test/"); return "done"; };' } },
      });
      await rt3.serve({ port: 0 });
      const { functionUrl } = rt3.createFunctionUrlConfig('held', { authType: 'NONE' });
      const statuses: number[] = [];
      const all = Array.from({ length: 20 }, () => fetch(functionUrl).then(async (r) => {
        statuses.push(r.status);
        return { status: r.status, body: await r.text() };
      }));
      // The 18 refused ones answer while the 2 admitted ones are still held at the gate.
      while (statuses.length < 18) await new Promise((r) => setTimeout(r, 10));
      expect(statuses.filter((s) => s === 429)).toHaveLength(18);
      open();
      const results = await Promise.all(all);
      expect(results.filter((r) => r.status === 200).map((r) => r.body)).toEqual(['done', 'done']);
      expect(results.filter((r) => r.status === 429)).toHaveLength(18);
      expect(JSON.parse(results.find((r) => r.status === 429)!.body)).toEqual({ message: 'Too Many Requests' });
    } finally {
      open();
      await rt3.close();
    }
  });
});
