/**
 * The synchronous (RequestResponse) invocation path after resolution: admission, run, report.
 *
 * Contract (the seam async invocation, response streaming and per-tenant environments plug into):
 * - `invoke(target, eventJson, options)` takes a resolved target (invoke/resolve.ts) and a checked event; it
 *   never throws for a function error (those are in the InvokeResult) and rejects only with
 *   service errors: TooManyRequestsException (admission), SnapStartException /
 *   SnapStartTimeoutException (restore), RuntimeClosedError (closed while waiting).
 * - Admission is the dispatcher's: synchronous when there is capacity (the warm path allocates no
 *   promise before the run), waiting only when the caller passed `waitForCapacityMs`.
 * - Every admitted lease is released exactly once, with the invocation's figures when it ran.
 * - A function whose code failed to bundle is answered with its INIT error and a REPORT line,
 *   without admission (no environment would boot).
 */
import { randomUUID } from 'node:crypto';
import type { InitFailure } from '../code/types.ts';
import { LOG_TAIL_MAX_BYTES, type InvokeOptions } from '../config/index.ts';
import type { Dispatcher, InvocationReport } from '../dispatch/index.ts';
import type { ErrorShape } from '../engines/guest/protocol.ts';
import { InvalidParameterValueException } from '../errors.ts';
import type { ExecutionEnvironment } from '../environment/environment.ts';
import { logStreamName } from '../environment/lambda-env.ts';
import type { ResponseSink } from '../environment/response-sink.ts';
import { LogCollector } from '../environment/log-collector.ts';
import { logTail, uncaughtInitFailure, uncaughtInitFailureJson } from '../observability/log-lines.ts';
import type { LogSink } from '../observability/log-sink.ts';
import type { Deployment } from '../registry/deployment.ts';
import type { VersionRecord } from '../registry/records.ts';
import { finishInvocation } from './report.ts';
import { toInvokeResult, type InvokeResult } from './result.ts';
import type { InvokeTarget } from './resolve.ts';
import { runOnLease } from './run.ts';
import { endInvocationSpan, startInvocationSpan } from './trace.ts';

/**
 * Tenant isolation: a function deployed with `tenancy` needs a tenant id on every invoke, and any
 * other function refuses one (Lambda: InvalidParameterValueException, "Tenant ID configuration not
 * specified or passed to a function when tenant isolation is not enabled." — tenant-isolation-
 * troubleshooting.html).
 */
const TENANT_MESSAGE = 'Tenant ID configuration not specified or passed to a function when tenant isolation is not enabled.';

export function checkTenant(fn: VersionRecord, tenantId: string | undefined): void {
  if ((fn.config.tenancy !== undefined) !== (tenantId !== undefined)) throw new InvalidParameterValueException('tenantId', TENANT_MESSAGE);
}

/** What an InvokeWithResponseStream adds to an invocation. */
export interface StreamedInvocation {
  readonly sink: ResponseSink;
  readonly requestId: string;
}

/**
 * An admission check made before the dispatcher's (a cluster's concurrency semaphore,
 * src/cluster/semaphore.ts): resolves with a release called exactly once when the invocation
 * ends, or rejects with TooManyRequestsException.
 */
export interface AdmissionGate {
  acquire(fn: VersionRecord): Promise<() => void>;
}

export class Invoker {
  readonly #dispatcher: Dispatcher<ExecutionEnvironment, Deployment>;
  readonly #sink: LogSink;
  readonly #gate: AdmissionGate | undefined;

  constructor(dispatcher: Dispatcher<ExecutionEnvironment, Deployment>, sink: LogSink, gate?: AdmissionGate) {
    this.#dispatcher = dispatcher;
    this.#sink = sink;
    this.#gate = gate;
  }

  /** The most invocations of function `name` the concurrency rules admit at once (Dispatcher.concurrencyCeiling). */
  concurrencyCeiling(name: string): number {
    return this.#dispatcher.concurrencyCeiling(name);
  }

  /**
   * `stream` (InvokeWithResponseStream, invoke/response-stream.ts): the sink a streamified handler's
   * bytes go to as they are written, and the request id the caller already announced.
   * `requestId`: given by an asynchronous invocation, which keeps its id across retries.
   */
  invoke(target: InvokeTarget, eventJson: string, options: InvokeOptions, stream?: StreamedInvocation, requestId?: string): Promise<InvokeResult> {
    // Not `async`, nor is #invoke: the warm path's promise is #admitted's own (each async layer
    // costs the host's thread a promise, a frame and a microtask turn per invocation). Every throw
    // still rejects the returned promise.
    try {
      const id = stream?.requestId ?? requestId ?? randomUUID();
      // One OpenTelemetry span per invocation (trace.ts); undefined when no tracer provider records it.
      const span = startInvocationSpan(target.record, id, target.invokedFunctionArn);
      const run = this.#invoke(target.record, eventJson, options, target.invokedFunctionArn, stream, id);
      return span === undefined && target.alias === undefined ? run : this.#finish(run, span, target);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** The invocation's span ended with its outcome, and its alias's counters (routing config). */
  async #finish(run: Promise<InvokeResult>, span: ReturnType<typeof startInvocationSpan>, target: InvokeTarget): Promise<InvokeResult> {
    let result: InvokeResult;
    try {
      result = await run;
    } catch (error) {
      if (span) endInvocationSpan(span, target.record, { error });
      throw error;
    }
    if (span) endInvocationSpan(span, target.record, { result });
    const alias = target.alias;
    if (alias !== undefined) {
      const counters = alias.counters;
      counters.invocations += 1;
      if (result.functionError !== undefined) counters.errors += 1;
      counters.byVersion.set(result.executedVersion, (counters.byVersion.get(result.executedVersion) ?? 0) + 1);
    }
    return result;
  }

  /** Throws (the caller rejects) for a tenant id the function does not take. */
  #invoke(
    fn: VersionRecord,
    eventJson: string,
    options: InvokeOptions,
    invokedFunctionArn: string | undefined,
    stream: StreamedInvocation | undefined,
    requestId: string,
  ): Promise<InvokeResult> {
    checkTenant(fn, options.tenantId);
    const tail = options.logType === 'Tail';
    if (!fn.prepared.ok) return Promise.resolve(this.#bundleFailure(fn, fn.prepared.failure, requestId, tail));
    if (this.#gate === undefined) return this.#admitted(fn, eventJson, options, invokedFunctionArn, stream, requestId, tail);
    return this.#gated(this.#gate, fn, eventJson, options, invokedFunctionArn, stream, requestId, tail);
  }

  async #gated(
    gate: AdmissionGate,
    fn: VersionRecord,
    eventJson: string,
    options: InvokeOptions,
    invokedFunctionArn: string | undefined,
    stream: StreamedInvocation | undefined,
    requestId: string,
    tail: boolean,
  ): Promise<InvokeResult> {
    const release = await gate.acquire(fn);
    try {
      return await this.#admitted(fn, eventJson, options, invokedFunctionArn, stream, requestId, tail);
    } finally {
      release();
    }
  }

  async #admitted(
    fn: VersionRecord,
    eventJson: string,
    options: InvokeOptions,
    invokedFunctionArn: string | undefined,
    stream: StreamedInvocation | undefined,
    requestId: string,
    tail: boolean,
  ): Promise<InvokeResult> {
    // Admission: synchronous when there is capacity; throws TooManyRequestsException, or waits
    // when the caller asked to. With tenant isolation, only an environment of this tenant serves it.
    const admitted = this.#dispatcher.acquire(fn.pool, options.waitForCapacityMs, options.tenantId);
    const lease = admitted instanceof Promise ? await admitted : admitted;
    if (!lease.target.prepared.ok) {
      // Redeployed with code that fails to bundle while this invoke waited for capacity.
      this.#dispatcher.release(lease);
      return this.#bundleFailure(fn, lease.target.prepared.failure, requestId, tail);
    }
    let outcome: InvocationReport | undefined;
    try {
      const { result, report, logs, coldStart, tmpUsedBytes } = await runOnLease(this.#dispatcher, this.#sink, lease, requestId, eventJson, options, tail, invokedFunctionArn, stream?.sink);
      outcome = { durationMs: report.durationMs, billedDurationMs: report.billedDurationMs, initDurationMs: report.initDurationMs, error: !result.ok };
      return toInvokeResult(result, requestId, coldStart, report, tail ? logTail(logs.takeCapture(), LOG_TAIL_MAX_BYTES) : undefined, fn.version, tmpUsedBytes);
    } finally {
      this.#dispatcher.release(lease, outcome);
    }
  }

  /** A function whose code failed to bundle answers every invoke with its INIT error. */
  #bundleFailure(fn: VersionRecord, failure: InitFailure, requestId: string, tail: boolean): InvokeResult {
    const logs = new LogCollector(this.#sink, fn.config.name, logStreamName(new Date(), fn.version), { filename: '', remapStack: (l) => [...l] }, fn.config.loggingConfig);
    if (tail) logs.startCapture();
    const error: ErrorShape = { errorType: failure.errorType, errorMessage: failure.errorMessage, trace: failure.trace };
    logs.initStart('on-demand', fn.config.name, fn.version);
    logs.guestLine('ERROR', fn.config.loggingConfig.logFormat === 'JSON' ? uncaughtInitFailureJson(failure) : uncaughtInitFailure(failure));
    logs.requestId = requestId;
    logs.start(requestId, fn.version);
    const report = finishInvocation(logs, requestId, 0, fn.config.memoryMb, 0, { initDurationMs: 0 }, { ok: false, error });
    this.#dispatcher.record(fn.pool, { durationMs: 0, billedDurationMs: report.billedDurationMs, error: true });
    return toInvokeResult({ ok: false, error }, requestId, true, report, tail ? logTail(logs.takeCapture(), LOG_TAIL_MAX_BYTES) : undefined, fn.version);
  }
}
