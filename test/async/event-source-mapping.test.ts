/**
 * Queue event source mappings, as Lambda runs SQS ones (API reference CreateEventSourceMapping:
 * BatchSize 1-10000, default 10, above 10 only with MaximumBatchingWindowInSeconds >= 1, window
 * 0-300; developer guide "Using Lambda with Amazon SQS": the event's shape, messages deleted on
 * success, visible again after the visibility timeout on failure, "Implementing partial batch
 * responses": batchItemFailures and its invalid-response rule; SQS developer guide "Using
 * dead-letter queues": maxReceiveCount). Record shapes are held against AWS's sample event
 * (src/testing's sqsEvent). Time is a TestClock.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, ResourceNotFoundException, type Runtime } from '../../src/index.ts';
import { sqsEvent } from '../../src/testing/index.ts';
import type { CapturedLogs } from '../helpers/runtime.ts';
import { withRt } from '../registry/helpers.ts';
import { TestClock } from './helpers.ts';

/** Logs each batch as one `BATCH <json>` line; reports bodies starting with 'bad' as failures; throws on 'boom'. */
const CONSUMER = `
export const handler = async (event) => {
  console.log('BATCH ' + JSON.stringify(event));
  if (event.Records.some((r) => r.body === 'boom')) throw new Error('boom');
  if (event.Records.some((r) => r.body === 'invalid')) return { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] };
  return { batchItemFailures: event.Records.filter((r) => r.body.startsWith('bad')).map((r) => ({ itemIdentifier: r.messageId })) };
};`;

function batches(logs: CapturedLogs): SQSEvent[] {
  return logs.lines.filter((l) => l.includes('BATCH {')).map((l) => JSON.parse(l.slice(l.indexOf('BATCH ') + 6)) as SQSEvent);
}

async function setup(body: (rt: Runtime, logs: CapturedLogs, clock: TestClock) => Promise<void>): Promise<void> {
  const clock = new TestClock();
  await withRt(async (rt, logs) => {
    await rt.deploy({ name: 'consumer', code: { files: { 'index.mjs': CONSUMER } } });
    await body(rt, logs, clock);
  }, { eventClock: clock });
}

describe('event source mappings: configuration', () => {
  it('ranges and rules are Lambda\'s, each at and past its bound', async () => {
    await setup(async (rt) => {
      const q = rt.createQueue('jobs');
      const create = (extra: Record<string, unknown>): unknown => {
        try {
          const info = rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'consumer', ...extra });
          rt.deleteEventSourceMapping(info.uuid);
          return info;
        } catch (error) {
          return error;
        }
      };
      const field = (extra: Record<string, unknown>): string | undefined => (create(extra) as InvalidParameterValueException).field;
      expect(create({})).toMatchObject({ batchSize: 10, maximumBatchingWindowInSeconds: 0, state: 'Enabled', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:consumer' });
      expect(create({ batchSize: 1 })).toMatchObject({ batchSize: 1 });
      expect(create({ batchSize: 10 })).toMatchObject({ batchSize: 10 });
      expect(field({ batchSize: 0 })).toBe('batchSize');
      expect(field({ batchSize: 11 })).toBe('maximumBatchingWindowInSeconds');
      expect((create({ batchSize: 11 }) as Error).message).toBe('Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10');
      expect(create({ batchSize: 11, maximumBatchingWindowInSeconds: 1 })).toMatchObject({ batchSize: 11 });
      expect(create({ batchSize: 10_000, maximumBatchingWindowInSeconds: 300 })).toMatchObject({ batchSize: 10_000 });
      expect(field({ batchSize: 10_001, maximumBatchingWindowInSeconds: 1 })).toBe('batchSize');
      expect(field({ maximumBatchingWindowInSeconds: 301 })).toBe('maximumBatchingWindowInSeconds');
      expect(field({ maximumBatchingWindowInSeconds: -1 })).toBe('maximumBatchingWindowInSeconds');
      expect(field({ functionResponseTypes: ['Everything'] })).toBe('functionResponseTypes');
      for (const streamOnly of ['bisectBatchOnFunctionError', 'maximumRetryAttempts', 'maximumRecordAgeInSeconds', 'parallelizationFactor', 'destinationConfig']) {
        expect(field({ [streamOnly]: streamOnly === 'bisectBatchOnFunctionError' ? true : 1 }), streamOnly).toBe(streamOnly);
      }
      expect(() => rt.createEventSourceMapping({ eventSourceArn: `${q.queueArn}x`, functionName: 'consumer' })).toThrow(ResourceNotFoundException);
      expect(() => rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'ghost' })).toThrow(ResourceNotFoundException);
      // Lambda's rule: the queue's visibility timeout is at least the function's timeout.
      const short = rt.createQueue('short', { visibilityTimeout: 2 });
      expect(() => rt.createEventSourceMapping({ eventSourceArn: short.queueArn, functionName: 'consumer' })).toThrow(
        'Queue visibility timeout: 2 seconds is less than Function timeout: 3 seconds',
      );
      expect(rt.createEventSourceMapping({ eventSourceArn: rt.createQueue('exact', { visibilityTimeout: 3 }).queueArn, functionName: 'consumer' }).state).toBe('Enabled');
    });
  });

  it('get / update / list / delete', async () => {
    await setup(async (rt) => {
      const q = rt.createQueue('jobs');
      const m = rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'consumer', batchSize: 3 });
      expect(rt.getEventSourceMapping(m.uuid)).toEqual(m);
      expect(rt.updateEventSourceMapping(m.uuid, { enabled: false })).toMatchObject({ state: 'Disabled', batchSize: 3 });
      expect(rt.listEventSourceMappings({ functionName: 'consumer' }).map((x) => x.uuid)).toEqual([m.uuid]);
      expect(rt.listEventSourceMappings({ eventSourceArn: 'arn:aws:sqs:us-east-1:123456789012:other' })).toEqual([]);
      rt.deleteEventSourceMapping(m.uuid);
      expect(() => rt.getEventSourceMapping(m.uuid)).toThrow(ResourceNotFoundException);
    });
  });
});

describe('event source mappings: delivery', () => {
  it('the function gets Lambda\'s SQS event; messages are deleted on success', async () => {
    await setup(async (rt, logs) => {
      const q = rt.createQueue('jobs');
      rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'consumer', batchSize: 10 });
      const sent = await rt.sendMessage('jobs', 'hello', { messageAttributes: { kind: { dataType: 'String', stringValue: 'greeting' } } });
      await rt.eventsIdle();
      const [event] = batches(logs);
      const record = event!.Records[0]!;
      const sample = sqsEvent().Records[0]!;
      expect(Object.keys(record).sort()).toEqual(Object.keys(sample).sort());
      expect(Object.keys(record.attributes).sort()).toEqual(Object.keys(sample.attributes).sort());
      expect(record).toMatchObject({
        messageId: sent.messageId,
        body: 'hello',
        md5OfBody: sent.md5OfMessageBody,
        eventSource: 'aws:sqs',
        eventSourceARN: q.queueArn,
        awsRegion: 'us-east-1',
        messageAttributes: { kind: { stringValue: 'greeting', stringListValues: [], binaryListValues: [], dataType: 'String' } },
      } satisfies Partial<SQSRecord>);
      expect(record.attributes.ApproximateReceiveCount).toBe('1');
      expect(await rt.receiveMessages('jobs')).toEqual([]);
    });
  });

  it('ReportBatchItemFailures: only the failed messages come back, after the visibility timeout', async () => {
    await setup(async (rt, logs, clock) => {
      const q = rt.createQueue('jobs', { visibilityTimeout: 30 });
      rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'consumer', batchSize: 10, functionResponseTypes: ['ReportBatchItemFailures'] });
      for (const body of ['ok-1', 'bad-1', 'ok-2']) await rt.sendMessage('jobs', body);
      await rt.eventsIdle();
      clock.advance(29_999);
      await rt.eventsIdle();
      expect(batches(logs).flatMap((b) => b.Records.map((r) => r.body)).sort()).toEqual(['bad-1', 'ok-1', 'ok-2']);
      clock.advance(1);
      await rt.eventsIdle();
      const again = batches(logs).at(-1)!.Records;
      expect(again.map((r) => [r.body, r.attributes.ApproximateReceiveCount])).toEqual([['bad-1', '2']]);
    });
  });

  it('without ReportBatchItemFailures, or with an invalid response, or on a function error, the whole batch comes back', async () => {
    await setup(async (rt, logs, clock) => {
      const plain = rt.createQueue('plain', { visibilityTimeout: 30 });
      const partial = rt.createQueue('partial', { visibilityTimeout: 30 });
      rt.createEventSourceMapping({ eventSourceArn: plain.queueArn, functionName: 'consumer' });
      rt.createEventSourceMapping({ eventSourceArn: partial.queueArn, functionName: 'consumer', batchSize: 1, functionResponseTypes: ['ReportBatchItemFailures'] });
      await rt.sendMessage('plain', 'bad-but-not-reported');
      await rt.sendMessage('partial', 'invalid');
      await rt.sendMessage('partial', 'boom');
      await rt.eventsIdle();
      clock.advance(30_000);
      await rt.eventsIdle();
      const seen = batches(logs).flatMap((b) => b.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      // 'bad-but-not-reported' was a success (no partial responses): deleted, never seen again.
      expect(seen.filter((s) => s.startsWith('bad'))).toEqual(['bad-but-not-reported#1']);
      expect(seen).toContain('invalid#2');
      expect(seen).toContain('boom#2');
      expect(logs.lines.some((l) => l.includes('the batchItemFailures response is invalid'))).toBe(true);
    });
  });

  it('redrive: past maxReceiveCount a failing message moves to the dead-letter queue', async () => {
    await setup(async (rt, logs, clock) => {
      const dlq = rt.createQueue('dlq');
      const q = rt.createQueue('jobs', { visibilityTimeout: 30, redrivePolicy: { deadLetterTargetArn: dlq.queueArn, maxReceiveCount: 2 } });
      rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'consumer', batchSize: 1 });
      const { messageId } = await rt.sendMessage('jobs', 'boom');
      for (let i = 0; i < 3; i++) {
        await rt.eventsIdle();
        clock.advance(30_000);
      }
      await rt.eventsIdle();
      // Received twice (maxReceiveCount 2), the third receive moves it instead.
      expect(batches(logs).length).toBe(2);
      const [dead] = await rt.receiveMessages('dlq');
      expect(dead).toMatchObject({ messageId, body: 'boom', eventSourceARN: dlq.queueArn });
    });
  });

  it('batching window: a short batch waits for the window, then takes what arrived meanwhile, in one invoke', async () => {
    await setup(async (rt, logs, clock) => {
      const q = rt.createQueue('jobs', { visibilityTimeout: 60 });
      rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'consumer', batchSize: 5, maximumBatchingWindowInSeconds: 2 });
      await rt.sendMessage('jobs', 'a', { delaySeconds: 10 });
      const due = clock.now() + 10_000;
      clock.advance(10_000);
      await clock.timerAt(due + 2_000); // the poller holds ['a'] and waits for its window
      for (const body of ['b', 'c']) await rt.sendMessage('jobs', body);
      clock.advance(2_000);
      await rt.eventsIdle();
      expect(batches(logs).map((b) => b.Records.map((r) => r.body))).toEqual([['a', 'b', 'c']]);
    });
  });

  it('close while a batch waits for its window: close resolves; the message stays queued', async () => {
    await setup(async (rt, _logs, clock) => {
      const q = rt.createQueue('jobs', { visibilityTimeout: 60 });
      rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'consumer', batchSize: 5, maximumBatchingWindowInSeconds: 300 });
      await rt.sendMessage('jobs', 'a');
      await clock.timerAt(clock.now() + 300_000);
      await rt.close(); // withRt's close again is a no-op
    });
  });

  it('a queue deleted while mapped: the mapping is disabled with a reason and a log line', async () => {
    await setup(async (rt, logs) => {
      const q = rt.createQueue('jobs');
      const m = rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'consumer' });
      rt.deleteQueue('jobs');
      expect(rt.getEventSourceMapping(m.uuid)).toMatchObject({ state: 'Disabled', stateTransitionReason: 'PROBLEM: the event source queue was deleted' });
      expect(logs.lines.some((l) => l.includes(`Event source mapping ${m.uuid} disabled`))).toBe(true);
      await expect(rt.sendMessage('jobs', 'x')).rejects.toThrow(ResourceNotFoundException);
    });
  });
});
