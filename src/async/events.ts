/**
 * The asynchronous layer as the runtime sees it: one object that owns the event queue backend
 * (memory, or node:sqlite with `dataDir`), the pump and the queue handlers, and answers
 * `rt.invoke(..., { invocationType: 'Event' | 'DryRun' })`. runtime.ts only delegates here.
 */
import { randomUUID } from 'node:crypto';
import type { InvokeOptions, RuntimeOptions } from '../config/index.ts';
import type { EngineRegistry } from '../engines/registry.ts';
import { serializeAsyncEvent, serializeEvent } from '../invoke/event.ts';
import { checkTenant, type Invoker } from '../invoke/invoker.ts';
import { resolveTarget } from '../invoke/resolve.ts';
import type { LogSink } from '../observability/log-sink.ts';
import { splitFunctionName } from '../registry/names.ts';
import type { FunctionRegistry } from '../registry/registry.ts';
import { AsyncInvokeHandler, invokeEvent } from './async-invoke.ts';
import { wallClock, type Clock } from './clock.ts';
import type { AsyncContext, AsyncCounters, AsyncSettings } from './context.ts';
import { MemoryEventQueue } from './memory-queue.ts';
import { EventPump } from './pump.ts';
import type { EventQueueBackend } from './queue.ts';
import { SqliteEventQueue } from './sqlite-queue.ts';

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
}

export class AsyncEvents {
  readonly #ctx: AsyncContext;
  readonly #pump: EventPump;
  readonly #deps: AsyncEventsDeps;
  #closed = false;

  /** @throws DataDirError when `dataDir`'s events file cannot be used. */
  constructor(deps: AsyncEventsDeps) {
    this.#deps = deps;
    const backend = deps.backend ?? (deps.options.dataDir === undefined ? new MemoryEventQueue() : SqliteEventQueue.open(deps.options.dataDir));
    const clock = deps.clock ?? wallClock;
    const counters: AsyncCounters = { received: 0, dropped: 0, destinationDeliveryFailures: 0, recursiveInvocationsDropped: 0 };
    this.#pump = new EventPump(backend, clock, deps.options.concurrency, (error, queue) => {
      this.#log(queue, `Event handler failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    });
    this.#ctx = {
      options: deps.options,
      registry: deps.registry,
      engines: deps.engines,
      invoker: deps.invoker,
      random: deps.random,
      backend,
      clock,
      counters,
      settings: () => DEFAULT_ASYNC_SETTINGS,
      deliveries: () => [],
      log: (fn, line) => this.#log(fn, line),
      wake: () => this.#pump.wake(),
    };
    this.#pump.route('invoke', new AsyncInvokeHandler(this.#ctx));
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
    return this.#pump.idle();
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
    await this.#pump.close();
    await this.#ctx.backend.close();
  }

  #log(functionName: string, line: string): void {
    this.#deps.sink.write(`lambdalet: ${line}`, { functionName, logStreamName: 'lambdalet/async' });
  }
}

