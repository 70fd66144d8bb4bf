/**
 * Request body bytes a server holds at once (issue #15, http/body.ts BodyBudget, serve option
 * `maxRequestBodiesMb`): a client sending many 6 MB bodies and never their last byte held 1.9 GB of
 * the host with 300 connections (red team). Here the budget is its least, 67 MiB (the largest body
 * one request may send, a CreateFunction's): one such body and a function URL's filling the rest
 * held at it, another one byte over refused with 429 at once (a function URL's
 * `{"message":"Too Many Requests"}`, the Lambda API's TooManyRequestsException), and room again once
 * the held request is answered.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createRuntime, silentSink, type LambdaletServer, type Runtime } from '../../src/index.ts';
import { parseServeOptions } from '../../src/http/options.ts';
import { PACKAGE_REQUEST_MAX_BYTES } from '../../src/http/lambda-api/routes.ts';

let rt: Runtime;
let server: LambdaletServer;
let path: string;

beforeAll(async () => {
  rt = await createRuntime({ logSink: silentSink });
  await rt.deploy({ name: 'len', engine: 'quickjs', memoryMb: 512, code: { files: { 'index.mjs': 'export const handler = async (e) => ({ length: e.body === undefined ? 0 : e.body.length, b64: e.isBase64Encoded });' } } });
  server = await rt.serve({ port: 0, maxRequestBodiesMb: 67 });
  path = new URL(rt.createFunctionUrlConfig('len', { authType: 'NONE' }).functionUrl).pathname;
});
afterAll(() => rt.close());

/** A raw request whose head and first `sent` body bytes are written now; `rest()` sends the remainder; `answer` is the status line and body. */
function open(head: string, sent: Buffer): { socket: Socket; answer: Promise<{ status: number; body: string }> } {
  const socket = connect(server.port, '127.0.0.1');
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (at >= 0 && length && text.length >= at + 4 + Number(length[1])) {
        resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)![1]), body: text.slice(at + 4, at + 4 + Number(length[1])) });
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
  socket.write(head);
  socket.write(sent);
  return { socket, answer };
}

const post = (target: string, length: number, type = 'application/octet-stream') =>
  `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`;

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('request body bytes held by the server at once (maxRequestBodiesMb, issue #15)', () => {
  it('options: 67 (the largest body one request may send) to 1048576 MiB, default 256', () => {
    expect(parseServeOptions({}).maxRequestBodiesMb).toBe(256);
    expect(parseServeOptions({ maxRequestBodiesMb: 67 }).maxRequestBodiesMb).toBe(67);
    expect(() => parseServeOptions({ maxRequestBodiesMb: 66 })).toThrow(/maxRequestBodiesMb/);
    expect(() => parseServeOptions({ maxRequestBodiesMb: 1_048_577 })).toThrow(/maxRequestBodiesMb/);
    expect(Math.ceil(PACKAGE_REQUEST_MAX_BYTES / (1024 * 1024))).toBe(67);
  });

  it('a declared body at the budget is held; one byte over is refused at once with 429; answered, the room is back', async () => {
    const budget = 67 * 1024 * 1024;
    // A CreateFunction declaring the largest package body, one byte of it sent.
    const big = open(post('/2015-03-31/functions', PACKAGE_REQUEST_MAX_BYTES, 'application/json'), Buffer.from('{'));
    // A function URL body filling the rest exactly: at the budget, all but its last byte sent.
    const rest = Buffer.alloc(budget - PACKAGE_REQUEST_MAX_BYTES, 'a');
    const held = open(post(path, rest.length, 'text/plain'), rest.subarray(0, rest.length - 1));
    onTestFinished(() => {
      big.socket.destroy();
      held.socket.destroy();
    });
    await until(() => server.requestBodyBytes === budget);
    // Over it by one byte: a function URL answers as when throttled, at once (its body is never read).
    const over = await open(post(path, 1), Buffer.from('x')).answer;
    expect(over).toEqual({ status: 429, body: JSON.stringify({ message: 'Too Many Requests' }) });
    // ... and a chunked body is refused as its first byte arrives.
    const chunked = await open(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`, Buffer.from('3\r\nabc\r\n')).answer;
    expect(chunked.status).toBe(429);
    // The Lambda API says it in its own words.
    const api = await open(post('/2015-03-31/functions/len/invocations', 2, 'application/json'), Buffer.from('{}')).answer;
    expect(api.status).toBe(429);
    expect(JSON.parse(api.body)).toMatchObject({ Type: 'User', Message: expect.stringMatching(/^Rate exceeded: the server holds 70254592 bytes of request bodies at most \(its maxRequestBodiesMb\)/) });
    // Nothing of the refused bodies was kept.
    expect(server.requestBodyBytes).toBe(budget);
    // The URL body completes: answered, its bytes are given back.
    held.socket.write(rest.subarray(rest.length - 1));
    const done = await held.answer;
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body)).toEqual({ length: rest.length, b64: false });
    await until(() => server.requestBodyBytes === PACKAGE_REQUEST_MAX_BYTES);
    // The CreateFunction's client gives up: its bytes are given back too.
    big.socket.destroy();
    await until(() => server.requestBodyBytes === 0);
    // Under the budget again: a small body (and a chunked one) is served.
    const small = await open(post(path, 3), Buffer.from('abc')).answer;
    expect(small).toMatchObject({ status: 200 });
    const chunkedOk = await open(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, Buffer.alloc(0)).answer;
    expect(JSON.parse(chunkedOk.body)).toEqual({ length: 3, b64: false });
    expect(server.requestBodyBytes).toBe(0);
  }, 60_000);
});
