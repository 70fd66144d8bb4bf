/**
 * Stream history, starting positions, retention and parallelization, as Lambda and Kinesis define
 * them: Lambda API reference CreateEventSourceMapping (StartingPosition TRIM_HORIZON | LATEST |
 * AT_TIMESTAMP, required for Kinesis; StartingPositionTimestamp in Unix seconds, "cannot be in the
 * future"; ParallelizationFactor 1-10, "the number of batches to process from each shard
 * concurrently"); developer guide "Using Lambda with Kinesis Data Streams" (with a parallelization
 * factor, "Lambda still processes records with the same partition key in order"); Kinesis
 * IncreaseStreamRetentionPeriod (24 to 8760 hours; records past retention can no longer be read).
 * TestClock time throughout.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidParameterValueException, type Runtime, type RuntimeOptionsInput } from '../../src/index.ts';
import type { CapturedLogs } from '../helpers/runtime.ts';
import { withRt } from '../registry/helpers.ts';
import { TestClock } from './helpers.ts';

/** Logs each batch's data; throws on records whose data starts with 'poison'. */
const CONSUMER = `
export const handler = async (event) => {
  const data = event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());
  console.log('BATCH ' + JSON.stringify(data));
  if (data.some((d) => d.startsWith('poison'))) throw new Error('poison');
  return {};
};`;

const HOUR = 3_600_000;

function seen(logs: CapturedLogs): string[][] {
  return logs.lines.filter((l) => l.includes('BATCH [')).map((l) => JSON.parse(l.slice(l.indexOf('BATCH ') + 6)) as string[]);
}

async function setup(body: (rt: Runtime, logs: CapturedLogs, clock: TestClock) => Promise<void>, options: RuntimeOptionsInput = {}, clock = new TestClock()): Promise<void> {
  await withRt(async (rt, logs) => {
    if (rt.listFunctions().length === 0) await rt.deploy({ name: 'consumer', code: { files: { 'index.mjs': CONSUMER } } });
    await body(rt, logs, clock);
  }, { eventClock: clock, ...options });
}

/** The lane of a partition key under a factor: its MD5 as an integer, modulo the factor. */
function lane(key: string, factor: number): number {
  return Number(BigInt(`0x${createHash('md5').update(key).digest('hex')}`) % BigInt(factor));
}

/** Keys of distinct lanes (0..factor-1), found by trying k0, k1, ... */
function keysByLane(factor: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.filter(Boolean).length < factor; i++) keys[lane(`k${i}`, factor)] ??= `k${i}`;
  return keys;
}

describe('starting positions', () => {
  it('startingPosition is required for a stream, one of three values; the timestamp goes with AT_TIMESTAMP only, at or before now; a queue takes neither', async () => {
    await setup(async (rt, _logs, clock) => {
      const s = rt.createStream('events');
      const create = (extra: Record<string, unknown>): string | undefined => {
        try {
          rt.deleteEventSourceMapping(rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', ...extra }).uuid);
          return undefined;
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidParameterValueException);
          return (error as InvalidParameterValueException).field;
        }
      };
      const nowS = clock.now() / 1000;
      expect(create({})).toBe('startingPosition');
      expect(create({ startingPosition: 'EARLIEST' })).toBe('startingPosition');
      expect(create({ startingPosition: 'AT_TIMESTAMP' })).toBe('startingPositionTimestamp');
      expect(create({ startingPosition: 'LATEST', startingPositionTimestamp: nowS })).toBe('startingPositionTimestamp');
      expect(create({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: nowS + 0.001 })).toBe('startingPositionTimestamp'); // 1 ms in the future
      expect(create({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: nowS })).toBeUndefined(); // now
      expect(create({ startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: nowS - 0.001 })).toBeUndefined();
      expect(create({ startingPosition: 'TRIM_HORIZON' })).toBeUndefined();
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'TRIM_HORIZON' });
      expect(m.startingPosition).toBe('TRIM_HORIZON');
      expect(() => rt.updateEventSourceMapping(m.uuid, { startingPosition: 'LATEST' })).toThrow(/cannot be changed/);
      expect(rt.updateEventSourceMapping(m.uuid, { batchSize: 5 }).startingPosition).toBe('TRIM_HORIZON');
      const q = rt.createQueue('jobs', { visibilityTimeout: 60 });
      expect(() => rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'consumer', startingPosition: 'LATEST' })).toThrow(/`startingPosition` is for stream sources/);
    });
  });

  it('TRIM_HORIZON reads the retained history, LATEST only what comes after, AT_TIMESTAMP from that time on (inclusive)', async () => {
    await setup(async (rt, logs, clock) => {
      const s = rt.createStream('events');
      const t0 = clock.now();
      for (const data of ['a', 'b', 'c']) {
        await rt.putRecord('events', { partitionKey: 'p', data });
        clock.advance(1_000);
      }
      rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'TRIM_HORIZON' });
      await rt.eventsIdle();
      expect(seen(logs).flat()).toEqual(['a', 'b', 'c']);
      logs.lines.length = 0;

      rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST' });
      rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: (t0 + 1_000) / 1000 });
      await rt.eventsIdle();
      expect(seen(logs).flat()).toEqual(['b', 'c']); // the AT_TIMESTAMP mapping; 'b' arrived exactly at the timestamp
      logs.lines.length = 0;
      await rt.putRecord('events', { partitionKey: 'p', data: 'd' });
      await rt.eventsIdle();
      expect(seen(logs).flat()).toEqual(['d', 'd', 'd']); // every mapping gets what comes next
    });
  });

  it('a record put right after a TRIM_HORIZON mapping queues behind its backlog', async () => {
    await setup(async (rt, logs) => {
      const s = rt.createStream('events');
      for (const data of ['1', '2', '3']) await rt.putRecord('events', { partitionKey: 'p', data });
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'TRIM_HORIZON', enabled: false });
      await rt.putRecord('events', { partitionKey: 'p', data: '4' });
      rt.updateEventSourceMapping(m.uuid, { enabled: true });
      await rt.eventsIdle();
      expect(seen(logs).flat()).toEqual(['1', '2', '3', '4']);
    });
  });
});

describe('retention', () => {
  it('retentionPeriodHours 24..8760 (default 24), at and past each bound', async () => {
    await setup(async (rt) => {
      expect(rt.createStream('a').retentionPeriodHours).toBe(24);
      expect(rt.createStream('b', { retentionPeriodHours: 24 }).retentionPeriodHours).toBe(24);
      expect(rt.createStream('c', { retentionPeriodHours: 8760 }).retentionPeriodHours).toBe(8760);
      expect(() => rt.createStream('d', { retentionPeriodHours: 23 })).toThrow(expect.objectContaining({ field: 'retentionPeriodHours' }) as Error);
      expect(() => rt.createStream('e', { retentionPeriodHours: 8761 })).toThrow(expect.objectContaining({ field: 'retentionPeriodHours' }) as Error);
      expect(() => rt.createStream('f', { retentionPeriodHours: 24.5 })).toThrow(InvalidParameterValueException);
    });
  });

  it('a new TRIM_HORIZON mapping gets a record exactly retention old, not one a millisecond older', async () => {
    await setup(async (rt, logs, clock) => {
      const s = rt.createStream('events');
      await rt.putRecord('events', { partitionKey: 'p', data: 'old' });
      clock.advance(1);
      await rt.putRecord('events', { partitionKey: 'p', data: 'young' });
      clock.advance(24 * HOUR); // 'old' is now 24 h + 1 ms old, 'young' exactly 24 h
      rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'TRIM_HORIZON' });
      await rt.eventsIdle();
      expect(seen(logs).flat()).toEqual(['young']);
    });
  });

  it('records that expire from the stream before the mapping reads them are skipped with a log line', async () => {
    await setup(async (rt, logs, clock) => {
      const s = rt.createStream('events');
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', enabled: false });
      await rt.putRecord('events', { partitionKey: 'p', data: 'expires' });
      clock.advance(1);
      await rt.putRecord('events', { partitionKey: 'p', data: 'stays' });
      clock.advance(24 * HOUR);
      rt.updateEventSourceMapping(m.uuid, { enabled: true });
      await rt.eventsIdle();
      expect(seen(logs).flat()).toEqual(['stays']);
      expect(logs.lines.some((l) => l.includes('1 record(s) on') && l.includes('expired from the stream (retention 24 h)'))).toBe(true);
    });
  });
});

describe('parallelizationFactor', () => {
  it('a failing key blocks only its lane: the other lanes of the shard go on, each key in order', async () => {
    await setup(async (rt, logs, clock) => {
      const [k0, k1, k2] = keysByLane(3);
      const s = rt.createStream('events');
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', batchSize: 1, parallelizationFactor: 3, maximumRetryAttempts: 1, enabled: false });
      for (const [key, data] of [[k0, 'poison-0'], [k1, '1a'], [k0, '0b'], [k2, '2a'], [k1, '1b'], [k2, '2b']] as const) await rt.putRecord('events', { partitionKey: key!, data });
      rt.updateEventSourceMapping(m.uuid, { enabled: true });
      await rt.eventsIdle();
      // Lane 0 waits out its backoff; lanes 1 and 2 have run everything, in order per key.
      let data = seen(logs).flat();
      expect(data.filter((d) => d.startsWith('1'))).toEqual(['1a', '1b']);
      expect(data.filter((d) => d.startsWith('2'))).toEqual(['2a', '2b']);
      expect(data).not.toContain('0b');
      for (let i = 0; i < 10; i++) {
        clock.advance(1_000);
        await rt.eventsIdle();
      }
      data = seen(logs).flat();
      // The poison record is retried once, then skipped; '0b' (same key) only after it.
      expect(data.filter((d) => d.startsWith('poison') || d.startsWith('0'))).toEqual(['poison-0', 'poison-0', '0b']);
    });
  });

  it('with factor 1 the same poison blocks the whole shard (the baseline)', async () => {
    await setup(async (rt, logs) => {
      const [k0, k1] = keysByLane(3);
      const s = rt.createStream('events');
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', batchSize: 1, maximumRetryAttempts: 1, enabled: false });
      for (const [key, data] of [[k0, 'poison-0'], [k1, '1a']] as const) await rt.putRecord('events', { partitionKey: key!, data });
      rt.updateEventSourceMapping(m.uuid, { enabled: true });
      await rt.eventsIdle();
      expect(seen(logs).flat()).toEqual(['poison-0']);
    });
  });

  it('records queued before a factor change run before the lanes of the new factor, so no key overtakes itself', async () => {
    await setup(async (rt, logs) => {
      const s = rt.createStream('events');
      const m = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', batchSize: 2, enabled: false });
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      for (const key of keys) await rt.putRecord('events', { partitionKey: key, data: `${key}1` });
      rt.updateEventSourceMapping(m.uuid, { parallelizationFactor: 4 });
      for (const key of keys) await rt.putRecord('events', { partitionKey: key, data: `${key}2` });
      rt.updateEventSourceMapping(m.uuid, { enabled: true });
      await rt.eventsIdle();
      const data = seen(logs).flat();
      expect(data.sort()).toEqual(keys.flatMap((k) => [`${k}1`, `${k}2`]).sort());
      const order = seen(logs).flat();
      for (const key of keys) expect(order.indexOf(`${key}1`)).toBeLessThan(order.indexOf(`${key}2`));
    });
  });
});

describe('deleting a stream mapping', () => {
  it('purges the records still queued for it (every lane), and says how many; other mappings keep theirs', async () => {
    await setup(async (rt, logs) => {
      const s = rt.createStream('events', { shardCount: 2 });
      const gone = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', parallelizationFactor: 3, enabled: false });
      const kept = rt.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', enabled: false });
      for (let i = 0; i < 12; i++) await rt.putRecord('events', { partitionKey: `k${i}`, data: `d${i}` });
      rt.deleteEventSourceMapping(gone.uuid);
      await rt.eventsIdle();
      expect(logs.lines.some((l) => l.includes(`Event source mapping ${gone.uuid} deleted: 12 queued record(s) purged`))).toBe(true);
      rt.updateEventSourceMapping(kept.uuid, { enabled: true });
      await rt.eventsIdle();
      expect(seen(logs).flat().sort()).toEqual(Array.from({ length: 12 }, (_, i) => `d${i}`).sort());
    });
  });
});

describe('durable history (dataDir)', () => {
  it('a new runtime on the folder keeps the history and the sequence numbers go on growing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lambdalet-streams-'));
    try {
      const clock = new TestClock();
      let last = '';
      await setup(async (rt) => {
        rt.createStream('events');
        for (const data of ['x', 'y']) last = (await rt.putRecord('events', { partitionKey: 'p', data })).sequenceNumber;
      }, { dataDir }, clock);
      await setup(async (rt, logs) => {
        const next = await rt.putRecord('events', { partitionKey: 'p', data: 'z' });
        expect(BigInt(next.sequenceNumber)).toBe(BigInt(last) + 1n);
        rt.createEventSourceMapping({ eventSourceArn: rt.getStream('events').streamArn, functionName: 'consumer', startingPosition: 'TRIM_HORIZON' });
        await rt.eventsIdle();
        expect(seen(logs).flat()).toEqual(['x', 'y', 'z']);
      }, { dataDir }, clock);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
