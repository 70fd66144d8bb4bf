/**
 * A function's response never frames the server's connection (http/responses.ts, issue #15): its
 * Content-Length, Transfer-Encoding, Connection... headers are dropped, and a 1xx status (an
 * interim response) is refused — otherwise the bytes it writes past a length it declared arrive as
 * the NEXT response on the connection, and a length longer than what it writes (or a 1xx) takes the
 * next request's response as its own. Checked on a raw connection carrying two pipelined requests:
 * the second one's answer (another function's) must arrive whole, as its own response.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type LambdaletServer, type Runtime } from '../../src/index.ts';

let rt: Runtime;
let server: LambdaletServer;
let victimPath: string;

const VICTIM_BODY = 'victim-secret-data';
const FRAMING = { 'content-length': '1', 'transfer-encoding': 'identity', connection: 'close', 'keep-alive': 'timeout=600', upgrade: 'h2c', trailer: 'x', te: 'trailers', 'proxy-connection': 'keep-alive' };

async function url(name: string, source: string, invokeMode: 'BUFFERED' | 'RESPONSE_STREAM' = 'BUFFERED'): Promise<string> {
  await rt.deploy({ name, code: { files: { 'index.mjs': source } } });
  return new URL(rt.createFunctionUrlConfig(name, { authType: 'NONE', invokeMode }).functionUrl).pathname;
}

const buffered = (status: number, headers: object, body: string): string =>
  `export const handler = async () => ({ statusCode: ${status}, headers: ${JSON.stringify(headers)}, body: ${JSON.stringify(body)} });`;
const streamed = (status: number, headers: object, body: string): string =>
  `export const handler = awslambda.streamifyResponse(async (e, s) => { s = awslambda.HttpResponseStream.from(s, { statusCode: ${status}, headers: ${JSON.stringify(headers)} }); s.write(${JSON.stringify(body)}); s.end(); });`;

/** Two pipelined GETs on one connection; everything the server wrote, once it has answered both or closed. */
function pipelined(first: string, second: string): Promise<string> {
  const address = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(address.port), address.hostname);
    let data = '';
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.endsWith(VICTIM_BODY)) socket.end();
    });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    socket.write(`GET ${first} HTTP/1.1\r\nHost: x\r\n\r\nGET ${second} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
}

/** The status lines in the order they arrived. */
function statusLines(raw: string): string[] {
  return [...raw.matchAll(/HTTP\/1\.1 \d{3}[^\r]*/g)].map((m) => m[0]);
}

beforeAll(async () => {
  rt = await createRuntime({ logSink: silentSink });
  server = await rt.serve({ port: 0 });
  victimPath = await url('victim', buffered(200, {}, VICTIM_BODY));
});
afterAll(() => rt.close());

describe('a function response cannot frame the connection', () => {
  it('BUFFERED: the function\'s framing headers are dropped; the server\'s Content-Length frames it and the next response follows intact', async () => {
    const path = await url('buffered-framing', buffered(200, { ...FRAMING, 'x-kept': 'yes' }, 'HELLO'));
    const raw = await pipelined(path, victimPath);
    const [head] = raw.split('\r\n\r\n');
    expect(head).toContain('x-kept: yes');
    expect(head).toContain('content-length: 5');
    // The server's own Connection / Keep-Alive stay; none of the function's values is there.
    for (const [name, value] of Object.entries(FRAMING)) expect(head!.toLowerCase()).not.toContain(`\r\n${name}: ${value}`);
    expect(raw.split('\r\n\r\n')[1]!.startsWith('HELLOHTTP/1.1 200 OK')).toBe(true);
    expect(statusLines(raw)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(raw.endsWith(`\r\n\r\n${VICTIM_BODY}`)).toBe(true);
  });

  it('RESPONSE_STREAM: a prelude declaring content-length 1 and writing 5 bytes goes out chunked, whole, and the next response follows intact', async () => {
    const path = await url('stream-short', streamed(200, { 'content-length': '1', 'x-kept': 'yes' }, 'x' + 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil'), 'RESPONSE_STREAM');
    const raw = await pipelined(path, victimPath);
    const [head] = raw.split('\r\n\r\n');
    expect(head).toContain('x-kept: yes');
    expect(head).toContain('Transfer-Encoding: chunked');
    expect(head!.toLowerCase()).not.toContain('content-length');
    expect(raw.endsWith(`\r\n\r\n${VICTIM_BODY}`)).toBe(true);
  });

  it('RESPONSE_STREAM: a prelude declaring more bytes than it writes does not take the next response into its body', async () => {
    const path = await url('stream-long', streamed(200, { 'content-length': '200', 'transfer-encoding': 'identity' }, 'x'), 'RESPONSE_STREAM');
    const raw = await pipelined(path, victimPath);
    expect(raw.split('\r\n\r\n')[0]).toContain('Transfer-Encoding: chunked');
    expect(raw).toContain('\r\n1\r\nx\r\n0\r\n\r\nHTTP/1.1 200 OK');
    expect(raw.endsWith(`\r\n\r\n${VICTIM_BODY}`)).toBe(true);
  });

  it('statuses: 199 (and 100, 101) refused — BUFFERED 502, RESPONSE_STREAM 200 as any invalid prelude status; 200 and 599 kept', async () => {
    for (const status of [100, 101, 199]) {
      const b = await pipelined(await url(`b${status}`, buffered(status, {}, 'x')), victimPath);
      expect(statusLines(b)).toEqual(['HTTP/1.1 502 Bad Gateway', 'HTTP/1.1 200 OK']);
      const s = await pipelined(await url(`s${status}`, streamed(status, {}, 'x'), 'RESPONSE_STREAM'), victimPath);
      expect(statusLines(s)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
      expect(s.endsWith(`\r\n\r\n${VICTIM_BODY}`)).toBe(true);
    }
    for (const status of [200, 599]) {
      const b = await pipelined(await url(`b${status}`, buffered(status, {}, 'x')), victimPath);
      expect(statusLines(b)[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      const s = await pipelined(await url(`s${status}`, streamed(status, {}, 'x'), 'RESPONSE_STREAM'), victimPath);
      expect(statusLines(s)[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    }
  });
});
