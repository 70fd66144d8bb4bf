/**
 * Calls and plain replies as one string across a worker server's port (engines/remote/text-calls.ts,
 * issue #21): each encoded form decodes to exactly the object it was made from, and what the format
 * cannot carry (a call behind a restore, init/restore messages, a request id or extras with a
 * newline, a fault, a fault status) stays an object.
 */
import { describe, expect, it } from 'vitest';
import type { ServerEvent, ServerRequest } from '../../../src/engines/remote/protocol.ts';
import { decodeCall, decodeReply, encodeCall, encodeReply } from '../../../src/engines/remote/text-calls.ts';
import { INIT } from '../../helpers/sandbox.ts';

type Call = Extract<ServerRequest, { t: 'call' }>;
type Reply = Extract<ServerEvent, { t: 'reply' }>;

const deadline = performance.timeOrigin + performance.now() + 3000.123456;

describe('text calls', () => {
  it.each<Call>([
    { t: 'call', id: 7, sb: 3, deadline, message: { type: 'invoke', requestId: 'c0a8f9e2-1b3c-4d5e-8f90-123456789abc', deadlineMs: Date.now() + 3000, extras: '', event: '{"name":"x"}' } },
    { t: 'call', id: 2 ** 31 + 5, sb: 99, deadline, message: { type: 'invoke', requestId: 'r', deadlineMs: 1.5, extras: '{"tenantId":"t\\n1"}', event: '{\n  "multi": "line\\n",\n  "é": "✓"\n}' } },
    { t: 'call', id: 8, sb: 3, deadline, message: { type: 'invoke', requestId: 'r', deadlineMs: 0, extras: '', event: '' } },
    { t: 'call', id: 9, sb: 3, deadline, message: { type: 'status' } },
    { t: 'call', id: 10, sb: 3, deadline, message: { type: 'tick' } },
    { t: 'call', id: 11, sb: 3, deadline, message: { type: 'drain' } },
  ])('a $message.type call round-trips', (call) => {
    const text = encodeCall(call);
    expect(typeof text).toBe('string');
    expect(decodeCall(text!)).toEqual(call);
  });

  it.each<Call>([
    { t: 'call', id: 1, sb: 3, deadline, budgetMs: 10_000, message: { type: 'tick' } },
    { t: 'call', id: 2, sb: 3, deadline, message: INIT },
    { t: 'call', id: 3, sb: 3, deadline, message: { type: 'snapshot' } },
    { t: 'call', id: 4, sb: 3, deadline, message: { type: 'invoke', requestId: 'a\nb', deadlineMs: 1, extras: '', event: '{}' } },
    { t: 'call', id: 5, sb: 3, deadline, message: { type: 'invoke', requestId: 'a', deadlineMs: 1, extras: '{\n}', event: '{}' } },
  ])('call $id stays an object', (call) => {
    expect(encodeCall(call)).toBeUndefined();
  });

  it.each<Reply>([
    { t: 'reply', id: 4, reply: 'o-1,0,{"hi":"x"}', memoryBytes: 1_048_576 },
    { t: 'reply', id: 5, reply: 'o-1,0,"a\\nb"\n', status: '-3,1,', memoryBytes: 8 * 1024 * 1024, busyMs: 0.012345, cpuMs: 0 },
    { t: 'reply', id: 6, reply: '', status: '', memoryBytes: 0, busyMs: 11.5 },
    { t: 'reply', id: 7, reply: '-1,2,é✓', memoryBytes: 3, cpuMs: 12.25 },
  ])('reply $id round-trips', (reply) => {
    const text = encodeReply(reply);
    expect(typeof text).toBe('string');
    expect(decodeReply(text!)).toEqual(reply);
  });

  it.each<Reply>([
    { t: 'reply', id: 1, fault: { kind: 'disposed', message: 'The sandbox was disposed' }, memoryBytes: 0 },
    { t: 'reply', id: 2, reply: 'o-1,0,1', status: { fault: { kind: 'crashed', message: 'x' } }, memoryBytes: 0 },
  ])('reply $id stays an object', (reply) => {
    expect(encodeReply(reply)).toBeUndefined();
  });
});
