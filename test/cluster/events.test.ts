/**
 * The cluster's event queue (issue 20): asynchronous invocations on BullMQ queues in the cluster's
 * Redis. The backend keeps the EventQueueBackend contract of src/async/queue.ts where BullMQ's own
 * time allows (ids deduplicated, claims under a lease, a lost lease settles nothing, retry and
 * dead letters, listDue); any member runs any event; a member killed with SIGKILL mid-invocation
 * has its event run again by another member with the same requestId once its lock lapses.
 * Needs Redis (test/helpers/redis.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { BullMQEventQueue } from '../../src/cluster/bullmq-queue.ts';
import { keyPrefix } from '../../src/cluster/connect.ts';
import type { NewEvent } from '../../src/async/queue.ts';
import { createRuntime, silentSink, type Runtime } from '../../src/index.ts';
import { freePort, SKIP_REASON, startRedis, testRedis } from '../helpers/redis.ts';
import { captureLogs, GENEROUS_TIMEOUT_MS, SLOW_CASE_LIMIT_MS } from '../helpers/runtime.ts';
import { taggedCode } from '../registry/helpers.ts';
import { eventually } from '../helpers/eventually.ts';

const redis = await testRedis();
afterAll(() => redis?.stop());

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function backend(name: string, lockMs = 1000): BullMQEventQueue {
  const client = new Redis(redis!.url, { maxRetriesPerRequest: null });
  const queue = new BullMQEventQueue(client, keyPrefix(name), lockMs);
  closers.push(async () => {
    await queue.close();
    client.disconnect();
  });
  return queue;
}

function ev(id: string, queue = 'invoke:a', availableAt = Date.now()): NewEvent {
  return { queue, id, body: JSON.stringify({ id }), enqueuedAt: availableAt, availableAt };
}

describe.skipIf(!redis)(redis ? 'cluster event queue (BullMQ)' : `cluster event queue (skipped: ${SKIP_REASON})`, () => {
  it('enqueue skips an id the queue holds; claim leases due events with attempts counted; ack removes', async () => {
    const q = backend(redis!.clusterName());
    await q.enqueue([ev('x'), ev('y')]);
    await q.enqueue([{ ...ev('x'), body: 'second' }, ev('x', 'invoke:b')]);
    expect(await q.count('invoke:a')).toBe(2);
    expect(await q.count('invoke:b')).toBe(1);
    const leases = await q.claim('invoke:a', Date.now(), 10, 60_000);
    expect(leases.map((l) => [l.id, l.attempts, l.body]).sort()).toEqual([
      ['x', 1, JSON.stringify({ id: 'x' })],
      ['y', 1, JSON.stringify({ id: 'y' })],
    ]);
    expect(await q.claim('invoke:a', Date.now(), 10, 60_000)).toEqual([]); // both leased
    for (const lease of leases) expect(await q.ack(lease)).toBe(true);
    expect(await q.ack(leases[0]!)).toBe(false); // settled already
    expect(await q.count('invoke:a')).toBe(0);
  });

  it('an event due in 60 s is not claimable now; listDue says when it is due', async () => {
    const q = backend(redis!.clusterName());
    const at = Date.now() + 60_000;
    await q.enqueue([ev('later', 'invoke:a', at)]);
    expect(await q.claim('invoke:a', Date.now(), 10, 1000)).toEqual([]);
    const [due] = await q.listDue();
    expect(due!.queue).toBe('invoke:a');
    expect(Math.abs(due!.nextAt - at)).toBeLessThan(1000); // BullMQ keeps delays from its own enqueue time
  });

  it('retry makes the event due again later with the given attempts, then-events enqueued; deadLetter lists it with its reason', async () => {
    const q = backend(redis!.clusterName());
    await q.enqueue([ev('r'), ev('d')]);
    const leases = await q.claim('invoke:a', Date.now(), 2, 60_000);
    const r = leases.find((l) => l.id === 'r')!;
    const d = leases.find((l) => l.id === 'd')!;
    expect(await q.retry(r, Date.now() + 60_000, 0, [ev('note', 'callback:x')])).toBe(true);
    expect(await q.count('callback:x')).toBe(1);
    expect(await q.claim('invoke:a', Date.now(), 10, 1000)).toEqual([]);
    expect(await q.deadLetter(d, 'RetriesExhausted', [ev('bad', 'dest:f')])).toBe(true);
    expect(await q.count('dest:f')).toBe(1);
    expect((await q.listDead('invoke:a')).map((e) => [e.id, e.reason, e.attempts])).toEqual([['d', 'RetriesExhausted', 1]]);
    expect(await q.count('invoke:a')).toBe(1); // r, delayed
  });

  it('a lease its holder stops renewing lapses: another backend claims the event (attempts 2, same id) and the first settle does nothing', async () => {
    const name = redis!.clusterName();
    const [a, b] = [backend(name, 1000), backend(name, 1000)];
    await a.enqueue([ev('job')]);
    const [first] = await a.claim('invoke:a', Date.now(), 1, 1); // lease ends at once: a stops renewing
    const [again] = await eventually(async () => {
      await b.listDue(); // b runs the stalled-job check for the queues it sees
      const claimed = await b.claim('invoke:a', Date.now(), 1, 60_000);
      if (claimed.length === 0) throw new Error('not yet');
      return claimed;
    });
    expect([again!.id, again!.attempts]).toEqual(['job', 2]);
    expect(await a.ack(first!, [ev('never', 'dest:s')])).toBe(false);
    expect(await b.count('dest:s')).toBe(0);
    expect(await b.ack(again!)).toBe(true);
    expect(await b.count('invoke:a')).toBe(0);
  });

  it("a stream shard's lane runs one batch at a time across members (Kinesis: one batch per shard in flight); other queues are not held", async () => {
    const name = redis!.clusterName();
    const [a, b] = [backend(name, 60_000), backend(name, 60_000)];
    const lane = 'kinesis:m-1:0';
    await a.enqueue([ev('r1', lane), ev('r2', lane), ev('r3', lane), ev('x', 'invoke:x')]);
    const [r1] = await a.claim(lane, Date.now(), 1, 60_000);
    expect(r1!.id).toBe('r1');
    expect(await b.claim(lane, Date.now(), 1, 60_000)).toEqual([]); // a holds the lane
    expect((await b.listDue()).find((d) => d.queue === lane)!.nextAt).toBeGreaterThan(Date.now()); // not due for b meanwhile
    expect((await b.claim('invoke:x', Date.now(), 1, 60_000)).map((e) => e.id)).toEqual(['x']); // another queue: free
    expect(await a.ack(r1!)).toBe(true); // a holds nothing of the lane now: it lets go
    const [r2] = await b.claim(lane, Date.now(), 1, 60_000);
    expect(r2!.id).toBe('r2');
    expect(await a.claim(lane, Date.now(), 1, 60_000)).toEqual([]); // now b holds it
    expect(await b.ack(r2!)).toBe(true);
    expect((await a.claim(lane, Date.now(), 5, 60_000)).map((e) => e.id)).toEqual(['r3']);
  });

  it("a lane's holder stops renewing: nobody takes a later record before the stalled one is back, which comes first", async () => {
    const name = redis!.clusterName();
    const [dead, alive] = [backend(name, 1000), backend(name, 1000)];
    const lane = 'kinesis:m-2:0';
    await dead.enqueue([ev('f1', lane), ev('f2', lane)]);
    const [f1] = await dead.claim(lane, Date.now(), 1, 1); // its lease ends at once: it stops renewing (lane and job)
    expect(f1!.id).toBe('f1');
    // Polled until the lane is claimable: each empty claim is the lane still held, or f1 still active.
    const [first] = await eventually(async () => {
      await alive.listDue(); // runs the stalled-job check
      const claimed = await alive.claim(lane, Date.now(), 1, 60_000);
      if (claimed.length === 0) throw new Error('not yet');
      return claimed;
    });
    expect([first!.id, first!.attempts]).toEqual(['f1', 2]);
    expect(await dead.ack(f1!)).toBe(false);
  });

  it('a receipt handle from one member deletes the message through another; a message not deleted is received again after its visibility timeout', async () => {
    const name = redis!.clusterName();
    const [a, b] = [await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name } }), await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name } })];
    closers.push(() => a.close(), () => b.close());
    a.createQueue('jobs');
    await eventually(() => expect(b.getQueue('jobs').queueName).toBe('jobs'));
    await a.sendMessage('jobs', 'gone');
    await a.sendMessage('jobs', 'keep');
    const received = await eventually(async () => {
      const got = [...(await b.receiveMessages('jobs', { maxNumberOfMessages: 2, visibilityTimeout: 1 }))];
      expect(got).toHaveLength(2);
      return got;
    });
    const gone = received.find((m) => m.body === 'gone')!;
    await a.deleteMessage('jobs', gone.receiptHandle); // a never saw this handle
    await sleep(1_100); // both leases (1 s, b's clock) have ended
    const again = await b.receiveMessages('jobs', { maxNumberOfMessages: 2, visibilityTimeout: 60 });
    expect(again.map((m) => [m.body, m.attributes.ApproximateReceiveCount])).toEqual([['keep', '2']]);
    // a handle that is not a lease any more deletes nothing (SQS: a stale handle)
    await a.deleteMessage('jobs', gone.receiptHandle);
    await b.deleteMessage('jobs', again[0]!.receiptHandle);
  });

  it('any member runs any event: 20 Event invokes through one member all run, on the members of the cluster', async () => {
    const name = redis!.clusterName();
    const members: Runtime[] = [];
    for (let i = 0; i < 2; i++) {
      const rt = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name } });
      closers.push(() => rt.close());
      members.push(rt);
    }
    await members[0]!.deploy({ name: 'work', code: taggedCode('e') });
    await eventually(() => members[1]!.getFunction('work'));
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add((await members[0]!.invoke('work', {}, { invocationType: 'Event' })).requestId);
    const invocations = (): number =>
      members.reduce((sum, rt) => sum + (rt.metrics().functions.find((f) => f.functionName === 'work')?.Invocations ?? 0), 0);
    await eventually(() => expect(invocations()).toBe(20));
    expect(ids.size).toBe(20);
  });

  // A Node child's start-up and a lock lapsing: hang limits generous for a busy machine (issue #12).
  it('a member killed with SIGKILL mid-invocation: another member runs its event again with the same requestId', { timeout: SLOW_CASE_LIMIT_MS }, async () => {
    const name = redis!.clusterName();
    const setup = await createRuntime({ logSink: silentSink, cluster: { redis: redis!.url, name, leaseTtlMs: 1000 } });
    await setup.deploy({ name: 'slow', code: taggedCode('k'), timeoutMs: 5000 });
    await setup.close(); // the child is the only member when the event is queued: it claims it
    const fixture = fileURLToPath(new URL('./fixtures/event-member.ts', import.meta.url));
    const child = spawn(process.execPath, ['--no-node-snapshot', fixture, redis!.url, name, '1000', 'slow', '60000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const client = new Redis(redis!.url);
    closers.push(async () => {
      child.kill('SIGKILL');
      client.disconnect();
    });
    const requestId = await eventually(() => {
      const match = /requestId (\S+)/.exec(out);
      if (!match) throw new Error(`no requestId yet; stderr: ${err}`);
      return match[1]!;
    }, GENEROUS_TIMEOUT_MS);
    const active = `${keyPrefix(name)}bull:${encodeURIComponent('invoke:slow')}:active`;
    await eventually(async () => expect(await client.llen(active)).toBe(1), GENEROUS_TIMEOUT_MS); // the child runs it
    child.kill('SIGKILL');
    await exited;
    const logs = captureLogs();
    const survivor = await createRuntime({ logSink: logs, cluster: { redis: redis!.url, name, leaseTtlMs: 1000 } });
    closers.push(() => survivor.close());
    await eventually(() => expect(logs.text()).toContain(`START RequestId: ${requestId}`), GENEROUS_TIMEOUT_MS);
  });

  it('Redis lost mid-run: synchronous invokes keep working, queued events wait and all run once Redis is back (none lost)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambdalet-redis-aof-'));
    const port = await freePort();
    let server = await startRedis(port, dir);
    const logs = captureLogs();
    const rt = await createRuntime({ logSink: logs, cluster: { redis: server.url, name: redis!.clusterName(), leaseTtlMs: 5000 } });
    closers.push(async () => {
      await rt.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    await rt.deploy({ name: 'work', code: taggedCode('q'), timeoutMs: 30_000 });
    const ids: string[] = [];
    // 1 s each: the adaptive in-flight limit starts them one at a time (1, 1, 1, 2, 3, 4, 5, 3 in
    // flight, measured), so 20 take ~8 s; at 5 s each the case waited 40 s for the same assertions.
    for (let i = 0; i < 20; i++) ids.push((await rt.invoke('work', { waitMs: 1000 }, { invocationType: 'Event' })).requestId);
    await server.stop(); // SIGKILL, while the events run (1 s each) or wait
    const endedBeforeLoss = ids.filter((id) => logs.text().includes(`END RequestId: ${id}`));
    expect(endedBeforeLoss.length, 'precondition: Redis was lost while events were still to finish').toBeLessThan(ids.length);
    // The member serves what it holds without Redis.
    for (let i = 0; i < 3; i++) expect((await rt.invoke('work', {})).payload).toMatchObject({ tag: 'q' });
    server = await startRedis(port, dir); // the same data back (append-only file)
    await eventually(() => {
      const missing = ids.filter((id) => !logs.text().includes(`END RequestId: ${id}`));
      expect(missing).toEqual([]);
    });
  });
});
