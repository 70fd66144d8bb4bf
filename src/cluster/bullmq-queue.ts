/**
 * The cluster's event queue: the async layer's EventQueueBackend (src/async/queue.ts) on BullMQ
 * queues in the cluster's Redis, so any member runs any asynchronous event, and a member that dies
 * mid-invocation has its events run again by another (same id: the requestId is kept).
 *
 * How the contract maps onto BullMQ (manual job processing: `Worker.getNextJob`, no processor):
 * - One BullMQ queue per lambdalet queue (`invoke:orders` → `invoke%3Aorders`: BullMQ refuses ':'),
 *   under the prefix `lambdalet:{<cluster>}:bull`. An event is a job whose jobId is the event's id,
 *   so enqueueing an id the queue holds is skipped (BullMQ keeps the first).
 * - A claim is `getNextJob` with a fresh token: BullMQ moves the job to `active` under a lock of
 *   `cluster.leaseTtlMs`, which this member renews every third of it while the lease lasts
 *   (`leaseUntil`). A lease that ends on this member (the caller's `now` reaches `leaseUntil`, the
 *   contract's visibility timeout) is handed back at this member's next claim of its queue
 *   (`moveToWait`: first in line), and `listDue` reports its end as the queue's next time. A
 *   member that dies stops renewing; BullMQ's stalled-job check (run by every member's workers,
 *   `maxStalledCount` unbounded) moves the job back to `wait` and another member claims it.
 *   Resume time: the lock's expiry plus up to two stalled-check intervals.
 * - A stream shard's queues (`kinesis:…`, stream-poller.ts `shardQueue`) run one batch at a time
 *   across the cluster, as a shard does on Lambda: a claim of one first takes the lane's lock
 *   (`<prefix>lane:<queue>`, this backend's id, `leaseTtlMs`, renewed with the leases), and gets
 *   nothing while another member holds it or while jobs of the lane another member ran are still
 *   active (a dead member's, until the stalled check returns them); the lock goes when the member
 *   holds no lease of the lane any more. `listDue` reports such a lane as due a stalled-check
 *   interval later. A lane's event retried (a stream's failed batch, put back at its records' own
 *   due times) stays active and locked by this member, which keeps the lane and hands it out again
 *   before any later record once its time comes; BullMQ itself would put it behind them.
 * - `purge` removes the queue's waiting, delayed and active jobs (an active one's lock is dropped
 *   first, so the member holding it loses the lease: its settle answers false); failed jobs (the
 *   dead letters) stay.
 * - `ack` → moveToCompleted (removed), `retry` → moveToDelayed(at) (a lane's: kept, above), `deadLetter` → moveToFailed
 *   (BullMQ's failed set is the dead letters; `listDead` reads it). Each first checks the lock is
 *   still ours (extendLock), so a lost lease settles nothing and enqueues nothing.
 * - A settle's `then` events are enqueued just before the settle (BullMQ has no way to add jobs in
 *   the step that completes another), each under a BullMQ deduplication key (`deduplication: { id,
 *   ttl }`, set by BullMQ's add script in the same step as the add) that outlives the job itself;
 *   the keys are deleted once the settle is done. A crash between the two leaves the keys: when
 *   the event is run again, a `then` event with the same id is skipped even if the first copy has
 *   already run and been removed. So `then` events with ids derived from the event (a schedule's
 *   firing: schedules.ts `tickId`; its next firing; an event's destination record and dead-letter
 *   message: outcome.ts `deliveryId`) are enqueued exactly once, provided the event is run again
 *   within THEN_DEDUP_TTL_MS of the crash; a `then` event with a fresh random id (a stream batch's
 *   on-failure record) is at least once: never lost, sent again if its event is run again.
 * - Differences from the contract, because BullMQ keeps its own time (documented in docs/cluster.md):
 *   delays and due times are BullMQ's — `availableAt` and a retry's `at` become delays from this
 *   process's `Date.now()`, which BullMQ passes to its scripts as the time, and a claim promotes
 *   delayed jobs by that clock, not by `now` (under the default wall clock they agree; a manual
 *   `eventClock` does not drive this backend: test/async/queue-conformance.test.ts drives BullMQ's
 *   clock by faking `Date` instead). Lock expiry is Redis's own time. A settle's `then` events are
 *   enqueued just before the settle, not in one atomic step (above).
 * - `watch(wake)`: members announce enqueues on `<prefix>events`; every member's pump wakes.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Job, Queue, Worker } from 'bullmq';
import { RuntimeClosedError } from '../errors.ts';
import type { DeadEvent, EventQueueBackend, LeasedEvent, NewEvent, QueueDue } from '../async/queue.ts';

interface JobData {
  readonly body: string;
  readonly enqueuedAt: number;
  readonly availableAt: number;
  readonly attempts: number;
  readonly reason?: string;
}

interface Held {
  readonly job: Job<JobData>;
  readonly queue: string;
  readonly leaseUntil: number;
  /** BullMQ's lock token on the job: the lease's token, or the first claim's for a lane's retried event. */
  readonly lock: string;
}

/** A lane's event this member retried: still active (locked by `lock`) in BullMQ, handed out again first once `at` comes. */
interface Redo {
  readonly job: Job<JobData>;
  readonly lock: string;
  readonly at: number;
}

/** A stream shard's queues run one batch at a time cluster-wide (class comment). */
function isLane(queue: string): boolean {
  return queue.startsWith('kinesis:');
}

/** KEYS: the lane's lock. ARGV: owner, ms. Takes or extends the lock when free or the owner's: 1, else 0. */
const TAKE_LANE = `
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** KEYS: the lane's lock. ARGV: owner. Deletes it if it is the owner's. */
const DROP_LANE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

/** Longest wait between two stalled-job checks, ms. */
const STALLED_CHECK_MAX_MS = 2_000;

/**
 * How long a settle's `then` events stay deduplicated after a crash between their enqueue and the
 * settle (ms): the event runs again once its lock lapses (`leaseTtlMs`, at most 10 minutes) and
 * its turn in the queue comes; a day covers any backlog short of an outage of the whole cluster.
 */
export const THEN_DEDUP_TTL_MS = 24 * 60 * 60 * 1000;

export class BullMQEventQueue implements EventQueueBackend {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #bullPrefix: string;
  readonly #lockMs: number;
  readonly #queues = new Map<string, Queue<JobData>>();
  readonly #workers = new Map<string, Worker<JobData>>();
  /** Leases this member holds: token → job. */
  readonly #held = new Map<string, Held>();
  /** This backend's id as a lane lock's owner. */
  readonly #owner = randomUUID();
  /** Lanes' retried events, per queue, in the order they are due again (class comment). */
  readonly #redo = new Map<string, Redo[]>();
  readonly #renewal: NodeJS.Timeout;
  #closed = false;

  /** `redis`: the member's connection (BullMQ duplicates it where it needs its own). */
  constructor(redis: Redis, prefix: string, lockMs: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#bullPrefix = `${prefix}bull`;
    this.#lockMs = lockMs;
    this.#renewal = setInterval(() => void this.#renew(), Math.max(1, Math.floor(lockMs / 3)));
    this.#renewal.unref();
  }

  #wake: (() => void) | undefined;

  watch(wake: () => void): void {
    this.#wake = wake;
  }

  /** A member announced an enqueue on {@link channel} (the member's subscriber calls this). */
  announced(): void {
    this.#wake?.();
  }

  /** The channel members announce enqueues on. */
  get channel(): string {
    return `${this.#prefix}events`;
  }

  async enqueue(events: readonly NewEvent[]): Promise<void> {
    return this.#add(events, false);
  }

  /**
   * @internal A settle's `then` events, enqueued under deduplication keys that outlive the jobs
   * (class comment); `lease` is the event being settled. Deleted by {@link #settle} once settled.
   */
  async enqueueThen(events: readonly NewEvent[], _lease: LeasedEvent): Promise<void> {
    return this.#add(events, true);
  }

  async #add(events: readonly NewEvent[], dedupe: boolean): Promise<void> {
    this.#check();
    if (events.length === 0) return;
    const byQueue = new Map<string, NewEvent[]>();
    for (const event of events) byQueue.set(event.queue, [...(byQueue.get(event.queue) ?? []), event]);
    const now = Date.now();
    await this.#redis.sadd(`${this.#prefix}bull-queues`, ...byQueue.keys());
    for (const [name, group] of byQueue) {
      await this.#queue(name).addBulk(
        group.map((event) => ({
          name: 'event',
          data: { body: event.body, enqueuedAt: event.enqueuedAt, availableAt: event.availableAt, attempts: 0 },
          opts: {
            jobId: jobId(event.id),
            delay: Math.max(0, event.availableAt - now),
            attempts: 1,
            removeOnComplete: true,
            removeOnFail: false,
            ...(dedupe ? { deduplication: { id: jobId(event.id), ttl: THEN_DEDUP_TTL_MS } } : {}),
          },
        })),
      );
    }
    await this.#redis.publish(this.channel, 'enqueue');
  }

  async claim(queue: string, now: number, limit: number, leaseMs: number): Promise<LeasedEvent[]> {
    this.#check();
    const worker = this.#worker(queue);
    await this.#releaseEnded(queue, now);
    if (isLane(queue) && !(await this.#takeLane(queue))) return [];
    const leased: LeasedEvent[] = [];
    // A fresh claim's lease token is BullMQ's lock token (so `ackLeased` can settle it from any
    // member); a lane's retried event keeps its lock under a new lease token.
    const lease = async (job: Job<JobData>, lock: string, token = lock): Promise<void> => {
      const attempts = job.data.attempts + 1;
      await job.updateData({ ...job.data, attempts });
      const leaseUntil = now + leaseMs;
      this.#held.set(token, { job, queue, leaseUntil, lock });
      leased.push({ queue, id: eventId(job.id!), body: job.data.body, enqueuedAt: job.data.enqueuedAt, availableAt: job.data.availableAt, attempts, token, leaseUntil });
    };
    // A lane's retried events come first; while one is not due yet, nothing after it is taken.
    const redo = this.#redo.get(queue) ?? [];
    while (leased.length < limit && redo.length > 0 && redo[0]!.at <= now) {
      const next = redo.shift()!;
      await lease(next.job, next.lock, randomUUID());
    }
    if (redo.length === 0) this.#redo.delete(queue);
    while (leased.length < limit && redo.length === 0) {
      const token = randomUUID();
      const job = (await worker.getNextJob(token, { block: false })) as Job<JobData> | undefined;
      if (!job) break;
      await lease(job, token);
    }
    if (isLane(queue)) await this.#dropLaneIfIdle(queue);
    return leased;
  }

  async ack(lease: LeasedEvent, then?: readonly NewEvent[]): Promise<boolean> {
    return this.#settle(lease, then, (job, token) => job.moveToCompleted(null, token, false));
  }

  async retry(lease: LeasedEvent, at: number, attempts: number, then?: readonly NewEvent[], body?: string): Promise<boolean> {
    return this.#settle(lease, then, async (job, token) => {
      await job.updateData({ ...job.data, attempts, ...(body === undefined ? {} : { body }) });
      if (isLane(lease.queue)) this.#keepForRedo(lease.queue, { job, lock: token, at });
      else await job.moveToDelayed(Math.max(at, Date.now()), token);
    });
  }

  async deadLetter(lease: LeasedEvent, reason: string, then?: readonly NewEvent[]): Promise<boolean> {
    return this.#settle(lease, then, async (job, token) => {
      await job.updateData({ ...job.data, reason });
      await job.moveToFailed(new Error(reason), token, false);
    });
  }

  /**
   * A lease another member may hold (a receipt handle it handed out): BullMQ's own completion checks
   * the lock token, so the job is completed only while that lease is still the event's.
   */
  async ackLeased(queue: string, id: string, token: string): Promise<boolean> {
    this.#check();
    const held = this.#held.get(token);
    if (held !== undefined) {
      // Ours: the usual settle (it reads only the token of the lease it is given).
      return this.#settle({ queue, id, token, body: '', enqueuedAt: 0, availableAt: 0, attempts: 0, leaseUntil: held.leaseUntil }, undefined, (job, lock) => job.moveToCompleted(null, lock, false));
    }
    const job = await Job.fromId<JobData>(this.#queue(queue), jobId(id));
    if (job === undefined) return false;
    try {
      await job.moveToCompleted(null, token, false);
      return true;
    } catch {
      return false; // not that lease's any more (lapsed, claimed again, settled)
    }
  }

  async listDue(): Promise<QueueDue[]> {
    this.#check();
    const names = await this.#redis.smembers(`${this.#prefix}bull-queues`);
    const now = Date.now();
    const due: QueueDue[] = [];
    for (const name of names) {
      this.#worker(name); // every member checks every queue for stalled jobs
      const redo = this.#redo.get(name);
      if (redo !== undefined) {
        due.push({ queue: name, nextAt: redo[0]!.at }); // nothing of the lane comes before these
        continue;
      }
      const queue = this.#queue(name);
      const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active');
      const laneHeldElsewhere = isLane(name) && !(await this.#laneFree(name));
      if ((counts.wait ?? 0) + (counts.prioritized ?? 0) > 0) due.push({ queue: name, nextAt: laneHeldElsewhere ? now + this.#stalledInterval() : now });
      else if ((counts.delayed ?? 0) > 0) {
        const [first] = await queue.getDelayed(0, 0);
        due.push({ queue: name, nextAt: first ? first.timestamp + first.delay : now });
      } else if ((counts.active ?? 0) > 0) {
        // Leased: here, due again when the first lease ends; by another member, look again when a
        // dead member's lock may have lapsed.
        const ends = [...this.#held.values()].filter((held) => held.queue === name).map((held) => held.leaseUntil);
        due.push({ queue: name, nextAt: Math.min(now + this.#stalledInterval(), ...ends) });
      }
    }
    return due;
  }

  async listDead(queue: string, limit = 1000): Promise<DeadEvent[]> {
    this.#check();
    const jobs = (await this.#queue(queue).getFailed(0, Math.max(0, limit - 1))) as Job<JobData>[];
    return jobs
      .map((job) => ({
        queue,
        id: eventId(job.id!),
        body: job.data.body,
        enqueuedAt: job.data.enqueuedAt,
        availableAt: job.data.availableAt,
        attempts: job.data.attempts,
        reason: job.data.reason ?? job.failedReason,
        at: job.finishedOn ?? 0,
      }))
      .sort((a, b) => a.at - b.at)
      .map(({ at: _at, ...dead }) => dead);
  }

  async count(queue: string): Promise<number> {
    this.#check();
    const counts = await this.#queue(queue).getJobCounts('wait', 'prioritized', 'delayed', 'active');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async purge(queue: string): Promise<number> {
    this.#check();
    const q = this.#queue(queue);
    const jobs = (await q.getJobs(['wait', 'prioritized', 'delayed', 'active'])) as Job<JobData>[];
    for (const [token, held] of [...this.#held]) if (held.queue === queue) this.#held.delete(token);
    this.#redo.delete(queue);
    if (isLane(queue)) await this.#redis.del(this.#laneKey(queue));
    let removed = 0;
    for (const job of jobs) {
      // BullMQ will not remove a locked (active) job: drop its lock, whoever holds it; that lease is lost.
      await this.#redis.del(q.toKey(`${job.id}:lock`));
      if ((await q.remove(job.id!)) === 1) removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#renewal);
    this.#redo.clear(); // their locks lapse; the stalled check gives them to another member
    await Promise.all([...this.#workers.values()].map((worker) => worker.close(true).catch(() => {})));
    await Promise.all([...this.#queues.values()].map((queue) => queue.close().catch(() => {})));
  }

  #check(): void {
    if (this.#closed) throw new RuntimeClosedError('The event queue is closed');
  }

  #queue(name: string): Queue<JobData> {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue<JobData>(bullName(name), { connection: this.#redis, prefix: this.#bullPrefix });
      queue.on('error', () => {}); // reconnection is ioredis's; calls wait meanwhile
      this.#queues.set(name, queue);
    }
    return queue;
  }

  #stalledInterval(): number {
    return Math.max(100, Math.min(STALLED_CHECK_MAX_MS, Math.floor(this.#lockMs / 4)));
  }

  #worker(name: string): Worker<JobData> {
    let worker = this.#workers.get(name);
    if (!worker) {
      worker = new Worker<JobData>(bullName(name), null, {
        connection: this.#redis,
        prefix: this.#bullPrefix,
        autorun: false,
        lockDuration: this.#lockMs,
        stalledInterval: this.#stalledInterval(),
        maxStalledCount: Number.MAX_SAFE_INTEGER,
      });
      worker.on('error', () => {});
      this.#workers.set(name, worker);
      void worker.startStalledCheckTimer().catch(() => {});
    }
    return worker;
  }

  async #settle(lease: LeasedEvent, then: readonly NewEvent[] | undefined, settle: (job: Job<JobData>, token: string) => Promise<unknown>): Promise<boolean> {
    this.#check();
    const held = this.#held.get(lease.token);
    if (!held) return false;
    this.#held.delete(lease.token);
    // Still ours? (extendLock answers 0 when the lock lapsed and the job went to another member.)
    const owned = await held.job.extendLock(held.lock, this.#lockMs).catch(() => 0);
    if (!owned) {
      if (isLane(held.queue)) await this.#dropLaneIfIdle(held.queue);
      return false;
    }
    if (then && then.length > 0) await this.enqueueThen(then, lease);
    try {
      await settle(held.job, held.lock);
    } catch {
      return false; // the lock was lost between the check and the settle
    }
    // Settled: this event will not run again, so its `then` events need no guard any more.
    if (then && then.length > 0) {
      await Promise.all(then.map((event) => this.#queue(event.queue).removeDeduplicationKey(jobId(event.id)).catch(() => 0)));
    }
    if (isLane(held.queue)) await this.#dropLaneIfIdle(held.queue);
    return true;
  }

  /** Hands back this member's leases of `queue` that ended by `now` (the caller's clock), first in line. */
  async #releaseEnded(queue: string, now: number): Promise<void> {
    for (const [token, held] of [...this.#held]) {
      if (held.queue !== queue || now < held.leaseUntil) continue;
      this.#held.delete(token);
      // Fails when the lock already lapsed (the stalled check returns the job) or moved on: nothing to do.
      await held.job.moveToWait(held.lock).catch(() => 0);
    }
  }

  /** A lane's retried event, in due order (equal times: in the order retried). */
  #keepForRedo(queue: string, redo: Redo): void {
    const list = this.#redo.get(queue) ?? [];
    let at = list.length;
    while (at > 0 && list[at - 1]!.at > redo.at) at--;
    list.splice(at, 0, redo);
    this.#redo.set(queue, list);
  }

  /** This member's events of a lane: leased, or retried and waiting to be handed out again. */
  #mineIn(queue: string): number {
    return [...this.#held.values()].filter((held) => held.queue === queue).length + (this.#redo.get(queue)?.length ?? 0);
  }

  #laneKey(queue: string): string {
    return `${this.#prefix}lane:${queue}`;
  }

  /**
   * Takes (or keeps) the lane's lock for this member: false when another member holds it, or when
   * jobs of the lane that are not this member's are still active (a dead holder's, until the
   * stalled check puts them back first in line: taking later ones now would overtake them).
   */
  async #takeLane(queue: string): Promise<boolean> {
    if ((await this.#redis.eval(TAKE_LANE, 1, this.#laneKey(queue), this.#owner, String(this.#lockMs))) !== 1) return false;
    if ((await this.#queue(queue).getActiveCount()) > this.#mineIn(queue)) {
      await this.#dropLaneIfIdle(queue);
      return false;
    }
    return true;
  }

  /** Gives the lane's lock up when this member holds none of the lane's events. */
  async #dropLaneIfIdle(queue: string): Promise<void> {
    if (this.#mineIn(queue) > 0) return;
    await this.#redis.eval(DROP_LANE, 1, this.#laneKey(queue), this.#owner).catch(() => 0);
  }

  /** No other member holds the lane's lock. */
  async #laneFree(queue: string): Promise<boolean> {
    const owner = await this.#redis.get(this.#laneKey(queue));
    return owner === null || owner === this.#owner;
  }

  async #renew(): Promise<void> {
    const now = Date.now();
    const lanes = new Set([...this.#held.values()].filter((held) => now < held.leaseUntil && isLane(held.queue)).map((held) => held.queue));
    for (const queue of this.#redo.keys()) lanes.add(queue);
    await Promise.all([...lanes].map((queue) => this.#redis.eval(TAKE_LANE, 1, this.#laneKey(queue), this.#owner, String(this.#lockMs)).catch(() => 0)));
    const redo = [...this.#redo.values()].flat().map((r) => r.job.extendLock(r.lock, this.#lockMs).catch(() => 0));
    // All at once (one burst of commands on the connection): renewing one after another let the
    // last locks of a few hundred lapse on a loaded machine, and their events ran twice.
    await Promise.all([
      ...[...this.#held.values()]
        // Past its lease the event is left to expire, as the contract says; otherwise keep the lock.
        .filter((held) => now < held.leaseUntil)
        .map((held) => held.job.extendLock(held.lock, this.#lockMs).catch(() => 0)),
      ...redo,
    ]);
  }
}

/** BullMQ refuses ':' in queue names and job ids, and integer job ids. */
function bullName(queue: string): string {
  return encodeURIComponent(queue);
}

function jobId(id: string): string {
  return `e.${encodeURIComponent(id)}`;
}

function eventId(job: string): string {
  return decodeURIComponent(job.slice(2));
}
