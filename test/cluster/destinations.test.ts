/**
 * Destinations across a cluster (issue 20): an asynchronous invocation's destination record is
 * sent once, even when the member running the event is killed with SIGKILL between sending it and
 * settling the event, and never lost when it is killed before sending it.
 *
 * How: the record's id (the queue message's messageId, or the destination invocation's
 * requestId) is derived from the event's requestId (async/outcome.ts `deliveryId`), and the BullMQ
 * backend enqueues it under a deduplication key that lives until the event is settled
 * (bullmq-queue.ts `enqueueThen`). The event itself runs again on another member, as Lambda's
 * asynchronous invocation may ("your function can receive the same event multiple times", Lambda
 * developer guide, asynchronous invocation); the record carries whichever attempt's outcome was
 * first sent. The record's shape is Lambda's (developer guide, "Capturing records of Lambda
 * asynchronous invocations"): requestContext.requestId is the event's, condition Success.
 * Needs Redis (test/helpers/redis.ts).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { BullMQEventQueue } from '../../src/cluster/bullmq-queue.ts';
import { keyPrefix } from '../../src/cluster/connect.ts';
import { deliveryId } from '../../src/async/outcome.ts';
import { createRuntime, silentSink } from '../../src/index.ts';
import { SKIP_REASON, testRedis } from '../helpers/redis.ts';
import { eventually } from '../helpers/eventually.ts';

const redis = await testRedis();
afterAll(() => redis?.stop());

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const LEASE_MS = 1000;

function backend(name: string): BullMQEventQueue {
  const client = new Redis(redis!.url, { maxRetriesPerRequest: null });
  const queue = new BullMQEventQueue(client, keyPrefix(name), LEASE_MS);
  closers.push(async () => {
    await queue.close();
    client.disconnect();
  });
  return queue;
}

/** Runs the fixture member until it kills itself while settling its event; the event's requestId. */
async function memberDyingInSettle(name: string, mode: 'before-then' | 'after-then'): Promise<string> {
  const fixture = fileURLToPath(new URL('./fixtures/destination-member.ts', import.meta.url));
  const child = spawn(process.execPath, ['--no-node-snapshot', fixture, redis!.url, name, String(LEASE_MS), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  closers.push(async () => void child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const signal = await new Promise<string | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
  const match = /requestId (\S+)/.exec(out);
  if (!match) throw new Error(`the member did not queue its event: ${err}`);
  expect(signal).toBe('SIGKILL');
  return match[1]!;
}

interface Record {
  requestContext: { requestId: string; condition: string };
  responsePayload: { done: number };
}

describe.skipIf(!redis)(redis ? 'destinations across members' : `destinations across members (skipped: ${SKIP_REASON})`, () => {
  it('killed after sending the record, before the settle: the event runs again elsewhere and the record is not sent twice', async () => {
    const name = redis!.clusterName();
    const requestId = await memberDyingInSettle(name, 'after-then');
    const raw = backend(name);
    const [first, ...more] = await raw.claim('sqs:done', Date.now(), 10, 60_000);
    expect(more).toEqual([]);
    expect(first!.id).toBe(deliveryId(requestId, 'destination'));
    const record = (JSON.parse(first!.body) as { body: string }).body;
    expect((JSON.parse(record) as Record).requestContext).toMatchObject({ requestId, condition: 'Success' });
    expect(await raw.ack(first!)).toBe(true); // consumed: only the deduplication key can stop a second
    const survivor = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name, leaseTtlMs: LEASE_MS } });
    closers.push(() => survivor.close());
    await eventually(async () => expect(await raw.count('invoke:worker')).toBe(0)); // run again, settled
    expect(await raw.count('sqs:done')).toBe(0);
    expect(await survivor.receiveMessages('done', { maxNumberOfMessages: 10 })).toEqual([]);
  });

  it('killed before sending the record: another member runs the event and sends it, once', async () => {
    const name = redis!.clusterName();
    const requestId = await memberDyingInSettle(name, 'before-then');
    const raw = backend(name);
    expect(await raw.count('sqs:done')).toBe(0);
    const survivor = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name, leaseTtlMs: LEASE_MS } });
    closers.push(() => survivor.close());
    await eventually(async () => expect(await raw.count('invoke:worker')).toBe(0));
    const messages = await survivor.receiveMessages('done', { maxNumberOfMessages: 10 });
    expect(messages.map((m) => m.messageId)).toEqual([deliveryId(requestId, 'destination')]);
    const record = JSON.parse(messages[0]!.body) as Record;
    expect(record.requestContext).toMatchObject({ requestId, condition: 'Success' });
    expect(record.responsePayload).toEqual({ done: 7 });
  });
});
