/**
 * `rt.invoke(name, bytes)`: a Uint8Array (a Buffer) or an ArrayBuffer is the invocation's payload,
 * as the AWS SDK's InvokeCommand takes `Payload` (`Buffer.from(JSON.stringify(event))`) and as the
 * Invoke API takes its body: the handler gets the event JSON.parse makes of the bytes' UTF-8 text;
 * empty bytes are `{}` (Invoke with no body); bytes that are not JSON are
 * InvalidRequestContentException in the Invoke API's words (test/http/lambda-api.test.ts checks the
 * same words over HTTP); the 6 MB (synchronous) and 1 MiB (Event) limits count the bytes. Before,
 * a Buffer reached the handler as `{ type: 'Buffer', data: [...] }` (JSON.stringify's view of it).
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestContentException, RequestTooLargeException } from '../../src/index.ts';
import { serializeAsyncEvent, serializeEvent } from '../../src/invoke/event.ts';
import { deployFiles, withRuntime } from '../helpers/runtime.ts';

const ECHO = 'export const handler = async (event) => ({ event, type: typeof event, isArray: Array.isArray(event) });';

/** JSON.parse's own words for `text` (the message after the Invoke API's prefix). */
function parseError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} parses`);
}

describe('rt.invoke with the payload as bytes', () => {
  it('a Buffer, a Uint8Array and an ArrayBuffer of JSON reach the handler as the event JSON.parse makes of them; empty bytes are {}', async () => {
    await withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'echo', ECHO);
      const event = { order: 7, note: 'crème brûlée ✓', items: [1, 2.5, null], nested: { ok: true } };
      const text = JSON.stringify(event);
      const utf8 = new TextEncoder().encode(text);
      for (const payload of [Buffer.from(text), utf8, utf8.buffer.slice(0), new Uint8Array([0x20, ...utf8, 0x0a]).subarray(1)]) {
        expect((await rt.invoke('echo', payload)).payload).toEqual({ event, type: 'object', isArray: false });
      }
      // Any JSON value, as the Invoke API takes it: the runtime client JSON.parses the body.
      expect((await rt.invoke('echo', Buffer.from('[1,"two"]'))).payload).toEqual({ event: [1, 'two'], type: 'object', isArray: true });
      expect((await rt.invoke('echo', Buffer.from('"text"'))).payload).toEqual({ event: 'text', type: 'string', isArray: false });
      expect((await rt.invoke('echo', Buffer.alloc(0))).payload).toEqual({ event: {}, type: 'object', isArray: false });
    }, 'v8');
  });

  it("bytes that are not JSON are InvalidRequestContentException in the Invoke API's words, and nothing runs", async () => {
    await withRuntime(async ({ rt }) => {
      await deployFiles(rt, 'echo', ECHO);
      for (const text of ['{"a":1,}', 'not json', '{"a":1}}']) {
        const failure = await rt.invoke('echo', Buffer.from(text)).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(InvalidRequestContentException);
        expect((failure as Error).message).toBe(`Could not parse request body into json: Could not parse payload into json: ${parseError(text)}`);
      }
      // Event and DryRun check the bytes the same way before anything is queued.
      await expect(rt.invoke('echo', Buffer.from('nope'), { invocationType: 'Event' })).rejects.toThrow(InvalidRequestContentException);
      await expect(rt.invoke('echo', Buffer.from('nope'), { invocationType: 'DryRun' })).rejects.toThrow(InvalidRequestContentException);
      expect(rt.metrics().functions.find((f) => f.functionName === 'echo')?.Invocations ?? 0).toBe(0);
    }, 'v8');
  });

  it('an Event invoke of bytes runs with the parsed event', async () => {
    await withRuntime(async ({ rt, logs }) => {
      await deployFiles(rt, 'sink', 'export const handler = async (event) => { console.log(typeof event, JSON.stringify(event)); };');
      const queued = await rt.invoke('sink', Buffer.from('{"job":42}'), { invocationType: 'Event' });
      expect(queued.statusCode).toBe(202);
      await rt.eventsIdle();
      expect(logs.forRequest(queued.requestId).filter((line) => line.endsWith('\tINFO\tobject {"job":42}'))).toHaveLength(1);
    }, 'v8');
  });
});

describe('every binary form of the payload is its bytes (a BufferSource, as TextDecoder.decode and fetch take it)', () => {
  const text = '{"a":[1,"é"]}';
  const utf8 = (): Uint8Array => new TextEncoder().encode(text);

  it('a SharedArrayBuffer, a view on one, a DataView, any typed array and a view of another realm are their bytes, not JSON.stringify of the object', async () => {
    const { runInNewContext } = await import('node:vm');
    const bytes = utf8();
    const shared = new SharedArrayBuffer(bytes.length + 4);
    new Uint8Array(shared, 2).set(bytes);
    const plain = bytes.buffer.slice(0);
    const forms: unknown[] = [
      new Uint8Array(shared, 2, bytes.length),
      shared.slice(2, 2 + bytes.length),
      new DataView(plain),
      new Int8Array(plain),
      new Uint8ClampedArray(plain),
      new Uint16Array(utf8().buffer), // 14 bytes: 7 elements
      runInNewContext('new Uint8Array(bytes)', { bytes: [...bytes] }),
      runInNewContext('new Uint8Array(bytes).buffer', { bytes: [...bytes] }),
    ];
    for (const form of forms) expect(serializeEvent(form), Object.prototype.toString.call(form)).toBe(text);
    // Bytes that are not JSON text: refused, never an object of their elements.
    expect(() => serializeEvent(new Float64Array([1.5]))).toThrow(InvalidRequestContentException);
  });

  it('a detached ArrayBuffer, and a view on one, are empty bytes: {}', () => {
    const buffer = new ArrayBuffer(8);
    const view = new Uint8Array(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expect(serializeEvent(buffer)).toBe('{}');
    expect(serializeEvent(view)).toBe('{}');
    expect(serializeEvent(new DataView(new ArrayBuffer(0)))).toBe('{}');
  });

  it("the limits count a view's own bytes, not its buffer's: a JSON string of 6 MB, one under and one over, inside a larger buffer", () => {
    const max = 6_291_456;
    /** A JSON string of `bytes` bytes with 3 bytes of non-JSON either side in the buffer. */
    const inside = (bytes: number): Uint8Array => Buffer.from(`xx{"${'a'.repeat(bytes - 2)}"}yy`).subarray(3, 3 + bytes);
    expect(serializeEvent(inside(max)).length).toBe(max);
    expect(serializeEvent(inside(max - 1)).length).toBe(max - 1);
    expect(() => serializeEvent(inside(max + 1))).toThrow(RequestTooLargeException);
    expect(() => serializeEvent(new DataView(Buffer.from(`{"${'a'.repeat(max - 1)}"}`).buffer, 1, max + 1))).toThrow(RequestTooLargeException);
  });
});

describe("bytes that are not UTF-8 in a string are InvalidRequestContentException in Lambda's words (Jackson's), not U+FFFD", () => {
  const prefix = 'Could not parse request body into json: Could not parse payload into json: ';
  const inString = (...bytes: number[]): Buffer => Buffer.from([0x22, ...bytes, 0x22]);

  it('a byte no character starts with: "Invalid UTF-8 start byte 0x97" (awsdocs/aws-lambda-developer-guide#382)', () => {
    expect(() => serializeEvent(inString(0x97))).toThrow(new InvalidRequestContentException(`${prefix}Invalid UTF-8 start byte 0x97`));
    expect(() => serializeEvent(inString(0x61, 0xff))).toThrow(`${prefix}Invalid UTF-8 start byte 0xff`);
    expect(() => serializeEvent(Buffer.from([0x7b, ...Buffer.from('"k":'), ...inString(0xf8, 0x80, 0x80, 0x80, 0x80), 0x7d]))).toThrow(`${prefix}Invalid UTF-8 start byte 0xf8`);
  });

  it('a byte after a start byte that does not continue it: "Invalid UTF-8 middle byte 0x28" (aws-samples/aws-waf-ipset-auto-update-aws-ip-ranges#1)', () => {
    expect(() => serializeEvent(inString(0xe2, 0x28, 0xa1))).toThrow(`${prefix}Invalid UTF-8 middle byte 0x28`);
    // A sequence cut short by the string's end: its quote is the middle byte.
    expect(() => serializeEvent(inString(0xf0, 0x9f, 0x98))).toThrow(`${prefix}Invalid UTF-8 middle byte 0x22`);
  });

  it('well-formed UTF-8 of every length is taken as before (1 to 4 bytes, the last code point)', () => {
    const text = JSON.stringify({ s: 'a é ✓ 😀 \u{10FFFF}' });
    expect(serializeEvent(Buffer.from(text))).toBe(text);
  });
});

describe("the payload limits count the bytes (Lambda's quotas: 6 MB synchronous, 1 MiB Event)", () => {
  /** A JSON string of exactly `bytes` UTF-8 bytes. */
  const jsonOf = (bytes: number): Buffer => Buffer.from(`"${'a'.repeat(bytes - 2)}"`);

  it('synchronous: 6,291,456 bytes accepted (one under too), one more RequestTooLargeException', () => {
    expect(serializeEvent(jsonOf(6_291_455)).length).toBe(6_291_455);
    expect(serializeEvent(jsonOf(6_291_456)).length).toBe(6_291_456);
    expect(() => serializeEvent(jsonOf(6_291_457))).toThrow(RequestTooLargeException);
    expect(() => serializeEvent(jsonOf(6_291_457))).toThrow('Request must be smaller than 6291456 bytes for the InvokeFunction operation');
  });

  it('bytes over 6 MB are RequestTooLargeException before they are read, JSON or not (as the Invoke API\'s body limit answers them over HTTP), one under still parsed', () => {
    const tooLarge = 'Request must be smaller than 6291456 bytes for the InvokeFunction operation';
    // Before, these were parsed first: InvalidRequestContentException "Unexpected token 'a'" / "Unexpected end of JSON input".
    expect(() => serializeEvent(Buffer.alloc(6_291_457, 0x61))).toThrow(tooLarge);
    expect(() => serializeEvent(Buffer.alloc(6_291_457, 0x20))).toThrow(tooLarge);
    expect(() => serializeEvent(Buffer.from([0x22, ...Buffer.alloc(6_291_455, 0x61), 0xff, 0x22]))).toThrow(tooLarge);
    expect(() => serializeEvent(Buffer.alloc(6_291_456, 0x61))).toThrow(InvalidRequestContentException);
    expect(() => serializeEvent(Buffer.alloc(6_291_455, 0x61))).toThrow(InvalidRequestContentException);
  });

  it('Event: 1,048,576 bytes accepted (one under too), one more RequestTooLargeException in Lambda\'s words', () => {
    expect(serializeAsyncEvent(jsonOf(1_048_575)).length).toBe(1_048_575);
    expect(serializeAsyncEvent(jsonOf(1_048_576)).length).toBe(1_048_576);
    expect(() => serializeAsyncEvent(jsonOf(1_048_577))).toThrow('1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)');
  });
});
