/**
 * The asynchronous layer's settings cluster-wide (issue 20): event invoke configs, recursion
 * configs, lambdalet queue definitions, event source mappings, streams and schedules made through
 * one member are seen by every member and by one that joins later, because ClusterStore keeps
 * them in Redis (registry/store.ts `putAsyncSetting` / `watchAsyncSettings`). Lambda keeps these
 * in its regional control plane: PutFunctionEventInvokeConfig and CreateEventSourceMapping are
 * per function / mapping in a region, whichever host serves the invocation.
 * Needs Redis (test/helpers/redis.ts).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, type Runtime } from '../../src/index.ts';
import type { StoredAsyncSetting } from '../../src/registry/store.ts';
import { SKIP_REASON, testRedis } from '../helpers/redis.ts';
import { eventually } from '../helpers/eventually.ts';
import { storePair } from './store-pair.ts';
import { taggedCode } from '../registry/helpers.ts';

const redis = await testRedis();
afterAll(() => redis?.stop());

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function member(name: string): Promise<Runtime> {
  const rt = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name } });
  closers.push(() => rt.close());
  return rt;
}

describe.skipIf(!redis)(redis ? 'async settings across members' : `async settings across members (skipped: ${SKIP_REASON})`, () => {
  it('every kind made on one member is seen by another and by one that joins later; changes and deletes travel both ways', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await member(name), await member(name)];
    await a.deploy({ name: 'worker', code: taggedCode('w') });
    await eventually(() => b.getFunction('worker'));
    const q = a.createQueue('jobs', { visibilityTimeout: 60 });
    a.putFunctionEventInvokeConfig('worker', { maximumRetryAttempts: 1, maximumEventAgeInSeconds: 120 });
    a.putFunctionRecursionConfig('worker', { recursiveLoop: 'Allow' });
    const mapping = a.createEventSourceMapping({ eventSourceArn: q.queueArn, functionName: 'worker', batchSize: 5 });
    a.createStream('clicks', { shardCount: 2 });
    await a.createSchedule({ name: 'nightly', scheduleExpression: 'cron(0 2 * * ? *)', target: { arn: a.getFunction('worker').functionArn } });
    await eventually(() => {
      expect(b.getQueue('jobs').visibilityTimeout).toBe(60);
      expect(b.getFunctionEventInvokeConfig('worker').maximumEventAgeInSeconds).toBe(120);
      expect(b.getFunctionRecursionConfig('worker')).toEqual({ recursiveLoop: 'Allow' });
      expect(b.getEventSourceMapping(mapping.uuid).batchSize).toBe(5);
      expect(b.getStream('clicks').shardCount).toBe(2);
      expect(b.getSchedule('nightly').scheduleExpression).toBe('cron(0 2 * * ? *)');
    });
    // b changes and deletes; a follows
    b.updateEventSourceMapping(mapping.uuid, { enabled: false });
    b.deleteFunctionEventInvokeConfig('worker');
    await eventually(() => {
      expect(a.getEventSourceMapping(mapping.uuid).state).toBe('Disabled');
      expect(a.listFunctionEventInvokeConfigs('worker')).toEqual([]);
    });
    // a member that joins now reads them all, in first-write order where a list has one
    const c = await member(name);
    expect(c.getEventSourceMapping(mapping.uuid).state).toBe('Disabled');
    expect(c.listQueues().map((queue) => queue.queueName)).toEqual(['jobs']);
    expect(c.listFunctionEventInvokeConfigs('worker')).toEqual([]);
    expect(c.getSchedule('nightly').generation).toBe(a.getSchedule('nightly').generation);
  });

  it('an event invoke config made on one member governs an event another member runs (its destination gets the record)', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await member(name), await member(name)];
    await a.deploy({ name: 'worker', code: taggedCode('w') });
    const dest = a.createQueue('done');
    a.putFunctionEventInvokeConfig('worker', { destinationConfig: { onSuccess: { destination: dest.queueArn } } });
    await eventually(() => expect(b.getFunctionEventInvokeConfig('worker').destinationConfig.onSuccess?.destination).toBe(dest.queueArn));
    const { requestId } = await b.invoke('worker', { n: 1 }, { invocationType: 'Event' });
    // Lambda's invocation record on success (Lambda developer guide, "Capturing records of Lambda
    // asynchronous invocations"): requestContext.requestId is the event's; condition Success.
    const record = await eventually(async () => {
      const [message] = await b.receiveMessages('done', { maxNumberOfMessages: 1 });
      expect(message).toBeDefined();
      return JSON.parse(message!.body) as { requestContext: { requestId: string; condition: string }; responsePayload: { tag: string } };
    });
    expect(record.requestContext.requestId).toBe(requestId);
    expect(record.requestContext.condition).toBe('Success');
    expect(record.responsePayload.tag).toBe('w');
  });

  it('after a lost announcement (a reconnection), resyncSettings reports exactly what changed: set, changed and removed', async () => {
    const { writer, reader, close } = storePair(redis!.url, redis!.clusterName());
    closers.push(close);
    writer.putAsyncSetting('queue', 'kept', '{"v":1}');
    writer.putAsyncSetting('queue', 'changed', '{"v":1}');
    writer.putAsyncSetting('queue', 'removed', '{"v":1}');
    await writer.flush();
    const seen: StoredAsyncSetting[] = [];
    reader.watchAsyncSettings((change) => seen.push(change));
    expect((await reader.load()).asyncSettings?.map((s) => s.key)).toEqual(['kept', 'changed', 'removed']);
    // the reader hears none of these (no subscriber here: as if it were away)
    writer.putAsyncSetting('queue', 'changed', '{"v":2}');
    writer.putAsyncSetting('queue', 'removed', undefined);
    writer.putAsyncSetting('esm', 'new', '{"v":1}');
    await writer.flush();
    await reader.resyncSettings();
    expect(seen).toEqual([
      { kind: 'queue', key: 'changed', json: '{"v":2}' },
      { kind: 'esm', key: 'new', json: '{"v":1}' },
      { kind: 'queue', key: 'removed', json: undefined },
    ]);
    seen.length = 0;
    await reader.resyncSettings(); // nothing new: nothing reported
    expect(seen).toEqual([]);
    // first-write order survives an update ('changed' stays second)
    expect((await reader.loadSettings()).map((s) => s.key)).toEqual(['kept', 'changed', 'new']);
    // a setting written here while a resync reads is newer than what it read: not reported removed
    // (a member's first resync runs while the runtime is already in use)
    // and one announced by another member after the read is not turned back to what was read.
    // Both land between the resync's read and its comparison (made to, by wrapping the read).
    const read = reader.loadSettings.bind(reader);
    reader.loadSettings = async () => {
      const stored = await read();
      reader.putAsyncSetting('schedule', 'mine', '{"v":1}');
      reader.settingChanged('queue', 'kept', '{"v":9}');
      return stored;
    };
    await reader.resyncSettings();
    expect(seen).toEqual([{ kind: 'queue', key: 'kept', json: '{"v":9}' }]); // the announcement itself, nothing else
    reader.loadSettings = read;
    await reader.flush();
    expect((await writer.loadSettings()).map((s) => s.key)).toEqual(['kept', 'changed', 'new', 'mine']);
  });
});
