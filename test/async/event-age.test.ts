/**
 * Per-version asynchronous settings, the expired event's record, and deleted queues:
 * - DeadLetterConfig is part of a version's configuration (API reference FunctionConfiguration
 *   has DeadLetterConfig; PublishVersion freezes the configuration), so an event invoked through a
 *   version or alias goes to that version's dead-letter queue.
 * - Put/GetFunctionRecursionConfig take an UnqualifiedFunctionName (API reference; the SDKs' type
 *   of FunctionName): one setting per function, a qualifier refused.
 * - EventAgeExceeded: when a function error's retry would come after `maximumEventAgeInSeconds`,
 *   Lambda gives up at once and the record carries the failed attempt's responseContext and
 *   responsePayload — LocalStack's AWS-validated snapshot (tests/aws/services/lambda_/
 *   test_lambda_destinations.snapshot.json, `TestLambdaDestinationSqs::test_maxeventage`: age 60
 *   → approximateInvokeCount 1, age 90 → 2, each with `responseContext.functionError: Unhandled`
 *   and the error as `responsePayload`; "lambda doesn't even wait for the full 60s"). An event
 *   that expires later without another attempt (its retry throttled, or claimed too late) reports
 *   the attempt that did run: lambdalet's choice (AWS's records for that case are not published),
 *   keeping approximateInvokeCount and the response consistent.
 * - SQS DeleteQueue (API reference): "any messages in the queue are no longer available"; "you
 *   must wait at least 60 seconds before creating a queue with the same name" (QueueDeletedRecently).
 */
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, QueueDeletedRecently, type InvocationRecord, type Runtime } from '../../src/index.ts';
import type { CapturedLogs } from '../helpers/runtime.ts';
import { withRt } from '../registry/helpers.ts';
import { RECORDING_HANDLER, TestClock } from './helpers.ts';

const code = { files: { 'index.mjs': RECORDING_HANDLER } };

async function withClock(body: (rt: Runtime, logs: CapturedLogs, clock: TestClock) => Promise<void>): Promise<void> {
  const clock = new TestClock();
  await withRt((rt, logs) => body(rt, logs, clock), { eventClock: clock });
}

function collect(rt: Runtime, name: string): InvocationRecord[] {
  const got: InvocationRecord[] = [];
  rt.registerDestinationCallback(name, (record) => void got.push(record as InvocationRecord));
  return got;
}

describe('dead-letter queue per version', () => {
  it('a published version and an alias to it keep the DLQ they were published with; $LATEST uses its own', async () => {
    await withClock(async (rt) => {
      const old = rt.createQueue('dlq-v1');
      const current = rt.createQueue('dlq-latest');
      await rt.deploy({ name: 'worker', code, deadLetterConfig: { targetArn: old.queueArn } });
      await rt.publishVersion('worker');
      await rt.createAlias('worker', 'live', { functionVersion: '1' });
      await rt.updateFunctionConfiguration('worker', { deadLetterConfig: { targetArn: current.queueArn } });
      for (const q of ['$LATEST', '1', 'live']) rt.putFunctionEventInvokeConfig('worker', { qualifier: q, maximumRetryAttempts: 0 });

      await rt.invoke('worker', { fail: true, via: 'latest' }, { invocationType: 'Event' });
      await rt.invoke('worker', { fail: true, via: 'v1' }, { invocationType: 'Event', qualifier: '1' });
      await rt.invoke('worker:live', { fail: true, via: 'alias' }, { invocationType: 'Event' });
      await rt.eventsIdle();

      const v1 = await rt.receiveMessages('dlq-v1', { maxNumberOfMessages: 10 });
      const latest = await rt.receiveMessages('dlq-latest', { maxNumberOfMessages: 10 });
      expect(v1.map((m) => (JSON.parse(m.body) as { via: string }).via).sort()).toEqual(['alias', 'v1']);
      expect(latest.map((m) => (JSON.parse(m.body) as { via: string }).via)).toEqual(['latest']);
    });
  });
});

describe('recursion config: one per function', () => {
  it('a qualified name is refused with InvalidParameterValueException naming functionName; the unqualified one works', async () => {
    await withClock(async (rt) => {
      await rt.deploy({ name: 'worker', code });
      await rt.publishVersion('worker');
      for (const name of ['worker:1', 'worker:$LATEST', 'arn:aws:lambda:us-east-1:123456789012:function:worker:1']) {
        expect(() => rt.putFunctionRecursionConfig(name, { recursiveLoop: 'Allow' })).toThrow(InvalidParameterValueException);
        expect(() => rt.getFunctionRecursionConfig(name)).toThrow(/PutFunctionRecursionConfig takes an unqualified name/);
      }
      expect(rt.putFunctionRecursionConfig('arn:aws:lambda:us-east-1:123456789012:function:worker', { recursiveLoop: 'Allow' })).toEqual({ recursiveLoop: 'Allow' });
      expect(rt.getFunctionRecursionConfig('worker')).toEqual({ recursiveLoop: 'Allow' });
    });
  });
});

describe('EventAgeExceeded', () => {
  /**
   * Attempts at +0 and +60 s; the third would be at +180 s. With a maximum age just under 180 s the
   * event fails right after the second attempt, as EventAgeExceeded with that attempt's response;
   * at 180 s and just over, the third attempt runs (an age equal to the maximum is not over it).
   * The age is whole seconds, so 1 s is the smallest step past the boundary.
   */
  it.each([
    [179, 'EventAgeExceeded', 2],
    [180, 'RetriesExhausted', 3],
    [181, 'RetriesExhausted', 3],
  ])('maximumEventAgeInSeconds %i: %s after %i attempt(s), the record with the last response', async (age, condition, attempts) => {
    await withClock(async (rt, _logs, clock) => {
      await rt.deploy({ name: 'worker', code });
      const got = collect(rt, 'failures');
      rt.putFunctionEventInvokeConfig('worker', { maximumEventAgeInSeconds: age, destinationConfig: { onFailure: { destination: 'callback:failures' } } });
      const { requestId } = await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      await rt.eventsIdle();
      clock.advance(60_000);
      await rt.eventsIdle();
      // Given up right after the second attempt, without waiting for the age (AWS's snapshot).
      expect(got).toHaveLength(attempts === 2 ? 1 : 0);
      clock.advance(120_000);
      await rt.eventsIdle();
      expect(got).toHaveLength(1);
      const [record] = got;
      expect(record!.requestContext).toEqual({ requestId, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST', condition, approximateInvokeCount: attempts });
      expect(record!.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
      expect(record!.responsePayload).toMatchObject({ errorType: 'Error', errorMessage: 'always failing' });
      expect(record!.requestPayload).toEqual({ fail: true });
    });
  });

  /**
   * The failed attempt's response is kept in the event while it waits for its retry, so a settle
   * that runs no attempt of its own still reports it (approximateInvokeCount counts that attempt):
   * the retry throttled until the event is too old (reserved concurrency 0: TooManyRequestsException,
   * retried with backoff, not counted), or the retry claimed only after the maximum age.
   */
  it('a retry throttled until the event expires: EventAgeExceeded with the earlier attempt\'s response and count', async () => {
    await withClock(async (rt, _logs, clock) => {
      const dlq = rt.createQueue('dlq');
      await rt.deploy({ name: 'worker', code, deadLetterConfig: { targetArn: dlq.queueArn } });
      const got = collect(rt, 'failures');
      rt.putFunctionEventInvokeConfig('worker', { maximumEventAgeInSeconds: 120, destinationConfig: { onFailure: { destination: 'callback:failures' } } });
      const { requestId } = await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      await rt.eventsIdle();
      rt.putFunctionConcurrency('worker', { reservedConcurrentExecutions: 0 });
      for (let i = 0; i < 20 && got.length === 0; i++) {
        clock.advance(30_000);
        await rt.eventsIdle();
      }
      expect(got).toHaveLength(1);
      const [record] = got;
      expect(record!.requestContext).toEqual({ requestId, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:worker:$LATEST', condition: 'EventAgeExceeded', approximateInvokeCount: 1 });
      expect(record!.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
      expect(record!.responsePayload).toMatchObject({ errorType: 'Error', errorMessage: 'always failing' });
      expect(rt.metrics().functions.find((f) => f.functionName === 'worker')!.Throttles).toBeGreaterThan(0);
      const [dead] = await rt.receiveMessages('dlq');
      expect(dead!.messageAttributes.RequestID!.stringValue).toBe(requestId);
      expect(dead!.messageAttributes.ErrorMessage!.stringValue).toBe('always failing');
      expect(JSON.parse(dead!.body)).toEqual({ fail: true }); // the event, not what the queue kept with it
    });
  });

  it('a retry claimed only after the maximum age: EventAgeExceeded with the earlier attempt\'s response; a first attempt that came too late has none', async () => {
    await withClock(async (rt, _logs, clock) => {
      await rt.deploy({ name: 'worker', code });
      const got = collect(rt, 'failures');
      rt.putFunctionEventInvokeConfig('worker', { maximumEventAgeInSeconds: 100, destinationConfig: { onFailure: { destination: 'callback:failures' } } });
      const { requestId } = await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      await rt.eventsIdle();
      // Due at +60 s (within the age), but nothing claims it before +200 s (the clock jumps).
      clock.advance(200_000);
      await rt.eventsIdle();
      expect(got.map((r) => [r.requestContext.requestId, r.requestContext.condition, r.requestContext.approximateInvokeCount])).toEqual([[requestId, 'EventAgeExceeded', 1]]);
      expect(got[0]!.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
      expect(got[0]!.responsePayload).toMatchObject({ errorMessage: 'always failing' });

      // No attempt ever ran (throttled from the start): neither responseContext nor responsePayload.
      rt.putFunctionConcurrency('worker', { reservedConcurrentExecutions: 0 });
      const second = await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      for (let i = 0; i < 20 && got.length === 1; i++) {
        clock.advance(30_000);
        await rt.eventsIdle();
      }
      expect(got).toHaveLength(2);
      expect(got[1]!.requestContext).toMatchObject({ requestId: second.requestId, condition: 'EventAgeExceeded', approximateInvokeCount: 0 });
      expect(got[1]).not.toHaveProperty('responseContext');
      expect(got[1]).not.toHaveProperty('responsePayload');
    });
  });

  it('the DLQ of an event given up for its age gets the last error as ErrorMessage', async () => {
    await withClock(async (rt, _logs, clock) => {
      const dlq = rt.createQueue('dlq');
      await rt.deploy({ name: 'worker', code, deadLetterConfig: { targetArn: dlq.queueArn } });
      rt.putFunctionEventInvokeConfig('worker', { maximumEventAgeInSeconds: 60 });
      const { requestId } = await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      await rt.eventsIdle();
      clock.advance(60_000);
      await rt.eventsIdle();
      const [dead] = await rt.receiveMessages('dlq');
      expect(dead!.messageAttributes.RequestID!.stringValue).toBe(requestId);
      expect(dead!.messageAttributes.ErrorCode!.stringValue).toBe('200');
      expect(dead!.messageAttributes.ErrorMessage!.stringValue).toBe('always failing');
    });
  });
});

describe('deleted queue', () => {
  it('its messages are purged (due and delayed), a mapping from it is disabled, and its name is free again after exactly 60 s', async () => {
    await withClock(async (rt, logs, clock) => {
      await rt.deploy({ name: 'worker', code });
      rt.createQueue('jobs', { visibilityTimeout: 60 });
      await rt.sendMessage('jobs', 'now');
      await rt.sendMessage('jobs', 'later', { delaySeconds: 900 });
      rt.deleteQueue('jobs');
      await rt.eventsIdle();
      expect(logs.lines.some((l) => l.includes('Queue jobs deleted: 2 message(s) purged'))).toBe(true);

      clock.advance(59_999);
      expect(() => rt.createQueue('jobs')).toThrow(QueueDeletedRecently);
      expect(() => rt.createQueue('jobs')).toThrow('You must wait 60 seconds after deleting a queue before you can create another queue with the same name.');
      clock.advance(1);
      rt.createQueue('jobs', { visibilityTimeout: 60 });
      // The new queue starts empty: neither old message comes back, not even the delayed one.
      clock.advance(900_000);
      expect(await rt.receiveMessages('jobs', { maxNumberOfMessages: 10 })).toEqual([]);
    });
  });
});
