/**
 * Event source mappings (Lambda's CreateEventSourceMapping and its update / delete / get / list):
 * a function polling a lambdalet queue. Ranges and rules are Lambda's for SQS sources (API
 * reference, CreateEventSourceMapping): `batchSize` 1-10000 (default 10), above 10 only with
 * `maximumBatchingWindowInSeconds` of at least 1; the window 0-300 s (default 0);
 * `functionResponseTypes` only `ReportBatchItemFailures`; the stream-only settings
 * (`bisectBatchOnFunctionError`, `maximumRetryAttempts`, `maximumRecordAgeInSeconds`,
 * `parallelizationFactor`, `destinationConfig`) refused for a queue, whose failures go to its
 * redrive policy instead; the queue's visibility timeout must be at least the function's timeout
 * (Lambda: "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds").
 * Stream sources (streams.ts) take the stream settings: `startingPosition` (required, as Lambda
 * requires it for Kinesis: `TRIM_HORIZON`, `LATEST` or `AT_TIMESTAMP` with
 * `startingPositionTimestamp` in Unix seconds, not in the future; fixed once created),
 * `batchSize` default 100, `maximumRetryAttempts` -1 (until the record expires) to 10000,
 * `maximumRecordAgeInSeconds` -1 or 60-604800, `parallelizationFactor` 1-10 (that many batches of a
 * shard in flight, one per lane of partition keys), `bisectBatchOnFunctionError`,
 * `destinationConfig.onFailure`; stream-feed.ts feeds them and stream-poller.ts runs them.
 * Kept in the config store (durable with `dataDir`).
 */
import { randomUUID } from 'node:crypto';
import type { RuntimeOptions } from '../config/index.ts';
import { InvalidParameterValueException, ResourceNotFoundException } from '../errors.ts';
import { functionArn, functionNotFound, splitFunctionName } from '../registry/names.ts';
import type { FunctionRegistry } from '../registry/registry.ts';
import type { ConfigStore } from './config-store.ts';
import type { QueueRegistry } from './queues.ts';
import { STREAM_ARN, type StreamRegistry } from './streams.ts';

export const BATCH_SIZE_MAX = 10_000;
export const SQS_BATCH_SIZE_DEFAULT = 10;
/** Above this batch size an SQS mapping needs a batching window of at least 1 s. */
export const SQS_BATCH_SIZE_WITHOUT_WINDOW_MAX = 10;
export const BATCHING_WINDOW_MAX_S = 300;

export interface EventSourceMappingInput {
  readonly eventSourceArn?: string;
  readonly functionName?: string;
  readonly batchSize?: number;
  readonly maximumBatchingWindowInSeconds?: number;
  readonly functionResponseTypes?: readonly 'ReportBatchItemFailures'[];
  readonly enabled?: boolean;
  readonly bisectBatchOnFunctionError?: boolean;
  readonly maximumRetryAttempts?: number;
  readonly maximumRecordAgeInSeconds?: number;
  readonly parallelizationFactor?: number;
  readonly destinationConfig?: { readonly onFailure?: { readonly destination?: string } };
  /** Stream sources: where a new mapping starts reading (required; cannot be changed). */
  readonly startingPosition?: StartingPosition;
  /** With `AT_TIMESTAMP`: Unix time in seconds (fractions allowed), not in the future. */
  readonly startingPositionTimestamp?: number;
}

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
const STARTING_POSITIONS: readonly string[] = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'];

/** Lambda's EventSourceMappingConfiguration, camelCased, for a queue source. */
export interface EventSourceMappingInfo {
  readonly uuid: string;
  readonly eventSourceArn: string;
  readonly functionArn: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly functionResponseTypes: readonly 'ReportBatchItemFailures'[];
  /** `Enabled` or `Disabled`. */
  readonly state: 'Enabled' | 'Disabled';
  /** Why it is as it is: `OK`, or the problem that stopped it (its queue was deleted). */
  readonly stateTransitionReason: string;
  /** Epoch seconds. */
  readonly lastModified: number;
  /** `OK`, `No records processed`, or the last problem (a missing function, ...). */
  readonly lastProcessingResult: string;
  /** Stream sources only. */
  readonly startingPosition?: StartingPosition;
  /** Unix seconds, with `AT_TIMESTAMP`. */
  readonly startingPositionTimestamp?: number;
  readonly bisectBatchOnFunctionError?: boolean;
  /** -1 (default): retry until the record expires. */
  readonly maximumRetryAttempts?: number;
  /** -1 (default): no limit. */
  readonly maximumRecordAgeInSeconds?: number;
  readonly parallelizationFactor?: number;
  readonly destinationConfig?: { readonly onFailure: { readonly destination?: string } };
}

/** Stream sources (Lambda API reference, CreateEventSourceMapping): their ranges. */
export const STREAM_BATCH_SIZE_DEFAULT = 100;
export const STREAM_RETRY_MAX = 10_000;
export const RECORD_AGE_MIN_S = 60;
export const RECORD_AGE_MAX_S = 604_800;
export const PARALLELIZATION_MAX = 10;

const STREAM_ONLY = [
  'bisectBatchOnFunctionError',
  'maximumRetryAttempts',
  'maximumRecordAgeInSeconds',
  'parallelizationFactor',
  'destinationConfig',
  'startingPosition',
  'startingPositionTimestamp',
] as const;

function invalid(field: string, message: string): InvalidParameterValueException {
  return new InvalidParameterValueException(field, message);
}

function intIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `Expected \`${field}\` to be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

export class EventSourceMappings {
  readonly #mappings = new Map<string, EventSourceMappingInfo>();
  readonly #options: RuntimeOptions;
  readonly #registry: FunctionRegistry;
  readonly #queues: QueueRegistry;
  readonly #store: ConfigStore;
  readonly #now: () => number;
  readonly #streams: StreamRegistry;
  readonly #checkDestination: (arn: unknown, field: string) => void;

  constructor(
    options: RuntimeOptions,
    registry: FunctionRegistry,
    queues: QueueRegistry,
    streams: StreamRegistry,
    store: ConfigStore,
    now: () => number,
    checkDestination: (arn: unknown, field: string) => void,
  ) {
    this.#streams = streams;
    this.#checkDestination = checkDestination;
    this.#options = options;
    this.#registry = registry;
    this.#queues = queues;
    this.#store = store;
    this.#now = now;
    this.reload();
  }

  /** Reads the mappings again from the store (at restore; another runtime changed one). */
  reload(): void {
    this.#mappings.clear();
    for (const [uuid, info] of this.#store.all('esm')) this.#mappings.set(uuid, Object.freeze(info as EventSourceMappingInfo));
  }

  create(input: EventSourceMappingInput): EventSourceMappingInfo {
    if (input.eventSourceArn === undefined) throw invalid('eventSourceArn', 'Expected `eventSourceArn` to be a lambdalet queue ARN');
    if (input.functionName === undefined) throw invalid('functionName', 'Expected `functionName` to be a function name or ARN');
    return this.#save(this.#build(randomUUID(), input, undefined));
  }

  update(uuid: string, input: EventSourceMappingInput): EventSourceMappingInfo {
    const old = this.get(uuid);
    if (input.eventSourceArn !== undefined && input.eventSourceArn !== old.eventSourceArn) {
      throw invalid('eventSourceArn', 'The event source of a mapping cannot be changed');
    }
    return this.#save(this.#build(uuid, { ...input, eventSourceArn: old.eventSourceArn }, old));
  }

  get(uuid: string): EventSourceMappingInfo {
    const info = this.#mappings.get(uuid);
    if (info === undefined) throw new ResourceNotFoundException(`The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: ${uuid})`);
    return info;
  }

  delete(uuid: string): EventSourceMappingInfo {
    const info = this.get(uuid);
    this.#mappings.delete(uuid);
    this.#store.delete('esm', uuid);
    return info;
  }

  list(filter: { eventSourceArn?: string; functionName?: string } = {}): EventSourceMappingInfo[] {
    const fn = filter.functionName === undefined ? undefined : functionArn(this.#options, splitFunctionName(filter.functionName, this.#options).name);
    return [...this.#mappings.values()].filter(
      (m) => (filter.eventSourceArn === undefined || m.eventSourceArn === filter.eventSourceArn) && (fn === undefined || m.functionArn.startsWith(fn)),
    );
  }

  /** Every mapping (enabled or not) reading a stream: each gets the stream's records. */
  forStream(streamArn: string): EventSourceMappingInfo[] {
    return [...this.#mappings.values()].filter((m) => m.eventSourceArn === streamArn);
  }

  /** A mapping, or undefined. */
  find(uuid: string): EventSourceMappingInfo | undefined {
    return this.#mappings.get(uuid);
  }

  /** Enabled mappings reading `queueArn`. */
  forQueue(queueArn: string): EventSourceMappingInfo[] {
    return [...this.#mappings.values()].filter((m) => m.eventSourceArn === queueArn && m.state === 'Enabled');
  }

  /** Records a problem or a recovery (state and/or lastProcessingResult), kept like any change. */
  mark(uuid: string, change: Partial<Pick<EventSourceMappingInfo, 'state' | 'stateTransitionReason' | 'lastProcessingResult'>>): void {
    const info = this.#mappings.get(uuid);
    if (info === undefined) return;
    const next = { ...info, ...change };
    if (JSON.stringify(next) !== JSON.stringify(info)) this.#save(Object.freeze(next));
  }

  #build(uuid: string, input: EventSourceMappingInput, old: EventSourceMappingInfo | undefined): EventSourceMappingInfo {
    if (typeof input.eventSourceArn === 'string' && STREAM_ARN.test(input.eventSourceArn)) return this.#buildStream(uuid, input, old);
    for (const field of STREAM_ONLY) {
      if (input[field] !== undefined) {
        throw invalid(field, `\`${field}\` is for stream sources (Kinesis, DynamoDB); a queue's failed messages go to its redrivePolicy`);
      }
    }
    const queue = this.#queues.get(input.eventSourceArn!, 'eventSourceArn');
    const fnName = input.functionName ?? old!.functionArn;
    const ref = splitFunctionName(fnName, this.#options);
    const entry = this.#registry.get(ref.name);
    if (!entry) throw functionNotFound(this.#options, ref.name);
    if (ref.qualifier !== undefined && ref.qualifier !== '$LATEST' && !entry.versions.has(ref.qualifier) && !entry.aliases.has(ref.qualifier)) {
      throw functionNotFound(this.#options, ref.name, ref.qualifier);
    }
    const timeoutS = Math.ceil(entry.latest.config.timeoutMs / 1000);
    if (queue.visibilityTimeout < timeoutS) {
      throw invalid('eventSourceArn', `Queue visibility timeout: ${queue.visibilityTimeout} seconds is less than Function timeout: ${timeoutS} seconds`);
    }
    const batchSize = intIn('batchSize', input.batchSize ?? old?.batchSize ?? SQS_BATCH_SIZE_DEFAULT, 1, BATCH_SIZE_MAX);
    const window = intIn('maximumBatchingWindowInSeconds', input.maximumBatchingWindowInSeconds ?? old?.maximumBatchingWindowInSeconds ?? 0, 0, BATCHING_WINDOW_MAX_S);
    if (batchSize > SQS_BATCH_SIZE_WITHOUT_WINDOW_MAX && window < 1) {
      throw invalid('maximumBatchingWindowInSeconds', 'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10');
    }
    return Object.freeze(this.#baseFields(uuid, input, old, queue.queueArn, functionArn(this.#options, ref.name, ref.qualifier), batchSize, window));
  }

  /** The fields every mapping has, after the checks both source kinds share (response types, enabled). */
  #baseFields(
    uuid: string,
    input: EventSourceMappingInput,
    old: EventSourceMappingInfo | undefined,
    eventSourceArn: string,
    mappedFunctionArn: string,
    batchSize: number,
    window: number,
  ): EventSourceMappingInfo {
    const types: unknown = input.functionResponseTypes ?? old?.functionResponseTypes ?? [];
    if (!Array.isArray(types) || types.some((t) => t !== 'ReportBatchItemFailures') || types.length > 1) {
      throw invalid('functionResponseTypes', "Expected `functionResponseTypes` to be [] or ['ReportBatchItemFailures']");
    }
    if (input.enabled !== undefined && typeof input.enabled !== 'boolean') throw invalid('enabled', 'Expected `enabled` to be true or false');
    const enabled = input.enabled ?? (old === undefined ? true : old.state === 'Enabled');
    return {
      uuid,
      eventSourceArn,
      functionArn: mappedFunctionArn,
      batchSize,
      maximumBatchingWindowInSeconds: window,
      functionResponseTypes: Object.freeze([...(types as 'ReportBatchItemFailures'[])]),
      state: enabled ? 'Enabled' : 'Disabled',
      stateTransitionReason: 'USER_INITIATED',
      lastModified: Math.floor(this.#now() / 1000),
      lastProcessingResult: old?.lastProcessingResult ?? 'No records processed',
    };
  }

  /** A Kinesis-like stream source: its own ranges, and the stream-only settings allowed. */
  #buildStream(uuid: string, input: EventSourceMappingInput, old: EventSourceMappingInfo | undefined): EventSourceMappingInfo {
    const stream = this.#streams.get(input.eventSourceArn!);
    const ref = splitFunctionName(input.functionName ?? old!.functionArn, this.#options);
    if (!this.#registry.get(ref.name)) throw functionNotFound(this.#options, ref.name);
    const batchSize = intIn('batchSize', input.batchSize ?? old?.batchSize ?? STREAM_BATCH_SIZE_DEFAULT, 1, BATCH_SIZE_MAX);
    const window = intIn('maximumBatchingWindowInSeconds', input.maximumBatchingWindowInSeconds ?? old?.maximumBatchingWindowInSeconds ?? 0, 0, BATCHING_WINDOW_MAX_S);
    const retries = intIn('maximumRetryAttempts', input.maximumRetryAttempts ?? old?.maximumRetryAttempts ?? -1, -1, STREAM_RETRY_MAX);
    const age = intIn('maximumRecordAgeInSeconds', input.maximumRecordAgeInSeconds ?? old?.maximumRecordAgeInSeconds ?? -1, -1, RECORD_AGE_MAX_S);
    if (age !== -1 && age < RECORD_AGE_MIN_S) {
      throw invalid('maximumRecordAgeInSeconds', `Expected \`maximumRecordAgeInSeconds\` to be -1 or an integer from ${RECORD_AGE_MIN_S} to ${RECORD_AGE_MAX_S}, got ${age}`);
    }
    const parallelizationFactor = intIn('parallelizationFactor', input.parallelizationFactor ?? old?.parallelizationFactor ?? 1, 1, PARALLELIZATION_MAX);
    const bisect = input.bisectBatchOnFunctionError ?? old?.bisectBatchOnFunctionError ?? false;
    if (typeof bisect !== 'boolean') throw invalid('bisectBatchOnFunctionError', 'Expected `bisectBatchOnFunctionError` to be true or false');
    const onFailure = input.destinationConfig?.onFailure?.destination ?? old?.destinationConfig?.onFailure.destination;
    if (onFailure !== undefined) this.#checkDestination(onFailure, 'destinationConfig.onFailure.destination');
    const start = old === undefined ? this.#startingPosition(input) : this.#keptPosition(input, old);
    return Object.freeze({
      ...this.#baseFields(uuid, input, old, stream.streamArn, functionArn(this.#options, ref.name, ref.qualifier), batchSize, window),
      ...start,
      bisectBatchOnFunctionError: bisect,
      maximumRetryAttempts: retries,
      maximumRecordAgeInSeconds: age,
      parallelizationFactor,
      destinationConfig: { onFailure: onFailure === undefined ? {} : { destination: onFailure } },
    });
  }

  /** A new stream mapping's position. Lambda requires it for Kinesis; AT_TIMESTAMP needs a time not in the future. */
  #startingPosition(input: EventSourceMappingInput): Pick<EventSourceMappingInfo, 'startingPosition' | 'startingPositionTimestamp'> {
    const position = input.startingPosition as unknown;
    if (typeof position !== 'string' || !STARTING_POSITIONS.includes(position)) {
      throw invalid('startingPosition', `Expected \`startingPosition\` to be one of TRIM_HORIZON, LATEST, AT_TIMESTAMP (required for a stream), got ${JSON.stringify(position)}`);
    }
    const timestamp = input.startingPositionTimestamp as unknown;
    if (position !== 'AT_TIMESTAMP') {
      if (timestamp !== undefined) throw invalid('startingPositionTimestamp', '`startingPositionTimestamp` is only for startingPosition AT_TIMESTAMP');
      return { startingPosition: position as StartingPosition };
    }
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) {
      throw invalid('startingPositionTimestamp', `Expected \`startingPositionTimestamp\` to be a Unix time in seconds with AT_TIMESTAMP, got ${JSON.stringify(timestamp)}`);
    }
    if (timestamp * 1000 > this.#now()) {
      throw invalid('startingPositionTimestamp', `\`startingPositionTimestamp\` ${timestamp} is in the future (now ${this.#now() / 1000})`);
    }
    return { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: timestamp };
  }

  /** UpdateEventSourceMapping has no StartingPosition: the one it was created with stays. */
  #keptPosition(input: EventSourceMappingInput, old: EventSourceMappingInfo): Pick<EventSourceMappingInfo, 'startingPosition' | 'startingPositionTimestamp'> {
    const changed = (input.startingPosition !== undefined && input.startingPosition !== old.startingPosition) ||
      (input.startingPositionTimestamp !== undefined && input.startingPositionTimestamp !== old.startingPositionTimestamp);
    if (changed) throw invalid('startingPosition', 'The starting position of a mapping cannot be changed (UpdateEventSourceMapping has no StartingPosition)');
    return old.startingPositionTimestamp === undefined
      ? { startingPosition: old.startingPosition ?? 'LATEST' }
      : { startingPosition: old.startingPosition ?? 'AT_TIMESTAMP', startingPositionTimestamp: old.startingPositionTimestamp };
  }

  #save(info: EventSourceMappingInfo): EventSourceMappingInfo {
    this.#mappings.set(info.uuid, info);
    this.#store.put('esm', info.uuid, info);
    return info;
  }
}
