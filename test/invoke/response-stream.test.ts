/**
 * rt.invokeWithResponseStream: Lambda's InvokeWithResponseStream (API_InvokeWithResponseStream.html)
 * over the runtime client's streaming handlers (aws-lambda-nodejs-runtime-interface-client
 * src/ResponseStream.js, src/HttpResponseStream.js, src/Runtime.js `handleOnceStreaming`), on every
 * JS engine and isolation mode: in-process v8, quickjs on worker threads, and both under process
 * isolation, where the bytes cross the thread and process boundary.
 *
 * No case depends on timing: "as they are written" is shown with a gate — the handler writes, then
 * waits on a fetch that the test's egress.fetch answers only after it has read the bytes written.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { STREAM_IN_FLIGHT_BYTES_MAX, STREAM_RESPONSE_MAX_BYTES } from '../../src/config/index.ts';
import { createRuntime, InvalidParameterValueException, ResourceNotFoundException, type Runtime } from '../../src/index.ts';
import { HTTP_INTEGRATION_CONTENT_TYPE, StreamedResponse, type ResponseStreamOptions } from '../../src/invoke/response-stream.ts';
import { httpApiEvent } from '../../src/testing/index.ts';
import { RUNTIME_MODES as MODES, type RuntimeMode as Mode } from '../helpers/modes.ts';
import { captureLogs, type CapturedLogs } from '../helpers/runtime.ts';

/** One gate per test: the handler's `await fetch('http://gate.test/<n>')` waits until the test opens gate n. */
class Gates {
  readonly #waiting = new Map<string, () => void>();
  readonly #arrived = new Map<string, Promise<void>>();
  readonly #arrive = new Map<string, () => void>();

  /** Resolves when the handler reached gate `n`. */
  reached(n: string): Promise<void> {
    let promise = this.#arrived.get(n);
    if (!promise) {
      promise = new Promise<void>((resolve) => this.#arrive.set(n, resolve));
      this.#arrived.set(n, promise);
    }
    return promise;
  }

  open(n: string): void {
    this.#waiting.get(n)?.();
  }

  readonly fetch = async (request: Request): Promise<Response> => {
    const n = new URL(request.url).pathname.slice(1);
    const opened = new Promise<void>((resolve) => this.#waiting.set(n, resolve));
    void this.reached(n);
    this.#arrive.get(n)!();
    await opened;
    return new Response('open');
  };
}

async function withMode<T>(mode: Mode, body: (rt: Runtime, logs: CapturedLogs, gates: Gates) => Promise<T>): Promise<T> {
  const logs = captureLogs();
  const rt = await createRuntime({ ...mode.options, logSink: logs });
  try {
    return await body(rt, logs, new Gates());
  } finally {
    await rt.close();
  }
}

/**
 * Every byte a Readable holds, chunk by chunk: `read()` without a size returned only the first
 * chunk on Node 26 in CI ('1234567' of '1234567' + '8'), where Node 24 returned all of them.
 */
function buffered(stream: Readable): Buffer {
  const chunks: Buffer[] = [];
  for (let chunk: Buffer | null; (chunk = stream.read() as Buffer | null) !== null; ) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function deploy(rt: Runtime, mode: Mode, name: string, source: string, gates?: Gates, timeoutMs?: number): Promise<unknown> {
  return rt.deploy({
    name,
    engine: mode.engine,
    code: { files: { 'index.mjs': source } },
    ...(gates ? { egress: { allowHosts: ['gate.test'], fetch: gates.fetch } } : {}),
    // Generous by default: a gated handler waits on the test's reads, which a loaded machine slows.
    timeoutMs: timeoutMs ?? 60_000,
  });
}

/** Reads `n` bytes from the stream (several chunks may make them up). */
async function readBytes(iterator: AsyncIterator<Buffer>, n: number): Promise<string> {
  let text = '';
  while (Buffer.byteLength(text) < n) {
    const next = await iterator.next();
    if (next.done) break;
    text += next.value.toString('utf8');
  }
  return text;
}

async function readAll(payload: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of payload) chunks.push(chunk);
  return Buffer.concat(chunks);
}

for (const mode of MODES) {
  describe(`invokeWithResponseStream [${mode.name}]`, () => {
    it('delivers each write before the handler goes on (RIC ResponseStream.js: writes go out as made), then completes', () =>
      withMode(mode, async (rt, logs, gates) => {
        await deploy(rt, mode, 'chunks', `export const handler = awslambda.streamifyResponse(async (event, stream) => {
          stream.setContentType('text/plain');
          stream.write('first;');
          await fetch('http://gate.test/1');
          stream.write({ n: event.n });
          await fetch('http://gate.test/2');
          stream.end(';last');
        });`, gates);
        const res = await rt.invokeWithResponseStream('chunks', { n: 7 });
        expect(res).toMatchObject({ statusCode: 200, executedVersion: '$LATEST', contentType: 'text/plain', prelude: undefined });
        const it = res.payload[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        // The handler is held at gate 1: the first write has reached the reader before it goes on.
        await gates.reached('1');
        expect(await readBytes(it, 'first;'.length)).toBe('first;');
        gates.open('1');
        await gates.reached('2');
        expect(await readBytes(it, '{"n":7}'.length)).toBe('{"n":7}');
        gates.open('2');
        expect(await readBytes(it, ';last'.length)).toBe(';last');
        expect((await it.next()).done).toBe(true);
        const done = await res.completion;
        expect(done).toMatchObject({ statusCode: 200, executedVersion: '$LATEST', requestId: res.requestId, responseBytes: 18, invokeComplete: {} });
        expect(done.functionError).toBeUndefined();
        expect(logs.forRequest(res.requestId).some((l) => l.startsWith(`END RequestId: ${res.requestId}`))).toBe(true);
      }));

    it('a throw mid-stream: the bytes written stay delivered, InvokeComplete carries ErrorCode and ErrorDetails (RIC ResponseStream.js error trailers), the Invoke Error line is logged', () =>
      withMode(mode, async (rt, logs) => {
        await deploy(rt, mode, 'midstream', "export const handler = awslambda.streamifyResponse(async (e, s) => { s.write('partial'); await new Promise((r) => setTimeout(r, 1)); throw new Error('mid-stream'); });");
        const res = await rt.invokeWithResponseStream('midstream', {}, { logType: 'Tail' });
        expect((await readAll(res.payload)).toString()).toBe('partial');
        const done = await res.completion;
        expect(done.functionError).toBe('Unhandled');
        expect(done.invokeComplete).toMatchObject({ ErrorCode: 'Error', ErrorDetails: 'mid-stream' });
        expect(Buffer.from(done.invokeComplete.LogResult!, 'base64').toString()).toContain('Invoke Error');
        expect(done.error).toMatchObject({ errorType: 'Error', errorMessage: 'mid-stream' });
        expect(logs.forRequest(res.requestId).some((l) => l.includes('\tERROR\tInvoke Error \t{"errorType":"Error","errorMessage":"mid-stream"'))).toBe(true);
      }));

    it('backpressure: a reader that has not read holds at most maxInFlightBytes on the host; every byte still arrives, in order', () =>
      withMode(mode, async (rt, _logs, gates) => {
        // 256 writes of 1 KiB without waiting for 'drain': the rest waits in the guest's Writable.
        await deploy(rt, mode, 'pressure', `export const handler = awslambda.streamifyResponse(async (e, s) => {
          let refused = 0;
          for (let i = 0; i < 256; i++) if (!s.write(String(i % 10).repeat(1024))) refused++;
          await fetch('http://gate.test/queued');
          s.end(String(refused > 0));
        });`, gates);
        const res = await rt.invokeWithResponseStream('pressure', {}, { maxInFlightBytes: 4096 });
        await gates.reached('queued');
        gates.open('queued');
        const body = await readAll(res.payload);
        const expected = Array.from({ length: 256 }, (_, i) => String(i % 10).repeat(1024)).join('') + 'true';
        expect(body.length).toBe(expected.length);
        expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(expected).digest('hex'));
        const done = await res.completion;
        expect(done.functionError).toBeUndefined();
        expect(done.peakBufferedBytes).toBeGreaterThan(0);
        expect(done.peakBufferedBytes).toBeLessThanOrEqual(4096);
      }));

    it("hono/aws-lambda's streamHandle, unchanged: the prelude as metadata, then the streamed text", () =>
      withMode(mode, async (rt) => {
        await rt.deploy({ name: 'hono-stream', engine: mode.engine, timeoutMs: 60_000, code: { entry: new URL('../conformance/fixtures/hono-stream.ts', import.meta.url).pathname }, handler: 'hono-stream.handler' });
        const res = await rt.invokeWithResponseStream('hono-stream', httpApiEvent({ rawPath: '/stream' }), { stripPrelude: true });
        expect(res.contentType).toBe(HTTP_INTEGRATION_CONTENT_TYPE);
        expect(res.prelude).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/plain; charset=UTF-8' } });
        expect((await readAll(res.payload)).toString()).toBe('one two');
        expect((await res.completion).functionError).toBeUndefined();
      }));

    it('HttpResponseStream.from: the prelude (RIC HttpResponseStream.js) is parsed as metadata; payload keeps it and the 8 NUL bytes unless stripPrelude', () =>
      withMode(mode, async (rt) => {
        await deploy(rt, mode, 'prelude', `export const handler = awslambda.streamifyResponse(async (e, s) => {
          s = awslambda.HttpResponseStream.from(s, { statusCode: 201, headers: { 'x-a': 'b' }, cookies: ['c=1'] });
          s.write('body');
          s.end();
        });`);
        const prelude = '{"statusCode":201,"headers":{"x-a":"b"},"cookies":["c=1"]}';
        const raw = await rt.invokeWithResponseStream('prelude', {});
        expect(raw.contentType).toBe('application/vnd.awslambda.http-integration-response');
        expect(raw.prelude).toEqual({ statusCode: 201, headers: { 'x-a': 'b' }, cookies: ['c=1'] });
        expect((await readAll(raw.payload)).toString('latin1')).toBe(`${prelude}${'\0'.repeat(8)}body`);
        expect((await raw.completion).responseBytes).toBe(prelude.length + 8 + 4);
        const stripped = await rt.invokeWithResponseStream('prelude', {}, { stripPrelude: true });
        expect(stripped.prelude).toEqual({ statusCode: 201, headers: { 'x-a': 'b' }, cookies: ['c=1'] });
        expect((await readAll(stripped.payload)).toString('latin1')).toBe('body');
      }));
  });
}

describe('invokeWithResponseStream [v8]: limits and edge cases', () => {
  const mode = MODES[0]!;

  it('the response limit (200 MB, configuration-response-streaming.html; injected lower here): at it and under it complete, over it is Function.ResponseSizeTooLarge with the first bytes up to the limit delivered', () =>
    withMode(mode, async (rt) => {
      // e.n bytes, written 7 at a time, so the limit falls inside a write.
      await deploy(rt, mode, 'sized', "export const handler = awslambda.streamifyResponse(async (e, s) => { for (let i = 0; i < e.n; i += 7) s.write('x'.repeat(Math.min(7, e.n - i))); s.end(); });");
      const limit = 100;
      for (const [n, cut] of [[99, false], [100, false], [101, true]] as const) {
        const res = await rt.invokeWithResponseStream('sized', { n }, { maxResponseBytes: limit });
        const body = await readAll(res.payload);
        const done = await res.completion;
        if (!cut) {
          expect(body.length).toBe(n);
          expect(done.functionError).toBeUndefined();
        } else {
          expect(body.length).toBe(limit);
          expect(done.responseBytes).toBe(limit);
          expect(done.invokeComplete).toMatchObject({ ErrorCode: 'Function.ResponseSizeTooLarge', ErrorDetails: `Response payload size exceeded maximum allowed payload size (${limit} bytes).` });
        }
      }
      // The environment survives a cut response: the next invoke is warm.
      const next = await rt.invokeWithResponseStream('sized', { n: 1 });
      await readAll(next.payload);
      expect((await next.completion).coldStart).toBe(false);
    }));

  it('stream options are checked: maxResponseBytes 1 to 209715200, maxInFlightBytes 1 to 67108864, stripPrelude a boolean (InvalidParameterValueException naming the field)', () =>
    withMode(mode, async (rt) => {
      await deploy(rt, mode, 'opts', "export const handler = awslambda.streamifyResponse(async (e, s) => { s.end('ok'); });");
      for (const [options, field] of [
        [{ maxResponseBytes: 0 }, 'maxResponseBytes'],
        [{ maxResponseBytes: STREAM_RESPONSE_MAX_BYTES + 1 }, 'maxResponseBytes'],
        [{ maxInFlightBytes: 0 }, 'maxInFlightBytes'],
        [{ maxInFlightBytes: STREAM_IN_FLIGHT_BYTES_MAX + 1 }, 'maxInFlightBytes'],
        [{ maxInFlightBytes: 1.5 }, 'maxInFlightBytes'],
        [{ stripPrelude: 'yes' }, 'stripPrelude'],
      ] as const) {
        const error = await rt.invokeWithResponseStream('opts', {}, options as never).then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidParameterValueException);
        expect((error as InvalidParameterValueException).field).toBe(field);
      }
      for (const options of [{ maxResponseBytes: 1 }, { maxResponseBytes: STREAM_RESPONSE_MAX_BYTES }, { maxInFlightBytes: 1 }, { maxInFlightBytes: STREAM_IN_FLIGHT_BYTES_MAX }]) {
        const res = await rt.invokeWithResponseStream('opts', {}, options);
        expect((await readAll(res.payload)).toString()).toBe(options.maxResponseBytes === 1 ? 'o' : 'ok');
      }
      // An invoke option the stream does not know is still refused by rt.invoke's own checks.
      await expect(rt.invokeWithResponseStream('opts', {}, { logType: 'Everything' } as never)).rejects.toMatchObject({ field: 'logType' });
      await expect(rt.invokeWithResponseStream('missing', {})).rejects.toBeInstanceOf(ResourceNotFoundException);
    }));

  it('a handler that is not streamified: its JSON response is one chunk, content type application/json (RIC rapid-client.cc Done); its error is in InvokeComplete', () =>
    withMode(mode, async (rt) => {
      await deploy(rt, mode, 'buffered', "export const handler = async (e) => { if (e.fail) throw new TypeError('no'); return { a: 1, s: 'é' }; };");
      const res = await rt.invokeWithResponseStream('buffered', {});
      expect(res.contentType).toBe('application/json');
      const chunks: Buffer[] = [];
      for await (const chunk of res.payload) chunks.push(chunk as Buffer);
      expect(chunks.map((c) => c.toString())).toEqual(['{"a":1,"s":"é"}']);
      expect((await res.completion).functionError).toBeUndefined();
      const failed = await rt.invokeWithResponseStream('buffered', { fail: true });
      expect((await readAll(failed.payload)).length).toBe(0);
      expect((await failed.completion).invokeComplete).toMatchObject({ ErrorCode: 'TypeError', ErrorDetails: 'no' });
    }));

  it('a reader that never reads: the guest waits for room and the function times out (Sandbox.Timedout in InvokeComplete), holding no more than the bound', () =>
    withMode(mode, async (rt) => {
      await deploy(rt, mode, 'stalled', "export const handler = awslambda.streamifyResponse(async (e, s) => { for (let i = 0; i < 64; i++) s.write('y'.repeat(1024)); s.end(); });", undefined, 1000);
      const res = await rt.invokeWithResponseStream('stalled', {}, { maxInFlightBytes: 2048 });
      const done = await res.completion;
      expect(done.invokeComplete.ErrorCode).toBe('Sandbox.Timedout');
      expect(res.payload.readableLength).toBeLessThanOrEqual(2048);
      expect(done.peakBufferedBytes).toBeLessThanOrEqual(2048);
    }));

  it('a reader that destroys the payload leaves: the rest is discarded and the function runs to its end', () =>
    withMode(mode, async (rt) => {
      await deploy(rt, mode, 'left', "export const handler = awslambda.streamifyResponse(async (e, s) => { for (let i = 0; i < 64; i++) s.write('z'.repeat(1024)); s.end(); });");
      const res = await rt.invokeWithResponseStream('left', {}, { maxInFlightBytes: 1024 });
      res.payload.destroy();
      const done = await res.completion;
      expect(done.functionError).toBeUndefined();
      expect(done.responseBytes).toBe(64 * 1024);
    }));

  it("setContentType with a character a header cannot hold throws Node's ERR_INVALID_CHAR (the runtime client's req.setHeader)", () =>
    withMode(mode, async (rt) => {
      await deploy(rt, mode, 'badtype', "export const handler = awslambda.streamifyResponse(async (e, s) => { try { s.setContentType('text/plain\\r\\nx: 1'); } catch (err) { s.end(`${err.name} ${err.code} ${err.message}`); } });");
      const res = await rt.invokeWithResponseStream('badtype', {});
      expect(res.contentType).toBe('application/octet-stream');
      expect((await readAll(res.payload)).toString()).toBe('TypeError ERR_INVALID_CHAR Invalid character in header content ["Content-Type"]');
    }));

  it('a write still waiting for room when the handler fails goes nowhere: the next streamed invocation gets only its own bytes', () =>
    withMode(mode, async (rt, _logs, gates) => {
      // The first invocation queues 8 KiB behind a 1 KiB bound, then throws while the reader waits.
      await deploy(rt, mode, 'abandon', `export const handler = awslambda.streamifyResponse(async (e, s) => {
        if (e.fail) { s.write('a'.repeat(8192)); await fetch('http://gate.test/queued'); throw new Error('gave up'); }
        await new Promise((r) => setTimeout(r, 20)); // ticks: the first invocation's poll timer, long due, runs in one of them
        s.end('second');
      });`, gates);
      const first = await rt.invokeWithResponseStream('abandon', { fail: true }, { maxInFlightBytes: 1024 });
      await gates.reached('queued');
      gates.open('queued');
      const done = await first.completion;
      expect(done.invokeComplete).toMatchObject({ ErrorCode: 'Error', ErrorDetails: 'gave up' });
      expect(done.responseBytes).toBe(1024);
      const second = await rt.invokeWithResponseStream('abandon', {}, { maxInFlightBytes: 1024 });
      expect((await readAll(second.payload)).toString()).toBe('second');
      const after = await second.completion;
      expect(after.coldStart).toBe(false);
      expect(after.functionError).toBeUndefined();
      expect(after.responseBytes).toBe('second'.length);
    }));

  it('a plain rt.invoke of a streaming function still returns the whole body as its payload', () =>
    withMode(mode, async (rt) => {
      await deploy(rt, mode, 'plain', "export const handler = awslambda.streamifyResponse(async (e, s) => { s.write('a'); s.end('b'); });");
      expect((await rt.invoke('plain', {})).payload).toBe('ab');
    }));
});

describe('StreamedResponse (the host side): what an untrusted guest may send', () => {
  const options = (o: Partial<ResponseStreamOptions> = {}): ResponseStreamOptions => ({ stripPrelude: false, maxInFlightBytes: 8, maxResponseBytes: 100, ...o });
  const heads: unknown[] = [];
  const sink = (o?: Partial<ResponseStreamOptions>): StreamedResponse => new StreamedResponse(options(o), (head) => heads.push(head));

  it('never more bytes than the room it gave: at the room, taken; one over, refused (environment/response-sink.ts contract)', () => {
    const s = sink();
    expect(s.room()).toBe(8);
    expect(s.write('text/plain', Buffer.from('1234567'))).toBe(1);
    expect(() => s.write('text/plain', Buffer.from('89'))).toThrow(new RangeError('stream.write: 2 bytes sent with room for 1'));
    expect(s.write('text/plain', Buffer.from('8'))).toBe(0);
    expect(() => s.write('text/plain', Buffer.from('9'))).toThrow(RangeError);
    expect(buffered(s.payload).toString()).toBe('12345678');
    expect(s.room()).toBe(8);
    expect(s.peakBufferedBytes).toBe(8);
  });

  it("a content type that cannot be a header is refused, as Node's setHeader refuses it (lib/_http_common.js checkInvalidHeaderChar)", () => {
    expect(() => sink().write('text/plain\r\nx-injected: 1', Buffer.alloc(0))).toThrow(new TypeError('Invalid character in header content ["Content-Type"]'));
    expect(() => sink().end('a\u0000b')).toThrow(TypeError);
    expect(() => sink().end('text/plain; charset=utf-8')).not.toThrow();
  });

  it('an HTTP-integration stream with no delimiter within the in-flight bound is not a prelude: its bytes pass as they are', () => {
    const s = sink({ maxInFlightBytes: 8, stripPrelude: true });
    expect(s.write(HTTP_INTEGRATION_CONTENT_TYPE, Buffer.from('{"a":1}'))).toBe(1); // held: 7 of 8
    expect(s.payload.readableLength).toBe(0);
    expect(s.write(HTTP_INTEGRATION_CONTENT_TYPE, Buffer.from('x'))).toBe(0); // 8 held: given up
    expect(buffered(s.payload).toString()).toBe('{"a":1}x');
    expect(heads.at(-1)).toEqual({ contentType: HTTP_INTEGRATION_CONTENT_TYPE, prelude: undefined });
  });

  it('a prelude that is not a JSON object is no prelude: nothing is stripped', () => {
    const s = sink({ maxInFlightBytes: 64, stripPrelude: true });
    s.write(HTTP_INTEGRATION_CONTENT_TYPE, Buffer.from(`[1]${'\0'.repeat(8)}body`, 'latin1'));
    expect(heads.at(-1)).toEqual({ contentType: HTTP_INTEGRATION_CONTENT_TYPE, prelude: undefined });
    expect(buffered(s.payload).toString('latin1')).toBe(`[1]${'\0'.repeat(8)}body`);
  });
});
