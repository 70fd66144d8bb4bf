/**
 * Streams and stream event source mappings, as Lambda runs Kinesis ones (API reference
 * CreateEventSourceMapping: BatchSize default 100, MaximumRetryAttempts -1..10000,
 * MaximumRecordAgeInSeconds -1 or 60..604800, ParallelizationFactor 1..10, BisectBatchOnFunctionError,
 * DestinationConfig.OnFailure; developer guide "Using Lambda with Kinesis Data Streams": the event's
 * shape, in-order per shard, a failing batch blocks its shard, the on-failure record with
 * KinesisBatchInfo, partial batch responses checkpoint before the lowest failed sequence number).
 * Record shapes are held against AWS's sample (src/testing's kinesisStreamEvent). TestClock time.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, ResourceNotFoundException, type Runtime } from '../../src/index.ts';
import { kinesisStreamEvent } from '../../src/testing/index.ts';
import type { CapturedLogs } from '../helpers/runtime.ts';
import { withRt } from '../registry/helpers.ts';
import { TestClock } from './helpers.ts';

/** Logs each batch's data; throws on 'poison'; reports 'flaky' as a failed item the first time it sees it. */
const CONSUMER = `
const seen = new Set();
export const handler = async (event) => {
  const data = event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());
  console.log('BATCH ' + JSON.stringify({ data, records: event.Records }));
  if (data.includes('poison')) throw new Error('poison');
  const flaky = event.Records.filter((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 'flaky' && !seen.has(r.kinesis.sequenceNumber));
  flaky.forEach((r) => seen.add(r.kinesis.sequenceNumber));
  return { batchItemFailures: flaky.map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })) };
};`;

interface Batch {
  data: string[];
  records: KinesisStreamEvent['Records'];
}

function batches(logs: CapturedLogs): Batch[] {
  return logs.lines.filter((l) => l.includes('BATCH {')).map((l) => JSON.parse(l.slice(l.indexOf('BATCH ') + 6)) as Batch);
}

async function setup(body: (rt: Runtime, logs: CapturedLogs, clock: TestClock) => Promise<void>): Promise<void> {
  const clock = new TestClock();
  await withRt(async (rt, logs) => {
    await rt.deploy({ name: 'consumer', code: { files: { 'index.mjs': CONSUMER } } });
    await body(rt, logs, clock);
  }, { eventClock: clock });
}

/** Lets time pass in steps (retries back off on the clock) until nothing is due. */
async function runFor(rt: Runtime, clock: TestClock, ms: number, step = 1_000): Promise<void> {
  await rt.eventsIdle();
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await rt.eventsIdle();
  }
}

describe('streams: configuration', () => {
  it('stream mappings take the stream ranges, at and past each bound', async () => {
    await setup(async (rt) => {
      const s = rt.createStream('events', { shardCount: 2 });
      expect(s.streamArn).toBe('arn:aws:kinesis:us-east-1:123456789012:stream/events');
      const field = (extra: Record<string, unknown>): string | undefined => {
        try {
          rt.deleteEventSourceMapping(rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', ...extra }).uuid);
          return undefined;
        } catch (error) {
          return (error as InvalidParameterValueException).field ?? (error as Error).name;
        }
      };
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST' });
      expect(m).toMatchObject({ batchSize: 100, maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1, parallelizationFactor: 1, bisectBatchOnFunctionError: false });
      rt.deleteEventSourceMapping(m.uuid);
      for (const ok of [{ maximumRetryAttempts: -1 }, { maximumRetryAttempts: 0 }, { maximumRetryAttempts: 10_000 }, { maximumRecordAgeInSeconds: 60 }, { maximumRecordAgeInSeconds: 604_800 }, { parallelizationFactor: 10 }, { batchSize: 10_000 }]) {
        expect(field(ok), JSON.stringify(ok)).toBeUndefined();
      }
      expect(field({ maximumRetryAttempts: -2 })).toBe('maximumRetryAttempts');
      expect(field({ maximumRetryAttempts: 10_001 })).toBe('maximumRetryAttempts');
      expect(field({ maximumRecordAgeInSeconds: 59 })).toBe('maximumRecordAgeInSeconds');
      expect(field({ maximumRecordAgeInSeconds: 0 })).toBe('maximumRecordAgeInSeconds');
      expect(field({ maximumRecordAgeInSeconds: 604_801 })).toBe('maximumRecordAgeInSeconds');
      expect(field({ parallelizationFactor: 0 })).toBe('parallelizationFactor');
      expect(field({ parallelizationFactor: 11 })).toBe('parallelizationFactor');
      expect(field({ batchSize: 10_001 })).toBe('batchSize');
      expect(field({ destinationConfig: { onFailure: { destination: 'callback:nobody' } } })).toBe('ResourceNotFoundException');
      expect(() => rt.createStream('events')).toThrow('Stream events under account 123456789012 already exists.');
      expect(() => rt.createStream('x', { shardCount: 0 })).toThrow(InvalidParameterValueException);
      expect(() => rt.createStream('x', { shardCount: 501 })).toThrow(InvalidParameterValueException);
      await expect(rt.putRecord('nope', { partitionKey: 'k', data: 'd' })).rejects.toThrow(ResourceNotFoundException);
      await expect(rt.putRecord('events', { partitionKey: '', data: 'd' })).rejects.toThrow(InvalidParameterValueException);
      await expect(rt.putRecord('events', { partitionKey: 'k'.repeat(257), data: 'd' })).rejects.toThrow(InvalidParameterValueException);
    });
  });
});

describe('streams: delivery', () => {
  it('Lambda\'s Kinesis event, in order per shard; one partition key stays on one shard', async () => {
    await setup(async (rt, logs) => {
      const s = rt.createStream('events', { shardCount: 4 });
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', batchSize: 3, enabled: false });
      const puts = [];
      for (let i = 0; i < 20; i++) puts.push(await rt.putRecord('events', { partitionKey: `key-${i % 5}`, data: `d${i}` }));
      rt.updateEventSourceMapping(m.uuid, { enabled: true });
      await rt.eventsIdle();
      const got = batches(logs);
      const record = got[0]!.records[0]!;
      const sample = kinesisStreamEvent().Records[0]!;
      expect(Object.keys(record).sort()).toEqual(Object.keys(sample).sort());
      expect(Object.keys(record.kinesis).sort()).toEqual(Object.keys(sample.kinesis).sort());
      expect(record).toMatchObject({ eventSource: 'aws:kinesis', eventName: 'aws:kinesis:record', eventVersion: '1.0', eventSourceARN: s.streamArn, awsRegion: 'us-east-1' });
      expect(record.eventID).toBe(`${puts.find((p) => p.sequenceNumber === record.kinesis.sequenceNumber)!.shardId}:${record.kinesis.sequenceNumber}`);
      // Every record once; within a shard, in sequence order; a key always on the same shard.
      const all = got.flatMap((b) => b.records);
      expect(all.map((r) => Buffer.from(r.kinesis.data, 'base64').toString()).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `d${i}`).sort());
      const byShard = new Map<string, bigint[]>();
      for (const r of all) {
        const shard = r.eventID.split(':')[0]!;
        byShard.set(shard, [...(byShard.get(shard) ?? []), BigInt(r.kinesis.sequenceNumber)]);
      }
      for (const seqs of byShard.values()) expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)));
      const shardOfKey = new Map<string, string>();
      for (const r of all) {
        const previous = shardOfKey.get(r.kinesis.partitionKey);
        if (previous !== undefined) expect(r.eventID.split(':')[0]).toBe(previous);
        shardOfKey.set(r.kinesis.partitionKey, r.eventID.split(':')[0]!);
      }
    });
  });

  it('a failing batch blocks its shard until its retries are used up, then goes to the on-failure destination', async () => {
    await setup(async (rt, logs, clock) => {
      const failures: Record<string, unknown>[] = [];
      rt.registerDestinationCallback('failures', (r) => void failures.push(r as Record<string, unknown>));
      const s = rt.createStream('events');
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', batchSize: 1, maximumRetryAttempts: 2, destinationConfig: { onFailure: { destination: 'callback:failures' } }, enabled: false });
      for (const data of ['a', 'poison', 'b']) await rt.putRecord('events', { partitionKey: 'same', data });
      rt.updateEventSourceMapping(m.uuid, { enabled: true });
      await runFor(rt, clock, 20_000);
      expect(batches(logs).map((b) => b.data.join())).toEqual(['a', 'poison', 'poison', 'poison', 'b']);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({
        version: '1.0',
        requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        KinesisBatchInfo: { shardId: 'shardId-000000000000', batchSize: 1, streamArn: s.streamArn },
      });
    });
  });

  it('bisectBatchOnFunctionError: the failing batch is split until the bad record is alone', async () => {
    await setup(async (rt, logs, clock) => {
      const failures: { KinesisBatchInfo: { batchSize: number } }[] = [];
      rt.registerDestinationCallback('failures', (r) => void failures.push(r as { KinesisBatchInfo: { batchSize: number } }));
      const s = rt.createStream('events');
      const m = rt.createEventSourceMapping({
        eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', batchSize: 4, bisectBatchOnFunctionError: true, maximumRetryAttempts: 3,
        destinationConfig: { onFailure: { destination: 'callback:failures' } }, enabled: false,
      });
      for (const data of ['1', '2', 'poison', '4']) await rt.putRecord('events', { partitionKey: 'same', data });
      rt.updateEventSourceMapping(m.uuid, { enabled: true });
      await runFor(rt, clock, 60_000);
      const seen = batches(logs).map((b) => b.data.join());
      expect(seen[0]).toBe('1,2,poison,4');
      expect(seen).toContain('1,2');
      expect(seen).toContain('poison');
      expect(seen.at(-1)).toBe('4');
      expect(failures.map((f) => f.KinesisBatchInfo.batchSize)).toEqual([1]);
    });
  });

  it('ReportBatchItemFailures: the shard checkpoints before the lowest failed record and retries from it', async () => {
    await setup(async (rt, logs, clock) => {
      const s = rt.createStream('events');
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', batchSize: 10, functionResponseTypes: ['ReportBatchItemFailures'], enabled: false });
      for (const data of ['a', 'flaky', 'c']) await rt.putRecord('events', { partitionKey: 'same', data });
      rt.updateEventSourceMapping(m.uuid, { enabled: true });
      await runFor(rt, clock, 5_000);
      expect(batches(logs).map((b) => b.data.join())).toEqual(['a,flaky,c', 'flaky,c']);
    });
  });

  it('maximumRecordAgeInSeconds: a record older than that is not sent; it goes to the on-failure destination', async () => {
    await setup(async (rt, logs, clock) => {
      const failures: { requestContext: { condition: string } }[] = [];
      rt.registerDestinationCallback('failures', (r) => void failures.push(r as { requestContext: { condition: string } }));
      const s = rt.createStream('events');
      rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', batchSize: 1, maximumRecordAgeInSeconds: 60, destinationConfig: { onFailure: { destination: 'callback:failures' } } });
      await rt.putRecord('events', { partitionKey: 'same', data: 'poison' });
      await runFor(rt, clock, 120_000, 5_000);
      expect(failures.map((f) => f.requestContext.condition)).toEqual(['RecordAgeExceeded']);
      const tries = batches(logs).length;
      await runFor(rt, clock, 60_000, 5_000);
      expect(batches(logs).length).toBe(tries);
    });
  });
});
