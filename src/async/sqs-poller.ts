/**
 * The poller of queue event source mappings: the pump hands it a batch of `sqs:<queue>` messages
 * claimed under the queue's visibility timeout; it invokes the mapped function synchronously with
 * Lambda's SQS event and settles the batch as Lambda does (developer guide, "Using Lambda with
 * Amazon SQS" and "Handling errors for an SQS event source"):
 * - success: every message is deleted;
 * - with `ReportBatchItemFailures`, the messages named in `batchItemFailures[].itemIdentifier` stay
 *   (visible again when their visibility timeout ends) and the others are deleted; a response
 *   naming an id that is empty or not in the batch fails the whole batch; `null`, `{}` or an
 *   empty list is success;
 * - a function error, a throttle or a system error: no message is deleted; each becomes visible
 *   again after the visibility timeout and, past the queue's maxReceiveCount, moves to its
 *   dead-letter queue (sqs-records.ts's redrive).
 * `maximumBatchingWindowInSeconds`: a batch smaller than `batchSize` waits (on the event clock)
 * until the window since its oldest message has passed, then takes what else is due. A batch is cut
 * to fit the 6 MB synchronous payload; what is cut goes back at once.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { DEFAULT_INVOKE_OPTIONS, REQUEST_PAYLOAD_MAX_BYTES, type InvokeOptions } from '../config/index.ts';
import { resolveTarget } from '../invoke/resolve.ts';
import type { AsyncContext } from './context.ts';
import type { EventSourceMappingInfo, EventSourceMappings } from './event-source-mapping.ts';
import type { QueueHandler } from './pump.ts';
import type { LeasedEvent } from './queue.ts';
import type { QueueInfo, QueueRegistry } from './queues.ts';
import { redrive, sqsRecord } from './sqs-records.ts';

const OPTIONS: InvokeOptions = Object.freeze({ ...DEFAULT_INVOKE_OPTIONS, waitForCapacityMs: 30_000 });

export class SqsPoller implements QueueHandler {
  readonly #ctx: AsyncContext;
  readonly #queues: QueueRegistry;
  readonly #mappings: EventSourceMappings;
  /** Queues with a batch waiting for its window: new messages join it, not a batch of their own. */
  readonly #gathering = new Set<string>();
  #turn = 0;

  constructor(ctx: AsyncContext, queues: QueueRegistry, mappings: EventSourceMappings) {
    this.#ctx = ctx;
    this.#queues = queues;
    this.#mappings = mappings;
  }

  #queue(backendQueue: string): QueueInfo | undefined {
    return this.#queues.find(backendQueue.slice('sqs:'.length));
  }

  #mapping(queue: QueueInfo): EventSourceMappingInfo | undefined {
    const mappings = this.#mappings.forQueue(queue.queueArn);
    // Several mappings on one queue compete for its messages, as on Lambda: take turns.
    return mappings.length === 0 ? undefined : mappings[this.#turn++ % mappings.length];
  }

  accepts(backendQueue: string): boolean {
    if (this.#gathering.has(backendQueue)) return false;
    const queue = this.#queue(backendQueue);
    return queue !== undefined && this.#mappings.forQueue(queue.queueArn).length > 0;
  }

  batchSize(backendQueue: string): number {
    const queue = this.#queue(backendQueue);
    return queue === undefined ? 1 : Math.max(1, ...this.#mappings.forQueue(queue.queueArn).map((m) => m.batchSize));
  }

  leaseMs(backendQueue: string): number {
    return (this.#queue(backendQueue)?.visibilityTimeout ?? 30) * 1000;
  }

  run(event: LeasedEvent): Promise<void> {
    return this.runBatch([event]);
  }

  async runBatch(claimed: LeasedEvent[]): Promise<void> {
    const ctx = this.#ctx;
    const queue = this.#queue(claimed[0]!.queue);
    const mapping = queue && this.#mapping(queue);
    if (queue === undefined || mapping === undefined) return; // deleted or disabled meanwhile: visible again after the lease
    let batch = await redrive(ctx.backend, this.#queues, queue, claimed, ctx.clock.now(), (line) => ctx.log(queue.queueName, line));
    if (batch.length === 0) return;
    const windowMs = mapping.maximumBatchingWindowInSeconds * 1000;
    if (batch.length < mapping.batchSize && windowMs > 0) {
      const deadline = Math.min(...batch.map((m) => m.availableAt)) + windowMs;
      const wait = deadline - ctx.clock.now();
      if (wait > 0) {
        this.#gathering.add(claimed[0]!.queue);
        try {
          let timer: unknown;
          const closing = await Promise.race([
            new Promise<false>((resolve) => (timer = ctx.clock.setTimeout(() => resolve(false), wait, false))),
            ctx.closing.then(() => true),
          ]);
          ctx.clock.clearTimeout(timer);
          // Closing: the batch is left to its lease (visible again, or released when the file reopens).
          if (closing) return;
        } finally {
          this.#gathering.delete(claimed[0]!.queue);
        }
      }
      const more = await ctx.backend.claim(claimed[0]!.queue, ctx.clock.now(), mapping.batchSize - batch.length, queue.visibilityTimeout * 1000);
      batch = batch.concat(await redrive(ctx.backend, this.#queues, queue, more, ctx.clock.now(), (line) => ctx.log(queue.queueName, line)));
    }
    const { records, cut } = this.#fit(batch.map((lease) => sqsRecord(lease, queue, ctx.options)));
    for (const lease of batch.slice(records.length)) await ctx.backend.retry(lease, ctx.clock.now(), lease.attempts - 1);
    batch = batch.slice(0, records.length);
    if (cut > 0) ctx.log(queue.queueName, `Event source mapping ${mapping.uuid}: batch cut by ${cut} message(s) to fit the 6 MB payload`);

    let payload: unknown;
    try {
      const target = resolveTarget(ctx.registry, ctx.options, ctx.random, mapping.functionArn, undefined);
      const result = await ctx.invoker.invoke(target, JSON.stringify({ Records: records } satisfies SQSEvent), OPTIONS);
      this.#mappings.mark(mapping.uuid, { lastProcessingResult: 'OK' });
      if (result.functionError !== undefined) return; // the whole batch comes back after the visibility timeout
      payload = result.payload;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#mappings.mark(mapping.uuid, { lastProcessingResult: `PROBLEM: ${message}` });
      ctx.log(queue.queueName, `Event source mapping ${mapping.uuid}: ${message}; the batch is retried after the visibility timeout`);
      return;
    }
    const failed = mapping.functionResponseTypes.includes('ReportBatchItemFailures') ? failedItems(payload, batch) : new Set<string>();
    if (failed === undefined) {
      ctx.log(queue.queueName, `Event source mapping ${mapping.uuid}: the batchItemFailures response is invalid; the whole batch is retried`);
      return;
    }
    for (const lease of batch) if (!failed.has(lease.id)) await ctx.backend.ack(lease);
    ctx.wake();
  }

  /** The records that fit Lambda's 6 MB synchronous payload (always at least one). */
  #fit(records: SQSRecord[]): { records: SQSRecord[]; cut: number } {
    let size = Buffer.byteLength(JSON.stringify({ Records: records }), 'utf8');
    let kept = records.length;
    while (kept > 1 && size > REQUEST_PAYLOAD_MAX_BYTES) {
      kept -= 1;
      size = Buffer.byteLength(JSON.stringify({ Records: records.slice(0, kept) }), 'utf8');
    }
    return { records: records.slice(0, kept), cut: records.length - kept };
  }
}

/**
 * The messageIds a partial batch response names, or undefined when the response fails the whole
 * batch (an item without a non-empty itemIdentifier from this batch; a batchItemFailures that is
 * not a list). No response, `{}` or an empty list: nothing failed.
 */
export function failedItems(payload: unknown, batch: readonly LeasedEvent[]): Set<string> | undefined {
  if (payload === null || payload === undefined || typeof payload !== 'object') return new Set();
  const list = (payload as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return undefined;
  const ids = new Set(batch.map((lease) => lease.id));
  const failed = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return undefined;
    failed.add(id);
  }
  return failed;
}
