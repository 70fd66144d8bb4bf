/**
 * EventQueueBackend: the contract in src/async/queue.ts, run against every backend (memory,
 * node:sqlite, and the cluster's BullMQ one: src/cluster/bullmq-queue.ts, on the test Redis). A new
 * backend adds itself to BACKENDS and passes the same suite.
 *
 * BullMQ keeps its own time: its scripts are given the client's `Date.now()` as the time (a delayed
 * job's due time is that time plus the delay, and a claim promotes the jobs due by it), and its
 * locks expire by Redis's clock. The contract's times are the caller's (`now`, `at`). So for BullMQ
 * the suite fakes `Date` alone (timers and Redis stay real) and sets it to each claim's `now` just
 * before the call: the clock BullMQ reads is then the one the suite drives, as in production, where
 * the pump's clock is the wall clock BullMQ reads. Its lock (`leaseTtlMs`, 60 s here) outlasts
 * every case; a lease ending by the caller's clock is the backend's own doing (it hands its ended
 * leases back at its next claim). A lock lapsing in real time (a member killed) is
 * test/cluster/events.test.ts's case.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryEventQueue } from '../../src/async/memory-queue.ts';
import type { EventQueueBackend, NewEvent } from '../../src/async/queue.ts';
import { EVENTS_FILE, SqliteEventQueue } from '../../src/async/sqlite-queue.ts';
import { BullMQEventQueue } from '../../src/cluster/bullmq-queue.ts';
import { keyPrefix, redisClient } from '../../src/cluster/connect.ts';
import { DataDirError } from '../../src/errors.ts';
import { SKIP_REASON, testRedis } from '../helpers/redis.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambdalet-queue-'));
  dirs.push(dir);
  return dir;
}

const T0 = 1_000_000;

const redis = await testRedis();
const connection = redis && redisClient(redis.url);
await connection?.connect();
afterAll(async () => {
  connection?.disconnect();
  await redis?.stop();
});

/** BullMQ reads `Date.now()` for its time (file comment): each claim first sets it to the claim's `now`. */
function bullmqDrivenByDate(): EventQueueBackend {
  vi.setSystemTime(T0);
  const q = new BullMQEventQueue(connection!, keyPrefix(redis!.clusterName()), 60_000);
  return new Proxy(q, {
    get(target, prop) {
      if (prop === 'claim') {
        return (queue: string, now: number, limit: number, leaseMs: number) => {
          vi.setSystemTime(now);
          return target.claim(queue, now, limit, leaseMs);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const BACKENDS: [string, () => EventQueueBackend][] = [
  ['memory', () => new MemoryEventQueue()],
  ['sqlite', () => SqliteEventQueue.open(freshDir())],
  ...(redis ? [['bullmq', bullmqDrivenByDate] as [string, () => EventQueueBackend]] : []),
];
if (!redis) describe.skip(`EventQueueBackend (bullmq) (skipped: ${SKIP_REASON})`, () => it('runs the suite', () => {}));

function ev(id: string, at = T0, queue = 'invoke:a'): NewEvent {
  return { queue, id, body: JSON.stringify({ id }), enqueuedAt: T0, availableAt: at };
}

describe.each(BACKENDS)('EventQueueBackend (%s)', (name, make) => {
  beforeEach(() => {
    if (name === 'bullmq') vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('claim: due events oldest first, up to the limit, under a lease; not-yet-due and other queues stay', async () => {
    const q = make();
    await q.enqueue([ev('a'), ev('b'), ev('later', T0 + 500), ev('other', T0, 'invoke:b')]);
    const first = await q.claim('invoke:a', T0, 1, 10_000);
    expect(first.map((e) => [e.id, e.attempts, e.leaseUntil])).toEqual([['a', 1, T0 + 10_000]]);
    expect((await q.claim('invoke:a', T0, 10, 10_000)).map((e) => e.id)).toEqual(['b']);
    // 'later' is due at T0 + 500: not at T0 + 499, yes at T0 + 500 (the boundary is inclusive).
    expect(await q.claim('invoke:a', T0 + 499, 10, 10_000)).toEqual([]);
    expect((await q.claim('invoke:a', T0 + 500, 10, 10_000)).map((e) => e.id)).toEqual(['later']);
    expect(await q.count('invoke:a')).toBe(3);
    expect(await q.count('invoke:b')).toBe(1);
    await q.close();
  });

  it('enqueue: an id the queue already holds is skipped (no double event); the same id in another queue is another event', async () => {
    const q = make();
    await q.enqueue([ev('x')]);
    await q.enqueue([{ ...ev('x'), body: 'second' }, ev('x', T0, 'invoke:b')]);
    const [only] = await q.claim('invoke:a', T0, 10, 100);
    expect(only!.body).toBe(JSON.stringify({ id: 'x' }));
    expect(await q.count('invoke:a')).toBe(1);
    expect(await q.count('invoke:b')).toBe(1);
    await q.close();
  });

  it('lease: not claimable while live; due again when it ends (at leaseUntil), with attempts counted', async () => {
    const q = make();
    await q.enqueue([ev('a')]);
    const [lease] = await q.claim('invoke:a', T0, 1, 100);
    expect(await q.claim('invoke:a', T0 + 99, 1, 100)).toEqual([]);
    const [again] = await q.claim('invoke:a', T0 + 100, 1, 100);
    expect(again!.attempts).toBe(2);
    expect(again!.token).not.toBe(lease!.token);
    // The first lease is lost: its settle does nothing.
    expect(await q.ack(lease!)).toBe(false);
    expect(await q.count('invoke:a')).toBe(1);
    expect(await q.ack(again!)).toBe(true);
    expect(await q.count('invoke:a')).toBe(0);
    expect(await q.ack(again!)).toBe(false);
    await q.close();
  });

  it('retry: due again at the given time with the given attempts; then-events are enqueued with it', async () => {
    const q = make();
    await q.enqueue([ev('a')]);
    const [lease] = await q.claim('invoke:a', T0, 1, 100);
    expect(await q.retry(lease!, T0 + 60_000, 0, [ev('note', T0, 'callback:x')])).toBe(true);
    expect(await q.claim('invoke:a', T0 + 59_999, 1, 100)).toEqual([]);
    const [again] = await q.claim('invoke:a', T0 + 60_000, 1, 100);
    expect(again!.attempts).toBe(1);
    expect(again!.enqueuedAt).toBe(T0);
    expect(await q.count('callback:x')).toBe(1);
    await q.close();
  });

  async function retriedBeforeLater(queue: string): Promise<void> {
    const q = make();
    await q.enqueue([ev('a', T0, queue), ev('b', T0 + 1, queue), ev('c', T0 + 2, queue)]);
    const [a, b] = await q.claim(queue, T0 + 2, 2, 100);
    // a stream shard's failed batch goes back at its records' own due times, in order
    expect(await q.retry(a!, a!.availableAt, 1)).toBe(true);
    expect(await q.retry(b!, b!.availableAt, 1)).toBe(true);
    const again = await q.claim(queue, T0 + 3, 3, 100);
    expect(again.map((e) => [e.id, e.attempts])).toEqual([['a', 2], ['b', 2], ['c', 1]]);
    await q.close();
  }

  it.skipIf(name === 'bullmq')(
    name === 'bullmq'
      ? 'retry at a time already passed: ... (skipped on bullmq outside stream lanes: BullMQ puts a job back at the end of its wait list, so an event retried at its old due time comes after events due later; docs/cluster.md)'
      : 'retry at a time already passed: the event is claimed before events due later, retried ones in due-time order',
    () => retriedBeforeLater('invoke:a'),
  );

  it("retry at a time already passed, in a stream shard's lane (kinesis:*): claimed before events due later, in due-time order", () =>
    retriedBeforeLater('kinesis:m-1:0'));

  it('ack and deadLetter: then-events go with the settle, and not at all when the lease is lost', async () => {
    const q = make();
    await q.enqueue([ev('a'), ev('b')]);
    const [a, b] = await q.claim('invoke:a', T0, 2, 100);
    expect(await q.ack(a!, [ev('ok', T0, 'dest:s')])).toBe(true);
    expect(await q.deadLetter(b!, 'RetriesExhausted', [ev('bad', T0, 'dest:f')])).toBe(true);
    expect(await q.count('dest:s')).toBe(1);
    expect(await q.count('dest:f')).toBe(1);
    const dead = await q.listDead('invoke:a');
    expect(dead.map((d) => [d.id, d.reason, d.attempts])).toEqual([['b', 'RetriesExhausted', 1]]);
    expect(await q.claim('invoke:a', T0 + 1_000_000, 10, 100)).toEqual([]);
    // Settling a lost lease enqueues nothing.
    expect(await q.ack(a!, [ev('twice', T0, 'dest:s')])).toBe(false);
    expect(await q.count('dest:s')).toBe(1);
    await q.close();
  });

  it('listDue: each queue with live events and when its next one is due (a leased one: its lease end)', async () => {
    const q = make();
    await q.enqueue([ev('a', T0 + 10), ev('b', T0 + 5, 'invoke:b')]);
    const due = (await q.listDue()).sort((x, y) => x.queue.localeCompare(y.queue));
    expect(due).toEqual([{ queue: 'invoke:a', nextAt: T0 + 10 }, { queue: 'invoke:b', nextAt: T0 + 5 }]);
    const [lease] = await q.claim('invoke:b', T0 + 5, 1, 1000);
    expect((await q.listDue()).find((d) => d.queue === 'invoke:b')).toEqual({ queue: 'invoke:b', nextAt: T0 + 1005 });
    await q.ack(lease!);
    expect((await q.listDue()).map((d) => d.queue)).toEqual(['invoke:a']);
    await q.close();
  });

  it('purge: every event of the queue goes (due, delayed, leased), its dead letters and other queues stay; a purged lease is lost', async () => {
    const q = make();
    await q.enqueue([ev('due', T0, 'sqs:jobs'), ev('delayed', T0 + 60_000, 'sqs:jobs'), ev('leased', T0, 'sqs:jobs'), ev('dead', T0, 'sqs:jobs'), ev('other', T0, 'sqs:keep')]);
    const claimed = await q.claim('sqs:jobs', T0, 3, 10_000);
    const dead = claimed.find((e) => e.id === 'dead') ?? claimed.find((e) => e.id !== 'leased')!;
    expect(await q.deadLetter(dead, 'test')).toBe(true);
    const leased = claimed.find((e) => e.id === 'leased')!;
    expect(await q.purge!('sqs:jobs')).toBe(3);
    expect(await q.count('sqs:jobs')).toBe(0);
    expect(await q.claim('sqs:jobs', T0 + 3_600_000, 10, 100)).toEqual([]);
    expect(await q.ack(leased)).toBe(false);
    expect((await q.listDead('sqs:jobs')).map((e) => e.id)).toEqual([dead.id]);
    expect(await q.count('sqs:keep')).toBe(1);
    expect((await q.listDue()).map((d) => d.queue)).toEqual(['sqs:keep']);
    expect(await q.purge!('sqs:nothing')).toBe(0);
    await q.close();
  });

  it('close: later calls reject', async () => {
    const q = make();
    await q.close();
    await q.close();
    await expect(q.enqueue([ev('a')])).rejects.toThrow('closed');
    await expect(q.claim('invoke:a', T0, 1, 1)).rejects.toThrow('closed');
  });
});

describe('SqliteEventQueue', () => {
  it('durable: events and settles survive reopening; leases of the dead owner are released at open', async () => {
    const dir = freshDir();
    const q = SqliteEventQueue.open(dir);
    await q.enqueue([ev('a'), ev('b'), ev('c')]);
    const [a, b] = await q.claim('invoke:a', T0, 2, 1_000_000);
    await q.ack(a!);
    void b; // leased, never settled: its owner "dies"
    await q.close();
    const reopened = SqliteEventQueue.open(dir);
    const claimed = await reopened.claim('invoke:a', T0, 10, 100);
    expect(claimed.map((e) => [e.id, e.attempts])).toEqual([['b', 2], ['c', 1]]);
    await reopened.close();
  });

  it('one owner: a second open of the folder is DataDirError in-use; foreign files are refused untouched', async () => {
    const dir = freshDir();
    const q = SqliteEventQueue.open(dir);
    expect(() => SqliteEventQueue.open(dir)).toThrow(expect.objectContaining({ problem: 'in-use' }) as unknown);
    await q.close();
    const foreign = freshDir();
    const db = new DatabaseSync(join(foreign, EVENTS_FILE));
    db.exec('CREATE TABLE mine (x)');
    db.close();
    const error = (() => { try { SqliteEventQueue.open(foreign); } catch (e) { return e; } })();
    expect(error).toBeInstanceOf(DataDirError);
    expect((error as DataDirError).problem).toBe('foreign');
    const junk = freshDir();
    writeFileSync(join(junk, EVENTS_FILE), 'not a database at all, just some text that is long enough'.repeat(20));
    expect(() => SqliteEventQueue.open(junk)).toThrow(DataDirError);
  });
});
