/**
 * The asynchronous layer's settings (event invoke configs, recursion configs, queue definitions,
 * event source mappings, streams, schedules) live in the registry's store (registry/store.ts
 * `putAsyncSetting` / `watchAsyncSettings`): `<dataDir>/registry.sqlite` with dataDir, so a
 * restarted runtime has them all; any store several runtimes share (a cluster's Redis) hands each
 * change to the others, so every runtime sees the same ones. Lambda keeps these settings in its
 * control plane, one per function / mapping per region, whichever host serves the invoke.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { MemoryEventQueue } from '../../src/async/memory-queue.ts';
import type { NewEvent } from '../../src/async/queue.ts';
import { parseRuntimeOptions } from '../../src/config/index.ts';
import { Runtime } from '../../src/index.ts';
import { SqliteRegistryStore } from '../../src/registry/sqlite-store.ts';
import type { AsyncSettingKind, RegistryStore, StoredAsyncSetting, StoredRegistry } from '../../src/registry/store.ts';
import { captureLogs } from '../helpers/runtime.ts';
import { withRt } from '../registry/helpers.ts';
import { RECORDING_HANDLER, TestClock } from './helpers.ts';

const code = { files: { 'index.mjs': RECORDING_HANDLER } };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lambdalet-settings-'));
}

describe('async settings in the registry store (dataDir)', () => {
  it('every kind is written to registry.sqlite and comes back in a new runtime, the mapping polling again', async () => {
    const dataDir = tempDir();
    try {
      let uuid = '';
      await withRt(async (rt) => {
        await rt.deploy({ name: 'worker', code });
        const q = rt.createQueue('jobs', { visibilityTimeout: 60 });
        rt.putFunctionEventInvokeConfig('worker', { maximumRetryAttempts: 1 });
        rt.putFunctionRecursionConfig('worker', { recursiveLoop: 'Allow' });
        uuid = rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'worker', batchSize: 5 }).uuid;
        rt.createStream('clicks', { shardCount: 2 });
        await rt.createSchedule({ name: 'nightly', scheduleExpression: 'cron(0 2 * * ? *)', target: { arn: 'arn:aws:lambda:us-east-1:123456789012:function:worker' } });
      }, { dataDir, eventClock: new TestClock() });

      const store = SqliteRegistryStore.open(dataDir);
      let stored: StoredRegistry;
      try {
        stored = store.load();
      } finally {
        store.close();
      }
      const kinds = (stored.asyncSettings ?? []).map((s) => `${s.kind} ${s.key}`);
      expect(kinds).toEqual(['queue jobs', 'event-invoke-config worker:$LATEST', 'recursion worker', `esm ${uuid}`, 'stream clicks', 'schedule nightly']);
      // The events file no longer holds settings.
      const events = new DatabaseSync(join(dataDir, 'events.sqlite'));
      try {
        expect(events.prepare('SELECT COUNT(*) AS n FROM config').get()).toEqual({ n: 0 });
      } finally {
        events.close();
      }

      await withRt(async (rt) => {
        expect(rt.getQueue('jobs').visibilityTimeout).toBe(60);
        expect(rt.getFunctionEventInvokeConfig('worker').maximumRetryAttempts).toBe(1);
        expect(rt.getFunctionRecursionConfig('worker')).toEqual({ recursiveLoop: 'Allow' });
        expect(rt.getEventSourceMapping(uuid)).toMatchObject({ batchSize: 5, state: 'Enabled' });
        expect(rt.getStream('clicks').shardCount).toBe(2);
        expect(rt.getSchedule('nightly').scheduleExpression).toBe('cron(0 2 * * ? *)');
        await rt.sendMessage('jobs', JSON.stringify({ n: 1 }));
        await rt.eventsIdle();
        expect(await rt.receiveMessages('jobs')).toEqual([]);
        expect(rt.getEventSourceMapping(uuid).lastProcessingResult).toBe('OK');
      }, { dataDir, eventClock: new TestClock() });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('deletes are kept: a deleted mapping, queue and config do not come back', async () => {
    const dataDir = tempDir();
    try {
      await withRt(async (rt) => {
        await rt.deploy({ name: 'worker', code });
        const q = rt.createQueue('jobs', { visibilityTimeout: 60 });
        rt.putFunctionEventInvokeConfig('worker', { maximumRetryAttempts: 1 });
        const m = rt.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'worker' });
        rt.deleteEventSourceMapping(m.uuid);
        rt.deleteFunctionEventInvokeConfig('worker');
        rt.deleteQueue('jobs');
      }, { dataDir });
      await withRt(async (rt) => {
        expect(rt.listQueues()).toEqual([]);
        expect(rt.listEventSourceMappings()).toEqual([]);
        expect(rt.listFunctionEventInvokeConfigs('worker')).toEqual([]);
      }, { dataDir });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('settings an older lambdalet kept in events.sqlite are moved to the registry once, and survive the move', async () => {
    const dataDir = tempDir();
    try {
      await withRt(async (rt) => {
        await rt.deploy({ name: 'worker', code });
      }, { dataDir });
      // What the previous layout wrote: the events file's config table (kind, key, JSON value).
      const events = new DatabaseSync(join(dataDir, 'events.sqlite'));
      const queue = { queueName: 'old', queueArn: 'arn:aws:sqs:us-east-1:123456789012:old', visibilityTimeout: 45, delaySeconds: 0 };
      events.prepare('INSERT INTO config (kind, key, value) VALUES (?, ?, ?), (?, ?, ?)').run('queue', 'old', JSON.stringify(queue), 'recursion', 'worker', '"Allow"');
      events.close();
      await withRt(async (rt) => {
        expect(rt.getQueue('old').visibilityTimeout).toBe(45);
        expect(rt.getFunctionRecursionConfig('worker')).toEqual({ recursiveLoop: 'Allow' });
      }, { dataDir });
      const check = new DatabaseSync(join(dataDir, 'events.sqlite'));
      try {
        expect(check.prepare('SELECT COUNT(*) AS n FROM config').get()).toEqual({ n: 0 });
      } finally {
        check.close();
      }
      await withRt(async (rt) => {
        expect(rt.getQueue('old').visibilityTimeout).toBe(45);
      }, { dataDir });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * A store two runtimes share, as a cluster's is: async settings in one map, each write handed to
 * the other runtimes' listeners (a cluster store does this through Redis Pub/Sub). Functions are
 * not shared here (each runtime deploys its own): only the async settings are under test.
 */
class SharedSettings {
  readonly settings = new Map<string, StoredAsyncSetting>();
  readonly listeners = new Map<object, (change: StoredAsyncSetting) => void>();

  storeFor(): RegistryStore {
    const { settings, listeners } = this;
    const id = {};
    return {
      load: () => ({ functions: [], layers: [], asyncSettings: [...settings.values()] }),
      putVersion() {},
      deleteVersion() {},
      deleteFunction() {},
      putAlias() {},
      deleteAlias() {},
      putProvisionedConfig() {},
      putLayerVersion() {},
      deleteLayerVersion() {},
      putAsyncSetting(kind: AsyncSettingKind, key: string, json: string | undefined) {
        const change = { kind, key, json };
        if (json === undefined) settings.delete(`${kind}\n${key}`);
        else settings.set(`${kind}\n${key}`, change);
        for (const [other, listener] of listeners) if (other !== id) listener(change);
      },
      watchAsyncSettings(listener) {
        listeners.set(id, listener);
      },
      close() {},
    };
  }
}

async function member(shared: SharedSettings): Promise<Runtime> {
  const rt = new Runtime(parseRuntimeOptions({ logSink: captureLogs(), eventClock: new TestClock() }), shared.storeFor());
  await rt.restore();
  await rt.deploy({ name: 'worker', code });
  return rt;
}

describe('async settings in a store runtimes share', () => {
  it('a config, queue, mapping and recursion setting made on one runtime are seen by the other at once, and by one started later', async () => {
    const shared = new SharedSettings();
    const a = await member(shared);
    const b = await member(shared);
    let c: Runtime | undefined;
    try {
      const q = a.createQueue('jobs', { visibilityTimeout: 60 });
      a.putFunctionEventInvokeConfig('worker', { maximumEventAgeInSeconds: 120 });
      a.putFunctionRecursionConfig('worker', { recursiveLoop: 'Allow' });
      const m = a.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'worker', batchSize: 3 });
      expect(b.getQueue('jobs').queueArn).toBe(q.queueArn);
      expect(b.getFunctionEventInvokeConfig('worker').maximumEventAgeInSeconds).toBe(120);
      expect(b.getFunctionRecursionConfig('worker')).toEqual({ recursiveLoop: 'Allow' });
      expect(b.getEventSourceMapping(m.uuid)).toEqual(m);

      b.updateEventSourceMapping(m.uuid, { enabled: false });
      expect(a.getEventSourceMapping(m.uuid).state).toBe('Disabled');
      b.deleteFunctionEventInvokeConfig('worker');
      expect(a.listFunctionEventInvokeConfigs('worker')).toEqual([]);

      c = await member(shared);
      expect(c.getEventSourceMapping(m.uuid).state).toBe('Disabled');
      expect(c.getQueue('jobs').visibilityTimeout).toBe(60);
    } finally {
      await Promise.all([a.close(), b.close(), c?.close()]);
    }
  });
});

/** A memory backend two runtimes share, as a cluster's BullMQ one is: `watch` wakes the others' pumps. */
class SharedQueue extends MemoryEventQueue {
  readonly #wakes = new Set<() => void>();
  watch(wake: () => void): void {
    this.#wakes.add(wake);
  }
  override async enqueue(events: readonly NewEvent[]): Promise<void> {
    await super.enqueue(events);
    for (const wake of this.#wakes) wake();
  }
}

describe('a stream shared by runtimes with one event backend', () => {
  it('records two runtimes put with the same sequence number both reach the mapping (queue ids carry a per-runtime salt)', async () => {
    const shared = new SharedSettings();
    const backend = new SharedQueue();
    const consumer = `export const handler = async (event) => { console.log('GOT ' + event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString()).join()); return {}; };`;
    const logsA = captureLogs();
    const logsB = captureLogs();
    // The same start on both clocks: both runtimes' stream counters start at the same number.
    const a = new Runtime(parseRuntimeOptions({ logSink: logsA, eventClock: new TestClock() }), shared.storeFor(), backend);
    const b = new Runtime(parseRuntimeOptions({ logSink: logsB, eventClock: new TestClock() }), shared.storeFor(), backend);
    try {
      await a.restore();
      await b.restore();
      for (const rt of [a, b]) await rt.deploy({ name: 'consumer', code: { files: { 'index.mjs': consumer } } });
      const s = a.createStream('clicks');
      a.createEventSourceMapping({ eventSourceArn: s.streamArn, functionName: 'consumer', startingPosition: 'LATEST', batchSize: 10 });
      const putA = await a.putRecord('clicks', { partitionKey: 'p', data: 'from-a' });
      const putB = await b.putRecord('clicks', { partitionKey: 'p', data: 'from-b' });
      expect(putB.sequenceNumber).toBe(putA.sequenceNumber); // the collision this guards against
      await Promise.all([a.eventsIdle(), b.eventsIdle()]);
      await Promise.all([a.eventsIdle(), b.eventsIdle()]);
      const got = [...logsA.lines, ...logsB.lines].filter((l) => l.includes('GOT ')).flatMap((l) => l.slice(l.indexOf('GOT ') + 4).split(','));
      expect(got.sort()).toEqual(['from-a', 'from-b']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
