import { describe, expect, it } from 'vitest';
import { decodeMessage, decodeReply, encodeMessage, encodeOutcome, encodeReply, traceHeader, type GuestReply } from '../../../src/engines/guest/protocol.ts';

describe('guest reply decoding', () => {
  it('decodeReply: a forged error reply becomes an ErrorShape of strings, a non-object is refused', () => {
    const reply = decodeReply('e-0,0,{"errorType":1,"errorMessage":{"a":1},"trace":5}');
    expect(reply.error).toEqual({ errorType: '1', errorMessage: '[object Object]', trace: [] });
    expect(decodeReply('e-0,0,{"errorType":"E","errorMessage":"m","trace":["a",2,"b"]}').error?.trace).toEqual(['a', 'b']);
    expect(() => decodeReply('e-0,0,42')).toThrow(TypeError);
  });

  it('encodeOutcome gives what encodeReply gives for the same reply: pending, ok, error, fatal', () => {
    const replies: GuestReply[] = [
      { done: false, fatal: false, nextTimerInMs: -1, logCount: 0 },
      { done: false, fatal: true, nextTimerInMs: 12, logCount: 3 },
      { done: true, ok: true, payload: '{"hi":"x"}', fatal: false, nextTimerInMs: -1, logCount: 7 },
      { done: true, ok: true, fatal: false, nextTimerInMs: 0, logCount: 1 },
      { done: true, ok: false, error: { errorType: 'Error', errorMessage: 'boom', trace: ['Error: boom', '    at x'] }, fatal: true, nextTimerInMs: -1, logCount: 2 },
    ];
    const texts = replies.map((reply) => encodeOutcome(reply.done ? reply : undefined, reply.fatal === true, reply.nextTimerInMs, reply.logCount));
    expect(texts).toEqual(replies.map(encodeReply));
    expect(texts).toEqual(['---1,0,', '-f12,3,', 'o--1,7,{"hi":"x"}', 'o-0,1,null', 'ef-1,2,{"errorType":"Error","errorMessage":"boom","trace":["Error: boom","    at x"]}']);
  });
});

describe('invoke message', () => {
  it('carries the X-Ray trace header the host made from the request id (quickjs); the fields around it are intact', () => {
    const requestId = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
    const before = Math.floor(Date.now() / 1000);
    const [type, body] = encodeMessage({ type: 'invoke', requestId, deadlineMs: 1_733_097_600_123, extras: '{"identity":{"a":1}}', event: '{"name":"x\\ny"}' }, true);
    const after = Math.floor(Date.now() / 1000);
    const message = decodeMessage(type, body);
    expect(message).toMatchObject({ type: 'invoke', requestId, deadlineText: '1733097600123', extras: '{"identity":{"a":1}}', event: '{"name":"x\\ny"}' });
    const traceId = (message as { traceId?: string }).traceId ?? '';
    // X-Ray's header as Lambda sets it: Root=1-<epoch seconds, 8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0
    // (https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader).
    const match = /^Root=1-([0-9a-f]{8})-([0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=0$/.exec(traceId);
    expect(match).not.toBeNull();
    const seconds = parseInt(match![1]!, 16);
    expect(seconds).toBeGreaterThanOrEqual(before);
    expect(seconds).toBeLessThanOrEqual(after);
    expect(match![2]).toBe('3f2504e04f8911d39a0c0305');
    expect(match![3]).toBe('9a0c0305e82c3301');
    expect(traceId).toBe(traceHeader(requestId, seconds * 1000));
  });

  it('without the trace header (the guest makes it) and without extras, the empty fields still separate the rest', () => {
    const [type, body] = encodeMessage({ type: 'invoke', requestId: 'r', deadlineMs: 5, extras: '', event: '{}' });
    // The deadline stays the text that crossed until the guest needs it (getRemainingTimeInMillis).
    expect(decodeMessage(type, body)).toEqual({ type: 'invoke', requestId: 'r', deadlineText: '5', extras: '', traceId: '', event: '{}' });
    // A request id that is not a UUID keeps its hex digits, padded to 32 with zeros.
    expect(traceHeader('R-1', 0)).toBe('Root=1-00000000-100000000000000000000000;Parent=0000000000000000;Sampled=0');
  });
});
