/**
 * Issue #15 (red team: uncapped function-error payloads): an outcome longer than Lambda's response
 * limit (6 MiB + 100 B, lambda-compat.md "Platform error types") never crosses the sandbox boundary
 * whole — the guest runtime sends Function.ResponseSizeTooLarge in its place, so the host holds at
 * most about the limit. Characters above the limit are over it in any encoding; the host counts the
 * exact UTF-8 bytes of what does cross (test/conformance/bad-input.test.ts, at/under/over).
 */
import { describe, expect, it } from 'vitest';
import { RESPONSE_PAYLOAD_MAX_BYTES } from '../../../src/config/limits.ts';
import { decodeReply, encodeReply, RESPONSE_TOO_LARGE, type GuestReply } from '../../../src/engines/guest/protocol.ts';

const counters = { fatal: false, nextTimerInMs: -1, logCount: 3 } as const;
/** A thrown string's shape whose JSON is exactly `chars` long. */
function errorOfLength(chars: number): GuestReply {
  const overhead = JSON.stringify({ errorType: 'string', errorMessage: '', trace: [] }).length;
  return { done: true, ok: false, error: { errorType: 'string', errorMessage: 'e'.repeat(chars - overhead), trace: [] }, ...counters };
}

describe('encodeReply: outcomes over the response limit', () => {
  it('an error of exactly the limit, or one under it, crosses whole', () => {
    for (const chars of [RESPONSE_PAYLOAD_MAX_BYTES - 1, RESPONSE_PAYLOAD_MAX_BYTES]) {
      const decoded = decodeReply(encodeReply(errorOfLength(chars)));
      expect(decoded.done && !decoded.ok && JSON.stringify(decoded.error).length).toBe(chars);
    }
  });

  it('an error one character over the limit crosses as Function.ResponseSizeTooLarge, counters kept', () => {
    const text = encodeReply(errorOfLength(RESPONSE_PAYLOAD_MAX_BYTES + 1));
    expect(text.length).toBeLessThan(200);
    expect(decodeReply(text)).toEqual({ done: true, ok: false, error: RESPONSE_TOO_LARGE, ...counters });
  });

  it('a 50 MiB error message (with its stack) crosses as about 200 bytes', () => {
    const message = 'x'.repeat(50 * 1024 * 1024);
    const text = encodeReply({ done: true, ok: false, error: { errorType: 'Error', errorMessage: message, trace: [`Error: ${message}`, '    at handler'] }, ...counters });
    expect(text.length).toBeLessThan(200);
    expect(decodeReply(text)).toMatchObject({ ok: false, error: RESPONSE_TOO_LARGE });
  });

  it('a result over the limit in characters crosses as the same error; at the limit it crosses whole', () => {
    const at = `"${'r'.repeat(RESPONSE_PAYLOAD_MAX_BYTES - 2)}"`;
    expect(decodeReply(encodeReply({ done: true, ok: true, payload: at, ...counters }))).toMatchObject({ ok: true, payload: at });
    const over = `"${'r'.repeat(RESPONSE_PAYLOAD_MAX_BYTES - 1)}"`;
    expect(decodeReply(encodeReply({ done: true, ok: true, payload: over, ...counters }))).toMatchObject({ ok: false, error: RESPONSE_TOO_LARGE });
  });
});
