/**
 * The end of an asynchronous event: success (acked) or failure (retries exhausted, too old), and
 * what is sent on with it, in the same atomic step as the settle (queue.ts's `then`), so a crash
 * never delivers one outcome to a destination and then another.
 */
import { parse as parseUuid, v5 as uuidv5 } from 'uuid';
import { LATEST_VERSION, type RuntimeOptions } from '../config/index.ts';
import type { InvokeResult } from '../invoke/result.ts';
import { functionArn } from '../registry/names.ts';
import type { FunctionRegistry } from '../registry/registry.ts';
import type { InvokeEnvelope, Lineage } from './async-invoke.ts';
import type { AsyncContext, AsyncCounters, AsyncSettings } from './context.ts';
import { deliveryEvent, invocationRecord, parseDestination, type Destination } from './destinations.ts';
import type { LeasedEvent, NewEvent } from './queue.ts';
import type { QueueRegistry } from './queues.ts';

/** Why an event failed: Lambda's invocation record `requestContext.condition`. */
export type FailureCondition = 'RetriesExhausted' | 'EventAgeExceeded' | 'RecursiveInvocationDetected';

/** What an attempt's function answered: the part of its result an invocation record carries. */
export type AttemptResponse = Pick<InvokeResult, 'statusCode' | 'executedVersion' | 'functionError' | 'payload'>;

/** The last attempt, when there was one. */
export interface LastAttempt {
  readonly response: AttemptResponse;
  /** It ran on the claim being settled (false: on an earlier one, its response carried in the event). */
  readonly ranOnThisClaim: boolean;
}

/** The part of an attempt's result that is kept in its event for a later settle (`InvokeEnvelope.last`). */
export function attemptResponse(result: InvokeResult): AttemptResponse {
  const { statusCode, executedVersion, functionError, payload } = result;
  return functionError === undefined ? { statusCode, executedVersion, payload } : { statusCode, executedVersion, functionError, payload };
}

/**
 * The attempt a settle without one of its own reports: the response an earlier claim's attempt
 * left in the event (a function error whose retry was then throttled, or ran too late), if any.
 */
export function carriedAttempt(envelope: InvokeEnvelope): LastAttempt | undefined {
  return envelope.last === undefined ? undefined : { response: envelope.last, ranOnThisClaim: false };
}

/** Settles a successful event: acked, with its on-success destination's delivery. */
export async function settleSuccess(
  ctx: AsyncContext,
  lease: LeasedEvent,
  envelope: InvokeEnvelope,
  settings: AsyncSettings,
  result: InvokeResult,
): Promise<void> {
  const then = ctx.deliveries(lease, envelope, settings, 'Success', { response: attemptResponse(result), ranOnThisClaim: true });
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

/** What deliveries need beyond the event: the runtime's registries and where failures are counted. */
export interface DeliveryDeps {
  readonly options: RuntimeOptions;
  readonly registry: FunctionRegistry;
  readonly queues: QueueRegistry;
  readonly counters: AsyncCounters;
  readonly callbacks: ReadonlyMap<string, unknown>;
  log(functionName: string, line: string): void;
}

/** The dead-letter message's ErrorMessage: the first 1 KB of the error message (Lambda developer guide, "Dead-letter queues"). */
const DLQ_ERROR_MESSAGE_MAX = 1024;

/**
 * The queue events an outcome sends on: the on-success or on-failure destination's invocation
 * record, and on failure the dead-letter queue's message (the event itself, with RequestID,
 * ErrorCode and ErrorMessage attributes). A destination that no longer exists is a logged
 * DestinationDeliveryFailure and is skipped.
 */
export function deliveries(
  deps: DeliveryDeps,
  lease: LeasedEvent,
  envelope: InvokeEnvelope,
  settings: AsyncSettings,
  condition: string,
  last: LastAttempt | undefined,
  now: number,
): NewEvent[] {
  const out: NewEvent[] = [];
  const lineage: Lineage = { ...envelope.lineage, [envelope.fn]: (envelope.lineage?.[envelope.fn] ?? 0) + (last === undefined ? 0 : 1) };
  const failed = (what: string, why: string): void => {
    deps.counters.destinationDeliveryFailures += 1;
    deps.log(envelope.fn, `Destination delivery failed for event ${lease.id}: ${what} ${why}`);
  };
  const destination = condition === 'Success' ? settings.onSuccess : settings.onFailure;
  if (destination !== undefined) {
    const functionArnQualified = functionArn(deps.options, envelope.fn, envelope.q ?? LATEST_VERSION);
    // A settle without an attempt of its own (too old, recursion) did not invoke on this claim.
    const invokeCount = last?.ranOnThisClaim === true ? lease.attempts : lease.attempts - 1;
    const record = invocationRecord(lease.id, functionArnQualified, condition, invokeCount, envelope.event, last, now);
    let parsed: Destination | undefined;
    try {
      parsed = parseDestination(destination, 'destination', deps.options, deps.registry, deps.queues, deps.callbacks);
    } catch (error) {
      failed(destination, (error as Error).message);
    }
    if (parsed !== undefined) {
      const event = deliveryEvent(parsed, JSON.stringify(record), now, deps.registry, deps.queues, lineage, undefined, deliveryId(lease.id, 'destination'));
      if (event === undefined) failed(destination, 'no longer exists');
      else out.push(event);
    }
  }
  if (condition !== 'Success' && settings.deadLetterArn !== undefined) {
    const queue = deps.queues.find(settings.deadLetterArn);
    const errorMessage = deadLetterError(condition, last).slice(0, DLQ_ERROR_MESSAGE_MAX);
    const attributes = {
      RequestID: { dataType: 'String', stringValue: lease.id },
      ErrorCode: { dataType: 'Number', stringValue: String(last?.response.statusCode ?? 200) },
      ErrorMessage: { dataType: 'String', stringValue: errorMessage },
    };
    const event =
      queue === undefined ? undefined : deliveryEvent({ kind: 'queue', name: queue.queueName }, envelope.event, now, deps.registry, deps.queues, lineage, attributes, deliveryId(lease.id, 'dead-letter'));
    if (event === undefined) failed(settings.deadLetterArn, 'is not a lambdalet queue (deleted, or never created)');
    else out.push(event);
  }
  return out;
}

/** Name-based UUIDs (RFC 9562 version 5) of deliveries live in this namespace (as bytes: uuid parses a string one per call). */
const DELIVERY_NAMESPACE = parseUuid(uuidv5('lambdalet:delivery', uuidv5.URL));
const UTF8 = new TextEncoder();

/**
 * The id of the one destination record (or dead-letter message) an event sends: derived from the
 * event's requestId, so an event run again after a crash between its delivery and its settle
 * (cluster members, src/cluster/bullmq-queue.ts `enqueueThen`) sends the same id, and the backend
 * skips it: one record per event, whichever attempt's outcome it carries.
 */
export function deliveryId(requestId: string, what: 'destination' | 'dead-letter'): string {
  // The name as bytes: uuid's own string path (unescape(encodeURIComponent(...))) cost ~12 of the
  // ~34 µs per id on the 2-core machine, a tenth of an async event's cost beyond its invoke.
  return uuidv5(UTF8.encode(`${what}:${requestId}`), DELIVERY_NAMESPACE);
}

function deadLetterError(condition: string, last: LastAttempt | undefined): string {
  const payload = last?.response.payload as { errorMessage?: unknown } | undefined;
  if (typeof payload?.errorMessage === 'string') return payload.errorMessage;
  if (condition === 'RecursiveInvocationDetected') return 'RecursiveInvocationException: the function was invoked more than 16 times in one chain of requests';
  return condition === 'EventAgeExceeded' ? 'EventAgeExceeded: the event was older than maximumEventAgeInSeconds' : condition;
}
