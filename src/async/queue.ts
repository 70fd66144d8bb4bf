/**
 * The event queue's backend interface: where asynchronous invocations, destination deliveries and
 * lambdalet queue messages wait. Two implementations live here (memory-queue.ts, sqlite-queue.ts
 * for `dataDir`); a Redis/BullMQ one implements the same interface, and
 * test/async/queue-conformance.ts is the suite every backend must pass.
 *
 * Contract (every implementation, every method):
 * - Named queues (`invoke:orders`, `sqs:jobs`, `callback:audit`): an event lives in one queue and is
 *   identified there by `id` (a requestId or messageId). Enqueueing an id the queue already holds
 *   is a no-op, so a repeated delivery cannot double an event.
 * - At least once. `claim` hands out due events under a lease (a fresh `token`) until `leaseUntil`;
 *   a lease that is neither acked, retried nor dead-lettered by then expires and the event is due
 *   again (SQS's visibility timeout; a crashed consumer). `attempts` counts claims; `retry` may
 *   set it (a throttled attempt that should not count).
 * - A settle call (`ack`, `retry`, `deadLetter`) with a token that is no longer the event's lease
 *   (it expired and was claimed again, or was settled) changes nothing and resolves `false`.
 *   Its `then` events are enqueued in the same atomic step as the settle, or not at all: the
 *   outcome of an attempt and what it sends on (destinations) are never split by a crash.
 * - Times are epoch milliseconds from the caller's clock (`now`, `at`); the backend never reads
 *   a clock of its own, so tests drive it with a manual one. (Exception: the cluster's BullMQ
 *   backend, whose due times follow the process's `Date.now()` as BullMQ's do; the conformance
 *   suite drives that clock: see its file comment.)
 * - Order: `claim` returns due events oldest-due first (by due time, then enqueue order).
 * - Durable backends: what an `enqueue` or settle resolved is on disk (survives kill -9). A durable
 *   backend opened again releases every lease (a single-owner backend: its previous owner is dead).
 */

/** An event to put into a queue. */
export interface NewEvent {
  /** The queue's name: `<kind>:<name>`, e.g. `invoke:orders`. */
  readonly queue: string;
  /** Unique in its queue: the requestId (async invocation) or messageId (a queue message). */
  readonly id: string;
  /** Opaque text, usually JSON; backends store it as given. */
  readonly body: string;
  /** When it was first enqueued (epoch ms): kept across retries, so the event's age is known. */
  readonly enqueuedAt: number;
  /** When it may first be claimed (epoch ms): `enqueuedAt`, or later for a delayed message. */
  readonly availableAt: number;
}

/** An event under a lease, as `claim` hands it out. */
export interface LeasedEvent extends NewEvent {
  /** Claims so far, this one included (or what the last `retry` set, plus this claim). */
  readonly attempts: number;
  /** This lease's proof: settle calls must carry it. */
  readonly token: string;
  /** The lease ends at this time (epoch ms); the event is due again after it unless settled. */
  readonly leaseUntil: number;
}

/** An event that was dead-lettered: kept for inspection, never claimed again. */
export interface DeadEvent extends NewEvent {
  readonly attempts: number;
  /** What the consumer gave as the reason. */
  readonly reason: string;
}

/** A queue holding events that are not dead, and when the first of them is (or was) due. */
export interface QueueDue {
  readonly queue: string;
  /** Epoch ms: the earliest time one of its events may be claimed (≤ now: claimable now). */
  readonly nextAt: number;
}

export interface EventQueueBackend {
  /** Adds events (all or none); ids already in their queue are skipped. */
  enqueue(events: readonly NewEvent[]): Promise<void>;
  /**
   * Leases up to `limit` events of `queue` due at `now` (available and not under a live lease),
   * oldest-due first, each until `now + leaseMs`, and counts the attempt.
   */
  claim(queue: string, now: number, limit: number, leaseMs: number): Promise<LeasedEvent[]>;
  /** Removes the event and enqueues `then`, atomically; `false` (nothing done) if the lease is lost. */
  ack(lease: LeasedEvent, then?: readonly NewEvent[]): Promise<boolean>;
  /**
   * Makes the event due again at `at` with `attempts` recorded, and enqueues `then`, atomically.
   * `body`, when given, replaces the event's body in the same step (the next claim hands it out):
   * what an attempt learnt that a later settle needs (an asynchronous invocation's last response).
   */
  retry(lease: LeasedEvent, at: number, attempts: number, then?: readonly NewEvent[], body?: string): Promise<boolean>;
  /** Moves the event to the queue's dead letters with `reason`, and enqueues `then`, atomically. */
  deadLetter(lease: LeasedEvent, reason: string, then?: readonly NewEvent[]): Promise<boolean>;
  /** Every queue that holds live events, with when its next one is due. */
  listDue(): Promise<QueueDue[]>;
  /** A queue's dead letters, oldest first (at most `limit`, default 1000). */
  listDead(queue: string, limit?: number): Promise<DeadEvent[]>;
  /** Events in a queue that are not dead (claimable or leased). */
  count(queue: string): Promise<number>;
  /**
   * Optional: removes every event of `queue` (due, delayed and leased; dead letters stay) and
   * resolves with how many; a lease on a purged event is lost (its ack/retry/deadLetter answer
   * `false`). Without it, events of a deleted lambdalet queue stay in the backend, never claimed
   * (the pump has no handler that accepts them).
   */
  purge?(queue: string): Promise<number>;
  /**
   * Optional, for backends several runtimes share (the cluster's BullMQ one): acks event `id` of
   * `queue` under the lease `token`, whichever runtime claimed it (a receipt handle received through
   * another cluster member); `false` (nothing done) when that lease is no longer the event's.
   */
  ackLeased?(queue: string, id: string, token: string): Promise<boolean>;
  /** Releases the backend's resources; later calls reject. Idempotent. */
  close(): Promise<void>;
  /**
   * Optional, for backends shared by several runtimes (the cluster's BullMQ queue): calls `wake`
   * when another runtime enqueued events, so this runtime's pump looks for them.
   */
  watch?(wake: () => void): void;
}
