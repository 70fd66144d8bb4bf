/**
 * The asynchronous layer as the runtime sees it: one object that owns the event queue backend
 * (memory, or node:sqlite with `dataDir`), the pump and the queue handlers, and answers
 * `rt.invoke(..., { invocationType: 'Event' | 'DryRun' })`. runtime.ts only delegates here.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { InvokeOptions, RuntimeOptions } from '../config/index.ts';
import type { EngineRegistry } from '../engines/registry.ts';
import { serializeAsyncEvent, serializeEvent } from '../invoke/event.ts';
import { checkTenant, type Invoker } from '../invoke/invoker.ts';
import { resolveTarget } from '../invoke/resolve.ts';
import type { LogSink } from '../observability/log-sink.ts';
import { splitFunctionName } from '../registry/names.ts';
import type { FunctionRegistry } from '../registry/registry.ts';
import type { RegistryStore, StoredAsyncSetting } from '../registry/store.ts';
import type { SQSRecord } from 'aws-lambda';
import { InvalidParameterValueException } from '../errors.ts';
import { AsyncInvokeHandler, invokeEvent, qualifiedRecord } from './async-invoke.ts';
import { CallbackHandler, type DestinationCallback } from './callbacks.ts';
import { wallClock, type Clock } from './clock.ts';
import { SettingsCache, withLegacySettings } from './config-store.ts';
import type { AsyncContext, AsyncCounters, AsyncSettings } from './context.ts';
import { parseDestination } from './destinations.ts';
import { EventSourceMappings, type EventSourceMappingInfo, type EventSourceMappingInput } from './event-source-mapping.ts';
import { EventInvokeConfigs } from './invoke-config.ts';
import { MemoryEventQueue } from './memory-queue.ts';
import { deliveries } from './outcome.ts';
import { EventPump } from './pump.ts';
import type { EventQueueBackend } from './queue.ts';
import { QueueRegistry, queueBackendName, type CreateQueueInput, type MessageAttributeValue, type QueueInfo } from './queues.ts';
import { SqliteEventQueue } from './sqlite-queue.ts';
import { Schedules } from './schedules.ts';
import { SqsPoller } from './sqs-poller.ts';
import { StreamPoller } from './stream-poller.ts';
import { StreamFeed } from './stream-feed.ts';
import { MemoryStreamLog, SqliteStreamLog } from './stream-log.ts';
import { StreamRegistry, type StreamInfo } from './streams.ts';
import { Receiver } from './sqs-records.ts';

/** What `rt.invoke(..., { invocationType: 'Event' })` answers: queued, with the id it will run under. */
export interface EventInvokeResult {
  readonly statusCode: 202;
  readonly requestId: string;
}

/** What `rt.invoke(..., { invocationType: 'DryRun' })` answers: the call would have been accepted. */
export interface DryRunInvokeResult {
  readonly statusCode: 204;
  readonly requestId: string;
}

/** Lambda's defaults: 2 retries, 6 hours (PutFunctionEventInvokeConfig, API reference). */
export const DEFAULT_ASYNC_SETTINGS: AsyncSettings = Object.freeze({
  maximumRetryAttempts: 2,
  maximumEventAgeMs: 21_600_000,
  recursiveLoop: 'Terminate',
});

export interface AsyncEventsDeps {
  readonly options: RuntimeOptions;
  readonly registry: FunctionRegistry;
  readonly engines: EngineRegistry;
  readonly invoker: Invoker;
  readonly random: () => number;
  readonly sink: LogSink;
  readonly clock?: Clock | undefined;
  /** A backend to use instead of the default one (memory, or sqlite with `dataDir`). */
  readonly backend?: EventQueueBackend | undefined;
  /** The registry's store: the layer's settings are kept there when it implements `putAsyncSetting`. */
  readonly store?: RegistryStore | undefined;
}

export class AsyncEvents {
  readonly #ctx: AsyncContext;
  readonly #pump: EventPump;
  readonly #deps: AsyncEventsDeps;
  readonly #callbacks = new Map<string, DestinationCallback>();
  readonly #receiver: Receiver;
  /** Lambda's event invoke and recursion configs. */
  readonly configs: EventInvokeConfigs;
  /** lambdalet's queues. */
  readonly queues: QueueRegistry;
  /** Event source mappings from those queues. */
  readonly mappings: EventSourceMappings;
  /** Rate, cron and one-time schedules. */
  readonly schedules: Schedules;
  /** lambdalet's streams. */
  readonly streams: StreamRegistry;
  #closed = false;
  readonly #closing = Promise.withResolvers<void>();
  readonly #settings: SettingsCache;
  readonly #feed: StreamFeed;
  /** Purges of deleted queues and mapping backlogs still being queued (close() waits for them). */
  readonly #purging = new Set<Promise<void>>();

  /** @throws DataDirError when `dataDir`'s events file cannot be used. */
  constructor(deps: AsyncEventsDeps) {
    this.#deps = deps;
    const backend = deps.backend ?? (deps.options.dataDir === undefined ? new MemoryEventQueue() : SqliteEventQueue.open(deps.options.dataDir));
    const clock = deps.clock ?? wallClock;
    const counters: AsyncCounters = { received: 0, dropped: 0, destinationDeliveryFailures: 0, recursiveInvocationsDropped: 0 };
    this.#pump = new EventPump(backend, clock, deps.options.concurrency, (error, queue) => {
      this.#log(queue, `Event handler failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    });
    const store = new SettingsCache(deps.store);
    this.#settings = store;
    // Another runtime sharing the store (a cluster member) changed a setting: this one follows.
    deps.store?.watchAsyncSettings?.((change) => this.#applySetting(change));
    const queues = new QueueRegistry(deps.options, store);
    this.queues = queues;
    this.#receiver = new Receiver(backend, queues, deps.options, (queue, line) => this.#log(queue, line));
    const log = (fn: string, line: string): void => this.#log(fn, line);
    const deliveryDeps = { options: deps.options, registry: deps.registry, queues, counters, callbacks: this.#callbacks, log };
    this.configs = new EventInvokeConfigs(
      deps.options,
      deps.registry,
      store,
      (arn, field) => void parseDestination(arn, field, deps.options, deps.registry, queues, this.#callbacks),
      () => clock.now(),
    );
    this.#ctx = {
      options: deps.options,
      registry: deps.registry,
      engines: deps.engines,
      invoker: deps.invoker,
      random: deps.random,
      backend,
      clock,
      counters,
      settings: (fn, q, record) => this.configs.settings(fn, q, (record ?? qualifiedRecord(deps.registry, fn, q))?.config.deadLetterConfig?.targetArn),
      deliveries: (lease, envelope, settings, condition, last) => deliveries(deliveryDeps, lease, envelope, settings, condition, last, clock.now()),
      log,
      closing: this.#closing.promise,
      wake: () => this.#pump.wake(),
    };
    // A backend other runtimes also fill (a cluster's) says when they enqueued.
    (backend as EventQueueBackend).watch?.(() => this.#pump.wake());
    this.#pump.route('invoke', new AsyncInvokeHandler(this.#ctx));
    this.#pump.route('callback', new CallbackHandler(this.#ctx, this.#callbacks));
    this.streams = new StreamRegistry(deps.options, store);
    this.mappings = new EventSourceMappings(deps.options, deps.registry, queues, this.streams, store, () => clock.now(), (arn, field) =>
      void parseDestination(arn, field, deps.options, deps.registry, queues, this.#callbacks),
    );
    this.#pump.route('sqs', new SqsPoller(this.#ctx, queues, this.mappings));
    this.#pump.route('kinesis', new StreamPoller(this.#ctx, this.mappings, this.streams, queues, this.#callbacks));
    // A shared backend (a cluster's): each runtime's counters start at its clock in µs (stream-log.ts).
    const startAt = (backend as EventQueueBackend).watch === undefined ? undefined : (): number => clock.now() * 1000;
    const history = backend instanceof SqliteEventQueue ? new SqliteStreamLog(backend) : new MemoryStreamLog(backend, startAt);
    this.#feed = new StreamFeed(backend, history, this.streams, this.mappings, clock);
    this.#feed.seedLegacyCounters();
    this.schedules = new Schedules(this.#ctx, queues, store, this.#callbacks);
    store.own(this.configs, 'event-invoke-config', 'recursion');
    store.own(this.queues, 'queue');
    store.own(this.mappings, 'esm');
    store.own(this.streams, 'stream');
    store.own(this.schedules, 'schedule');
    this.#pump.route('schedule', this.schedules);
  }

  /** A stream mapping starting at TRIM_HORIZON or AT_TIMESTAMP gets the stream's retained history at once. */
  createEventSourceMapping(input: EventSourceMappingInput): EventSourceMappingInfo {
    const info = this.mappings.create(input);
    // In the same synchronous turn as the create: no put can slip between the mapping and its backlog.
    this.#background(
      this.#feed.backlog(info).then(() => this.#pump.wake()),
      info.functionArn.split(':')[6]!,
      `Event source mapping ${info.uuid}: its backlog could not be queued`,
    );
    this.#pump.wake();
    return info;
  }

  /**
   * DeleteEventSourceMapping: a stream mapping's records still queued in its shard lanes are purged
   * in the background (close() waits), with a log line saying how many.
   */
  deleteEventSourceMapping(uuid: string): EventSourceMappingInfo {
    const info = this.mappings.delete(uuid);
    if (info.startingPosition !== undefined) {
      const fn = info.functionArn.split(':')[6]!;
      const purged = this.#feed.purgeMapping(uuid).then((n) => {
        if (n > 0) this.#log(fn, `Event source mapping ${uuid} deleted: ${n} queued record(s) purged`);
      });
      this.#background(purged, fn, `Event source mapping ${uuid} deleted; purging its queued records failed`);
    }
    return info;
  }

  updateEventSourceMapping(uuid: string, input: EventSourceMappingInput): EventSourceMappingInfo {
    const info = this.mappings.update(uuid, input);
    this.#pump.wake();
    return info;
  }

  /** Registers (or replaces) a host callback destination, `callback:<name>`; deliveries waiting for it run. */
  registerDestinationCallback(name: string, callback: DestinationCallback): void {
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(name)) {
      throw new InvalidParameterValueException('name', `Expected the callback name to be 1 to 128 characters from [A-Za-z0-9_.-], got ${JSON.stringify(name)}`);
    }
    if (typeof callback !== 'function') throw new InvalidParameterValueException('callback', 'Expected the callback to be a function');
    this.#callbacks.set(name, callback);
    this.#pump.wake();
  }

  /** The function (or one version) was deleted: its asynchronous configs go with it. */
  functionDeleted(name: string, qualifier: string | undefined): void {
    const ref = splitFunctionName(name, this.#ctx.options, qualifier);
    this.configs.forget(ref.name, ref.qualifier);
  }

  createQueue(name: string, input?: CreateQueueInput): QueueInfo {
    return this.queues.create(name, input, this.#ctx.clock.now());
  }

  /**
   * Deletes a queue: its messages are purged from the backend in the background (SQS: "the
   * deletion process takes up to 60 seconds"; close() waits for it) and its name cannot be
   * created again for 60 seconds. Mappings from it are disabled with a log line.
   */
  deleteQueue(nameOrArn: string): void {
    const queue = this.queues.delete(nameOrArn, this.#ctx.clock.now());
    this.#purge(queue.queueName);
    for (const mapping of this.mappings.forQueue(queue.queueArn)) {
      this.mappings.mark(mapping.uuid, { state: 'Disabled', stateTransitionReason: 'PROBLEM: the event source queue was deleted' });
      this.#log(queue.queueName, `Event source mapping ${mapping.uuid} disabled: its queue ${queue.queueArn} was deleted`);
    }
  }

  /** SendMessage: `{ messageId, md5OfMessageBody }` once queued. */
  async sendMessage(queueName: string, body: string, options?: { messageAttributes?: Record<string, MessageAttributeValue>; delaySeconds?: number }): Promise<{ messageId: string; md5OfMessageBody: string }> {
    const queue = this.queues.get(queueName);
    const event = this.queues.message(queue, body, this.#ctx.clock.now(), options);
    // Only SendMessage answers the MD5 (a destination's delivery has no caller to tell).
    const md5OfMessageBody = createHash('md5').update(body, 'utf8').digest('hex');
    await this.#ctx.backend.enqueue([event]);
    this.#pump.wake();
    return { messageId: event.id, md5OfMessageBody };
  }

  /**
   * ReceiveMessage: up to `maxNumberOfMessages` (1-10, default 1) as Lambda's SQS records, each
   * invisible for the queue's visibility timeout (or `visibilityTimeout` seconds); past
   * maxReceiveCount a message moves to the dead-letter queue instead.
   */
  async receiveMessages(queueName: string, options: { maxNumberOfMessages?: number; visibilityTimeout?: number } = {}): Promise<SQSRecord[]> {
    const queue = this.queues.get(queueName);
    const max = options.maxNumberOfMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw new InvalidParameterValueException('maxNumberOfMessages', `Expected \`maxNumberOfMessages\` to be an integer from 1 to 10, got ${JSON.stringify(max)}`);
    }
    return this.#receiver.receive(queue, this.#ctx.clock.now(), max, (options.visibilityTimeout ?? queue.visibilityTimeout) * 1000);
  }

  /** DeleteMessage by receipt handle; a stale handle (the message was received again) deletes nothing. */
  async deleteMessage(queueName: string, receiptHandle: string): Promise<void> {
    const queue = this.queues.get(queueName);
    await this.#receiver.delete(queue.queueName, receiptHandle);
  }

  createStream(name: string, input?: { shardCount?: number; retentionPeriodHours?: number }): StreamInfo {
    return this.streams.create(name, input);
  }

  /** Deletes a stream and its history. @throws ResourceNotFoundException. */
  deleteStream(nameOrArn: string): void {
    const stream = this.streams.delete(nameOrArn);
    this.#feed.dropped(stream.streamName);
  }

  /**
   * PutRecord: `{ shardId, sequenceNumber }`; the record is kept in the stream's history and reaches
   * every mapping of the stream, in order per shard (per key with parallelizationFactor > 1).
   * @throws ResourceNotFoundException, InvalidParameterValueException.
   */
  async putRecord(streamName: string, input: { partitionKey: string; data: string | Uint8Array }): Promise<{ shardId: string; sequenceNumber: string }> {
    const put = await this.#feed.put(streamName, input);
    this.#pump.wake();
    return put;
  }

  /** ApproximateNumberOfMessages (visible and in flight) of a queue. */
  async queueDepth(queueName: string): Promise<number> {
    const queue = this.queues.get(queueName);
    return this.#ctx.backend.count(queueBackendName(queue.queueName));
  }

  /**
   * The settings the registry's store returned (`load()`'s asyncSettings) become this layer's.
   * Settings an older lambdalet kept in the events file (its `config` table) are moved to the
   * store first. Call before `start()`.
   */
  restoreSettings(stored: readonly StoredAsyncSetting[] | undefined): void {
    const store = this.#deps.store;
    if (!this.#settings.kept || store?.putAsyncSetting === undefined) return;
    const backend = this.#ctx.backend;
    this.#settings.load(backend instanceof SqliteEventQueue ? withLegacySettings(stored, backend, { putAsyncSetting: store.putAsyncSetting.bind(store) }) : [...(stored ?? [])]);
    this.#feed.seedLegacyCounters();
  }

  /** Starts the pump: events left in a durable queue by an earlier run are picked up. */
  start(): void {
    this.#pump.wake();
  }

  /**
   * Queues an event for `name` (Event) or only checks the call (DryRun). Synchronous checks throw:
   * ResourceNotFoundException, InvalidParameterValueException, InvalidRequestContentException,
   * RequestTooLargeException (over 1 MiB for Event, 6 MiB for DryRun).
   */
  invoke(name: string, event: unknown, options: InvokeOptions): Promise<EventInvokeResult | DryRunInvokeResult> {
    const ctx = this.#ctx;
    const target = resolveTarget(ctx.registry, ctx.options, ctx.random, name, options.qualifier);
    checkTenant(target.record, options.tenantId);
    const requestId = randomUUID();
    if (options.invocationType === 'DryRun') {
      serializeEvent(event);
      return Promise.resolve({ statusCode: 204, requestId });
    }
    const json = serializeAsyncEvent(event);
    const q = splitFunctionName(name, ctx.options, options.qualifier).qualifier;
    const queued = invokeEvent(requestId, { fn: target.record.config.name, q, event: json, tenantId: options.tenantId }, ctx.clock.now());
    return ctx.backend.enqueue([queued]).then(() => {
      ctx.counters.received += 1;
      this.#pump.wake();
      return { statusCode: 202 as const, requestId };
    });
  }

  /** Resolves when no asynchronous event is running and none is due now (later retries do not count). */
  idle(): Promise<void> {
    // Background work first (a purge, a mapping's backlog): what it queues or removes counts.
    return Promise.all([...this.#purging]).then(() => this.#pump.idle());
  }

  /** Lambda's asynchronous metrics: AsyncEventsReceived, AsyncEventsDropped, ... */
  metrics(): { AsyncEventsReceived: number; AsyncEventsDropped: number; DestinationDeliveryFailures: number; RecursiveInvocationsDropped: number } {
    const c = this.#ctx.counters;
    return {
      AsyncEventsReceived: c.received,
      AsyncEventsDropped: c.dropped,
      DestinationDeliveryFailures: c.destinationDeliveryFailures,
      RecursiveInvocationsDropped: c.recursiveInvocationsDropped,
    };
  }

  /** The backend, for inspection (tests, the bench). */
  get backend(): EventQueueBackend {
    return this.#ctx.backend;
  }

  /** Stops claiming, waits for running events, closes the backend. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.resolve();
    await this.#pump.close();
    await Promise.all([...this.#purging]);
    await this.#ctx.backend.close();
  }

  #purge(queueName: string): void {
    const backend = this.#ctx.backend;
    if (backend.purge === undefined) {
      this.#log(queueName, `Queue ${queueName} deleted; this event queue backend cannot purge, so its messages stay unclaimed`);
      return;
    }
    this.#background(
      backend.purge(queueBackendName(queueName)).then((n) => {
        if (n > 0) this.#log(queueName, `Queue ${queueName} deleted: ${n} message(s) purged`);
      }),
      queueName,
      `Queue ${queueName} deleted; purging its messages failed`,
    );
  }

  /** Tracks work close() waits for; a failure is a log line (`what: message`), not a rejection. */
  #background(work: Promise<unknown>, functionName: string, what: string): void {
    const tracked = work.then(
      () => {},
      (error: unknown) => {
        if (!this.#closed) this.#log(functionName, `${what}: ${(error as Error).message}`);
      },
    );
    this.#purging.add(tracked);
    void tracked.finally(() => this.#purging.delete(tracked));
  }

  #applySetting(change: StoredAsyncSetting): void {
    if (this.#closed) return;
    this.#settings.apply(change);
    // A mapping or queue another runtime made may have work for this one.
    this.#pump.wake();
  }

  #log(functionName: string, line: string): void {
    this.#deps.sink.write(`lambdalet: ${line}`, { functionName, logStreamName: 'lambdalet/async' });
  }
}

