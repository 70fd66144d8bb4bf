/**
 * Event invoke configs, destinations, the dead-letter queue and recursion detection, as Lambda
 * defines them: API reference PutFunctionEventInvokeConfig (MaximumRetryAttempts 0-2,
 * MaximumEventAgeInSeconds 60-21600, DestinationConfig), developer guide "Capturing records of
 * Lambda asynchronous invocations" (the invocation record), "Dead-letter queues" (RequestID,
 * ErrorCode, ErrorMessage attributes), "Use Lambda recursive loop detection" (16 invocations, then
 * stopped; RecursiveInvocationsDropped; PutFunctionRecursionConfig Allow/Terminate).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v5 as uuidv5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/async/outcome.ts';
import { InvalidParameterValueException, ResourceNotFoundException, type InvocationRecord, type Runtime } from '../../src/index.ts';
import type { CapturedLogs } from '../helpers/runtime.ts';
import { withRt } from '../registry/helpers.ts';
import { RECORDING_HANDLER, TestClock } from './helpers.ts';

const code = { files: { 'index.mjs': RECORDING_HANDLER } };
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function';
const QARN = 'arn:aws:sqs:us-east-1:123456789012';

async function withClock(body: (rt: Runtime, logs: CapturedLogs, clock: TestClock) => Promise<void>): Promise<void> {
  const clock = new TestClock();
  await withRt((rt, logs) => body(rt, logs, clock), { eventClock: clock });
}

/** A callback destination that keeps what it receives. */
function collect(rt: Runtime, name: string): InvocationRecord[] {
  const got: InvocationRecord[] = [];
  rt.registerDestinationCallback(name, (record) => void got.push(record as InvocationRecord));
  return got;
}

describe('event invoke config', () => {
  it('put / get / update / list / delete, with Lambda\'s shape and defaults left out', async () => {
    await withClock(async (rt, _logs, clock) => {
      await rt.deploy({ name: 'worker', code });
      expect(() => rt.getFunctionEventInvokeConfig('worker')).toThrow(`The function ${ARN}:worker:$LATEST doesn't have an EventInvokeConfig`);
      const put = rt.putFunctionEventInvokeConfig('worker', { maximumRetryAttempts: 1 });
      expect(put).toEqual({
        functionArn: `${ARN}:worker:$LATEST`,
        maximumRetryAttempts: 1,
        lastModified: Math.floor(clock.now() / 1000),
        destinationConfig: { onSuccess: {}, onFailure: {} },
      });
      const updated = rt.updateFunctionEventInvokeConfig('worker', { maximumEventAgeInSeconds: 3600 });
      expect(updated).toMatchObject({ maximumRetryAttempts: 1, maximumEventAgeInSeconds: 3600 });
      // put replaces the whole config.
      expect(rt.putFunctionEventInvokeConfig('worker', { maximumEventAgeInSeconds: 60 })).not.toHaveProperty('maximumRetryAttempts');
      expect(rt.listFunctionEventInvokeConfigs('worker')).toHaveLength(1);
      rt.deleteFunctionEventInvokeConfig('worker');
      expect(() => rt.getFunctionEventInvokeConfig('worker')).toThrow(ResourceNotFoundException);
      expect(() => rt.updateFunctionEventInvokeConfig('worker', { maximumRetryAttempts: 0 })).toThrow(ResourceNotFoundException);
      expect(() => rt.putFunctionEventInvokeConfig('nope', {})).toThrow(ResourceNotFoundException);
      expect(() => rt.putFunctionEventInvokeConfig('worker', { qualifier: 'live' })).toThrow(`Function not found: ${ARN}:worker:live`);
    });
  });

  it('ranges: maximumRetryAttempts 0..2 and maximumEventAgeInSeconds 60..21600, at, inside and outside each bound', async () => {
    await withClock(async (rt) => {
      await rt.deploy({ name: 'worker', code });
      for (const ok of [0, 1, 2]) expect(rt.putFunctionEventInvokeConfig('worker', { maximumRetryAttempts: ok }).maximumRetryAttempts).toBe(ok);
      for (const ok of [60, 61, 21_599, 21_600]) expect(rt.putFunctionEventInvokeConfig('worker', { maximumEventAgeInSeconds: ok }).maximumEventAgeInSeconds).toBe(ok);
      for (const [input, field] of [
        [{ maximumRetryAttempts: -1 }, 'maximumRetryAttempts'],
        [{ maximumRetryAttempts: 3 }, 'maximumRetryAttempts'],
        [{ maximumRetryAttempts: 1.5 }, 'maximumRetryAttempts'],
        [{ maximumEventAgeInSeconds: 59 }, 'maximumEventAgeInSeconds'],
        [{ maximumEventAgeInSeconds: 21_601 }, 'maximumEventAgeInSeconds'],
      ] as const) {
        const error = (() => { try { rt.putFunctionEventInvokeConfig('worker', input); } catch (e) { return e; } })();
        expect(error, JSON.stringify(input)).toBeInstanceOf(InvalidParameterValueException);
        expect((error as InvalidParameterValueException).field).toBe(field);
      }
      expect(() => rt.putFunctionEventInvokeConfig('worker', { maximumRetryAttempts: 3 })).toThrow('Expected `maximumRetryAttempts` to be an integer from 0 to 2, got 3');
    });
  });

  it('destinations: unknown ones are refused by type — function, queue, callback, other account, malformed', async () => {
    await withClock(async (rt) => {
      await rt.deploy({ name: 'worker', code });
      const put = (destination: string): unknown => {
        try {
          rt.putFunctionEventInvokeConfig('worker', { destinationConfig: { onSuccess: { destination } } });
        } catch (error) {
          return error;
        }
        return undefined;
      };
      expect(put(`${ARN}:ghost`)).toBeInstanceOf(ResourceNotFoundException);
      expect(put(`${QARN}:ghost`)).toBeInstanceOf(ResourceNotFoundException);
      expect(put('callback:ghost')).toBeInstanceOf(ResourceNotFoundException);
      expect(put('arn:aws:sqs:us-east-1:999999999999:q')).toBeInstanceOf(ResourceNotFoundException);
      const malformed = put('https://example.com/hook');
      expect(malformed).toBeInstanceOf(InvalidParameterValueException);
      expect((malformed as InvalidParameterValueException).field).toBe('destinationConfig.onSuccess.destination');
      rt.createQueue('q');
      collect(rt, 'audit');
      expect(put(`${QARN}:q`)).toBeUndefined();
      expect(put('callback:audit')).toBeUndefined();
      expect(put(`${ARN}:worker`)).toBeUndefined(); // itself: allowed; recursion detection stops a loop
    });
  });
});

describe('event invoke config: lifetime', () => {
  it('kept in dataDir with the queues; removed with the function', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lambdalet-eic-'));
    try {
      await withRt(async (rt) => {
        await rt.deploy({ name: 'worker', code });
        const q = rt.createQueue('records', { visibilityTimeout: 60 });
        rt.putFunctionEventInvokeConfig('worker', { maximumRetryAttempts: 0, destinationConfig: { onFailure: { destination: q.queueArn } } });
        rt.putFunctionRecursionConfig('worker', { recursiveLoop: 'Allow' });
      }, { dataDir });
      await withRt(async (rt) => {
        expect(rt.getQueue('records').visibilityTimeout).toBe(60);
        expect(rt.getFunctionEventInvokeConfig('worker')).toMatchObject({ maximumRetryAttempts: 0, destinationConfig: { onFailure: { destination: `${QARN}:records` } } });
        expect(rt.getFunctionRecursionConfig('worker')).toEqual({ recursiveLoop: 'Allow' });
        await rt.deleteFunction('worker');
        await rt.deploy({ name: 'worker', code });
        expect(() => rt.getFunctionEventInvokeConfig('worker')).toThrow(ResourceNotFoundException);
        expect(rt.getFunctionRecursionConfig('worker')).toEqual({ recursiveLoop: 'Terminate' });
      }, { dataDir });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('destinations', () => {
  it('onSuccess: the callback gets Lambda\'s invocation record', async () => {
    await withClock(async (rt, _logs, clock) => {
      await rt.deploy({ name: 'worker', code });
      const got = collect(rt, 'audit');
      rt.putFunctionEventInvokeConfig('worker', { destinationConfig: { onSuccess: { destination: 'callback:audit' } } });
      const { requestId } = await rt.invoke('worker', { n: 1 }, { invocationType: 'Event' });
      await rt.eventsIdle();
      expect(got).toEqual([
        {
          version: '1.0',
          timestamp: new Date(clock.now()).toISOString(),
          requestContext: { requestId, functionArn: `${ARN}:worker:$LATEST`, condition: 'Success', approximateInvokeCount: 1 },
          requestPayload: { n: 1 },
          responseContext: { statusCode: 200, executedVersion: '$LATEST' },
          responsePayload: { requestId, calls: 1, event: { n: 1 } },
        },
      ]);
    });
  });

  it('onFailure: after the retries, RetriesExhausted with the last error; the event\'s age limit gives EventAgeExceeded', async () => {
    await withClock(async (rt, _logs, clock) => {
      await rt.deploy({ name: 'worker', code });
      const got = collect(rt, 'failures');
      rt.putFunctionEventInvokeConfig('worker', { maximumRetryAttempts: 1, destinationConfig: { onFailure: { destination: 'callback:failures' } } });
      const first = await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      await rt.eventsIdle();
      clock.advance(60_000);
      await rt.eventsIdle();
      expect(got).toHaveLength(1);
      expect(got[0]!.requestContext).toEqual({ requestId: first.requestId, functionArn: `${ARN}:worker:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 2 });
      expect(got[0]!.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
      expect(got[0]!.responsePayload).toMatchObject({ errorType: 'Error', errorMessage: 'always failing' });

      // 60 s maximum age: the retry due at +60 s runs (age 60 s is not over); the next would be at
      // +180 s, so the event fails right after the second attempt, with its response (AWS: see
      // event-age.test.ts, LocalStack's AWS-validated test_maxeventage snapshot).
      rt.putFunctionEventInvokeConfig('worker', { maximumEventAgeInSeconds: 60, destinationConfig: { onFailure: { destination: 'callback:failures' } } });
      const second = await rt.invoke('worker', { fail: true }, { invocationType: 'Event' });
      await rt.eventsIdle();
      expect(got).toHaveLength(1);
      clock.advance(60_000);
      await rt.eventsIdle();
      expect(got).toHaveLength(2);
      expect(got[1]!.requestContext).toMatchObject({ requestId: second.requestId, condition: 'EventAgeExceeded', approximateInvokeCount: 2 });
      expect(got[1]!.responsePayload).toMatchObject({ errorMessage: 'always failing' });
    });
  });

  it('a function destination is invoked asynchronously with the record as its event', async () => {
    await withClock(async (rt) => {
      await rt.deploy({ name: 'worker', code });
      await rt.deploy({ name: 'next', code });
      const got = collect(rt, 'end');
      rt.putFunctionEventInvokeConfig('worker', { destinationConfig: { onSuccess: { destination: `${ARN}:next` } } });
      rt.putFunctionEventInvokeConfig('next', { destinationConfig: { onSuccess: { destination: 'callback:end' } } });
      const { requestId } = await rt.invoke('worker', { hop: 1 }, { invocationType: 'Event' });
      await rt.eventsIdle();
      expect(got).toHaveLength(1);
      const received = got[0]!.requestPayload as InvocationRecord;
      expect(received.requestContext.requestId).toBe(requestId);
      expect(received.requestPayload).toEqual({ hop: 1 });
      expect(got[0]!.requestContext.functionArn).toBe(`${ARN}:next:$LATEST`);
      expect(got[0]!.requestContext.requestId).not.toBe(requestId);
    });
  });

  it('a queue destination gets the record as a message body; the dead-letter queue gets the event with RequestID, ErrorCode, ErrorMessage', async () => {
    await withClock(async (rt) => {
      const records = rt.createQueue('records');
      const dlq = rt.createQueue('dlq');
      await rt.deploy({ name: 'worker', code, deadLetterConfig: { targetArn: dlq.queueArn } });
      rt.putFunctionEventInvokeConfig('worker', { maximumRetryAttempts: 0, destinationConfig: { onFailure: { destination: records.queueArn } } });
      const { requestId } = await rt.invoke('worker', { fail: true, id: 7 }, { invocationType: 'Event' });
      await rt.eventsIdle();
      const [record] = await rt.receiveMessages('records');
      expect(JSON.parse(record!.body)).toMatchObject({ version: '1.0', requestContext: { requestId, condition: 'RetriesExhausted' }, requestPayload: { fail: true, id: 7 } });
      expect(record!.eventSourceARN).toBe(records.queueArn);
      const [dead] = await rt.receiveMessages('dlq');
      expect(JSON.parse(dead!.body)).toEqual({ fail: true, id: 7 });
      expect(dead!.messageAttributes).toEqual({
        RequestID: { stringValue: requestId, stringListValues: [], binaryListValues: [], dataType: 'String' },
        ErrorCode: { stringValue: '200', stringListValues: [], binaryListValues: [], dataType: 'Number' },
        ErrorMessage: { stringValue: 'always failing', stringListValues: [], binaryListValues: [], dataType: 'String' },
      });
      expect(rt.metrics().async.AsyncEventsDropped).toBe(0);
    });
  });

  it('a destination deleted after it was configured: a logged DestinationDeliveryFailure, nothing else lost', async () => {
    await withClock(async (rt, logs) => {
      rt.createQueue('records');
      await rt.deploy({ name: 'worker', code });
      rt.putFunctionEventInvokeConfig('worker', { destinationConfig: { onSuccess: { destination: `${QARN}:records` } } });
      rt.deleteQueue('records');
      const { requestId } = await rt.invoke('worker', {}, { invocationType: 'Event' });
      await rt.eventsIdle();
      expect(rt.metrics().async.DestinationDeliveryFailures).toBe(1);
      expect(logs.lines.some((l) => l.includes(`Destination delivery failed for event ${requestId}`))).toBe(true);
    });
  });
});

describe('delivery ids', () => {
  it('are the RFC 9562 v5 UUID of `<what>:<requestId>` in the namespace v5("lambdalet:delivery", URL): stable across versions, so a settle run again after an upgrade sends the same id', () => {
    const namespace = uuidv5('lambdalet:delivery', uuidv5.URL);
    for (const requestId of ['4a7e5e4c-1b7a-4a57-9d6e-3f0c5f9d1a2b', 'é-non-ascii-✓', '']) {
      expect(deliveryId(requestId, 'destination')).toBe(uuidv5(`destination:${requestId}`, namespace));
      expect(deliveryId(requestId, 'dead-letter')).toBe(uuidv5(`dead-letter:${requestId}`, namespace));
    }
    expect(deliveryId('r', 'destination')).not.toBe(deliveryId('r', 'dead-letter'));
  });
});

describe('recursion detection', () => {
  const loop = `
export const handler = async (event) => {
  let depth = 0;
  for (let e = event; e && e.requestPayload; e = e.requestPayload) depth += 1;
  if (depth >= 19) throw new Error('deep enough');
  return { depth };
};`;

  it('Terminate (default): a function that is its own destination runs 16 times, then the event is dropped and counted', async () => {
    await withClock(async (rt, logs) => {
      await rt.deploy({ name: 'loop', code: { files: { 'index.mjs': loop } } });
      rt.putFunctionEventInvokeConfig('loop', { maximumRetryAttempts: 0, destinationConfig: { onSuccess: { destination: `${ARN}:loop` } } });
      expect(rt.getFunctionRecursionConfig('loop')).toEqual({ recursiveLoop: 'Terminate' });
      await rt.invoke('loop', {}, { invocationType: 'Event' });
      await rt.eventsIdle();
      expect(logs.lines.filter((l) => l.startsWith('START')).length).toBe(16);
      expect(rt.metrics().async.RecursiveInvocationsDropped).toBe(1);
      expect(logs.lines.some((l) => l.includes('Recursive invocation detected: loop was invoked 16 times'))).toBe(true);
    });
  });

  it('Allow: the loop goes on (here until the handler stops it at its 20th run)', async () => {
    await withClock(async (rt, logs) => {
      await rt.deploy({ name: 'loop', code: { files: { 'index.mjs': loop } } });
      rt.putFunctionEventInvokeConfig('loop', { maximumRetryAttempts: 0, destinationConfig: { onSuccess: { destination: `${ARN}:loop` } } });
      expect(rt.putFunctionRecursionConfig('loop', { recursiveLoop: 'Allow' })).toEqual({ recursiveLoop: 'Allow' });
      expect(() => rt.putFunctionRecursionConfig('loop', { recursiveLoop: 'allow' as 'Allow' })).toThrow(InvalidParameterValueException);
      await rt.invoke('loop', {}, { invocationType: 'Event' });
      await rt.eventsIdle();
      expect(logs.lines.filter((l) => l.startsWith('START')).length).toBe(20);
      expect(rt.metrics().async.RecursiveInvocationsDropped).toBe(0);
    });
  });
});
