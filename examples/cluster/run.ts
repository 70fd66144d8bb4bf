/**
 * Three lambdalet runtimes in three processes act as one region through Redis (BullMQ queues):
 *
 *   node --no-node-snapshot examples/cluster/run.ts [--members 3] [--events 90] [--work-ms 50] [--no-kill]
 *
 * Deploys a function, starts the member processes (member.ts), has the last member queue
 * `--events` asynchronous invocations (every member runs them), kills one member with SIGKILL while it runs events (unless
 * --no-kill), and waits until every event has been done at least once. Prints which member ran
 * how many, the events run more than once, the time for the cluster to resume the dead member's
 * events, and events per second. Exits 1 if an event is lost (not done within 120 s).
 *
 * Redis: REDIS_URL or LAMBDALET_TEST_REDIS_URL if set, otherwise a private redis-server (Debian's
 * package) on a free loopback port, stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createRuntime, silentSink } from '../../src/index.ts';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '3' },
    events: { type: 'string', default: '90' },
    'work-ms': { type: 'string', default: '50' },
    'no-kill': { type: 'boolean', default: false },
  },
});
const MEMBERS = Number(values.members);
const EVENTS = Number(values.events);
const WORK_MS = Number(values['work-ms']);
const KILL = !values['no-kill'] && MEMBERS > 1;
const LEASE_TTL_MS = 5000;
const LOST_AFTER_MS = Number(process.env.LOST_AFTER_MS ?? 120_000);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Redis from the environment, or a private redis-server for this run. */
async function redisUrl(): Promise<{ url: string; stop(): void }> {
  const given = process.env.REDIS_URL ?? process.env.LAMBDALET_TEST_REDIS_URL;
  if (given) return { url: given, stop: () => {} };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lambdalet-example-redis-'));
  const server = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  server.on('error', (error) => {
    console.error(`cannot start redis-server (apt-get install redis-server, or set REDIS_URL): ${error.message}`);
    process.exit(1);
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => {});
    const ok = await probe.connect().then(() => true, () => false);
    probe.disconnect();
    if (ok) break;
    if (i > 100) throw new Error(`redis-server on port ${port} did not start`);
    await sleep(50);
  }
  return { url, stop: () => (server.kill('SIGKILL'), rmSync(dir, { recursive: true, force: true })) };
}

function startMember(url: string, cluster: string, name: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./member.ts', import.meta.url));
  const child = spawn(process.execPath, ['--no-node-snapshot', script, url, cluster, name, String(LEASE_TTL_MS), String(32 * MEMBERS)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`member ${name} exited with ${code} before it was ready`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
  });
}

const redis = await redisUrl();
const cluster = `example-${randomUUID().slice(0, 8)}`;
const prefix = `example:{${cluster}}:`;
const client = new Redis(redis.url);
const members = new Map<string, ChildProcess>();
try {
  // Deploy through a short-lived member (it leaves the cluster at once): the others learn the function from Redis.
  const deployer = await createRuntime({ logSink: silentSink, cluster: { redis: redis.url, name: cluster } });
  await deployer.deploy({
    name: 'work',
    timeoutMs: 10_000,
    code: { files: { 'index.mjs': 'export const handler = async (e) => { await new Promise((r) => setTimeout(r, e.workMs)); return e.n * 2; };' } },
  });
  await deployer.close();
  const names = Array.from({ length: MEMBERS }, (_, i) => `member-${i + 1}`);
  for (const [name, child] of await Promise.all(names.map(async (name) => [name, await startMember(redis.url, cluster, name)] as const))) members.set(name, child);
  console.log(`cluster ${cluster}: ${MEMBERS} member processes ready (${names.join(', ')}), Redis ${redis.url}`);

  // The queue is paused (BullMQ's own Queue.pause) while one member fills it, then resumed: the
  // events-per-second figure is the members' rate, not the producer's.
  const bullQueue = new Queue(encodeURIComponent('invoke:work'), { connection: { url: redis.url }, prefix: `lambdalet:{${cluster}}:bull` });
  await bullQueue.pause();
  const enqueuer = members.get(names[names.length - 1]!)!;
  const ids = await new Promise<string[]>((resolve) => {
    enqueuer.once('message', (m: { ids: string[] }) => resolve(m.ids));
    enqueuer.send({ enqueue: EVENTS, workMs: WORK_MS });
  });
  console.log(`queued ${ids.length} events (${WORK_MS} ms of work each)`);
  const started = Date.now();
  await bullQueue.resume();
  await client.publish(`lambdalet:{${cluster}}:events`, 'resume'); // wakes every member's pump
  await bullQueue.close();

  let killedAt: number | undefined;
  let orphans: string[] = [];
  // The victim is whichever member is first seen with an event in flight (in name order): on a
  // loaded machine one member can take nearly every event, so a member fixed in advance may never
  // run one before the queue drains.
  let victim: string | undefined;
  if (KILL) {
    // Kill a member while it is running events: some started on it and have not ended there.
    search: for (;;) {
      for (const name of names) {
        const startedThere = await client.hkeys(`${prefix}started:${name}`);
        const endedThere = new Set(await client.hkeys(`${prefix}ended-by:${name}`));
        const running = startedThere.filter((id) => !endedThere.has(id));
        if (running.length > 0) {
          members.get(name)!.kill('SIGKILL');
          killedAt = Date.now();
          victim = name;
          orphans = running;
          break search;
        }
      }
      if (Date.now() - started > LOST_AFTER_MS) {
        throw new Error(`no member was seen with an event in flight; ran: ${JSON.stringify(await client.hgetall(`${prefix}by`))}, done ${await client.hlen(`${prefix}ended`)}`);
      }
      await sleep(5);
    }
    console.log(`killed ${victim} (SIGKILL) with ${orphans.length} event(s) in flight`);
  }

  let done = 0;
  for (;;) {
    done = await client.hlen(`${prefix}ended`);
    if (done >= EVENTS) break;
    if (Date.now() - started > LOST_AFTER_MS) break;
    await sleep(20);
  }
  const elapsedMs = Date.now() - started;
  const runs = await client.hgetall(`${prefix}runs`);
  const ended = await client.hgetall(`${prefix}ended`);
  const lost = ids.filter((id) => runs[id] === undefined);
  const twice = ids.filter((id) => Number(runs[id] ?? 0) > 1);
  const by = await client.hgetall(`${prefix}by`);
  for (const name of names) console.log(`${name}: ran ${by[name] ?? 0}${KILL && name === victim ? ' (killed)' : ''}`);
  if (KILL && killedAt !== undefined) {
    const resumed = orphans.map((id) => Number(ended[id] ?? NaN) - killedAt).filter((ms) => Number.isFinite(ms));
    console.log(`resumed the dead member's ${orphans.length} in-flight event(s) after ${resumed.length ? Math.max(...resumed) : 'n/a'} ms (lease ${LEASE_TTL_MS} ms)`);
  }
  console.log(`events done at least once: ${EVENTS - lost.length} of ${EVENTS}; run more than once: ${twice.length}; lost: ${lost.length}`);
  console.log(`throughput: ${((EVENTS / elapsedMs) * 1000).toFixed(1)} events/s with ${MEMBERS} member(s) (${elapsedMs} ms from the first enqueue to the last event done)`);
  if (lost.length > 0) {
    console.log(`LOST: ${lost.join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log(`all ${EVENTS} events done`);
  }
} finally {
  const alive = [...members.values()].filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(alive.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))));
  client.disconnect();
  redis.stop();
}
