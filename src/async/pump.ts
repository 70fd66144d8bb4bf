/**
 * The event pump: claims due events from the queue backend and hands each to the handler of its
 * queue's kind (`invoke` for `invoke:orders`, ...), at most `maxInFlight` at once, shared fairly
 * between the queues that have due events. One timer (on the injected clock) wakes it for the next
 * event due later — a retry a minute away, a delayed message, an expiring lease.
 *
 * Contract: a handler settles the event it was given (ack / retry / deadLetter on the backend). A
 * handler that throws has its error reported through `onError` and its event comes back when the
 * lease ends (at least once). `close()` stops claiming and waits for running handlers.
 */
import type { Clock, TimerHandle } from '../dispatch/clock.ts';
import type { EventQueueBackend, LeasedEvent, QueueDue } from './queue.ts';

export interface QueueHandler {
  /** Whether this queue's events can be run now (default yes): a callback not yet registered cannot. */
  accepts?(queue: string): boolean;
  /** How long a claim of this queue's events is leased for (ms): longer than one run can take. */
  leaseMs(queue: string): number;
  /** Runs one event and settles it. */
  run(event: LeasedEvent): Promise<void>;
  /** Batch consumers (event source mappings): how many events one run takes (default 1). */
  batchSize?(queue: string): number;
  /** Runs one batch (when `batchSize` is given) and settles what it decides to. */
  runBatch?(events: LeasedEvent[]): Promise<void>;
  /** Called once per pass, before `accepts`, with every queue of this kind that holds live events. */
  observe?(due: readonly QueueDue[]): void;
  /** One-event handlers: how many more events of this queue it takes now (default: as many as are free). */
  capacity?(queue: string): number;
}

/** The kind of a queue: the part of its name before the first ':'. */
export function queueKind(queue: string): string {
  const colon = queue.indexOf(':');
  return colon < 0 ? queue : queue.slice(0, colon);
}

export class EventPump {
  readonly #backend: EventQueueBackend;
  readonly #clock: Clock;
  readonly #maxInFlight: number;
  readonly #onError: (error: unknown, queue: string) => void;
  readonly #handlers = new Map<string, QueueHandler>();
  readonly #running = new Set<Promise<void>>();
  #idleWaiters: (() => void)[] = [];
  #polling = false;
  #again = false;
  #closed = false;
  #timer: TimerHandle = undefined;
  #timerAt = Infinity;
  /**
   * Where the next pass starts among the ready queues: one further each pass that claimed, so a slot
   * freed while every slot is taken goes to each ready queue in turn. Before, a pass always began with
   * the first queue the backend listed (the oldest): with the pump full, each freed slot went back to
   * it, and another function's events waited until that queue ran dry (issue #15: 5 events of a
   * function with reserved concurrency waited 65.5 s behind 2,000 of a neighbour's 1 s events).
   */
  #turn = 0;

  constructor(backend: EventQueueBackend, clock: Clock, maxInFlight: number, onError: (error: unknown, queue: string) => void) {
    this.#backend = backend;
    this.#clock = clock;
    this.#maxInFlight = maxInFlight;
    this.#onError = onError;
  }

  /** Routes the queues of one kind (`invoke`, `sqs`, ...) to a handler. */
  route(kind: string, handler: QueueHandler): void {
    this.#handlers.set(kind, handler);
  }

  /** Something was enqueued or settled: look for due events soon. */
  wake(): void {
    if (this.#closed) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    this.#polling = true;
    void this.#poll();
  }

  /** Resolves when no event is running and none was due at the last look (later ones do not count). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.wake();
    });
  }

  /** Stops claiming; resolves when every running handler has finished. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    while (this.#running.size > 0 || this.#polling) {
      await Promise.allSettled([...this.#running]);
      if (this.#polling) await new Promise((r) => setImmediate(r));
    }
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #poll(): Promise<void> {
    try {
      do {
        this.#again = false;
        const claimed = await this.#pass();
        if (claimed === 0 && this.#running.size === 0 && !this.#again) {
          for (const resolve of this.#idleWaiters.splice(0)) resolve();
        }
      } while (this.#again && !this.#closed);
    } catch (error) {
      if (!this.#closed) this.#onError(error, '');
    } finally {
      this.#polling = false;
    }
  }

  /** One look at every queue: claims what is due and free slots allow; arms the timer for the rest. */
  async #pass(): Promise<number> {
    const now = this.#clock.now();
    const due = await this.#backend.listDue();
    for (const [kind, handler] of this.#handlers) handler.observe?.(due.filter((d) => queueKind(d.queue) === kind));
    let next = Infinity;
    const ready: string[] = [];
    for (const { queue, nextAt } of due) {
      const handler = this.#handlers.get(queueKind(queue));
      if (handler === undefined || handler.accepts?.(queue) === false) continue;
      if (nextAt <= now) ready.push(queue);
      else next = Math.min(next, nextAt);
    }
    let claimed = 0;
    const start = ready.length === 0 ? 0 : this.#turn % ready.length;
    for (let i = 0; i < ready.length && !this.#closed; i++) {
      const free = this.#maxInFlight - this.#running.size;
      if (free <= 0) break; // a finishing handler wakes the pump again
      const queue = ready[(start + i) % ready.length]!;
      const handler = this.#handlers.get(queueKind(queue))!;
      // Fair share: the queues still to visit split what is free.
      const share = Math.max(1, Math.floor(free / (ready.length - i)));
      const perRun = handler.runBatch === undefined ? 1 : Math.max(1, handler.batchSize?.(queue) ?? 1);
      if (handler.runBatch === undefined) {
        const take = Math.min(share, handler.capacity?.(queue) ?? share);
        if (take <= 0) continue; // a finishing run wakes the pump
        const leases = await this.#backend.claim(queue, now, take, handler.leaseMs(queue));
        claimed += leases.length;
        for (const lease of leases) this.#start(handler, lease);
        if (leases.length === take && take === share) this.#again = true; // there may be more due in it
        continue;
      }
      // A batch consumer: one run per batch, each batch its own claim.
      for (let run = 0; run < share; run++) {
        // A handler may take one batch of a queue at a time (a stream's shard): it says so here.
        if (run > 0 && handler.accepts?.(queue) === false) break;
        const batch = await this.#backend.claim(queue, now, perRun, handler.leaseMs(queue));
        if (batch.length === 0) break;
        claimed += batch.length;
        this.#startBatch(handler, batch);
        if (run === share - 1 && batch.length === perRun) this.#again = true;
      }
    }
    if (claimed > 0) this.#turn = (this.#turn + 1) >>> 0;
    if (this.#running.size >= this.#maxInFlight) this.#again = false;
    this.#arm(next);
    return claimed;
  }

  #startBatch(handler: QueueHandler, batch: LeasedEvent[]): void {
    this.#track(handler.runBatch!(batch).catch((error: unknown) => this.#onError(error, batch[0]!.queue)));
  }

  #start(handler: QueueHandler, lease: LeasedEvent): void {
    this.#track(handler.run(lease).catch((error: unknown) => this.#onError(error, lease.queue)));
  }

  #track(run: Promise<void>): void {
    this.#running.add(run);
    void run.then(() => {
      this.#running.delete(run);
      this.wake();
    });
  }

  #arm(at: number): void {
    if (this.#closed || at === Infinity) return;
    // Already due (the clock moved while this pass ran): look again now rather than on a timer.
    if (at <= this.#clock.now()) {
      if (this.#running.size < this.#maxInFlight) this.#again = true; // else a finishing run wakes it
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= at && this.#timerAt > this.#clock.now()) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.wake();
    }, Math.max(0, at - this.#clock.now()), false);
  }
}
