/**
 * src/invoke/result.ts: a large response (64 Ki UTF-16 units or more) is parsed only when `payload`
 * is first read, so the Lambda API's Invoke can answer with the text the function's runtime sent
 * instead of parsing it on the host's thread and serialising it again (issue #15: ~270 ms of event
 * loop for a 5.5 MB object). The result must look and behave as an eagerly parsed one.
 */
import { describe, expect, it } from 'vitest';
import { responseTextOf, toInvokeResult, type Report } from '../../src/invoke/result.ts';

const REPORT: Report = { durationMs: 1, billedDurationMs: 1, initDurationMs: undefined, restoreDurationMs: undefined, maxMemoryUsedMb: 64 };
const LAZY = 64 * 1024;
const ok = (payload: string) => toInvokeResult({ ok: true, payload } as never, 'req', false, REPORT, undefined, '$LATEST');

/** A JSON object text of exactly `chars` UTF-16 units. */
function objectText(chars: number): string {
  const head = '{"s":"';
  const tail = '"}';
  return head + 'x'.repeat(chars - head.length - tail.length) + tail;
}

describe('a large response is parsed on first read', () => {
  it('at, just under and just over the threshold: the same keys in the same order, the same payload; only from the threshold up is the text kept', () => {
    for (const chars of [LAZY - 1, LAZY, LAZY + 1]) {
      const text = objectText(chars);
      const result = ok(text);
      expect(Object.keys(result)).toEqual(['statusCode', 'executedVersion', 'requestId', 'coldStart', 'durationMs', 'billedDurationMs', 'maxMemoryUsedMb', 'tmpUsedBytes', 'payload']);
      expect(responseTextOf(result)).toBe(chars >= LAZY ? text : undefined);
      expect(result.payload).toEqual(JSON.parse(text));
      // Once read, it is a plain value: the text is no longer what the result says.
      expect(responseTextOf(result)).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor(result, 'payload')).toMatchObject({ writable: true, enumerable: true, configurable: true });
    }
  });

  it('serialises, spreads and compares like an eager result, and an assignment before any read replaces it', () => {
    const text = JSON.stringify({ list: Array.from({ length: 20_000 }, (_, i) => i) });
    expect(text.length).toBeGreaterThanOrEqual(LAZY);
    expect(JSON.parse(JSON.stringify(ok(text))).payload).toEqual(JSON.parse(text));
    expect({ ...ok(text) }.payload).toEqual(JSON.parse(text));
    expect(ok(text)).toEqual({ ...ok(text), payload: JSON.parse(text) });
    const replaced = ok(text) as { payload: unknown };
    replaced.payload = 'mine';
    expect(replaced.payload).toBe('mine');
    expect(responseTextOf(replaced as never)).toBeUndefined();
  });

  it('a large text that is not JSON is Runtime.MalformedResponse at once, as a small one is', () => {
    for (const text of ['{bad', `{"s":"${'x'.repeat(LAZY)}",}`]) {
      const result = ok(text);
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toMatchObject({ errorType: 'Runtime.MalformedResponse' });
      expect(responseTextOf(result)).toBeUndefined();
    }
  });
});
