/**
 * lambdalet's streams, with Kinesis Data Streams' semantics and names: `rt.createStream(name,
 * { shardCount })` and `rt.putRecord(stream, { partitionKey, data })` → `{ shardId, sequenceNumber }`.
 * A record goes to the shard whose hash-key range holds the MD5 of its partition key (Kinesis:
 * the 128-bit key space split evenly between shards), so one key's records stay in order; sequence
 * numbers grow per stream. A stream keeps no history of its own: each record is fanned out, at put
 * time, to one backend queue per mapping and shard (`kinesis:<mapping uuid>:<shard>`), so a mapping
 * sees the records put after it exists (Kinesis's StartingPosition LATEST).
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
/** Sequence numbers start here (Kinesis's are 56-digit decimals that only grow). */
const SEQUENCE_BASE = 49_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;

export interface StreamInfo {
  readonly streamName: string;
  readonly streamArn: string;
  readonly shardCount: number;
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
  readonly #streams = new Map<string, StreamInfo & { next: bigint }>();
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
      const { next, ...info } = value as StreamInfo & { next: string };
      this.#streams.set(name, { ...info, next: BigInt(next) });
    }
  }

  create(name: string, input: { shardCount?: number } = {}): StreamInfo {
    if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
      throw new InvalidParameterValueException('streamName', `Expected the stream name to be 1 to 128 characters from [a-zA-Z0-9_.-], got ${JSON.stringify(name)}`);
    }
    const shardCount = input.shardCount ?? 1;
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > SHARD_COUNT_MAX) {
      throw new InvalidParameterValueException('shardCount', `Expected \`shardCount\` to be an integer from 1 to ${SHARD_COUNT_MAX}, got ${JSON.stringify(shardCount)}`);
    }
    if (this.#streams.has(name)) throw new ResourceConflictException(`Stream ${name} under account ${this.#options.accountId} already exists.`);
    const info: StreamInfo = Object.freeze({ streamName: name, streamArn: `arn:aws:kinesis:${this.#options.region}:${this.#options.accountId}:stream/${name}`, shardCount });
    this.#streams.set(name, { ...info, next: SEQUENCE_BASE });
    this.#persist(name);
    return info;
  }

  get(nameOrArn: string): StreamInfo {
    const arn = typeof nameOrArn === 'string' ? STREAM_ARN.exec(nameOrArn) : null;
    const name = arn !== null ? arn[1]! : nameOrArn;
    const entry = this.#streams.get(name);
    if (entry === undefined || (arn !== null && entry.streamArn !== nameOrArn)) {
      throw new ResourceNotFoundException(`Stream ${String(name)} under account ${this.#options.accountId} not found.`);
    }
    const { next: _next, ...info } = entry;
    return info;
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

  /** The shard and stored record of one put. @throws InvalidParameterValueException (key, data). */
  record(stream: StreamInfo, input: { partitionKey: string; data: string | Uint8Array }, now: number): { shard: number; record: StoredRecord } {
    const { partitionKey, data } = input ?? {};
    if (typeof partitionKey !== 'string' || partitionKey.length < 1 || partitionKey.length > 256) {
      throw new InvalidParameterValueException('partitionKey', 'Expected `partitionKey` to be a string of 1 to 256 characters');
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data instanceof Uint8Array ? Buffer.from(data) : undefined;
    if (bytes === undefined) throw new InvalidParameterValueException('data', 'Expected `data` to be a string or bytes');
    if (bytes.length > RECORD_DATA_MAX_BYTES) throw new InvalidParameterValueException('data', `Expected \`data\` to be at most ${RECORD_DATA_MAX_BYTES} bytes, got ${bytes.length}`);
    const hash = BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
    const shard = Number((hash * BigInt(stream.shardCount)) >> 128n);
    const entry = this.#streams.get(stream.streamName)!;
    const sequenceNumber = String(entry.next);
    entry.next += 1n;
    this.#persist(stream.streamName);
    return { shard, record: { partitionKey, data: bytes.toString('base64'), sequenceNumber, shardId: shardId(shard), arrival: now } };
  }

  #persist(name: string): void {
    const { next, ...info } = this.#streams.get(name)!;
    this.#store.put('stream', name, { ...info, next: String(next) });
  }
}
