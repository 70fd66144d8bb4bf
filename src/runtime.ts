/**
 * The facade that wires the layers together: config → code bundling → engine blueprint →
 * execution environments → logs. `createRuntime()` works with no options (embedded defaults).
 */
import { randomUUID } from 'node:crypto';
import { bundleFunction } from './code/index.ts';
import type { FunctionBundle, InitFailure } from './code/types.ts';
import {
  LOG_TAIL_MAX_BYTES,
  REQUEST_PAYLOAD_MAX_BYTES,
  parseFunctionConfig,
  parseInvokeOptions,
  parseRuntimeOptions,
  type FunctionConfig,
  type FunctionConfigInput,
  type InvokeOptions,
  type InvokeOptionsInput,
  type RuntimeOptions,
  type RuntimeOptionsInput,
} from './config/index.ts';
import type { Blueprint } from './engines/engine.ts';
import type { ErrorShape } from './engines/guest/protocol.ts';
import { EngineRegistry } from './engines/registry.ts';
import { Dispatcher, type FunctionPool, type InvocationReport, type Lease, type RuntimeMetrics } from './dispatch/index.ts';
import { ExecutionEnvironment, type EnvironmentDeps, type PhaseResult } from './environment/environment.ts';
import { FunctionSnapStart, type ColdStart, type SnapStartInfo } from './environment/snap-start.ts';
import { functionIdentity, logStreamName, type FunctionIdentity } from './environment/lambda-env.ts';
import { LogCollector } from './environment/log-collector.ts';
import {
  InvalidRequestContentException,
  RequestTooLargeException,
  ResourceNotFoundException,
  RuntimeClosedError,
  SnapStartException,
  SnapStartTimeoutException,
} from './errors.ts';
import { billedDuration, endLine, logTail, reportLine, startLine } from './observability/log-lines.ts';
import { stdoutSink, type LogSink } from './observability/log-sink.ts';

/** What `rt.invoke()` returns: Lambda's Invoke response plus the REPORT figures. */
export interface InvokeResult {
  /** 200 for a synchronous (RequestResponse) invoke that reached the function, error or not. */
  readonly statusCode: number;
  /** The handler's response parsed from JSON; for a function error, Lambda's error object. */
  readonly payload: unknown;
  /** Set when the function failed (thrown error, timeout, out of memory, INIT failure). */
  readonly functionError?: 'Unhandled';
  /** Last 4 KB of the invocation's log, base64, when `logType: 'Tail'` was asked for. */
  readonly logResult?: string;
  readonly executedVersion: '$LATEST';
  readonly requestId: string;
  /** This invocation started a new execution environment (and ran INIT). */
  readonly coldStart: boolean;
  readonly durationMs: number;
  readonly billedDurationMs: number;
  /** Boot + INIT time, on cold starts only (not on SnapStart restores). */
  readonly initDurationMs?: number;
  /** SnapStart: restore + after-restore hooks, on cold starts of a snapStart function. */
  readonly restoreDurationMs?: number;
  readonly maxMemoryUsedMb: number;
  /**
   * Bytes of file content in the environment's /tmp after the invocation (0 when no environment
   * ran). Not part of the REPORT line, which stays as Lambda writes it.
   */
  readonly tmpUsedBytes: number;
}

/** What `rt.deploy()` returns. */
export interface FunctionInfo {
  readonly functionName: string;
  readonly functionArn: string;
  readonly version: '$LATEST';
  readonly engine: FunctionConfig['engine'];
  readonly runtime: FunctionConfig['runtime'];
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  /** sha256 (hex) of the bundled code, or undefined when bundling found an INIT error. */
  readonly codeSha256: string | undefined;
  /** With `snapStart`: how environments start (snapshot or the pre-initialised fallback) and what it cost. */
  readonly snapStart?: SnapStartInfo;
}

type Prepared =
  | { readonly ok: true; readonly bundle: FunctionBundle; readonly blueprint: Blueprint }
  | { readonly ok: false; readonly failure: InitFailure };

/** What one deploy of a function made; environments remember the deploy that booted them. */
interface Deployment {
  readonly config: FunctionConfig;
  readonly identity: FunctionIdentity;
  readonly prepared: Prepared;
  /** With `snapStart`: the function's snapshot (or its pre-initialised environments). */
  readonly snapStart?: FunctionSnapStart;
}

/** One deployed function ($LATEST) and its pool of environments (in the dispatcher). */
interface DeployedFunction extends Deployment {
  readonly pool: FunctionPool<ExecutionEnvironment, Deployment>;
}

type EnvironmentLease = Lease<ExecutionEnvironment, Deployment>;

export class Runtime implements AsyncDisposable {
  readonly #options: RuntimeOptions;
  readonly #sink: LogSink;
  readonly #engines: EngineRegistry;
  readonly #functions = new Map<string, DeployedFunction>();
  readonly #deploys = new Map<string, Promise<unknown>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #dispatcher: Dispatcher<ExecutionEnvironment, Deployment>;
  #closing: Promise<void> | undefined;

  constructor(options: RuntimeOptions) {
    this.#options = options;
    this.#sink = options.logSink ?? stdoutSink;
    this.#dispatcher = new Dispatcher(options);
    this.#engines = new EngineRegistry({ quickjs: { isolation: options.quickjsIsolation } });
  }

  /**
   * Creates or replaces a function ($LATEST). Bundles its code and prepares its engine; problems in
   * the user's code (syntax error, missing module or handler) are not thrown: they are Lambda INIT
   * errors, returned by every invoke. Invalid configuration throws InvalidParameterValueException.
   */
  async deploy(input: FunctionConfigInput): Promise<FunctionInfo> {
    this.#assertOpen();
    const config = parseFunctionConfig(input);
    const previous = this.#deploys.get(config.name) ?? Promise.resolve();
    const deploying = previous.catch(() => {}).then(() => this.#deploy(config));
    this.#deploys.set(config.name, deploying);
    try {
      return await this.#track(deploying);
    } finally {
      if (this.#deploys.get(config.name) === deploying) this.#deploys.delete(config.name);
    }
  }

  async #deploy(config: FunctionConfig): Promise<FunctionInfo> {
    const engine = this.#engines.get(config.engine);
    engine.assertAvailable();
    // Reservations are checked again when the pool is configured; this only fails fast.
    this.#dispatcher.check(config.name, poolConfig(config));
    const outcome = await bundleFunction(config.code, config.handler);
    const prepared: Prepared = outcome.ok
      ? { ok: true, bundle: outcome.bundle, blueprint: await engine.prepare(outcome.bundle) }
      : { ok: false, failure: outcome.failure };
    this.#assertOpen();
    const identity = functionIdentity(this.#options.region, this.#options.accountId, config.name);
    const snapStart = config.snapStart ? await this.#takeSnapshot(config, identity, prepared) : undefined;
    if (this.#closing) {
      snapStart?.dispose();
      this.#assertOpen();
    }
    const deployment: Deployment = { config, identity, prepared, ...(snapStart ? { snapStart } : {}) };
    // Idle environments of the previous deploy are disposed; busy ones when their invocation ends.
    const pool = this.#dispatcher.configure(config.name, poolConfig(config), deployment);
    this.#functions.get(config.name)?.snapStart?.dispose();
    this.#functions.set(config.name, { ...deployment, pool });
    if (prepared.ok && config.provisionedConcurrency > 0) {
      await this.#dispatcher.provision(pool, () => this.#bootAndInit(deployment, 'provisioned-concurrency'));
    }
    return {
      functionName: config.name,
      functionArn: identity.functionArn,
      version: '$LATEST',
      engine: config.engine,
      runtime: config.runtime,
      handler: config.handler,
      memoryMb: config.memoryMb,
      timeoutMs: config.timeoutMs,
      codeSha256: prepared.ok ? prepared.bundle.hash : undefined,
      ...(snapStart ? { snapStart: snapStart.info } : {}),
    };
  }

  /**
   * SnapStart at deploy: the template's INIT and snapshot. A failing INIT (a bundling error
   * included) throws SnapStartException: the deploy fails and the previous deployment stays.
   */
  async #takeSnapshot(config: FunctionConfig, identity: FunctionIdentity, prepared: Prepared): Promise<FunctionSnapStart> {
    if (!prepared.ok) {
      const { errorType, errorMessage, trace } = prepared.failure;
      throw new SnapStartException(`SnapStart: INIT of ${config.name} failed at deploy`, { errorType, errorMessage, trace });
    }
    const limitMs = Math.max(this.#options.snapStartInitTimeoutMs, config.timeoutMs);
    return FunctionSnapStart.create(this.#environmentDeps({ config, identity, prepared }, 'snap-start'), limitMs);
  }

  /**
   * Invokes a function synchronously (RequestResponse). Function errors come back in the result
   * (`functionError: 'Unhandled'`); service errors are thrown: ResourceNotFoundException,
   * RequestTooLargeException, InvalidRequestContentException, RuntimeClosedError.
   */
  invoke(name: string, event?: unknown, options?: InvokeOptionsInput): Promise<InvokeResult> {
    // Service errors reject the returned promise rather than throw synchronously, as deploy()'s
    // do: `rt.invoke(...).catch(...)` must see them. (Not `async`: the warm path saves a tick.)
    try {
      return this.#startInvoke(name, event, options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #startInvoke(name: string, event: unknown, options: InvokeOptionsInput | undefined): Promise<InvokeResult> {
    this.#assertOpen();
    const invokeOptions = parseInvokeOptions(options);
    const fn = this.#functions.get(name);
    if (!fn) {
      throw new ResourceNotFoundException(
        `Function not found: arn:aws:lambda:${this.#options.region}:${this.#options.accountId}:function:${name}`,
      );
    }
    // After a catastrophic engine error nothing more is admitted, warm environments included.
    this.#engines.get(fn.config.engine).assertAvailable();
    const eventJson = serializeEvent(event);
    return this.#track(this.#invoke(fn, eventJson, invokeOptions));
  }

  async #invoke(fn: DeployedFunction, eventJson: string, options: InvokeOptions): Promise<InvokeResult> {
    const requestId = randomUUID();
    const tail = options.logType === 'Tail';
    if (!fn.prepared.ok) return this.#bundleFailure(fn, fn.prepared.failure, requestId, tail);

    // Admission: synchronous when there is capacity; throws TooManyRequestsException, or waits
    // when the caller asked to.
    const admitted = this.#dispatcher.acquire(fn.pool, options.waitForCapacityMs);
    const lease = admitted instanceof Promise ? await admitted : admitted;
    if (!lease.target.prepared.ok) {
      // Redeployed with code that fails to bundle while this invoke waited for capacity.
      this.#dispatcher.release(lease);
      return this.#bundleFailure(fn, lease.target.prepared.failure, requestId, tail);
    }
    let outcome: InvocationReport | undefined;
    try {
      const { result, report, logs, coldStart, tmpUsedBytes } = await this.#run(lease, requestId, eventJson, options, tail);
      outcome = { durationMs: report.durationMs, billedDurationMs: report.billedDurationMs, initDurationMs: report.initDurationMs, error: !result.ok };
      return toInvokeResult(result, requestId, coldStart, report, tail ? logTail(logs.takeCapture(), LOG_TAIL_MAX_BYTES) : undefined, tmpUsedBytes);
    } finally {
      this.#dispatcher.release(lease, outcome);
    }
  }

  /** Runs one invocation on the lease's environment, cold-starting it first when the lease has none. */
  async #run(
    lease: EnvironmentLease,
    requestId: string,
    eventJson: string,
    options: InvokeOptions,
    tail: boolean,
  ): Promise<{ result: PhaseResult; report: Report; logs: LogCollector; coldStart: boolean; tmpUsedBytes: number }> {
    const deployment = lease.target;
    let env = lease.env;
    const coldStart = env === undefined;
    let initDurationMs: number | undefined;
    let restoreDurationMs: number | undefined;
    let result: PhaseResult | undefined;
    if (env === undefined && deployment.snapStart) {
      const cold = await deployment.snapStart.start((started) => {
        this.#dispatcher.attach(lease, started);
        if (tail) started.logs.startCapture();
      });
      env = cold.env;
      ({ initDurationMs, restoreDurationMs } = cold);
      if (cold.failure) result = coldStartFailure(cold.env, cold.failure);
    } else if (env === undefined) {
      const started = performance.now();
      env = await this.#boot(deployment, 'on-demand');
      this.#dispatcher.attach(lease, env);
      if (tail) env.logs.startCapture();
      const init = await env.init();
      initDurationMs = performance.now() - started;
      if (!init.ok) result = init;
    } else if (tail) {
      env.logs.startCapture();
    }

    const logs = env.logs;
    logs.requestId = requestId;
    logs.platformLine(startLine(requestId, '$LATEST'));
    const started = performance.now();
    result ??= await env.invoke({
      requestId,
      event: eventJson,
      clientContext: options.clientContext,
      identity: options.identity,
    });
    const durationMs = performance.now() - started;
    const report = this.#finish(logs, requestId, durationMs, deployment.config.memoryMb, env.maxMemoryUsedMb, { initDurationMs, restoreDurationMs }, result);
    return { result, report, logs, coldStart, tmpUsedBytes: env.tmpUsage().bytes };
  }

  #boot(deployment: Deployment, initializationType: 'on-demand' | 'provisioned-concurrency'): Promise<ExecutionEnvironment> {
    return ExecutionEnvironment.boot(this.#environmentDeps(deployment, initializationType));
  }

  #environmentDeps(deployment: Deployment, initializationType: EnvironmentDeps['initializationType']): EnvironmentDeps {
    const { config, identity, prepared } = deployment;
    if (!prepared.ok) throw new Error('lambdalet bug: booting a function whose code failed to bundle');
    return { config, bundle: prepared.bundle, blueprint: prepared.blueprint, identity, sink: this.#sink, initializationType };
  }

  /** A provisioned environment: booted and through INIT before any invoke (dead if INIT failed). */
  async #bootAndInit(deployment: Deployment, initializationType: 'provisioned-concurrency'): Promise<ExecutionEnvironment> {
    const env = await this.#boot(deployment, initializationType);
    await env.init();
    return env;
  }

  /**
   * The runtime's figures under Lambda's metric names: per function Invocations, Errors, Throttles,
   * Duration p50/p90/p99, ConcurrentExecutions, ProvisionedConcurrency…, ColdStarts, InitDuration
   * and GBSeconds; account-wide ConcurrentExecutions and UnreservedConcurrentExecutions. A snapshot:
   * later invokes do not change the object returned.
   */
  metrics(): RuntimeMetrics {
    return this.#dispatcher.metrics();
  }

  /** A function whose code failed to bundle answers every invoke with its INIT error. */
  #bundleFailure(fn: DeployedFunction, failure: InitFailure, requestId: string, tail: boolean): InvokeResult {
    const logs = new LogCollector(this.#sink, fn.config.name, logStreamName(), { filename: '', remapStack: (l) => [...l] });
    if (tail) logs.startCapture();
    const error: ErrorShape = { errorType: failure.errorType, errorMessage: failure.errorMessage, trace: failure.trace };
    logs.write(`${new Date().toISOString()}\tundefined\tERROR\tUncaught Exception \t${JSON.stringify(error)}`);
    logs.requestId = requestId;
    logs.platformLine(startLine(requestId, '$LATEST'));
    const report = this.#finish(logs, requestId, 0, fn.config.memoryMb, 0, { initDurationMs: 0 }, { ok: false, error });
    this.#dispatcher.record(fn.pool, { durationMs: 0, billedDurationMs: report.billedDurationMs, error: true });
    return toInvokeResult({ ok: false, error }, requestId, true, report, tail ? logTail(logs.takeCapture(), LOG_TAIL_MAX_BYTES) : undefined);
  }

  #finish(
    logs: LogCollector,
    requestId: string,
    durationMs: number,
    memorySizeMb: number,
    maxMemoryUsedMb: number,
    { initDurationMs, restoreDurationMs }: { initDurationMs?: number | undefined; restoreDurationMs?: number | undefined },
    result: PhaseResult,
  ): Report {
    const billedDurationMs = billedDuration(durationMs);
    logs.platformLine(endLine(requestId));
    logs.platformLine(
      reportLine({
        requestId,
        durationMs,
        billedDurationMs,
        memorySizeMb,
        maxMemoryUsedMb,
        initDurationMs,
        restoreDurationMs,
        status: !result.ok && result.platform === true && result.error.errorType === 'Sandbox.Timedout' ? 'timeout' : undefined,
      }),
    );
    logs.requestId = undefined;
    return { durationMs, billedDurationMs, initDurationMs, restoreDurationMs, maxMemoryUsedMb };
  }

  /**
   * Stops admitting work (invokes waiting for capacity fail with RuntimeClosedError), lets
   * in-flight invocations finish for up to `closeTimeoutMs`, then disposes every environment — a
   * busy one's invocation then fails. In-flight deploys finish first. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const cutOff = await this.#dispatcher.close(this.#options.closeTimeoutMs);
      // Invocations that finished in time settle within a few ticks: wait for them, so close()
      // resolves after their results. Ones cut off may wait on a timer until their deadline.
      if (cutOff === 0) while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      else while (this.#deploys.size > 0) await Promise.allSettled([...this.#deploys.values()]);
      for (const fn of this.#functions.values()) fn.snapStart?.dispose();
      this.#functions.clear();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(): void {
    if (this.#closing) throw new RuntimeClosedError();
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    const untrack = (): void => void this.#inFlight.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }
}

interface Report {
  readonly durationMs: number;
  readonly billedDurationMs: number;
  readonly initDurationMs: number | undefined;
  readonly restoreDurationMs: number | undefined;
  readonly maxMemoryUsedMb: number;
}

/**
 * Errors the platform produces (not the runtime client) have no trace in their payload. The host's
 * own errors are flagged `platform`; the guest runtime's Runtime.ExitError (a top-level await that
 * never settles) is recognised by type, and only with an empty trace, so user code cannot use the
 * name to hide its trace.
 */
function isPlatformError(result: Extract<PhaseResult, { ok: false }>): boolean {
  return result.platform === true || (result.error.errorType === 'Runtime.ExitError' && result.error.trace.length === 0);
}

function toInvokeResult(
  result: PhaseResult,
  requestId: string,
  coldStart: boolean,
  report: Report,
  logResult: string | undefined,
  tmpUsedBytes = 0,
): InvokeResult {
  const base = {
    statusCode: 200,
    executedVersion: '$LATEST' as const,
    requestId,
    coldStart,
    durationMs: report.durationMs,
    billedDurationMs: report.billedDurationMs,
    maxMemoryUsedMb: report.maxMemoryUsedMb,
    tmpUsedBytes,
    ...(report.initDurationMs !== undefined ? { initDurationMs: report.initDurationMs } : {}),
    ...(report.restoreDurationMs !== undefined ? { restoreDurationMs: report.restoreDurationMs } : {}),
    ...(logResult !== undefined ? { logResult } : {}),
  };
  if (result.ok) return { ...base, payload: JSON.parse(result.payload) as unknown };
  const { errorType, errorMessage, trace } = result.error;
  const payload = isPlatformError(result) ? { errorType, errorMessage } : { errorType, errorMessage, trace };
  return { ...base, payload, functionError: 'Unhandled' };
}

/**
 * A cold start whose environment could not be made ready. INIT's own error (the fallback path ran
 * INIT) is a function error, as for any cold start; a failed restore phase is Lambda's service
 * error: SnapStartException, or SnapStartTimeoutException when the after-restore hooks ran out of
 * time.
 */
function coldStartFailure(env: ExecutionEnvironment, { phase, result }: NonNullable<ColdStart['failure']>): PhaseResult {
  if (phase === 'init') return result;
  env.dispose();
  if (result.platform === true && result.error.errorType === 'Sandbox.Timedout') {
    throw new SnapStartTimeoutException(`The after-restore hooks did not finish in time: ${result.error.errorMessage}`);
  }
  throw new SnapStartException('SnapStart: the restore phase failed', result.error);
}

/** The event as JSON text, within Lambda's 6 MB synchronous request limit. */
function serializeEvent(event: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(event === undefined ? {} : event);
  } catch (error) {
    throw new InvalidRequestContentException(
      `Could not parse request body into json: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (json === undefined) {
    throw new InvalidRequestContentException(`Could not parse request body into json: a ${typeof event} is not JSON`);
  }
  if (json.length > REQUEST_PAYLOAD_MAX_BYTES || Buffer.byteLength(json, 'utf8') > REQUEST_PAYLOAD_MAX_BYTES) {
    throw new RequestTooLargeException(
      `Request must be smaller than ${REQUEST_PAYLOAD_MAX_BYTES} bytes for the InvokeFunction operation`,
    );
  }
  return json;
}

function poolConfig(config: FunctionConfig) {
  return {
    memoryMb: config.memoryMb,
    reservedConcurrency: config.reservedConcurrency,
    provisionedConcurrency: config.provisionedConcurrency,
  };
}

/** Creates a runtime. With no options: region us-east-1, account 123456789012, logs to stdout. */
export async function createRuntime(options?: RuntimeOptionsInput): Promise<Runtime> {
  return Promise.resolve(new Runtime(parseRuntimeOptions(options)));
}
