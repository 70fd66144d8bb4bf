/**
 * Asynchronous invocation (`invocationType: 'Event'`): the event is queued in `invoke:<function>`
 * and answered 202 at once; the pump runs it later through the same Invoker as a synchronous
 * invoke, with the requestId it was given at enqueue (kept across retries, as Lambda keeps it).
 *
 * Retries, as Lambda's asynchronous invocation does them (developer guide, "How Lambda handles
 * errors and retries with asynchronous invocation"):
 * - a function error (`functionError` set: thrown error, timeout, out of memory, INIT failure) is
 *   tried `maximumRetryAttempts` more times (default 2): the second attempt 1 minute after the
 *   first, the third 2 minutes after the second;
 * - a throttle (TooManyRequestsException) or a system error (the sandbox could not start, SnapStart
 *   restore failed) does not count as an attempt: it is retried with a backoff that doubles with
 *   the event's age (1 s, then as long as the event has waited, at most 5 minutes);
 * - an event older than `maximumEventAgeInSeconds` (default 21600, 6 hours) is not run again. When
 *   a function error's retry would come after that age, the event fails at once with condition
 *   `EventAgeExceeded`, and its record carries the failed attempt's `responseContext` and
 *   `responsePayload`, as AWS does (LocalStack's AWS-validated snapshot
 *   `test_lambda_destinations.py::TestLambdaDestinationSqs::test_maxeventage`: age 60 s → one
 *   attempt, approximateInvokeCount 1; age 90 s → two; both with responsePayload, the destination
 *   reached without waiting for the age). An event whose function error was retried and that
 *   then expires without another attempt (throttled until too old, or due after its age) reports
 *   that attempt's response, kept in the event (`InvokeEnvelope.last`); one that expires before
 *   any attempt (queued behind throttles) has none to report.
 * - the dead-letter queue is the invoked version's `deadLetterConfig` (part of the version's
 *   configuration, frozen by PublishVersion); an alias's is the version the attempt ran.
 * What happens once an event is settled (destinations, dead-letter queue) is outcome.ts's.
 */
import { DEFAULT_INVOKE_OPTIONS, LATEST_VERSION, type InvokeOptions } from '../config/index.ts';
import { ResourceNotFoundException } from '../errors.ts';
import type { InvokeResult } from '../invoke/result.ts';
import { resolveTarget, type InvokeTarget } from '../invoke/resolve.ts';
import type { VersionRecord } from '../registry/records.ts';
import type { FunctionRegistry } from '../registry/registry.ts';
import { AdaptiveLimit } from './adaptive-limit.ts';
import type { AsyncContext } from './context.ts';
import { attemptResponse, carriedAttempt, settleFailure, settleSuccess, type AttemptResponse } from './outcome.ts';
import { RECURSION_LIMIT } from './invoke-config.ts';
import type { QueueHandler } from './pump.ts';
import type { LeasedEvent, NewEvent } from './queue.ts';

/** What an `invoke:` queue's event holds (JSON in the queue). */
export interface InvokeEnvelope {
  /** Function name. */
  readonly fn: string;
  /** Qualifier as the caller named it, resolved again at each attempt. */
  readonly q?: string | undefined;
  /** The event, JSON text. */
  readonly event: string;
  readonly tenantId?: string | undefined;
  /**
   * Recursion detection: how many times each function ran in the chain of events that led here
   * (a destination's delivery carries its source's lineage plus the source).
   */
  readonly lineage?: Lineage | undefined;
  /**
   * The response of the last attempt that ran, once one failed with a function error and the event
   * waits for its retry: a later settle without an attempt of its own (the event too old when due,
   * or throttled until it was) reports it, as the settle right after the attempt would have.
   */
  readonly last?: AttemptResponse | undefined;
}

/** Function name → invocations in this chain of requests. */
export type Lineage = Readonly<Record<string, number>>;

/** Backoff for throttles and system errors: as long as the event has waited, 1 s to 5 min. */
export const SYSTEM_RETRY_MIN_MS = 1_000;
export const SYSTEM_RETRY_MAX_MS = 300_000;
/** Waits before the second and the third attempt after a function error. */
export const FUNCTION_ERROR_DELAYS_MS = [60_000, 120_000] as const;

/**
 * An attempt waits in the dispatcher's bounded queue for capacity (up to 30 s) rather than being
 * throttled at once: the pump already bounds how many attempts run, and a throttle costs the event
 * a backoff of a second or more. A full wait queue or a longer wait is still a throttle.
 */
const ASYNC_INVOKE_OPTIONS: InvokeOptions = Object.freeze({ ...DEFAULT_INVOKE_OPTIONS, waitForCapacityMs: 30_000 });

/** The version `name[:qualifier]` names now (an alias: its primary version), or undefined. */
export function qualifiedRecord(registry: FunctionRegistry, name: string, qualifier: string | undefined): VersionRecord | undefined {
  const entry = registry.get(name);
  if (entry === undefined) return undefined;
  if (qualifier === undefined || qualifier === LATEST_VERSION) return entry.latest;
  return entry.versions.get(qualifier) ?? entry.versions.get(entry.aliases.get(qualifier)?.functionVersion ?? '');
}

/** The queue of a function's asynchronous events. */
export function invokeQueue(functionName: string): string {
  return `invoke:${functionName}`;
}

/** The queue event of an asynchronous invoke. */
export function invokeEvent(requestId: string, envelope: InvokeEnvelope, now: number): NewEvent {
  return { queue: invokeQueue(envelope.fn), id: requestId, body: JSON.stringify(envelope), enqueuedAt: now, availableAt: now };
}

/** Per function: the adaptive limit on its attempts in flight (adaptive-limit.ts), and how many are. */
interface FunctionLoad {
  readonly limit: AdaptiveLimit;
  running: number;
  /** A wake-up armed for the end of the limit's probe (nothing else may wake the pump then). */
  probeTimer?: ReturnType<typeof setTimeout> | undefined;
}

export class AsyncInvokeHandler implements QueueHandler {
  readonly #ctx: AsyncContext;
  readonly #load = new Map<string, FunctionLoad>();

  constructor(ctx: AsyncContext) {
    this.#ctx = ctx;
  }

  #loadOf(queue: string): FunctionLoad {
    let load = this.#load.get(queue);
    if (load === undefined) this.#load.set(queue, (load = { limit: new AdaptiveLimit(this.#ctx.options.concurrency), running: 0 }));
    return load;
  }

  /**
   * Within the adaptive limit and the function's concurrency ceiling (its reservation, else the
   * unreserved pool; at least 1, so a function reserved at 0 still has its events throttled and
   * aged out). Without the ceiling a function's attempts past what the dispatcher admits took pump
   * slots only to wait for capacity, and a neighbour with reserved concurrency had none left (issue
   * #15: concurrency 10, the neighbour reserving 5, its events waited 65.5 s).
   */
  capacity(queue: string): number {
    const load = this.#loadOf(queue);
    const ceiling = Math.max(1, this.#ctx.invoker.concurrencyCeiling(queue.slice('invoke:'.length)));
    return Math.min(load.limit.limitAt(performance.now()), ceiling) - load.running;
  }

  leaseMs(queue: string): number {
    const entry = this.#ctx.registry.get(queue.slice('invoke:'.length));
    // Longer than the function's timeout plus a cold start's INIT (10 s) and some slack.
    return (entry?.latest.config.timeoutMs ?? 900_000) + 60_000;
  }

  /**
   * A probe given up by time (adaptive-limit.ts PROBE_TIMEOUT) raises the limit while attempts
   * still run and none may finish soon: wake the pump then, or the events held back would wait for
   * the next completion. On the limit's clock (performance.now()), unref'd: it keeps nothing alive.
   */
  #wakeAtProbeEnd(load: FunctionLoad, nowMs: number): void {
    const until = load.limit.probeUntil;
    if (until === undefined || until === Infinity || load.probeTimer !== undefined) return;
    load.probeTimer = setTimeout(() => {
      load.probeTimer = undefined;
      const now = performance.now();
      load.limit.limitAt(now); // gives the probe up if its allowance ran out
      this.#ctx.wake();
      // Still probing: this timer was armed for an earlier probe, or a lone attempt extended it.
      this.#wakeAtProbeEnd(load, now);
    }, until - nowMs + 1);
    load.probeTimer.unref();
  }

  async run(lease: LeasedEvent): Promise<void> {
    const load = this.#loadOf(lease.queue);
    load.running += 1;
    try {
      await this.#run(lease, load);
    } finally {
      load.running -= 1;
    }
  }

  async #run(lease: LeasedEvent, load: FunctionLoad): Promise<void> {
    const ctx = this.#ctx;
    const envelope = JSON.parse(lease.body) as InvokeEnvelope;
    const now = ctx.clock.now();
    const settings = ctx.settings(envelope.fn, envelope.q);
    if (now - lease.enqueuedAt > settings.maximumEventAgeMs) {
      await settleFailure(ctx, lease, envelope, settings, 'EventAgeExceeded', carriedAttempt(envelope));
      return;
    }
    if ((envelope.lineage?.[envelope.fn] ?? 0) >= RECURSION_LIMIT && settings.recursiveLoop === 'Terminate') {
      // Lambda stops the next invocation of a function already invoked 16 times in the chain.
      ctx.counters.recursiveInvocationsDropped += 1;
      ctx.log(envelope.fn, `Recursive invocation detected: ${envelope.fn} was invoked ${RECURSION_LIMIT} times in this chain of requests; event ${lease.id} dropped (RecursiveInvocationsDropped)`);
      await settleFailure(ctx, lease, envelope, settings, 'RecursiveInvocationDetected', carriedAttempt(envelope));
      return;
    }
    let target: InvokeTarget;
    try {
      target = resolveTarget(ctx.registry, ctx.options, ctx.random, envelope.fn, envelope.q);
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      // Deleted while its event waited: nothing can run it. Kept as a dead letter, and logged.
      ctx.log(envelope.fn, `Dropped asynchronous event ${lease.id}: ${error.message}`);
      ctx.counters.dropped += 1;
      await ctx.backend.deadLetter(lease, `ResourceNotFoundException: ${error.message}`);
      return;
    }
    // The version this attempt runs decides the dead-letter queue (an alias may pick another one).
    const used = ctx.settings(envelope.fn, envelope.q, target.record);
    const options: InvokeOptions = envelope.tenantId === undefined ? ASYNC_INVOKE_OPTIONS : { ...ASYNC_INVOKE_OPTIONS, tenantId: envelope.tenantId };
    let result: InvokeResult;
    try {
      ctx.engines.get(target.record.config.engine).assertAvailable();
      const started = performance.now();
      result = await ctx.invoker.invoke(target, envelope.event, options, undefined, lease.id);
      if (!result.coldStart) {
        const finished = performance.now();
        load.limit.sample(finished - started, load.running, finished);
        this.#wakeAtProbeEnd(load, finished);
      }
    } catch (error) {
      await this.#systemRetry(lease, envelope, used, error, now);
      return;
    }
    const later = ctx.clock.now();
    const attempt = { response: attemptResponse(result), ranOnThisClaim: true };
    if (result.functionError === undefined) {
      await settleSuccess(ctx, lease, envelope, used, result);
    } else if (lease.attempts > used.maximumRetryAttempts) {
      await settleFailure(ctx, lease, envelope, used, 'RetriesExhausted', attempt);
    } else {
      const delay = FUNCTION_ERROR_DELAYS_MS[Math.min(lease.attempts, FUNCTION_ERROR_DELAYS_MS.length) - 1]!;
      if (later + delay - lease.enqueuedAt > used.maximumEventAgeMs) {
        // The retry would run past the event's maximum age: Lambda gives up now, and the record
        // carries this attempt's response (see the doc comment).
        await settleFailure(ctx, lease, envelope, used, 'EventAgeExceeded', attempt);
      } else {
        // The response goes with the event: a later settle without an attempt reports it.
        const body = JSON.stringify({ ...envelope, last: attempt.response } satisfies InvokeEnvelope);
        await ctx.backend.retry(lease, later + delay, lease.attempts, undefined, body);
      }
    }
    ctx.wake();
  }

  /** A throttle or a system error: retried with backoff, not counted, until the event is too old. */
  async #systemRetry(lease: LeasedEvent, envelope: InvokeEnvelope, settings: ReturnType<AsyncContext['settings']>, error: unknown, now: number): Promise<void> {
    const ctx = this.#ctx;
    const waited = now - lease.enqueuedAt;
    const delay = Math.min(SYSTEM_RETRY_MAX_MS, Math.max(SYSTEM_RETRY_MIN_MS, waited));
    if (waited + delay > settings.maximumEventAgeMs) {
      await settleFailure(ctx, lease, envelope, settings, 'EventAgeExceeded', carriedAttempt(envelope));
    } else {
      const code = (error as { code?: unknown }).code;
      if (code !== 'TooManyRequestsException') ctx.log(envelope.fn, `Asynchronous event ${lease.id} will be retried: ${String((error as Error).message ?? error)}`);
      await ctx.backend.retry(lease, now + delay, lease.attempts - 1);
    }
    ctx.wake();
  }
}
