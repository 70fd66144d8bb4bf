/**
 * What the asynchronous layer's parts share: the registry and invoker they run functions through,
 * the queue backend, the clock, each function's asynchronous settings, counters and a log line.
 * Built once by events.ts; the parts never see runtime.ts.
 */
import type { RuntimeOptions } from '../config/index.ts';
import type { Clock } from '../dispatch/clock.ts';
import type { EngineRegistry } from '../engines/registry.ts';
import type { Invoker } from '../invoke/invoker.ts';
import type { VersionRecord } from '../registry/records.ts';
import type { FunctionRegistry } from '../registry/registry.ts';
import type { InvokeEnvelope } from './async-invoke.ts';
import type { LastAttempt } from './outcome.ts';
import type { EventQueueBackend, LeasedEvent, NewEvent } from './queue.ts';

/** A function's asynchronous settings after its event invoke config (or Lambda's defaults). */
export interface AsyncSettings {
  /** 0 to 2; default 2. */
  readonly maximumRetryAttempts: number;
  /** Milliseconds; default 6 hours. */
  readonly maximumEventAgeMs: number;
  readonly onSuccess?: string | undefined;
  readonly onFailure?: string | undefined;
  /** The version's `deadLetterConfig.targetArn`, if any. */
  readonly deadLetterArn?: string | undefined;
  /** `recursiveLoop`: Terminate (default) drops an event past 16 hops. */
  readonly recursiveLoop: 'Terminate' | 'Allow';
}

/** Lambda's asynchronous metrics, counted since the runtime started. */
export interface AsyncCounters {
  /** AsyncEventsReceived: events queued. */
  received: number;
  /** AsyncEventsDropped: events discarded without running to success or a destination. */
  dropped: number;
  /** DestinationDeliveryFailures. */
  destinationDeliveryFailures: number;
  /** RecursiveInvocationsDropped. */
  recursiveInvocationsDropped: number;
}

export interface AsyncContext {
  readonly options: RuntimeOptions;
  readonly registry: FunctionRegistry;
  readonly engines: EngineRegistry;
  readonly invoker: Invoker;
  readonly random: () => number;
  readonly backend: EventQueueBackend;
  readonly clock: Clock;
  readonly counters: AsyncCounters;
  /**
   * The settings an event invoked as `functionName[:qualifier]` runs with. The dead-letter queue is
   * the version's (`deadLetterConfig` is part of a version's configuration, frozen by
   * PublishVersion): `record`'s when the attempt's version is known (an alias picks one per
   * attempt), otherwise the version the qualifier names now (an alias: its primary version).
   */
  settings(functionName: string, qualifier: string | undefined, record?: VersionRecord): AsyncSettings;
  /** A lambdalet line to the log sink, in the function's log group. */
  log(functionName: string, line: string): void;
  /**
   * What an event's outcome sends on (destinations, dead-letter queue) as queue events, to be
   * enqueued atomically with its settle. `condition`: `Success`, `RetriesExhausted`, `EventAgeExceeded`.
   */
  deliveries(lease: LeasedEvent, envelope: InvokeEnvelope, settings: AsyncSettings, condition: string, last: LastAttempt | undefined): NewEvent[];
  /** Resolves when the runtime starts closing: a handler waiting on the clock stops waiting. */
  readonly closing: Promise<void>;
  /** Something was enqueued: the pump looks again. */
  wake(): void;
}
