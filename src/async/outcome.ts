/**
 * The end of an asynchronous event: success (acked) or failure (retries exhausted, too old), and
 * what is sent on with it, in the same atomic step as the settle (queue.ts's `then`), so a crash
 * never delivers one outcome to a destination and then another.
 */
import type { InvokeResult } from '../invoke/result.ts';
import type { InvokeTarget } from '../invoke/resolve.ts';
import type { AsyncContext, AsyncSettings } from './context.ts';
import type { InvokeEnvelope } from './async-invoke.ts';
import type { LeasedEvent, NewEvent } from './queue.ts';

/** Why an event failed: Lambda's invocation record `requestContext.condition`. */
export type FailureCondition = 'RetriesExhausted' | 'EventAgeExceeded';

/** The last attempt, when there was one. */
export interface LastAttempt {
  readonly target: InvokeTarget;
  readonly result: InvokeResult;
}

/** Settles a successful event: acked, with its on-success destination's delivery. */
export async function settleSuccess(
  ctx: AsyncContext,
  lease: LeasedEvent,
  envelope: InvokeEnvelope,
  settings: AsyncSettings,
  target: InvokeTarget,
  result: InvokeResult,
): Promise<void> {
  const then = ctx.deliveries(lease, envelope, settings, 'Success', { target, result });
  await ctx.backend.ack(lease, then);
}

/** Settles a failed event: its on-failure destination and dead-letter queue get it; it is acked. */
export async function settleFailure(
  ctx: AsyncContext,
  lease: LeasedEvent,
  envelope: InvokeEnvelope,
  settings: AsyncSettings,
  condition: FailureCondition,
  last: LastAttempt | undefined,
): Promise<void> {
  const then: NewEvent[] = ctx.deliveries(lease, envelope, settings, condition, last);
  if (then.length === 0) ctx.counters.dropped += 1;
  ctx.log(envelope.fn, `Asynchronous event ${lease.id} failed (${condition}) after ${lease.attempts} attempt(s)${then.length === 0 ? '; no destination or dead-letter queue: dropped' : ''}`);
  await ctx.backend.ack(lease, then);
}
