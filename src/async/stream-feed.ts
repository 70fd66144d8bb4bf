/**
 * How records reach stream mappings: a put is appended to the stream's history (stream-log.ts) and
 * fanned out to every mapping of the stream in the same step, one queue event per mapping in the
 * lane of its shard (stream-poller.ts `shardQueue`); a mapping created with StartingPosition
 * TRIM_HORIZON or AT_TIMESTAMP gets the retained history from that point (Lambda API reference,
 * CreateEventSourceMapping StartingPosition / StartingPositionTimestamp; LATEST: only records put
 * after it exists). History older than the stream's retention is trimmed as puts come (at most
 * once a minute per stream on the event clock) and never handed to a new mapping.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.ts';
import type { EventSourceMappingInfo, EventSourceMappings } from './event-source-mapping.ts';
import type { EventQueueBackend, NewEvent } from './queue.ts';
import type { StreamLog } from './stream-log.ts';
import { laneOf, shardQueue } from './stream-poller.ts';
import { partitionHash, sequenceNumber, type StoredRecord, type StreamInfo, type StreamRegistry } from './streams.ts';

const TRIM_EVERY_MS = 60_000;

/**
 * The queue event id of a record. A backend several runtimes share (a cluster's: it has `watch`)
 * gets the runtime's own salt after the sequence number: each runtime keeps its own stream log and
 * counter, so two runtimes putting to one stream may give out the same number, and a backend
 * skips an id it already holds — the salt keeps both records.
 */
function recordId(sequenceNumber: string, salt: string | undefined): string {
  return salt === undefined ? sequenceNumber : `${sequenceNumber}@${salt}`;
}
const HOUR_MS = 3_600_000;

export class StreamFeed {
  readonly #backend: EventQueueBackend;
  readonly #log: StreamLog;
  readonly #streams: StreamRegistry;
  readonly #mappings: EventSourceMappings;
  readonly #clock: Clock;
  readonly #trimmedAt = new Map<string, number>();
  /** Set when the backend is shared with other runtimes (see recordId). */
  readonly #salt: string | undefined;

  constructor(backend: EventQueueBackend, log: StreamLog, streams: StreamRegistry, mappings: EventSourceMappings, clock: Clock) {
    this.#backend = backend;
    this.#log = log;
    this.#streams = streams;
    this.#mappings = mappings;
    this.#clock = clock;
    this.#salt = backend.watch === undefined ? undefined : randomUUID();
  }

  /** Sequence counters an older layout kept in the streams' settings: the log continues from them. */
  seedLegacyCounters(): void {
    for (const [stream, next] of this.#streams.legacyCounters) this.#log.seed(stream, next);
  }

  /**
   * PutRecord: kept in the history and queued for every mapping of the stream, in one step.
   * @throws ResourceNotFoundException (stream), InvalidParameterValueException (key, data).
   */
  async put(streamName: string, input: { partitionKey: string; data: string | Uint8Array }): Promise<{ shardId: string; sequenceNumber: string }> {
    const stream = this.#streams.get(streamName);
    const now = this.#clock.now();
    const { shard, hash, record } = this.#streams.record(stream, input, now);
    this.#trim(stream, now);
    const saved = await this.#log.append(stream.streamName, (n) => {
      const full: StoredRecord = { ...record, sequenceNumber: sequenceNumber(n) };
      const body = JSON.stringify(full);
      const events = this.#mappings.forStream(stream.streamArn).map((m): NewEvent => {
        const factor = m.parallelizationFactor ?? 1;
        return { queue: shardQueue(m.uuid, shard, factor, laneOf(hash, factor)), id: recordId(full.sequenceNumber, this.#salt), body, enqueuedAt: now, availableAt: now };
      });
      return { record: full, events };
    });
    return { shardId: saved.shardId, sequenceNumber: saved.sequenceNumber };
  }

  /**
   * A new stream mapping's backlog: the retained records from its starting position, queued in
   * its lanes in sequence order (each due at its arrival, so records put later queue behind them).
   * Called in the same synchronous turn as the mapping's creation. Resolves with how many.
   */
  backlog(mapping: EventSourceMappingInfo): Promise<number> {
    const stream = this.#streams.find(mapping.eventSourceArn);
    if (stream === undefined || mapping.startingPosition === undefined || mapping.startingPosition === 'LATEST') return Promise.resolve(0);
    const retainedFrom = this.#clock.now() - stream.retentionPeriodHours * HOUR_MS;
    const from = mapping.startingPosition === 'AT_TIMESTAMP' ? Math.max(retainedFrom, Math.ceil((mapping.startingPositionTimestamp ?? 0) * 1000)) : retainedFrom;
    const factor = mapping.parallelizationFactor ?? 1;
    const events = this.#log.read(stream.streamName, from).map((r): NewEvent => ({
      queue: shardQueue(mapping.uuid, Number(r.shardId.slice('shardId-'.length)), factor, laneOf(partitionHash(r.partitionKey), factor)),
      id: recordId(r.sequenceNumber, this.#salt),
      body: JSON.stringify(r),
      enqueuedAt: r.arrival,
      availableAt: r.arrival,
    }));
    return events.length === 0 ? Promise.resolve(0) : this.#backend.enqueue(events).then(() => events.length);
  }

  /** A stream mapping was deleted: the records still queued in its lanes go. Resolves with how many (0 without `purge`). */
  async purgeMapping(uuid: string): Promise<number> {
    const backend = this.#backend;
    if (backend.purge === undefined) return 0;
    let n = 0;
    for (const { queue } of await backend.listDue()) if (queue.startsWith(`kinesis:${uuid}:`)) n += await backend.purge(queue);
    return n;
  }

  /** The stream was deleted: its history goes. */
  dropped(streamName: string): void {
    this.#trimmedAt.delete(streamName);
    this.#log.drop(streamName);
  }

  #trim(stream: StreamInfo, now: number): void {
    if (now - (this.#trimmedAt.get(stream.streamName) ?? -Infinity) < TRIM_EVERY_MS) return;
    this.#trimmedAt.set(stream.streamName, now);
    this.#log.trim(stream.streamName, now - stream.retentionPeriodHours * HOUR_MS);
  }
}
