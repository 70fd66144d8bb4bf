/**
 * Asynchronous invocation (Lambda API reference, Invoke: InvocationType `Event` answers 202,
 * `DryRun` 204; developer guide, "Asynchronous invocation" and "How Lambda handles errors and
 * retries with asynchronous invocation": two retries after a function error, 1 minute then 2
 * minutes apart, the requestId kept; quotas: 1 MB asynchronous payload). Time is a TestClock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryEventQueue } from '../../src/async/memory-queue.ts';
import { ASYNC_PAYLOAD_MAX_BYTES } from '../../src/config/index.ts';
import { InvalidParameterValueException, RequestTooLargeException, ResourceNotFoundException, type Runtime } from '../../src/index.ts';
import type { CapturedLogs } from '../helpers/runtime.ts';
import { withRt } from '../registry/helpers.ts';
import { RECORDING_HANDLER, TestClock } from './helpers.ts';

const code = { files: { 'index.mjs': RECORDING_HANDLER } };

/** START lines of one request: how many times it ran. */
function starts(logs: CapturedLogs, requestId: string): number {
  return logs.forRequest(requestId).filter((l) => l.startsWith('START')).length;
}

async function withClock(body: (rt: Runtime, logs: CapturedLogs, clock: TestClock) => Promise<void>): Promise<void> {
  const clock = new TestClock();
  await withRt((rt, logs) => body(rt, logs, clock), { eventClock: clock });
}

describe('invoke Event', () => {
  it('Event: answers { statusCode: 202, requestId } at once, then runs the event under that requestId', async () => {
    await withClock(async (rt, logs) => {
      await rt.deploy({ name: 'worker', code });
      const res = await rt.invoke('worker', { hello: 1 }, { invocationType: 'Event' });
      expect(res).toEqual({ statusCode: 202, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      await rt.eventsIdle();
      expect(starts(logs, res.requestId)).toBe(1);
      expect(logs.forRequest(res.requestId).some((l) => l.startsWith(`END RequestId: ${res.requestId}`))).toBe(true);
      expect(rt.metrics().async.AsyncEventsReceived).toBe(1);
    });
  });

  it('DryRun: answers 204 after checking name and event; nothing runs', async () => {
    await withClock(async (rt, logs) => {
      await rt.deploy({ name: 'worker', code });
      const res = await rt.invoke('worker', { a: 1 }, { invocationType: 'DryRun' });
      expect(res.statusCode).toBe(204);
      await rt.eventsIdle();
      expect(logs.lines.some((l) => l.startsWith('START'))).toBe(false);
      await expect(rt.invoke('nope', {}, { invocationType: 'DryRun' })).rejects.toThrow(ResourceNotFoundException);
    });
  });

  it('Event: unknown function, bad qualifier, bad invocationType are thrown before anything is queued', async () => {
    await withClock(async (rt) => {
      await rt.deploy({ name: 'worker', code });
      await expect(rt.invoke('nope', {}, { invocationType: 'Event' })).rejects.toThrow(ResourceNotFoundException);
      await expect(rt.invoke('worker:7', {}, { invocationType: 'Event' })).rejects.toThrow(ResourceNotFoundException);
      const bad = await rt.invoke('worker', {}, { invocationType: 'Later' as 'Event' }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(InvalidParameterValueException);
      expect((bad as InvalidParameterValueException).field).toBe('invocationType');
      expect(rt.metrics().async.AsyncEventsReceived).toBe(0);
    });
  });

  it('Event: the 1 MiB payload limit — at and under it queued, one byte over RequestTooLargeException with Lambda\'s words', async () => {
    await withClock(async (rt) => {
      await rt.deploy({ name: 'worker', code });
      // JSON of a string is its text plus two quotes.
      const sized = (bytes: number): string => 'x'.repeat(bytes - 2);
      await expect(rt.invoke('worker', sized(ASYNC_PAYLOAD_MAX_BYTES), { invocationType: 'Event' })).resolves.toMatchObject({ statusCode: 202 });
      await expect(rt.invoke('worker', sized(ASYNC_PAYLOAD_MAX_BYTES - 1), { invocationType: 'Event' })).resolves.toMatchObject({ statusCode: 202 });
      const over = await rt.invoke('worker', sized(ASYNC_PAYLOAD_MAX_BYTES + 1), { invocationType: 'Event' }).catch((e: unknown) => e);
      expect(over).toBeInstanceOf(RequestTooLargeException);
      // The Invoke API's message for an Event payload over the limit (seen at 256 KB: ASFHyP3/hyp3#2241).
      expect((over as Error).message).toBe('1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)');
      // Multi-byte characters count as UTF-8 bytes: 'é' is 2.
      const wide = await rt.invoke('worker', 'é'.repeat(ASYNC_PAYLOAD_MAX_BYTES / 2), { invocationType: 'Event' }).catch((e: unknown) => e);
      expect(wide).toBeInstanceOf(RequestTooLargeException);
      // A synchronous invoke of the same over-1-MiB event is within its own 6 MB limit.
      await expect(rt.invoke('worker', sized(ASYNC_PAYLOAD_MAX_BYTES + 1))).resolves.toMatchObject({ statusCode: 200 });
      expect(rt.metrics().async.AsyncEventsReceived).toBe(2);
    });
  });

  it('Event: a function error is retried twice, 1 minute then 2 minutes later, with the same requestId', async () => {
    await withClock(async (rt, logs, clock) => {
      await rt.deploy({ name: 'worker', code });
      const { requestId } = await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      await rt.eventsIdle();
      expect(starts(logs, requestId)).toBe(1);
      clock.advance(59_999);
      await rt.eventsIdle();
      expect(starts(logs, requestId)).toBe(1);
      clock.advance(1);
      await rt.eventsIdle();
      expect(starts(logs, requestId)).toBe(2);
      clock.advance(119_999);
      await rt.eventsIdle();
      expect(starts(logs, requestId)).toBe(2);
      clock.advance(1);
      await rt.eventsIdle();
      expect(starts(logs, requestId)).toBe(3);
      clock.advance(3_600_000);
      await rt.eventsIdle();
      expect(starts(logs, requestId)).toBe(3);
      // No destination and no dead-letter queue: dropped, and said so.
      expect(rt.metrics().async.AsyncEventsDropped).toBe(1);
      expect(logs.lines.some((l) => l.includes(`Asynchronous event ${requestId} failed (RetriesExhausted) after 3 attempt(s)`))).toBe(true);
    });
  });

  it('Event: an event that succeeds on a retry runs no more', async () => {
    await withClock(async (rt, logs, clock) => {
      await rt.deploy({ name: 'worker', code });
      const { requestId } = await rt.invoke('worker', { failTimes: 1 }, { invocationType: 'Event' });
      await rt.eventsIdle();
      clock.advance(60_000);
      await rt.eventsIdle();
      clock.advance(600_000);
      await rt.eventsIdle();
      expect(starts(logs, requestId)).toBe(2);
      expect(rt.metrics().async.AsyncEventsDropped).toBe(0);
    });
  });

  it('Event: a function deleted while its event waits — the event is dropped with a line saying why', async () => {
    await withClock(async (rt, logs, clock) => {
      await rt.deploy({ name: 'worker', code });
      const { requestId } = await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      await rt.eventsIdle();
      await rt.deleteFunction('worker');
      clock.advance(60_000);
      await rt.eventsIdle();
      expect(logs.lines.some((l) => l.includes(`Dropped asynchronous event ${requestId}: Function not found`))).toBe(true);
      expect(rt.metrics().async.AsyncEventsDropped).toBe(1);
    });
  });

  it('Event: with dataDir, an event waiting for its retry survives the runtime; the next one runs it with the same requestId', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lambdalet-async-'));
    try {
      const clock = new TestClock();
      const requestId = await withRt(async (rt, logs) => {
        await rt.deploy({ name: 'worker', code });
        const res = await rt.invoke('worker', { failTimes: 1 }, { invocationType: 'Event' });
        await rt.eventsIdle();
        expect(starts(logs, res.requestId)).toBe(1);
        return res.requestId;
      }, { eventClock: clock, dataDir });
      clock.advance(60_000);
      await withRt(async (rt, logs) => {
        await rt.eventsIdle();
        // A new environment (a cold start): the second attempt succeeds, under the same requestId.
        expect(starts(logs, requestId)).toBe(1);
        expect(logs.forRequest(requestId).some((l) => l.startsWith('REPORT') && l.includes('Init Duration'))).toBe(true);
      }, { eventClock: clock, dataDir });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('Event: a backend given as createRuntime({ eventQueue }) holds the events', async () => {
    const backend = new MemoryEventQueue();
    const clock = new TestClock();
    await withRt(async (rt) => {
      await rt.deploy({ name: 'worker', code });
      await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      await rt.eventsIdle();
      // Failed once, waiting for its retry in the given backend.
      expect(await backend.count('invoke:worker')).toBe(1);
    }, { eventClock: clock, eventQueue: backend });
  });
});
