/**
 * Making a version's Deployment (bundle → engine blueprint → SnapStart snapshot) and installing
 * it: the one path behind deploy, updateFunctionCode, updateFunctionConfiguration and
 * publishVersion.
 *
 * Contract: callers run inside `FunctionRegistry.serialise(name)`, so two changes of one function
 * never overlap. Problems in the user's code (syntax error, missing module or handler) are not
 * thrown: they become the Deployment's INIT failure, answered by every invoke. Thrown:
 * EngineUnavailableError, InvalidParameterValueException (reservations, unreadable code),
 * SnapStartException (INIT failed at deploy: the previous Deployment stays), RuntimeClosedError.
 */
import { randomUUID } from 'node:crypto';
import { bundleFunction } from '../code/index.ts';
import { wasmBundle } from '../engines/wasm/component-bundle.ts';
import { LATEST_VERSION, type FunctionConfig, type RuntimeOptions } from '../config/index.ts';
import type { Dispatcher, PoolConfig } from '../dispatch/index.ts';
import type { ExecutionEnvironment, HostEnvironment } from '../environment/environment.ts';
import { FunctionSnapStart } from '../environment/snap-start.ts';
import { functionIdentity, type FunctionIdentity } from '../environment/lambda-env.ts';
import type { EngineRegistry } from '../engines/registry.ts';
import { InvalidParameterValueException, SnapStartException } from '../errors.ts';
import type { LogSink } from '../observability/log-sink.ts';
import { environmentDeps, poolConfig, type Deployment, type Prepared } from './deployment.ts';
import { checkCodeSignature } from './signing.ts';
import { checkCombinedSize, layersOf, materialiseOpt, mergeLayers, unzippedSize, type LayerRegistry } from './layers.ts';
import { packageOf, sha256Hex, type CodePackage } from './package.ts';
import { configFingerprint, FunctionEntry, type VersionRecord } from './records.ts';
import type { FunctionRegistry } from './registry.ts';
import { configJson, type RegistryStore, type WriteCondition } from './store.ts';

/** What a deploy needs from the runtime that owns the registry. */
export interface DeployContext {
  readonly options: RuntimeOptions;
  readonly sink: LogSink;
  readonly engines: EngineRegistry;
  readonly dispatcher: Dispatcher<ExecutionEnvironment, Deployment>;
  readonly registry: FunctionRegistry;
  /** Every published layer version. */
  readonly layers: LayerRegistry;
  /** The durable store (`dataDir`), or undefined for a registry in memory. */
  readonly store: RegistryStore | undefined;
  /** Throws RuntimeClosedError once the runtime is closing. */
  assertOpen(): void;
  isClosing(): boolean;
  /** The runtime's host variables, shared by every deployment (AWS_ENDPOINT_URL_LAMBDA while it serves). */
  readonly hostEnv?: HostEnvironment;
}

/** The dispatcher's key for a version's pool: the name for `$LATEST`, `name:version` otherwise. */
export function poolKey(name: string, version: string): string {
  return version === LATEST_VERSION ? name : `${name}:${version}`;
}

/** A published version's pool: no reservation of its own (see docs/architecture.md), provisioned as configured on it. */
export function versionPoolConfig(config: FunctionConfig, provisionedConcurrency: number): PoolConfig {
  return { memoryMb: config.memoryMb, reservedConcurrency: undefined, provisionedConcurrency, perTenant: config.tenancy !== undefined };
}

/**
 * Bundles `config.code` (or reuses `reuse`, for a version published from `$LATEST`) and prepares
 * the engine. With `cache` (a restore), one preparation serves every version with the same
 * package, handler, engine and memory size.
 */
export async function prepareDeployment(
  ctx: DeployContext,
  config: FunctionConfig,
  version: string,
  reuse?: Prepared,
  cache?: Map<string, Prepared>,
): Promise<{ deployment: Deployment; package: CodePackage }> {
  const engine = ctx.engines.get(config.engine);
  engine.assertAvailable();
  // A deleted layer version stays usable by the functions that had it (Lambda keeps a copy for
  // them): a restore, a version published from $LATEST, and a change of a $LATEST that used it.
  const keep = reuse !== undefined || cache !== undefined ? 'all' : new Set(ctx.registry.get(config.name)?.latest.config.layers ?? []);
  const layers = layersOf(ctx.layers, config, keep);
  // Packaged after bundling otherwise, so bundling's own messages about unreadable code come first.
  let pkg = cache || layers.length > 0 || config.codeSigning ? await packageOf(config.code) : undefined;
  // A version published from $LATEST (reuse) or restored was checked when its code was deployed.
  if (pkg && reuse === undefined && cache === undefined) {
    const arn = functionIdentity(ctx.options.region, ctx.options.accountId, config.name).functionArn;
    checkCodeSignature(
      config,
      [
        { sha256: pkg.sha256, codeSignature: config.codeSignature, label: `code ${pkg.sha256} of ${arn}` },
        ...layers.map((layer) => ({ sha256: layer.info.codeSha256, codeSignature: layer.info.codeSignature, label: `layer ${layer.info.layerVersionArn} (${layer.info.codeSha256})` })),
      ],
      ctx.sink,
    );
  }
  if (pkg && layers.length > 0) checkCombinedSize(unzippedSize(pkg), layers.map((layer) => layer.info.unzippedSize));
  const opt = layers.length > 0 ? mergeLayers(layers) : undefined;
  const key = pkg && `${pkg.sha256}\n${config.handler}\n${config.engine}\n${config.memoryMb}`;
  let prepared = reuse ?? (key === undefined ? undefined : cache?.get(key));
  if (prepared === undefined) {
    // Layers' node_modules resolve bare imports, as NODE_PATH makes them on Lambda.
    const optDir = opt && config.engine !== 'wasm' ? await materialiseOpt(opt, config.runtime) : undefined;
    try {
      const outcome =
        config.engine === 'wasm'
          ? { ok: true as const, bundle: await wasmBundle(config.code, config.handler) }
          : await bundleFunction(config.code, config.handler, undefined, optDir ? { nodePaths: optDir.nodePaths, optRoot: optDir.root } : undefined);
      prepared = outcome.ok
        ? { ok: true, bundle: outcome.bundle, blueprint: await engine.prepare(outcome.bundle, { memoryMb: config.memoryMb }) }
        : { ok: false, failure: outcome.failure };
    } finally {
      await optDir?.dispose();
    }
    if (key !== undefined) cache?.set(key, prepared);
  }
  pkg ??= await packageOf(config.code);
  ctx.assertOpen();
  const identity = functionIdentity(ctx.options.region, ctx.options.accountId, config.name, version);
  const phaseLimits = { initMs: ctx.options.initTimeoutMs, restoreMs: ctx.options.restoreTimeoutMs };
  const snapStart = config.snapStart ? await takeSnapshot(ctx, config, identity, prepared, opt, phaseLimits) : undefined;
  if (ctx.isClosing()) {
    snapStart?.dispose();
    ctx.assertOpen();
  }
  return { deployment: { config, identity, prepared, phaseLimits, ...(opt ? { opt } : {}), ...(snapStart ? { snapStart } : {}), ...(ctx.hostEnv ? { hostEnv: ctx.hostEnv } : {}) }, package: pkg };
}

/**
 * Creates the function or replaces its `$LATEST` with `config`'s code and configuration.
 * Idle environments of the previous `$LATEST` are disposed; busy ones when their invocation ends.
 * `condition`: the store keeps the new record only if it holds (an update's optimistic
 * concurrency, commit.ts); a deploy replaces whatever is stored.
 */
export async function deployLatest(ctx: DeployContext, config: FunctionConfig, condition?: WriteCondition): Promise<VersionRecord> {
  checkTenancyUnchanged(ctx.registry.get(config.name)?.latest.config, config);
  if (config.provisionedConcurrency > 0) {
    // Lambda's words: provisioned concurrency goes on a published version or an alias
    // (rt.putProvisionedConcurrencyConfig), never on $LATEST.
    throw new InvalidParameterValueException('provisionedConcurrency', 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
  }
  // Checked before any work: a config the store cannot keep is refused, not half-kept.
  const json = ctx.store ? configJson(config, ctx.options.hooks) : undefined;
  // Reservations are checked again when the pool is configured; this only fails fast.
  ctx.dispatcher.check(config.name, poolConfig(config));
  const { deployment, package: pkg } = await prepareDeployment(ctx, config, LATEST_VERSION);
  const pool = ctx.dispatcher.configure(config.name, poolConfig(config), deployment);
  const record = versionRecord(deployment, pool, pkg, LATEST_VERSION);
  let entry = ctx.registry.get(config.name);
  if (entry) {
    entry.latest.snapStart?.dispose();
    entry.latest = record;
  } else {
    entry = new FunctionEntry(record);
    ctx.registry.add(entry);
  }
  if (json !== undefined) persistVersion(ctx, entry, record, json, condition);
  return record;
}

/**
 * Lambda: "Tenant isolation configuration cannot be modified after function creation" (API
 * reference, TenancyConfig): a redeploy keeps the function's tenancy.
 * @throws InvalidParameterValueException naming `tenancy`.
 */
function checkTenancyUnchanged(previous: FunctionConfig | undefined, config: FunctionConfig): void {
  if (previous === undefined) return;
  const before = previous.tenancy?.isolationMode;
  const after = config.tenancy?.isolationMode;
  if (before === after) return;
  const show = (mode: string | undefined): string => (mode === undefined ? 'none' : `{ isolationMode: '${mode}' }`);
  throw new InvalidParameterValueException(
    'tenancy',
    `Expected \`tenancy\` to stay ${show(before)}: tenant isolation configuration cannot be modified after function creation, got ${show(after)}`,
  );
}

/** Writes a version's record to the durable store, if there is one. */
export function persistVersion(ctx: DeployContext, entry: FunctionEntry, record: VersionRecord, json?: string, condition?: WriteCondition): void {
  if (ctx.store === undefined) return;
  json ??= configJson(record.config, ctx.options.hooks);
  ctx.store?.putVersion(entry.name, entry.lastVersion, {
    version: record.version,
    configJson: json,
    package: record.package,
    revisionId: record.revisionId,
    lastModified: record.lastModified,
  }, condition);
}

/** Builds the immutable record of a version from its deployment. */
export function versionRecord(
  deployment: Deployment,
  pool: VersionRecord['pool'],
  pkg: CodePackage,
  version: string,
  revisionId: string = randomUUID(),
  lastModified: string = new Date().toISOString(),
): VersionRecord {
  const code = deployment.prepared.ok ? deployment.prepared.bundle.hash : sha256Hex(JSON.stringify(deployment.prepared.failure));
  return {
    ...deployment,
    pool,
    version,
    qualifiedArn: `${deployment.identity.functionArn}:${version}`,
    package: pkg,
    fingerprint: `${pkg.sha256}\n${code}\n${configFingerprint(deployment.config)}`,
    revisionId,
    lastModified,
  };
}

/**
 * SnapStart at deploy: the template's INIT and snapshot. A failing INIT (a bundling error
 * included) throws SnapStartException: the deploy fails and the previous deployment stays.
 */
async function takeSnapshot(
  ctx: DeployContext,
  config: FunctionConfig,
  identity: FunctionIdentity,
  prepared: Prepared,
  opt: Deployment['opt'],
  phaseLimits: Deployment['phaseLimits'],
): Promise<FunctionSnapStart> {
  if (!prepared.ok) {
    const { errorType, errorMessage, trace } = prepared.failure;
    throw new SnapStartException(`SnapStart: INIT of ${config.name} failed at deploy`, { errorType, errorMessage, trace });
  }
  const limitMs = Math.max(ctx.options.snapStartInitTimeoutMs, config.timeoutMs);
  return FunctionSnapStart.create(environmentDeps({ config, identity, prepared, phaseLimits, ...(opt ? { opt } : {}), ...(ctx.hostEnv ? { hostEnv: ctx.hostEnv } : {}) }, ctx.sink, 'snap-start'), limitMs);
}
