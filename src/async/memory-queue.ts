/**
 * The in-memory event queue (the default without `dataDir`): the EventQueueBackend contract
 * (queue.ts) over a Map per queue and a binary heap of due times (heap-js) with lazy deletion —
 * a heap entry whose event was settled, or whose due time moved, is skipped when it surfaces.
 * Claim, settle and enqueue are O(log n); nothing survives the process.
 */
import { randomUUID } from 'node:crypto';
import { Heap } from 'heap-js';
import { RuntimeClosedError } from '../errors.ts';
import type { DeadEvent, EventQueueBackend, LeasedEvent, NewEvent, QueueDue } from './queue.ts';

interface Stored {
  event: NewEvent;
  seq: number;
  attempts: number;
  /** Claimable from this time: availableAt, a retry's time or the end of a lease. */
  visibleAt: number;
  token: string | undefined;
}

interface HeapEntry {
  readonly stored: Stored;
  readonly visibleAt: number;
}

class MemoryQueue {
  readonly events = new Map<string, Stored>();
  readonly heap = new Heap<HeapEntry>((a, b) => a.visibleAt - b.visibleAt || a.stored.seq - b.stored.seq);
  readonly dead: DeadEvent[] = [];

  /** The next heap entry that is still current, or undefined; stale ones are dropped. */
  top(): HeapEntry | undefined {
    for (;;) {
      const entry = this.heap.peek();
      if (entry === undefined) return undefined;
      if (this.events.get(entry.stored.event.id) === entry.stored && entry.stored.visibleAt === entry.visibleAt) return entry;
      this.heap.pop();
    }
  }

  schedule(stored: Stored, visibleAt: number): void {
    stored.visibleAt = visibleAt;
    this.heap.push({ stored, visibleAt });
  }
}

export class MemoryEventQueue implements EventQueueBackend {
  readonly #queues = new Map<string, MemoryQueue>();
  #seq = 0;
  #closed = false;

  async enqueue(events: readonly NewEvent[]): Promise<void> {
    this.#check();
    this.#enqueue(events);

  }

  async claim(queue: string, now: number, limit: number, leaseMs: number): Promise<LeasedEvent[]> {
    this.#check();
    const q = this.#queues.get(queue);
    const leased: LeasedEvent[] = [];
    while (q !== undefined && leased.length < limit) {
      const entry = q.top();
      if (entry === undefined || entry.visibleAt > now) break;
      q.heap.pop();
      const stored = entry.stored;
      stored.attempts += 1;
      stored.token = randomUUID();
      q.schedule(stored, now + leaseMs);
      leased.push({ ...stored.event, attempts: stored.attempts, token: stored.token, leaseUntil: now + leaseMs });
    }
    return leased;
  }

  async ack(lease: LeasedEvent, then?: readonly NewEvent[]): Promise<boolean> {
    return await this.#settle(lease, then, (q, stored) => void q.events.delete(stored.event.id));
  }

  async retry(lease: LeasedEvent, at: number, attempts: number, then?: readonly NewEvent[], body?: string): Promise<boolean> {
    return await this.#settle(lease, then, (q, stored) => {
      if (body !== undefined) stored.event = { ...stored.event, body };
      stored.attempts = attempts;
      stored.token = undefined;
      q.schedule(stored, at);
    });
  }

  async deadLetter(lease: LeasedEvent, reason: string, then?: readonly NewEvent[]): Promise<boolean> {
    return await this.#settle(lease, then, (q, stored) => {
      q.events.delete(stored.event.id);
      q.dead.push({ ...stored.event, attempts: stored.attempts, reason });
    });
  }

  async listDue(): Promise<QueueDue[]> {
    this.#check();
    const due: QueueDue[] = [];
    for (const [queue, q] of this.#queues) {
      const top = q.top();
      if (top !== undefined) due.push({ queue, nextAt: top.visibleAt });
    }
    return due;
  }

  async listDead(queue: string, limit = 1000): Promise<DeadEvent[]> {
    this.#check();
    return (this.#queues.get(queue)?.dead ?? []).slice(0, limit);
  }

  async count(queue: string): Promise<number> {
    this.#check();
    return this.#queues.get(queue)?.events.size ?? 0;
  }

  async purge(queue: string): Promise<number> {
    this.#check();
    const q = this.#queues.get(queue);
    if (q === undefined) return 0;
    const n = q.events.size;
    q.events.clear();
    q.heap.clear();
    return n;
  }

  async close(): Promise<void> {
    this.#closed = true;

  }

  #enqueue(events: readonly NewEvent[]): void {
    for (const event of events) {
      let q = this.#queues.get(event.queue);
      if (q === undefined) this.#queues.set(event.queue, (q = new MemoryQueue()));
      if (q.events.has(event.id)) continue;
      const stored: Stored = { event: { ...event }, seq: this.#seq++, attempts: 0, visibleAt: event.availableAt, token: undefined };
      q.events.set(event.id, stored);
      q.schedule(stored, event.availableAt);
    }
  }

  async #settle(lease: LeasedEvent, then: readonly NewEvent[] | undefined, change: (q: MemoryQueue, stored: Stored) => void): Promise<boolean> {
    this.#check();
    const q = this.#queues.get(lease.queue);
    const stored = q?.events.get(lease.id);
    if (q === undefined || stored === undefined || stored.token !== lease.token) return false;
    change(q, stored);
    if (then !== undefined) this.#enqueue(then);
    return true;
  }

  #check(): void {
    if (this.#closed) throw new RuntimeClosedError('The event queue is closed');
  }
}
