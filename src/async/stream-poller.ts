/**
 * The poller of stream event source mappings (developer guide, "Using Lambda with Kinesis Data
 * Streams" and "Handling errors for a Kinesis event source"): for each mapping and shard, one batch
 * at a time, in sequence order, invoked synchronously with Lambda's Kinesis event.
 * - `parallelizationFactor` N (1-10): a shard's records are split by partition key into N lanes
 *   (the key's MD5 modulo N), each its own queue, each running one batch at a time: up to N batches
 *   of a shard in flight, every key's records still in order (Lambda: "records with the same
 *   partition key are still processed in order"). After N changes, records queued under the old N
 *   run first; the new lanes wait until those are done, so no key overtakes its older records.
 * - A record older than the stream's retention period is gone from the stream: skipped with a log
 *   line (Kinesis: an expired record can no longer be read).
 * - A failing batch blocks its shard: it is retried (backoff 1 s, doubling, at most 60 s) before
 *   any later record, until `maximumRetryAttempts` retries (-1: until its records expire) or
 *   `maximumRecordAgeInSeconds`; then its on-failure destination gets Lambda's record (with
 *   `KinesisBatchInfo`) and the shard moves on past it.
 * - `bisectBatchOnFunctionError`: a failing batch is split in two and the first half retried alone
 *   (then the rest), down to single records.
 * - `ReportBatchItemFailures`: the shard checkpoints before the lowest failed sequence number and
 *   retries from there; an invalid response fails the whole batch.
 * Records older than `maximumRecordAgeInSeconds` are not sent: they go to the on-failure destination.
 */
import { randomUUID } from 'node:crypto';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { DEFAULT_INVOKE_OPTIONS, type InvokeOptions } from '../config/index.ts';
import type { InvokeResult } from '../invoke/result.ts';
import { resolveTarget } from '../invoke/resolve.ts';
import type { AsyncContext } from './context.ts';
import { deliveryEvent, parseDestination } from './destinations.ts';
import type { EventSourceMappingInfo, EventSourceMappings } from './event-source-mapping.ts';
import type { QueueHandler } from './pump.ts';
import type { LeasedEvent, QueueDue } from './queue.ts';
import type { QueueRegistry } from './queues.ts';
import { failedItems } from './sqs-poller.ts';
import type { StoredRecord, StreamRegistry } from './streams.ts';

const OPTIONS: InvokeOptions = Object.freeze({ ...DEFAULT_INVOKE_OPTIONS, waitForCapacityMs: 30_000 });
const BACKOFF_MAX_MS = 60_000;

/**
 * One mapping's copy of one shard: `kinesis:<mapping uuid>:<shard index>` with parallelizationFactor
 * 1, `kinesis:<uuid>:<shard>:<factor>.<lane>` above.
 */
export function shardQueue(uuid: string, shard: number, factor = 1, lane = 0): string {
  return factor === 1 ? `kinesis:${uuid}:${shard}` : `kinesis:${uuid}:${shard}:${factor}.${lane}`;
}

/** The lane of a partition key (its MD5 as an integer) under a parallelization factor. */
export function laneOf(hash: bigint, factor: number): number {
  return Number(hash % BigInt(factor));
}

/** What a shard queue's name says: the mapping, the shard, and the factor it was laned under. */
function parseShardQueue(queue: string): { uuid: string; shardKey: string; factor: number } {
  const [, uuid = '', shard = '', lane] = queue.split(':');
  return { uuid, shardKey: `${uuid}:${shard}`, factor: lane === undefined ? 1 : Number(lane.split('.')[0]) };
}

interface ShardState {
  busy: boolean;
  blockedUntil: number;
  /** A bisected batch's size, while it is being bisected. */
  size: number | undefined;
}

export class StreamPoller implements QueueHandler {
  readonly #ctx: AsyncContext;
  readonly #mappings: EventSourceMappings;
  readonly #streams: StreamRegistry;
  readonly #queues: QueueRegistry;
  readonly #callbacks: ReadonlyMap<string, unknown>;
  readonly #shards = new Map<string, ShardState>();
  /** From the pump's last look: per `uuid:shard`, the parallelization factors with records queued. */
  #liveFactors = new Map<string, Set<number>>();

  constructor(ctx: AsyncContext, mappings: EventSourceMappings, streams: StreamRegistry, queues: QueueRegistry, callbacks: ReadonlyMap<string, unknown>) {
    this.#ctx = ctx;
    this.#mappings = mappings;
    this.#streams = streams;
    this.#queues = queues;
    this.#callbacks = callbacks;
  }

  #mapping(queue: string): EventSourceMappingInfo | undefined {
    return this.#mappings.find(queue.split(':')[1]!);
  }

  #state(queue: string): ShardState {
    let state = this.#shards.get(queue);
    if (state === undefined) this.#shards.set(queue, (state = { busy: false, blockedUntil: 0, size: undefined }));
    return state;
  }

  observe(due: readonly QueueDue[]): void {
    const live = new Map<string, Set<number>>();
    for (const { queue } of due) {
      const { shardKey, factor } = parseShardQueue(queue);
      let factors = live.get(shardKey);
      if (factors === undefined) live.set(shardKey, (factors = new Set()));
      factors.add(factor);
    }
    this.#liveFactors = live;
  }

  accepts(queue: string): boolean {
    const mapping = this.#mapping(queue);
    const state = this.#state(queue);
    if (mapping?.state !== 'Enabled' || this.#streams.find(mapping.eventSourceArn) === undefined || state.busy || state.blockedUntil > this.#ctx.clock.now()) return false;
    // Lanes of the current factor wait while records laned under an earlier factor remain.
    const { shardKey, factor } = parseShardQueue(queue);
    const current = mapping.parallelizationFactor ?? 1;
    return factor !== current || [...(this.#liveFactors.get(shardKey) ?? [])].every((f) => f === current);
  }

  batchSize(queue: string): number {
    return this.#state(queue).size ?? this.#mapping(queue)?.batchSize ?? 1;
  }

  leaseMs(queue: string): number {
    const mapping = this.#mapping(queue);
    const fn = mapping && this.#ctx.registry.get(mapping.functionArn.split(':')[6]!);
    return (fn?.latest.config.timeoutMs ?? 900_000) + 60_000;
  }

  run(event: LeasedEvent): Promise<void> {
    return this.runBatch([event]);
  }

  async runBatch(batch: LeasedEvent[]): Promise<void> {
    const queue = batch[0]!.queue;
    const state = this.#state(queue);
    state.busy = true;
    try {
      await this.#run(queue, state, batch);
    } finally {
      state.busy = false;
      this.#ctx.wake();
    }
  }

  async #run(queue: string, state: ShardState, batch: LeasedEvent[]): Promise<void> {
    const ctx = this.#ctx;
    const mapping = this.#mapping(queue);
    const stream = mapping && this.#streams.find(mapping.eventSourceArn);
    if (mapping === undefined || stream === undefined) return;
    const now = ctx.clock.now();
    // Past the stream's retention the records are no longer in the stream: skipped, and said.
    const retainedFrom = now - stream.retentionPeriodHours * 3_600_000;
    let gone = 0;
    while (gone < batch.length && (JSON.parse(batch[gone]!.body) as StoredRecord).arrival < retainedFrom) gone += 1;
    if (gone > 0) {
      ctx.log(mapping.functionArn.split(':')[6]!, `Event source mapping ${mapping.uuid}: ${gone} record(s) on ${queue} expired from the stream (retention ${stream.retentionPeriodHours} h) before they could be processed; skipped`);
      for (const lease of batch.slice(0, gone)) await ctx.backend.ack(lease);
      batch = batch.slice(gone);
      if (batch.length === 0) return;
    }
    const records = batch.map((lease) => JSON.parse(lease.body) as StoredRecord);
    // Records past their maximum age are not sent: to the on-failure destination, and skipped.
    const maxAge = mapping.maximumRecordAgeInSeconds ?? -1;
    let expired = 0;
    while (maxAge !== -1 && expired < records.length && now - records[expired]!.arrival > maxAge * 1000) expired += 1;
    if (expired > 0) {
      await this.#giveUp(mapping, stream.streamArn, batch.slice(0, expired), records.slice(0, expired), 'RecordAgeExceeded', undefined);
      batch = batch.slice(expired);
      if (batch.length === 0) return;
    }
    const sent = records.slice(expired);
    const event: KinesisStreamEvent = { Records: sent.map((r) => this.#kinesisRecord(r, stream.streamArn)) };
    let result: InvokeResult | undefined;
    let failure: string | undefined;
    try {
      const target = resolveTarget(ctx.registry, ctx.options, ctx.random, mapping.functionArn, undefined);
      result = await ctx.invoker.invoke(target, JSON.stringify(event), OPTIONS);
      this.#mappings.mark(mapping.uuid, { lastProcessingResult: 'OK' });
      if (result.functionError !== undefined) failure = 'function error';
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      this.#mappings.mark(mapping.uuid, { lastProcessingResult: `PROBLEM: ${failure}` });
    }
    let from = batch.length; // index of the first record to retry
    if (failure === undefined && mapping.functionResponseTypes.includes('ReportBatchItemFailures')) {
      const failed = failedItems(result!.payload, batch.map((lease) => ({ ...lease, id: (JSON.parse(lease.body) as StoredRecord).sequenceNumber })));
      if (failed === undefined) failure = 'invalid batchItemFailures response';
      else if (failed.size > 0) from = sent.findIndex((r) => failed.has(r.sequenceNumber));
    }
    if (failure !== undefined) from = 0;
    // Checkpoint: everything before `from` is done.
    for (const lease of batch.slice(0, from)) await ctx.backend.ack(lease);
    if (from === batch.length) {
      state.size = undefined;
      return;
    }
    const rest = batch.slice(from);
    const retries = rest[0]!.attempts - 1;
    const limit = mapping.maximumRetryAttempts ?? -1;
    if (limit !== -1 && retries >= limit) {
      await this.#giveUp(mapping, stream.streamArn, rest, sent.slice(from), 'RetryAttemptsExhausted', result);
      state.size = undefined;
      return;
    }
    if (mapping.bisectBatchOnFunctionError === true && failure === 'function error' && rest.length > 1) state.size = Math.ceil(rest.length / 2);
    // Back at the head of the shard (their first due time), the shard blocked for the backoff.
    for (const lease of rest) await ctx.backend.retry(lease, lease.availableAt, lease.attempts);
    const backoff = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** Math.min(retries, 16));
    state.blockedUntil = ctx.clock.now() + backoff;
    ctx.clock.setTimeout(() => ctx.wake(), backoff, false);
    ctx.log(mapping.functionArn.split(':')[6]!, `Event source mapping ${mapping.uuid}: batch of ${rest.length} on ${rest[0]!.queue} failed (${failure ?? 'partial batch failure'}); retried in ${backoff} ms`);
  }

  #kinesisRecord(r: StoredRecord, streamArn: string): KinesisStreamRecord {
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.partitionKey,
        sequenceNumber: r.sequenceNumber,
        data: r.data,
        approximateArrivalTimestamp: r.arrival / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${r.shardId}:${r.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::${this.#ctx.options.accountId}:role/lambdalet`,
      awsRegion: this.#ctx.options.region,
      eventSourceARN: streamArn,
    };
  }

  /** Skips records for good: the on-failure destination gets Lambda's record with KinesisBatchInfo. */
  async #giveUp(mapping: EventSourceMappingInfo, streamArn: string, leases: LeasedEvent[], records: StoredRecord[], condition: string, result: InvokeResult | undefined): Promise<void> {
    const ctx = this.#ctx;
    const destination = mapping.destinationConfig?.onFailure.destination;
    const now = ctx.clock.now();
    const body = JSON.stringify({
      requestContext: { requestId: randomUUID(), functionArn: mapping.functionArn, condition, approximateInvokeCount: leases[0]!.attempts },
      ...(result === undefined ? {} : { responseContext: { statusCode: result.statusCode, executedVersion: result.executedVersion, ...(result.functionError ? { functionError: result.functionError } : {}) } }),
      version: '1.0',
      timestamp: new Date(now).toISOString(),
      KinesisBatchInfo: {
        shardId: records[0]!.shardId,
        startSequenceNumber: records[0]!.sequenceNumber,
        endSequenceNumber: records.at(-1)!.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(records[0]!.arrival).toISOString(),
        approximateArrivalOfLastRecord: new Date(records.at(-1)!.arrival).toISOString(),
        batchSize: records.length,
        streamArn,
      },
    });
    let delivery;
    if (destination !== undefined) {
      try {
        const parsed = parseDestination(destination, 'destination', ctx.options, ctx.registry, this.#queues, this.#callbacks);
        delivery = deliveryEvent(parsed, body, now, ctx.registry, this.#queues, {});
      } catch {
        delivery = undefined;
      }
      if (delivery === undefined) ctx.counters.destinationDeliveryFailures += 1;
    }
    ctx.log(mapping.functionArn.split(':')[6]!, `Event source mapping ${mapping.uuid}: ${records.length} record(s) from ${records[0]!.sequenceNumber} skipped (${condition})${destination === undefined ? '' : ` and sent to ${destination}`}`);
    // The first record's ack carries the delivery: the skip and its report are one step.
    for (const [i, lease] of leases.entries()) await ctx.backend.ack(lease, i === 0 && delivery !== undefined ? [delivery] : undefined);
  }
}
