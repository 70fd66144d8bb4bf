/**
 * The facade that wires the layers together: the registry (registry/: functions and their
 * deployments) and the invocation path (invoke/: resolution, admission, run, report) over the
 * dispatcher, engines and logs. `createRuntime()` works with no options (embedded defaults).
 * This file only checks the runtime is open, parses inputs and delegates.
 */
import type { SQSRecord } from 'aws-lambda';
import type { DestinationCallback } from './async/callbacks.ts';
import { AsyncEvents, type DryRunInvokeResult, type EventInvokeResult } from './async/events.ts';
import type { EventSourceMappingInfo, EventSourceMappingInput } from './async/event-source-mapping.ts';
import type { EventInvokeConfigInput, FunctionEventInvokeConfig, RecursiveLoop } from './async/invoke-config.ts';
import type { CreateQueueInput, MessageAttributeValue, QueueInfo } from './async/queues.ts';
import type { ScheduleInfo, ScheduleInput } from './async/schedules.ts';
import type { StreamInfo } from './async/streams.ts';
import type { EventQueueBackend } from './async/queue.ts';
import { SqliteEventQueue } from './async/sqlite-queue.ts';
import type { CodeSource } from './code/types.ts';
import {
  LAYER_NAME_PATTERN,
  parseInvokeOptions,
  parseRuntimeOptions,
  type AliasInput,
  type FunctionConfigInput,
  type InvokeOptionsInput,
  type PublishLayerVersionInput,
  type PublishVersionInput,
  type RuntimeOptions,
  type RuntimeOptionsInput,
} from './config/index.ts';
import { EngineRegistry, type EngineIsolation } from './engines/registry.ts';
import { Dispatcher, type RuntimeMetrics } from './dispatch/index.ts';
import type { ExecutionEnvironment, HostEnvironment } from './environment/environment.ts';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException, RuntimeClosedError } from './errors.ts';
import { serializeEvent } from './invoke/event.ts';
import { Invoker } from './invoke/invoker.ts';
import { resolveTarget } from './invoke/resolve.ts';
import { splitResponseStreamOptions, streamInvocation, type InvokeResponseStream, type ResponseStreamOptionsInput } from './invoke/response-stream.ts';
import type { InvokeResult } from './invoke/result.ts';
import { stdoutSink, type LogSink } from './observability/log-sink.ts';
import * as aliases from './registry/aliases.ts';
import type { DeployContext } from './registry/deploy.ts';
import type { Deployment } from './registry/deployment.ts';
import * as functions from './registry/functions.ts';
import type { AliasInfo, FunctionInfo } from './registry/info.ts';
import { FunctionRegistry } from './registry/registry.ts';
import { LayerRegistry, makeLayerVersion, type LayerVersionInfo } from './registry/layers.ts';
import { restoreLayers, restoreRegistry } from './registry/restore.ts';
import { SqliteRegistryStore } from './registry/sqlite-store.ts';
import type { RegistryStore } from './registry/store.ts';
import * as concurrency from './registry/concurrency.ts';
// Type only: src/cluster/ (ioredis, BullMQ: ~260 modules) is loaded by createRuntime({ cluster }) alone.
import type { ClusterMember } from './cluster/member.ts';
import type { ClusterMetrics } from './cluster/metrics.ts';
import * as provisioned from './registry/provisioned.ts';
import * as versions from './registry/versions.ts';
import type { LambdaletServer } from './http/server.ts';
import type { ServeOptionsInput } from './http/options.ts';
import { FunctionExtras, isExtraKind } from './http/function-extras.ts';
import { FunctionUrlConfigs, type FunctionUrlConfig, type FunctionUrlConfigInput } from './http/url-config.ts';
import { HttpApis, type HttpApiInfo, type HttpApiInput } from './http/http-api-config.ts';
import { splitFunctionName } from './registry/names.ts';

export type { ClusterMetrics, FunctionTotals, MemberReport } from './cluster/metrics.ts';
export type { AliasInfo, FunctionInfo } from './registry/info.ts';
export type { InvokeResult } from './invoke/result.ts';
export type { DryRunInvokeResult, EventInvokeResult } from './async/events.ts';
export type { DestinationCallback } from './async/callbacks.ts';
export type { EventInvokeConfigInput, FunctionEventInvokeConfig, RecursiveLoop } from './async/invoke-config.ts';
export type { CreateQueueInput, MessageAttributeValue, QueueInfo, RedrivePolicy } from './async/queues.ts';
export type { InvocationRecord } from './async/destinations.ts';
export type { EventSourceMappingInfo, EventSourceMappingInput } from './async/event-source-mapping.ts';
export type { ScheduleInfo, ScheduleInput } from './async/schedules.ts';
export type { StreamInfo } from './async/streams.ts';
export type { UpdateCodeOptions, UpdateOptions } from './registry/functions.ts';
export type { LayerVersionInfo } from './registry/layers.ts';
export type { ProvisionedConcurrencyInfo } from './registry/provisioned.ts';
export type { FunctionConcurrency } from './registry/concurrency.ts';
export type { LambdaletServer } from './http/server.ts';
export type { ServeOptionsInput } from './http/options.ts';
export type { CorsInput, FunctionUrlConfig, FunctionUrlConfigInput } from './http/url-config.ts';
export type { HttpApiInfo, HttpApiInput, HttpApiRouteInput, HttpApiStageInput } from './http/http-api-config.ts';

/** One alias's figures: invocations through it, errors, and which versions ran them. */
export interface AliasMetrics {
  readonly functionName: string;
  readonly alias: string;
  readonly Invocations: number;
  readonly Errors: number;
  /** Invocations by executed version: the observed traffic split. */
  readonly versions: Readonly<Record<string, number>>;
}

/** rt.metrics(): the dispatcher's figures (one entry per function version) and one per alias. */
export interface Metrics extends RuntimeMetrics {
  readonly aliases: readonly AliasMetrics[];
  /** Asynchronous invocation's figures (Lambda's names), counted since the runtime started. */
  readonly async: ReturnType<AsyncEvents['metrics']>;
  /**
   * Where v8 sandboxes run now: the runtime's `isolation`, or `process` with `v8DegradedBy` once
   * in-process v8 has degraded to child processes after isolated-vm's catastrophic error in this
   * process (README, "Isolation").
   */
  readonly isolation: EngineIsolation;
}

/** Runtimes made in this process: each one's number (HostEnvironment.runtimeId). */
let runtimesMade = 0;

export class Runtime implements AsyncDisposable {
  readonly #options: RuntimeOptions;
  readonly #sink: LogSink;
  readonly #engines: EngineRegistry;
  readonly #registry = new FunctionRegistry();
  readonly #layers = new LayerRegistry();
  /**
   * Calls in flight (invoke and the like), counted, and close()'s wait for the count to reach 0.
   * A count, not a Set of the promises: a Set emptied and refilled on every warm invoke reallocates
   * its table each time (host garbage per invocation).
   */
  #inFlight = 0;
  #whenIdle: (() => void) | undefined;
  readonly #untrack = (): void => {
    if (--this.#inFlight === 0) this.#whenIdle?.();
  };
  readonly #dispatcher: Dispatcher<ExecutionEnvironment, Deployment>;
  readonly #invoker: Invoker;
  readonly #ctx: DeployContext;
  readonly #random: () => number;
  #closing: Promise<void> | undefined;
  #server: LambdaletServer | undefined;
  readonly #urls = new FunctionUrlConfigs();
  readonly #httpApis = new HttpApis();
  /** The Lambda API's Role, tags and resource policies per function (http/function-extras.ts). */
  readonly #extras = new FunctionExtras();
  /**
   * AWS_ENDPOINT_URL_LAMBDA while a server runs: environments started then get it (http/README.md);
   * and this runtime's number, which its functions' shares of the process are owned under.
   */
  readonly #hostEnv: HostEnvironment = { vars: {}, runtimeId: ++runtimesMade };

  readonly #store: RegistryStore | undefined;
  readonly #member: ClusterMember | undefined;
  #restored = false;
  readonly #async: AsyncEvents;

  /** Use {@link createRuntime}: with `dataDir` or `cluster`, the registry is read back before the runtime is handed out. */
  constructor(options: RuntimeOptions, store?: RegistryStore, events?: EventQueueBackend, member?: ClusterMember) {
    this.#options = options;
    this.#member = member;
    this.#store = member?.store ?? store;
    const keeps = this.#store?.putHttpSetting?.bind(this.#store);
    if (keeps) {
      this.#urls.persist = (key, json) => keeps('function-url', key, json);
      this.#httpApis.persist = (key, json) => keeps('http-api', key, json);
      this.#extras.persist = (kind, key, json) => keeps(kind, key, json);
    }
    // A store shared by cluster members reports the others' URL, HTTP API, Role, tag and policy changes.
    this.#store?.watchHttpSettings?.((change) => {
      if (isExtraKind(change.kind)) this.#extras.applyChange(change.kind, change.key, change.json);
      else (change.kind === 'function-url' ? this.#urls : this.#httpApis).applyChange(change.key, change.json);
    });
    this.#sink = options.logSink ?? stdoutSink;
    this.#dispatcher = new Dispatcher(options);
    this.#engines = new EngineRegistry({
      quickjs: { isolation: options.quickjsIsolation, threads: options.engineThreads, ...(options.quickjsThreadsMax === undefined ? {} : { maxThreads: options.quickjsThreadsMax }) },
      wasm: { threads: options.engineThreads },
      isolation: options.isolation,
      processes: options.engineProcesses,
      cpuHeavyNice: options.cpuHeavyNice,
    });
    this.#invoker = new Invoker(this.#dispatcher, this.#sink, member?.concurrency);
    this.#random = options.random ?? Math.random;
    this.#async = new AsyncEvents({
      options,
      registry: this.#registry,
      engines: this.#engines,
      invoker: this.#invoker,
      random: this.#random,
      sink: this.#sink,
      clock: options.eventClock,
      backend: events ?? (options.eventQueue as EventQueueBackend | undefined),
      store: this.#store,
    });
    this.#ctx = {
      options,
      sink: this.#sink,
      engines: this.#engines,
      dispatcher: this.#dispatcher,
      registry: this.#registry,
      layers: this.#layers,
      store: this.#store,
      assertOpen: () => this.#assertOpen(),
      isClosing: () => this.#closing !== undefined,
      hostEnv: this.#hostEnv,
    };
  }

  /**
   * Creates a function, or replaces its `$LATEST` (code and configuration). Bundles its code and
   * prepares its engine; problems in the user's code (syntax error, missing module or handler) are
   * not thrown: they are Lambda INIT errors, returned by every invoke. Invalid configuration throws
   * InvalidParameterValueException. A second deploy of the same function waits for the first.
   */
  deploy(input: FunctionConfigInput): Promise<FunctionInfo> {
    return this.#control(() => functions.deployFunction(this.#ctx, input));
  }

  /**
   * Replaces `$LATEST`'s code (Lambda's UpdateFunctionCode); its configuration stays.
   * @throws ResourceNotFoundException, ResourceConflictException (another update of the function is
   *   in progress), PreconditionFailedException (`revisionId` is not `$LATEST`'s),
   *   CodeVerificationFailedException (code signing under Enforce), InvalidParameterValueException.
   */
  updateFunctionCode(name: string, code: CodeSource, options?: functions.UpdateCodeOptions): Promise<FunctionInfo> {
    return this.#control(() => functions.updateFunctionCode(this.#ctx, name, code, options));
  }

  /**
   * Changes fields of `$LATEST`'s configuration (Lambda's UpdateFunctionConfiguration): any of
   * deploy's fields but `name` and `code`; the others stay. Throws as updateFunctionCode does.
   */
  updateFunctionConfiguration(
    name: string,
    changes: Partial<Omit<FunctionConfigInput, 'name' | 'code'>> & functions.UpdateOptions,
  ): Promise<FunctionInfo> {
    return this.#control(() => functions.updateFunctionConfiguration(this.#ctx, name, changes));
  }

  /**
   * A version's configuration: `getFunction('orders')` ($LATEST), `'orders:3'`, `'orders:live'`
   * (the alias's primary version) or an ARN. @throws ResourceNotFoundException.
   */
  getFunction(name: string, options?: { readonly qualifier?: string }): FunctionInfo {
    this.#assertOpen();
    return functions.getFunction(this.#ctx, name, options?.qualifier);
  }

  /** Every function's `$LATEST`, in creation order. */
  listFunctions(): FunctionInfo[] {
    this.#assertOpen();
    return functions.listFunctions(this.#ctx);
  }

  /**
   * Deletes a function with its versions and aliases, or with `{ qualifier: '3' }` one version.
   * In-flight invocations finish; idle environments are disposed.
   * @throws ResourceNotFoundException; InvalidParameterValueException for `$LATEST` alone;
   *   ResourceConflictException for a version an alias points to.
   */
  deleteFunction(name: string, options?: { readonly qualifier?: string }): Promise<void> {
    return this.#control(async () => {
      await functions.deleteFunction(this.#ctx, name, options);
      this.#async.functionDeleted(name, options?.qualifier);
      // `name` may carry the qualifier itself ('orders:3'): only an unqualified delete removes the function.
      const ref = splitFunctionName(name, this.#options, options?.qualifier);
      if (ref.qualifier === undefined) {
        this.#urls.deleteAll(ref.name);
        this.#extras.forgetFunction(ref.name);
      } else {
        this.#extras.forgetVersion(ref.name, ref.qualifier);
      }
    });
  }

  /**
   * Creates a function URL (Lambda's CreateFunctionUrlConfig) for `$LATEST` or an alias:
   * `{ authType: 'NONE' | 'AWS_IAM', cors?, invokeMode?: 'BUFFERED' | 'RESPONSE_STREAM', qualifier? }`.
   * Served by `rt.serve()`'s server at `functionUrl` (`<server>/lambda-url/<urlId>/`). Kept in memory,
   * in `dataDir`'s store, or in a cluster's Redis (then every member serves it).
   * @throws ResourceNotFoundException (function or alias), ResourceConflictException (one exists),
   *   InvalidParameterValueException (a version number as qualifier, bad fields).
   */
  createFunctionUrlConfig(name: string, input: FunctionUrlConfigInput): FunctionUrlConfig {
    this.#assertOpen();
    const info = functions.getFunction(this.#ctx, name);
    const qualifier = (input as { qualifier?: unknown } | undefined)?.qualifier;
    if (typeof qualifier === 'string' && qualifier !== '$LATEST' && !/^[0-9]+$/.test(qualifier)) aliases.getAlias(this.#ctx, info.functionName, qualifier);
    return this.#urls.create(info.functionName, info.functionArn, input);
  }

  /** @throws ResourceNotFoundException when the function has no URL on `qualifier` (default `$LATEST`). */
  getFunctionUrlConfig(name: string, options?: { readonly qualifier?: string }): FunctionUrlConfig {
    this.#assertOpen();
    return this.#urls.get(splitFunctionName(name, this.#options).name, options?.qualifier);
  }

  /** Changes `authType`, `cors` or `invokeMode` of a function URL; its address stays. */
  updateFunctionUrlConfig(name: string, input: Partial<Omit<FunctionUrlConfigInput, 'qualifier'>>, options?: { readonly qualifier?: string }): FunctionUrlConfig {
    this.#assertOpen();
    return this.#urls.update(splitFunctionName(name, this.#options).name, options?.qualifier, input);
  }

  deleteFunctionUrlConfig(name: string, options?: { readonly qualifier?: string }): void {
    this.#assertOpen();
    this.#urls.delete(splitFunctionName(name, this.#options).name, options?.qualifier);
  }

  /**
   * Creates an HTTP API in front of functions (API Gateway v2's routes, stages and canaries):
   * `{ name, routes: [{ routeKey: 'GET /orders/{id}', target: 'orders:${stageVariables.alias}',
   * payloadFormatVersion?: '2.0' | '1.0' }], stages: { prod: { variables, canary?: { percent,
   * variables } } } }`. Served at `apiEndpoint/<stage>/...` by `rt.serve()`'s server. Kept as function
   * URLs are (memory, `dataDir`, or a cluster's Redis).
   * Targets are resolved per request (an unknown one answers 500, as API Gateway does).
   * @throws InvalidParameterValueException naming the field; ResourceConflictException (name taken).
   */
  createHttpApi(input: HttpApiInput): HttpApiInfo {
    this.#assertOpen();
    return this.#httpApis.create(input);
  }

  /** @throws ResourceNotFoundException. */
  getHttpApi(apiId: string): HttpApiInfo {
    this.#assertOpen();
    return this.#httpApis.get(apiId);
  }

  listHttpApis(): HttpApiInfo[] {
    this.#assertOpen();
    return this.#httpApis.list();
  }

  /** @throws ResourceNotFoundException. */
  deleteHttpApi(apiId: string): void {
    this.#assertOpen();
    this.#httpApis.delete(apiId);
  }

  /**
   * Publishes `$LATEST` as an immutable version `{ version: '1', ... }` (Lambda's PublishVersion);
   * unchanged code and configuration return the newest existing version.
   * @throws InvalidParameterValueException (`codeSha256` is not `$LATEST`'s), PreconditionFailedException,
   *   ResourceConflictException, ResourceNotFoundException.
   */
  publishVersion(name: string, options?: PublishVersionInput): Promise<FunctionInfo> {
    return this.#control(() => versions.publishVersion(this.#ctx, name, options));
  }

  /** `$LATEST` and every published version, oldest first. */
  listVersions(name: string): FunctionInfo[] {
    this.#assertOpen();
    return versions.listVersions(this.#ctx, name);
  }

  /**
   * Creates an alias: `createAlias('orders', 'live', { functionVersion: '1', routingConfig: {
   * additionalVersionWeights: { '2': 0.1 } } })`.
   * @throws ResourceConflictException (name taken), ResourceNotFoundException (unknown version),
   *   InvalidParameterValueException (name, weights, routing on `$LATEST`).
   */
  createAlias(name: string, aliasName: string, input: AliasInput): Promise<AliasInfo> {
    return this.#control(() => aliases.createAlias(this.#ctx, name, aliasName, input));
  }

  /**
   * Moves an alias or changes its routing; invocations already running are not affected. Rejects as
   * createAlias, and PreconditionFailedException when `revisionId` is not the alias's (checked
   * atomically in the store: in a cluster, against every member's changes).
   */
  updateAlias(name: string, aliasName: string, input: AliasInput): Promise<AliasInfo> {
    return this.#control(() => aliases.updateAlias(this.#ctx, name, aliasName, input));
  }

  deleteAlias(name: string, aliasName: string): Promise<void> {
    return this.#control(() => aliases.deleteAlias(this.#ctx, name, aliasName));
  }

  getAlias(name: string, aliasName: string): AliasInfo {
    this.#assertOpen();
    return aliases.getAlias(this.#ctx, name, aliasName);
  }

  listAliases(name: string, options?: { readonly functionVersion?: string }): AliasInfo[] {
    this.#assertOpen();
    return aliases.listAliases(this.#ctx, name, options);
  }

  /**
   * Reserves concurrency for the function, shared by `$LATEST` and every published version
   * (Lambda's PutFunctionConcurrency): a guarantee and a ceiling; 0 throttles every invoke. Its
   * environments stay. `{ reservedConcurrentExecutions }` is an integer from 0 to 100000.
   * @throws InvalidParameterValueException (the count; leaving less than the minimum unreserved,
   *   with Lambda's message; less than the versions' provisioned concurrency),
   *   ResourceNotFoundException, ResourceConflictException.
   */
  putFunctionConcurrency(name: string, input: { readonly reservedConcurrentExecutions: number }): concurrency.FunctionConcurrency {
    this.#assertOpen();
    return concurrency.putFunctionConcurrency(this.#ctx, name, input);
  }

  /** The function's reservation: `{ reservedConcurrentExecutions }`, or `{}` without one. @throws ResourceNotFoundException. */
  getFunctionConcurrency(name: string): concurrency.FunctionConcurrency {
    this.#assertOpen();
    return concurrency.getFunctionConcurrency(this.#ctx, name);
  }

  /** Removes the reservation: the function shares the unreserved pool again. @throws ResourceNotFoundException. */
  deleteFunctionConcurrency(name: string): void {
    this.#assertOpen();
    concurrency.deleteFunctionConcurrency(this.#ctx, name);
  }

  /**
   * Provisioned concurrency on a published version or an alias (Lambda's
   * PutProvisionedConcurrencyConfig): environments booted and initialised before this resolves.
   * @throws InvalidParameterValueException (`$LATEST`, or a count outside 1..100000),
   *   ResourceNotFoundException, ResourceConflictException.
   */
  putProvisionedConcurrencyConfig(
    name: string,
    qualifier: string,
    input: { readonly provisionedConcurrentExecutions: number },
  ): Promise<provisioned.ProvisionedConcurrencyInfo> {
    return this.#control(() => provisioned.putProvisionedConcurrencyConfig(this.#ctx, name, qualifier, input));
  }

  /** @throws ResourceNotFoundException when none is configured on `qualifier`. */
  getProvisionedConcurrencyConfig(name: string, qualifier: string): provisioned.ProvisionedConcurrencyInfo {
    this.#assertOpen();
    return provisioned.getProvisionedConcurrencyConfig(this.#ctx, name, qualifier);
  }

  /** Removes it; the version's provisioned environments go (busy ones when they finish). */
  deleteProvisionedConcurrencyConfig(name: string, qualifier: string): Promise<void> {
    return this.#control(() => provisioned.deleteProvisionedConcurrencyConfig(this.#ctx, name, qualifier));
  }

  /**
   * Publishes a layer version (Lambda's PublishLayerVersion): `{ layerName, content: { zip } |
   * { files } | { dir } }`, files laid out as under /opt (`nodejs/node_modules/...`). Returns
   * `{ layerArn, layerVersionArn, version, ... }`; versions count 1, 2, ... per name.
   * @throws InvalidParameterValueException (name, content, a zip over Lambda's limits).
   */
  publishLayerVersion(input: PublishLayerVersionInput): Promise<LayerVersionInfo> {
    return this.#control(async () => {
      const { name, layer } = await makeLayerVersion(this.#options, this.#layers, input);
      this.#assertOpen();
      const { layerArn: _arn, layerVersionArn: _versionArn, version, codeSha256: _sha, codeSize: _size, unzippedSize: _unzipped, ...meta } = layer.info;
      this.#store?.putLayerVersion(name, version, layer.package, meta);
      this.#layers.add(name, layer);
      return layer.info;
    });
  }

  /** A layer version by its ARN. @throws ResourceNotFoundException. */
  getLayerVersion(layerVersionArn: string): LayerVersionInfo {
    this.#assertOpen();
    const layer = this.#layers.get(layerVersionArn);
    if (!layer) throw new ResourceNotFoundException(`Layer version ${layerVersionArn} does not exist.`);
    return layer.info;
  }

  /**
   * Every layer (Lambda's ListLayers), by name, with its newest version — the newest listing
   * `compatibleRuntime` among its `compatibleRuntimes` when one is given; a layer with no such
   * version is left out.
   */
  listLayers(options: { readonly compatibleRuntime?: string } = {}): { layerName: string; layerArn: string; latestMatchingVersion: LayerVersionInfo }[] {
    this.#assertOpen();
    const out: { layerName: string; layerArn: string; latestMatchingVersion: LayerVersionInfo }[] = [];
    for (const layerName of this.#layers.names()) {
      const matching = this.#layers
        .list(layerName)
        .map((layer) => layer.info)
        .filter((info) => options.compatibleRuntime === undefined || info.compatibleRuntimes.includes(options.compatibleRuntime));
      const latest = matching.reduce<LayerVersionInfo | undefined>((best, info) => (best === undefined || info.version > best.version ? info : best), undefined);
      if (latest !== undefined) out.push({ layerName, layerArn: latest.layerArn, latestMatchingVersion: latest });
    }
    return out;
  }

  /**
   * Deletes a layer version (Lambda's DeleteLayerVersion): `layerName` is the layer's name or ARN.
   * It is gone from getLayerVersion, listLayerVersions and listLayers, and a deploy naming it fails
   * as for a missing version; functions that already use it keep it (Lambda keeps a copy for them),
   * also after a restart, and its number is never reused. Deleting a version that does not exist
   * (or was deleted already) does nothing, as Lambda answers 204.
   * @throws InvalidParameterValueException naming `layerName` or `versionNumber` (not a positive integer).
   */
  deleteLayerVersion(layerName: string, versionNumber: number): Promise<void> {
    return this.#control(async () => {
      const arn = /^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:([a-zA-Z0-9_-]{1,140})$/.exec(String(layerName));
      const name = arn?.[1] ?? layerName;
      if (typeof name !== 'string' || !LAYER_NAME_PATTERN.test(name)) {
        throw new InvalidParameterValueException('layerName', `Expected \`layerName\` to match [a-zA-Z0-9-_]{1,140} or be a layer ARN, got ${JSON.stringify(layerName)}`);
      }
      if (!Number.isSafeInteger(versionNumber) || versionNumber < 1) {
        throw new InvalidParameterValueException('versionNumber', `Expected \`versionNumber\` to be an integer of at least 1, got ${JSON.stringify(versionNumber)}`);
      }
      if (!this.#layers.get(`arn:aws:lambda:${this.#options.region}:${this.#options.accountId}:layer:${name}:${versionNumber}`)) return;
      this.#store?.deleteLayerVersion(name, versionNumber);
      this.#layers.delete(name, versionNumber);
    });
  }

  /** A layer's versions, oldest first (empty for an unknown layer, as Lambda's ListLayerVersions). */
  listLayerVersions(layerName: string): LayerVersionInfo[] {
    this.#assertOpen();
    return this.#layers.list(layerName).map((layer) => layer.info);
  }

  /**
   * Invokes a function synchronously (RequestResponse): `invoke('orders', e)`, `invoke('orders:3', e)`,
   * `invoke('orders:live', e)`, `invoke('orders', e, { qualifier: 'live' })` or an ARN. The event
   * is any JSON-serialisable value (undefined: `{}`); bytes (Uint8Array, Buffer, any typed array or DataView,
   * ArrayBuffer, SharedArrayBuffer) are the payload's UTF-8 JSON text, as the AWS SDK's InvokeCommand `Payload` (invoke/payload.ts). Function
   * errors come back in the result (`functionError: 'Unhandled'`); service errors are thrown:
   * ResourceNotFoundException, RequestTooLargeException, InvalidRequestContentException,
   * InvalidParameterValueException (malformed name or qualifier), RuntimeClosedError.
   *
   * `invocationType: 'Event'` queues the event (durably with `dataDir`) and answers
   * `{ statusCode: 202, requestId }`; it runs later with that requestId, retried as Lambda retries
   * asynchronous events (see docs/async.md). Its payload limit is 1 MiB (RequestTooLargeException).
   */
  invoke(name: string, event: unknown, options: InvokeOptionsInput & { readonly invocationType: 'Event' }): Promise<EventInvokeResult>;
  /** DryRun: checks the name and event and answers `{ statusCode: 204, requestId }`; nothing runs. */
  invoke(name: string, event: unknown, options: InvokeOptionsInput & { readonly invocationType: 'DryRun' }): Promise<DryRunInvokeResult>;
  /** RequestResponse (the default). Pass `invocationType` as a literal to get the Event / DryRun result type. */
  invoke(name: string, event?: unknown, options?: InvokeOptionsInput): Promise<InvokeResult>;
  invoke(name: string, event?: unknown, options?: InvokeOptionsInput): Promise<InvokeResult | EventInvokeResult | DryRunInvokeResult> {
    // Service errors reject the returned promise rather than throw synchronously, as deploy()'s
    // do: `rt.invoke(...).catch(...)` must see them. (Not `async`: the warm path saves a tick.)
    try {
      this.#assertOpen();
      const invokeOptions = parseInvokeOptions(options);
      if (invokeOptions.invocationType === 'Event' || invokeOptions.invocationType === 'DryRun') {
        return this.#track(this.#async.invoke(name, event, invokeOptions));
      }
      const target = resolveTarget(this.#registry, this.#options, this.#random, name, invokeOptions.qualifier);
      // After a catastrophic engine error nothing more is admitted, warm environments included.
      this.#engines.get(target.record.config.engine).assertAvailable();
      const eventJson = serializeEvent(event);
      return this.#track(this.#invoker.invoke(target, eventJson, invokeOptions));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * InvokeWithResponseStream: invokes like {@link invoke} (same name forms and options, plus
   * `stripPrelude`, `maxInFlightBytes`, `maxResponseBytes`) and resolves once the stream's head is
   * known with `{ statusCode: 200, requestId, executedVersion, contentType, prelude, payload,
   * completion }`: `payload` is a Readable of the bytes as the handler writes them, `completion`
   * the InvokeComplete event and REPORT figures. Rules, limits and shapes: invoke/response-stream.ts.
   * Rejects with the service errors {@link invoke} throws.
   */
  invokeWithResponseStream(name: string, event?: unknown, options?: InvokeOptionsInput & ResponseStreamOptionsInput): Promise<InvokeResponseStream> {
    try {
      this.#assertOpen();
      const split = splitResponseStreamOptions(options);
      const invokeOptions = parseInvokeOptions(split.invoke);
      const target = resolveTarget(this.#registry, this.#options, this.#random, name, invokeOptions.qualifier);
      this.#engines.get(target.record.config.engine).assertAvailable();
      const eventJson = serializeEvent(event);
      return streamInvocation(target.record.version, split.stream, (stream) => this.#track(this.#invoker.invoke(target, eventJson, invokeOptions, stream)));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * The runtime's figures under Lambda's metric names: per function Invocations, Errors, Throttles,
   * Duration p50/p90/p99, ConcurrentExecutions, ProvisionedConcurrency…, ColdStarts, InitDuration
   * and GBSeconds; account-wide ConcurrentExecutions and UnreservedConcurrentExecutions. A snapshot:
   * later invokes do not change the object returned.
   */
  metrics(): Metrics {
    const aliasMetrics: AliasMetrics[] = [];
    for (const entry of this.#registry.values()) {
      for (const alias of entry.aliases.values()) {
        const { invocations, errors, byVersion } = alias.counters;
        aliasMetrics.push({ functionName: entry.name, alias: alias.name, Invocations: invocations, Errors: errors, versions: Object.fromEntries(byVersion) });
      }
    }
    return { ...this.#dispatcher.metrics(), aliases: aliasMetrics, async: this.#async.metrics(), isolation: this.#engines.isolation() };
  }

  /**
   * A cluster member's view of the whole cluster (docs/cluster.md, "Metrics"): every live member's
   * `metrics()` (this one's taken now, the others' at most a third of `cluster.leaseTtlMs` old) and
   * the totals that add up across members (Invocations, Errors, Throttles, ColdStarts, GBSeconds,
   * ConcurrentExecutions per function version and for the account; the async counters).
   * @throws InvalidParameterValueException (`cluster`) on a runtime that is not a cluster member.
   */
  clusterMetrics(): Promise<ClusterMetrics<Metrics>> {
    return this.#control(async () => {
      if (this.#member === undefined) {
        throw new InvalidParameterValueException('cluster', 'clusterMetrics() needs a runtime created with { cluster }; metrics() gives this runtime\'s own figures');
      }
      return this.#member.metrics.read<Metrics>(this.#member.options.name);
    });
  }

  /**
   * Serves this runtime over HTTP: the Lambda API on its 2015-03-31 paths (what the AWS SDK's
   * LambdaClient and the `aws lambda` CLI speak), with SigV4 verification when `auth` is given.
   * Loopback (`127.0.0.1:9001`) by default; `port: 0` picks a free port (`server.url` says which).
   * One server per runtime; `rt.close()` closes it first. Details: src/http/README.md.
   * @throws InvalidParameterValueException (options), ResourceConflictException (already serving),
   *   the listen error (EADDRINUSE...).
   */
  async serve(options?: ServeOptionsInput): Promise<LambdaletServer> {
    this.#assertOpen();
    if (this.#server !== undefined) throw new ResourceConflictException(`This runtime is already serving at ${this.#server.url}`);
    // Loaded on first use: a runtime that never serves does not load node:http's server or the API.
    const { startServer } = await import('./http/server.ts');
    this.#assertOpen();
    const running = this.#server as LambdaletServer | undefined;
    if (running !== undefined) throw new ResourceConflictException(`This runtime is already serving at ${running.url}`);
    const server = await startServer(this, {
      region: this.#options.region,
      accountId: this.#options.accountId,
      urls: this.#urls,
      httpApis: this.#httpApis,
      extras: this.#extras,
      random: this.#random,
      sink: this.#sink,
      onClose: () => {
        if (this.#server === server) this.#server = undefined;
        delete this.#hostEnv.vars.AWS_ENDPOINT_URL_LAMBDA;
      },
    }, options);
    this.#server = server;
    // The AWS SDK reads AWS_ENDPOINT_URL_LAMBDA (service-specific endpoints): a handler's LambdaClient
    // reaches this server, given egress to it. Environments already warm keep the env they started with.
    this.#hostEnv.vars.AWS_ENDPOINT_URL_LAMBDA = server.url.slice(0, -1);
    return server;
  }

  /**
   * Stops admitting work (invokes waiting for capacity fail with RuntimeClosedError), lets
   * in-flight invocations finish for up to `closeTimeoutMs`, then disposes every environment — a
   * busy one's invocation then fails. In-flight deploys finish first. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#server?.close();
      // The pump stops claiming at once; its running events finish (or are cut off) with the rest.
      const asyncClosed = this.#async.close();
      const cutOff = await this.#dispatcher.close(this.#options.closeTimeoutMs);
      await asyncClosed;
      // Invocations that finished in time settle within a few ticks: wait for them, so close()
      // resolves after their results. Ones cut off may wait on a timer until their deadline.
      if (cutOff === 0) {
        while (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#whenIdle = resolve));
        this.#whenIdle = undefined;
      }
      else await this.#registry.settled();
      for (const entry of this.#registry.values()) {
        for (const record of [entry.latest, ...entry.versions.values()]) record.snapStart?.dispose();
      }
      this.#registry.clear();
      try {
        await this.#store?.flush?.();
      } finally {
        await this.#store?.close();
        await this.#member?.close();
      }
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(): void {
    if (this.#closing) throw new RuntimeClosedError();
  }

  /** A control-plane call: rejects (never throws) RuntimeClosedError and validation errors; tracked for close(). */
  #control<T>(call: () => Promise<T>): Promise<T> {
    try {
      this.#assertOpen();
      // A cluster member's writes reach Redis before the call resolves (queued in call order).
      const flushed = this.#store?.flush ? call().then(async (value) => (await this.#store!.flush!(), value)) : call();
      return this.#track(flushed);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight++;
    promise.then(this.#untrack, this.#untrack);
    return promise;
  }

  /** @internal createRuntime's: rebuilds the registry from the durable store, once. */
  async restore(): Promise<void> {
    if (this.#store === undefined || this.#restored) {
      this.#async.start();
      return;
    }
    this.#restored = true;
    const stored = await this.#store.load();
    restoreLayers(this.#ctx, stored.layers);
    await restoreRegistry(this.#ctx, stored.functions);
    this.#async.restoreSettings(stored.asyncSettings);
    const http = stored.httpSettings ?? [];
    this.#urls.restore(http.filter((s) => s.kind === 'function-url'));
    this.#httpApis.restore(http.filter((s) => s.kind === 'http-api'));
    this.#extras.restore(http);
    this.#member?.attach(this.#ctx);
    this.#member?.metrics.start(() => this.metrics());
    // Events a previous run left queued run against the functions just restored.
    this.#async.start();
  }

  // ---- asynchronous invocation settings, destinations and queues (async/; docs/async.md) ----

  /**
   * Lambda's PutFunctionEventInvokeConfig: `{ qualifier?, maximumRetryAttempts: 0..2,
   * maximumEventAgeInSeconds: 60..21600, destinationConfig: { onSuccess: { destination },
   * onFailure: { destination } } }` for events invoked through `qualifier` (default `$LATEST`);
   * replaces the whole config. A destination is a function ARN, a lambdalet queue ARN or
   * `callback:<name>` (registerDestinationCallback), and must exist.
   * @throws InvalidParameterValueException (a range, a malformed destination), ResourceNotFoundException.
   */
  putFunctionEventInvokeConfig(name: string, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    this.#assertOpen();
    return this.#async.configs.put(name, input);
  }

  /** UpdateFunctionEventInvokeConfig: changes only the fields given. @throws as put, and ResourceNotFoundException when none exists. */
  updateFunctionEventInvokeConfig(name: string, input: EventInvokeConfigInput): FunctionEventInvokeConfig {
    this.#assertOpen();
    return this.#async.configs.update(name, input);
  }

  /** @throws ResourceNotFoundException (`The function <arn> doesn't have an EventInvokeConfig`). */
  getFunctionEventInvokeConfig(name: string, options?: { readonly qualifier?: string }): FunctionEventInvokeConfig {
    this.#assertOpen();
    return this.#async.configs.get(name, options?.qualifier);
  }

  deleteFunctionEventInvokeConfig(name: string, options?: { readonly qualifier?: string }): void {
    this.#assertOpen();
    this.#async.configs.delete(name, options?.qualifier);
  }

  listFunctionEventInvokeConfigs(name: string): FunctionEventInvokeConfig[] {
    this.#assertOpen();
    return this.#async.configs.list(name);
  }

  /** PutFunctionRecursionConfig: `Terminate` (default) stops an event past 16 invocations of the function in one chain; `Allow` lets it run. */
  putFunctionRecursionConfig(name: string, input: { readonly recursiveLoop: RecursiveLoop }): { recursiveLoop: RecursiveLoop } {
    this.#assertOpen();
    return this.#async.configs.putRecursion(name, input?.recursiveLoop);
  }

  getFunctionRecursionConfig(name: string): { recursiveLoop: RecursiveLoop } {
    this.#assertOpen();
    return this.#async.configs.getRecursion(name);
  }

  /** A host function as a destination, named `callback:<name>`: called at least once per record. Not kept in `dataDir`: register again after a restart. */
  registerDestinationCallback(name: string, callback: DestinationCallback): void {
    this.#assertOpen();
    this.#async.registerDestinationCallback(name, callback);
  }

  /**
   * Creates a lambdalet queue with SQS's semantics: `{ visibilityTimeout: 0..43200 (30), delaySeconds:
   * 0..900 (0), redrivePolicy: { deadLetterTargetArn, maxReceiveCount: 1..1000 } }`. Returns its
   * `queueArn` (arn:aws:sqs:<region>:<account>:<name>). @throws InvalidParameterValueException.
   */
  createQueue(name: string, input?: CreateQueueInput): QueueInfo {
    this.#assertOpen();
    return this.#async.createQueue(name, input);
  }

  /** A queue by name or ARN. @throws ResourceNotFoundException. */
  getQueue(nameOrArn: string): QueueInfo {
    this.#assertOpen();
    return this.#async.queues.get(nameOrArn);
  }

  listQueues(): QueueInfo[] {
    this.#assertOpen();
    return this.#async.queues.list();
  }

  /** Deletes a queue; its messages are no longer delivered, and mappings from it stop (logged). */
  deleteQueue(nameOrArn: string): void {
    this.#assertOpen();
    this.#async.deleteQueue(nameOrArn);
  }

  /** SendMessage (body 1 byte to 1 MiB; `delaySeconds` 0..900). @throws ResourceNotFoundException, InvalidParameterValueException. */
  sendMessage(
    queue: string,
    body: string,
    options?: { messageAttributes?: Record<string, MessageAttributeValue>; delaySeconds?: number },
  ): Promise<{ messageId: string; md5OfMessageBody: string }> {
    return this.#control(() => this.#async.sendMessage(queue, body, options));
  }

  /** ReceiveMessage: up to 10 messages as Lambda's SQS records; each invisible for the visibility timeout until deleted. */
  receiveMessages(queue: string, options?: { maxNumberOfMessages?: number; visibilityTimeout?: number }): Promise<SQSRecord[]> {
    return this.#control(() => this.#async.receiveMessages(queue, options));
  }

  /** DeleteMessage by a record's `receiptHandle`. */
  deleteMessage(queue: string, receiptHandle: string): Promise<void> {
    return this.#control(() => this.#async.deleteMessage(queue, receiptHandle));
  }

  /**
   * Lambda's CreateEventSourceMapping for a lambdalet queue: `{ eventSourceArn, functionName,
   * batchSize: 1..10000 (10), maximumBatchingWindowInSeconds: 0..300 (0; at least 1 above a batch of
   * 10), functionResponseTypes: ['ReportBatchItemFailures'], enabled }`; the function receives
   * Lambda's SQS event. @throws InvalidParameterValueException, ResourceNotFoundException.
   */
  createEventSourceMapping(input: EventSourceMappingInput): EventSourceMappingInfo {
    this.#assertOpen();
    return this.#async.createEventSourceMapping(input);
  }

  updateEventSourceMapping(uuid: string, input: EventSourceMappingInput): EventSourceMappingInfo {
    this.#assertOpen();
    return this.#async.updateEventSourceMapping(uuid, input);
  }

  getEventSourceMapping(uuid: string): EventSourceMappingInfo {
    this.#assertOpen();
    return this.#async.mappings.get(uuid);
  }

  deleteEventSourceMapping(uuid: string): EventSourceMappingInfo {
    this.#assertOpen();
    return this.#async.deleteEventSourceMapping(uuid);
  }

  listEventSourceMappings(filter?: { eventSourceArn?: string; functionName?: string }): EventSourceMappingInfo[] {
    this.#assertOpen();
    return this.#async.mappings.list(filter);
  }

  /**
   * Creates a lambdalet stream with Kinesis's semantics (`shardCount` 1..500, default 1;
   * `retentionPeriodHours` 24..8760, default 24: how long records stay readable by a mapping
   * starting at TRIM_HORIZON or AT_TIMESTAMP); returns `{ streamName, streamArn, shardCount,
   * retentionPeriodHours }`; map it with createEventSourceMapping (`startingPosition` required).
   * @throws InvalidParameterValueException, ResourceConflictException.
   */
  createStream(name: string, input?: { readonly shardCount?: number; readonly retentionPeriodHours?: number }): StreamInfo {
    this.#assertOpen();
    return this.#async.createStream(name, input);
  }

  getStream(nameOrArn: string): StreamInfo {
    this.#assertOpen();
    return this.#async.streams.get(nameOrArn);
  }

  listStreams(): StreamInfo[] {
    this.#assertOpen();
    return this.#async.streams.list();
  }

  deleteStream(nameOrArn: string): void {
    this.#assertOpen();
    this.#async.deleteStream(nameOrArn);
  }

  /** PutRecord (`data` a string or bytes, up to 1 MiB; `partitionKey` 1..256 characters): ordered per shard. */
  putRecord(stream: string, input: { partitionKey: string; data: string | Uint8Array }): Promise<{ shardId: string; sequenceNumber: string }> {
    return this.#control(() => this.#async.putRecord(stream, input));
  }

  /**
   * A schedule (EventBridge's expressions: `rate(5 minutes)`, `cron(0 12 * * ? *)`,
   * `at(2026-12-01T10:00:00)`, validated as EventBridge does) that invokes `target.arn` (a function,
   * asynchronously, or a lambdalet queue) with a scheduled event or `target.input`, on the event clock.
   * @throws InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException.
   */
  createSchedule(input: ScheduleInput): Promise<ScheduleInfo> {
    return this.#control(() => this.#async.schedules.create(input));
  }

  updateSchedule(name: string, input: Omit<ScheduleInput, 'name'>): Promise<ScheduleInfo> {
    return this.#control(() => this.#async.schedules.update(name, input));
  }

  getSchedule(name: string): ScheduleInfo {
    this.#assertOpen();
    return this.#async.schedules.get(name);
  }

  listSchedules(): ScheduleInfo[] {
    this.#assertOpen();
    return this.#async.schedules.list();
  }

  deleteSchedule(name: string): void {
    this.#assertOpen();
    this.#async.schedules.delete(name);
  }

  /**
   * Resolves when no asynchronous event is running and none is due now; events due later (a retry a
   * minute away) do not count. For tests and scripts that want the effects of `Event` invokes.
   */
  eventsIdle(): Promise<void> {
    return this.#async.idle();
  }
}

/**
 * Creates a runtime. With no options: region us-east-1, account 123456789012, logs to stdout, the
 * registry in memory. With `dataDir`, the registry is kept in `<dataDir>/registry.sqlite` and what
 * it holds is deployed again before the runtime is returned.
 * With `cluster`, the runtime joins the cluster (docs/cluster.md): what the cluster's Redis holds is
 * deployed before the runtime is returned, and changes other members make are applied as they come.
 * @throws InvalidParameterValueException (options), DataDirError (the folder is in use by another
 *   runtime, or its registry file is corrupt or not lambdalet's; the file is left unchanged),
 *   ClusterError (`unreachable`: the cluster's Redis did not answer; `version`: the cluster runs
 *   another lambdalet version).
 */
export async function createRuntime(options?: RuntimeOptionsInput): Promise<Runtime> {
  const parsed = parseRuntimeOptions(options);
  const member =
    parsed.cluster === undefined ? undefined : await (await import('./cluster/member.ts')).ClusterMember.join(parsed.cluster, parsed.concurrency);
  const store = parsed.dataDir === undefined ? undefined : SqliteRegistryStore.open(parsed.dataDir);
  let events: EventQueueBackend | undefined;
  try {
    events = parsed.dataDir === undefined || parsed.eventQueue !== undefined ? undefined : SqliteEventQueue.open(parsed.dataDir);
    // A cluster member's asynchronous events live in the cluster's BullMQ queues.
    if (member !== undefined && parsed.eventQueue === undefined) events = member.events;
  } catch (error) {
    store?.close();
    throw error;
  }
  const runtime = new Runtime(parsed, store, events, member);
  try {
    await runtime.restore();
  } catch (error) {
    await runtime.close();
    throw error;
  }
  return runtime;
}
