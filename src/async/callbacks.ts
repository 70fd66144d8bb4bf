/**
 * Host callbacks as destinations: `rt.registerDestinationCallback('audit', async (record) => ...)`
 * and `destination: 'callback:audit'`. A delivery is an event of `callback:<name>`, run at least
 * once: a callback that throws is called again with backoff (1 s, doubling with the delivery's
 * age, at most 5 minutes) until the delivery is 6 hours old, then dead-lettered with a log line.
 * Deliveries to a name not registered (yet: after a restart, before the host registers it again)
 * wait in their queue.
 */
import type { AsyncContext } from './context.ts';
import { SYSTEM_RETRY_MAX_MS, SYSTEM_RETRY_MIN_MS } from './async-invoke.ts';
import type { QueueHandler } from './pump.ts';
import type { LeasedEvent } from './queue.ts';

/** A host function receiving invocation records. */
export type DestinationCallback = (record: unknown) => void | Promise<void>;

const MAX_AGE_MS = 21_600_000;

export class CallbackHandler implements QueueHandler {
  readonly #ctx: AsyncContext;
  readonly #callbacks: ReadonlyMap<string, DestinationCallback>;

  constructor(ctx: AsyncContext, callbacks: ReadonlyMap<string, DestinationCallback>) {
    this.#ctx = ctx;
    this.#callbacks = callbacks;
  }

  accepts(queue: string): boolean {
    return this.#callbacks.has(queue.slice('callback:'.length));
  }

  leaseMs(): number {
    return 300_000;
  }

  async run(lease: LeasedEvent): Promise<void> {
    const ctx = this.#ctx;
    const name = lease.queue.slice('callback:'.length);
    const callback = this.#callbacks.get(name);
    if (callback === undefined) {
      await ctx.backend.retry(lease, ctx.clock.now() + SYSTEM_RETRY_MIN_MS, lease.attempts - 1);
      return;
    }
    try {
      await callback(JSON.parse(lease.body) as unknown);
      await ctx.backend.ack(lease);
    } catch (error) {
      const now = ctx.clock.now();
      const waited = now - lease.enqueuedAt;
      const message = error instanceof Error ? error.message : String(error);
      if (waited >= MAX_AGE_MS) {
        ctx.counters.destinationDeliveryFailures += 1;
        ctx.log(name, `Destination callback ${JSON.stringify(name)} failed for 6 hours; delivery ${lease.id} dead-lettered: ${message}`);
        await ctx.backend.deadLetter(lease, message);
      } else {
        ctx.log(name, `Destination callback ${JSON.stringify(name)} threw (will retry): ${message}`);
        await ctx.backend.retry(lease, now + Math.min(SYSTEM_RETRY_MAX_MS, Math.max(SYSTEM_RETRY_MIN_MS, waited)), lease.attempts);
      }
    }
    ctx.wake();
  }
}
