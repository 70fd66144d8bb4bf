/**
 * async/*: asynchronous invocation and its event queue (issue #17).
 *   async/queue/{memory,durable}: one event through the queue backend alone — enqueue, claim,
 *     ack — per event (100 events a sample); durable is node:sqlite in a dataDir, so durable/memory
 *     is the added latency of the durable queue per event.
 *   async/pipeline/{memory,durable}-<n>: n `Event` invokes of a trivial v8 function whose
 *     on-success destination is a lambdalet queue, from the first invoke until every event has run
 *     and its record is queued (queue → function → destination), each sample on a new runtime
 *     with one warm environment. One sample: the whole run; events/s = n / median. Baseline
 *     async/pipeline/sync-<n>: the same n invokes synchronously, one after another, on a warm
 *     function (also a new runtime per sample). The three cases take turns (memory, sync, durable,
 *     memory, ...), so machine load that comes and goes falls on each alike; p99 is the slowest.
 *   async/pipeline/io50-{first,warm}-1000: 1,000 `Event` invokes of a function that waits 50 ms
 *     (I/O-bound: the async layer's adaptive limit should let many run at once), a first burst
 *     from one warm environment and a second on the environments the first left.
 *   async/restart/{open,drain}-10000: 10,000 events left queued in a dataDir; `open` is createRuntime
 *     on the folder (registry restored, events file opened), `drain` from then until every event has run.
 *   The pipeline's notes add the process's CPU time per event (all threads), steadier than wall
 *   time when other work shares the machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invokeEvent } from '../../src/async/async-invoke.ts';
import { MemoryEventQueue } from '../../src/async/memory-queue.ts';
import type { EventQueueBackend } from '../../src/async/queue.ts';
import { SqliteEventQueue } from '../../src/async/sqlite-queue.ts';
import { createRuntime, silentSink, type RuntimeOptionsInput } from '../../src/index.ts';
import { TRIVIAL, TRIVIAL_EVENT } from '../lib/handlers.ts';
import type { Suite } from '../lib/suite.ts';

const PER_SAMPLE = 100;

async function queueRoundTrips(backend: EventQueueBackend, offset: number): Promise<void> {
  for (let i = 0; i < PER_SAMPLE; i++) {
    const id = `e${offset + i}`;
    await backend.enqueue([{ queue: 'invoke:bench', id, body: '{"n":1}', enqueuedAt: 0, availableAt: 0 }]);
    const [lease] = await backend.claim('invoke:bench', 1, 1, 60_000);
    if (lease === undefined || !(await backend.ack(lease))) throw new Error('async/queue: an event was lost');
  }
}

/** One sample: wall time (ms) and the process's CPU time (user + system, every thread: ms). */
interface Sample {
  readonly ms: number;
  readonly cpuMs: number;
}

function since(started: number, cpu: NodeJS.CpuUsage): Sample {
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

async function pipeline(n: number, options: RuntimeOptionsInput, label: string): Promise<Sample> {
  const rt = await createRuntime({ logSink: silentSink, ...options });
  try {
    await rt.deploy({ name: 'bench', code: { files: { 'index.mjs': TRIVIAL.module } } });
    const done = rt.createQueue('done');
    rt.putFunctionEventInvokeConfig('bench', { destinationConfig: { onSuccess: { destination: done.queueArn } } });
    await rt.invoke('bench', TRIVIAL_EVENT); // warm
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < n; i++) await rt.invoke('bench', TRIVIAL_EVENT, { invocationType: 'Event' });
    await rt.eventsIdle();
    const sample = since(started, cpu);
    const records = rt.listQueues().length === 1 ? await countMessages(rt) : 0;
    if (records !== n) throw new Error(`async/pipeline/${label}: ${records} records for ${n} events`);
    return sample;
  } finally {
    await rt.close();
  }
}

/** n sequential synchronous invokes of a warm trivial function on a new runtime. */
async function syncRun(n: number): Promise<Sample> {
  const rt = await createRuntime({ logSink: silentSink });
  try {
    await rt.deploy({ name: 'bench', code: { files: { 'index.mjs': TRIVIAL.module } } });
    await rt.invoke('bench', TRIVIAL_EVENT);
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < n; i++) await rt.invoke('bench', TRIVIAL_EVENT);
    return since(started, cpu);
  } finally {
    await rt.close();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function countMessages(rt: Awaited<ReturnType<typeof createRuntime>>): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await rt.receiveMessages('done', { maxNumberOfMessages: 10 });
    if (batch.length === 0) return total;
    total += batch.length;
  }
}

export async function asyncArea(suite: Suite): Promise<void> {
  const dirs: string[] = [];
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'lambdalet-bench-async-'));
    dirs.push(d);
    return d;
  };
  try {
    // The backend alone.
    const memory = new MemoryEventQueue();
    const durable = SqliteEventQueue.open(await dir());
    let offset = 0;
    const iterations = suite.pick(100, 20);
    await suite.measure('async/queue/memory', () => queueRoundTrips(memory, (offset += PER_SAMPLE)), { iterations });
    await suite.measure('async/queue/durable', () => queueRoundTrips(durable, (offset += PER_SAMPLE)), { iterations });
    await durable.close();
    suite.ratio('async/queue/durable', 'async/queue/memory');
    suite.notes.push(`async/queue/* time ${PER_SAMPLE} events a sample (enqueue + claim + ack each): divide by ${PER_SAMPLE} for one event.`);

    // Queue → function → destination, beside sequential sync invokes, taking turns.
    const n = suite.pick(10_000, 2_000);
    const runs = { memory: [] as Sample[], sync: [] as Sample[], durable: [] as Sample[] };
    for (let sample = 0; sample < suite.pick(5, 3); sample++) {
      runs.memory.push(await pipeline(n, {}, 'memory'));
      runs.sync.push(await syncRun(n));
      runs.durable.push(await pipeline(n, { dataDir: await dir() }, 'durable'));
    }
    for (const [label, samples] of Object.entries(runs)) {
      const times = samples.map((s) => s.ms);
      suite.record(`async/pipeline/${label}-${n}`, { median: median(times), p99: Math.max(...times), samples: times.length });
    }
    const [memoryMs, syncMs, durableMs] = [runs.memory, runs.sync, runs.durable].map((samples) => median(samples.map((s) => s.ms))) as [number, number, number];
    // CPU time per event (every thread of the process): steadier than wall time on a shared machine.
    const cpuUs = (samples: readonly Sample[]): number => Math.round((median(samples.map((s) => s.cpuMs)) * 1000) / n);
    suite.extra.asyncCpuMicrosPerEvent = { memory: cpuUs(runs.memory), durable: cpuUs(runs.durable), syncInvoke: cpuUs(runs.sync) };
    suite.notes.push(`async pipeline CPU per event (process, all threads; median of samples): ${cpuUs(runs.memory)} µs in memory, ${cpuUs(runs.durable)} µs durable, ${cpuUs(runs.sync)} µs per sequential sync invoke.`);
    suite.ratio(`async/pipeline/memory-${n}`, `async/pipeline/sync-${n}`);
    suite.ratio(`async/pipeline/durable-${n}`, `async/pipeline/memory-${n}`);
    const perSecond = (ms: number): number => Math.round(n / (ms / 1000));
    suite.extra.asyncEventsPerSecond = { events: n, memory: perSecond(memoryMs), durable: perSecond(durableMs), syncInvokes: perSecond(syncMs) };
    suite.notes.push(`async pipeline: ${perSecond(memoryMs)} events/s in memory, ${perSecond(durableMs)} durable; ${perSecond(syncMs)} sequential sync invokes/s beside them (${n} events).`);

    // An I/O-bound function: two bursts.
    const io = await createRuntime({ logSink: silentSink });
    try {
      await io.deploy({ name: 'io', code: { files: { 'index.mjs': 'export const handler = async () => { await new Promise((r) => setTimeout(r, 50)); return 1; };' } } });
      await io.invoke('io', {});
      for (const burst of ['first', 'warm']) {
        const started = performance.now();
        for (let i = 0; i < 1000; i++) await io.invoke('io', {}, { invocationType: 'Event' });
        await io.eventsIdle();
        const ms = performance.now() - started;
        suite.record(`async/pipeline/io50-${burst}-1000`, { median: ms, p99: ms, samples: 1 });
      }
      const m = io.metrics().functions.find((f) => f.functionName === 'io');
      suite.notes.push(`async io50: ${m?.ColdStarts ?? 0} environments started for 2 bursts of 1,000 events of a 50 ms function (at most ${m?.ConcurrentExecutionsMax ?? 0} at once).`);
    } finally {
      await io.close();
    }

    // Drain after a restart.
    const drainDir = await dir();
    const seed = await createRuntime({ logSink: silentSink, dataDir: drainDir });
    await seed.deploy({ name: 'bench', code: { files: { 'index.mjs': TRIVIAL.module } } });
    await seed.close();
    const left = SqliteEventQueue.open(drainDir);
    const drainN = 10_000; // the issue's figure, in --quick too (a few seconds)
    const now = Date.now();
    await left.enqueue(Array.from({ length: drainN }, (_, i) => invokeEvent(`r${i}`, { fn: 'bench', event: JSON.stringify(TRIVIAL_EVENT) }, now)));
    await left.close();
    const opened = performance.now();
    const restarted = await createRuntime({ logSink: silentSink, dataDir: drainDir });
    const openMs = performance.now() - opened;
    await restarted.eventsIdle();
    const drainMs = performance.now() - opened - openMs;
    const ran = restarted.metrics().functions.find((f) => f.functionName === 'bench')?.Invocations ?? 0;
    await restarted.close();
    if (ran !== drainN) throw new Error(`async/restart: ${ran} of ${drainN} events ran`);
    suite.record(`async/restart/open-${drainN}`, { median: openMs, p99: openMs, samples: 1 });
    suite.record(`async/restart/drain-${drainN}`, { median: drainMs, p99: drainMs, samples: 1 });
  } finally {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}
