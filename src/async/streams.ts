/**
 * lambdalet's streams, with Kinesis Data Streams' semantics and names: `rt.createStream(name,
 * { shardCount })` and `rt.putRecord(stream, { partitionKey, data })` → `{ shardId, sequenceNumber }`.
 * A record goes to the shard whose hash-key range holds the MD5 of its partition key (Kinesis:
 * the 128-bit key space split evenly between shards), so one key's records stay in order; sequence
 * numbers grow per stream (the stream log's counter). Every record is kept in the stream's history
 * (stream-log.ts) for `retentionPeriodHours` (Kinesis: 24 by default, 24-8760, the range of
 * Increase/DecreaseStreamRetentionPeriod) and fanned out at put time to one backend queue per
 * mapping, shard and lane (stream-feed.ts).
 * Limits (Kinesis quotas): names 1-128 of [a-zA-Z0-9_.-]; partition keys 1-256 characters; a record's
 * data up to 1 MiB; shardCount 1-500 here.
 */
import { createHash } from 'node:crypto';
import type { RuntimeOptions } from '../config/index.ts';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException } from '../errors.ts';
import type { ConfigStore } from './config-store.ts';

export const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
export const SHARD_COUNT_MAX = 500;
export const RECORD_DATA_MAX_BYTES = 1_048_576;
export const STREAM_ARN = /^arn:aws[a-zA-Z-]*:kinesis:[a-z]{2}(?:-gov)?-[a-z]+-\d:\d{12}:stream\/([a-zA-Z0-9_.-]{1,128})$/;
export const RETENTION_HOURS_DEFAULT = 24;
export const RETENTION_HOURS_MAX = 8760;
/** Sequence numbers start here (Kinesis's are 56-digit decimals that only grow). */
const SEQUENCE_BASE = 49_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;

export interface StreamInfo {
  readonly streamName: string;
  readonly streamArn: string;
  readonly shardCount: number;
  /** Hours a record stays in the stream: 24 to 8760, default 24. */
  readonly retentionPeriodHours: number;
}

/** The n-th sequence number of a stream (n from 0), as Kinesis writes them: a growing decimal. */
export function sequenceNumber(n: number): string {
  return String(SEQUENCE_BASE + BigInt(n));
}

/** The MD5 of a partition key as a 128-bit integer: its place in the stream's hash-key space. */
export function partitionHash(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

/** What a fanned-out record holds (JSON in the backend). */
export interface StoredRecord {
  readonly partitionKey: string;
  /** base64 */
  readonly data: string;
  readonly sequenceNumber: string;
  readonly shardId: string;
  /** Epoch ms. */
  readonly arrival: number;
}

export function shardId(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

export class StreamRegistry {
  readonly #streams = new Map<string, StreamInfo>();
  /** Counters an older layout kept in the stream's settings (`next`): the log is seeded from them. */
  readonly legacyCounters = new Map<string, number>();
  readonly #options: RuntimeOptions;
  readonly #store: ConfigStore;

  constructor(options: RuntimeOptions, store: ConfigStore) {
    this.#options = options;
    this.#store = store;
    this.reload();
  }

  /** Reads the streams again from the store (at restore; another runtime changed one). */
  reload(): void {
    this.#streams.clear();
    for (const [name, value] of this.#store.all('stream')) {
      const { next, ...info } = value as StreamInfo & { next?: string };
      if (next !== undefined) this.legacyCounters.set(name, Number(BigInt(next) - SEQUENCE_BASE));
      this.#streams.set(name, Object.freeze({ ...info, retentionPeriodHours: info.retentionPeriodHours ?? RETENTION_HOURS_DEFAULT }));
    }
  }

  /** @throws InvalidParameterValueException (name, shardCount, retentionPeriodHours), ResourceConflictException (name taken). */
  create(name: string, input: { shardCount?: number; retentionPeriodHours?: number } = {}): StreamInfo {
    if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
      throw new InvalidParameterValueException('streamName', `Expected the stream name to be 1 to 128 characters from [a-zA-Z0-9_.-], got ${JSON.stringify(name)}`);
    }
    const shardCount = input.shardCount ?? 1;
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > SHARD_COUNT_MAX) {
      throw new InvalidParameterValueException('shardCount', `Expected \`shardCount\` to be an integer from 1 to ${SHARD_COUNT_MAX}, got ${JSON.stringify(shardCount)}`);
    }
    const retentionPeriodHours = input.retentionPeriodHours ?? RETENTION_HOURS_DEFAULT;
    if (!Number.isInteger(retentionPeriodHours) || retentionPeriodHours < RETENTION_HOURS_DEFAULT || retentionPeriodHours > RETENTION_HOURS_MAX) {
      throw new InvalidParameterValueException(
        'retentionPeriodHours',
        `Expected \`retentionPeriodHours\` to be an integer from ${RETENTION_HOURS_DEFAULT} to ${RETENTION_HOURS_MAX}, got ${JSON.stringify(retentionPeriodHours)}`,
      );
    }
    if (this.#streams.has(name)) throw new ResourceConflictException(`Stream ${name} under account ${this.#options.accountId} already exists.`);
    const arn = `arn:aws:kinesis:${this.#options.region}:${this.#options.accountId}:stream/${name}`;
    const info: StreamInfo = Object.freeze({ streamName: name, streamArn: arn, shardCount, retentionPeriodHours });
    this.#streams.set(name, info);
    this.#store.put('stream', name, info);
    return info;
  }

  get(nameOrArn: string): StreamInfo {
    const arn = typeof nameOrArn === 'string' ? STREAM_ARN.exec(nameOrArn) : null;
    const name = arn !== null ? arn[1]! : nameOrArn;
    const entry = this.#streams.get(name);
    if (entry === undefined || (arn !== null && entry.streamArn !== nameOrArn)) {
      throw new ResourceNotFoundException(`Stream ${String(name)} under account ${this.#options.accountId} not found.`);
    }
    return entry;
  }

  find(nameOrArn: string): StreamInfo | undefined {
    try {
      return this.get(nameOrArn);
    } catch {
      return undefined;
    }
  }

  delete(nameOrArn: string): StreamInfo {
    const info = this.get(nameOrArn);
    this.#streams.delete(info.streamName);
    this.#store.delete('stream', info.streamName);
    return info;
  }

  list(): StreamInfo[] {
    return [...this.#streams.keys()].map((name) => this.get(name));
  }

  /**
   * The shard, key hash and record (but its sequence number, which the log gives) of one put.
   * @throws InvalidParameterValueException (key, data).
   */
  record(stream: StreamInfo, input: { partitionKey: string; data: string | Uint8Array }, now: number): { shard: number; hash: bigint; record: Omit<StoredRecord, 'sequenceNumber'> } {
    const { partitionKey, data } = input ?? {};
    if (typeof partitionKey !== 'string' || partitionKey.length < 1 || partitionKey.length > 256) {
      throw new InvalidParameterValueException('partitionKey', 'Expected `partitionKey` to be a string of 1 to 256 characters');
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data instanceof Uint8Array ? Buffer.from(data) : undefined;
    if (bytes === undefined) throw new InvalidParameterValueException('data', 'Expected `data` to be a string or bytes');
    if (bytes.length > RECORD_DATA_MAX_BYTES) throw new InvalidParameterValueException('data', `Expected \`data\` to be at most ${RECORD_DATA_MAX_BYTES} bytes, got ${bytes.length}`);
    const hash = partitionHash(partitionKey);
    const shard = Number((hash * BigInt(stream.shardCount)) >> 128n);
    return { shard, hash, record: { partitionKey, data: bytes.toString('base64'), shardId: shardId(shard), arrival: now } };
  }
}
