/**
 * Deploying a function ($LATEST): bundle its code, prepare its engine, take its SnapStart
 * snapshot, then install the new Deployment in the registry and the dispatcher.
 *
 * Contract: `deployFunction` is called inside `FunctionRegistry.serialise(name)`, so two deploys of
 * one function never overlap. Problems in the user's code (syntax error, missing module or
 * handler) are not thrown: they become the Deployment's INIT failure, answered by every invoke.
 * Thrown: EngineUnavailableError, InvalidParameterValueException (reservations),
 * SnapStartException (INIT failed at deploy: the previous Deployment stays), RuntimeClosedError.
 */
import { bundleFunction } from '../code/index.ts';
import { componentBundle } from '../engines/wasm/component-bundle.ts';
import type { FunctionConfig, RuntimeOptions } from '../config/index.ts';
import type { Dispatcher } from '../dispatch/index.ts';
import type { ExecutionEnvironment } from '../environment/environment.ts';
import { FunctionSnapStart, type SnapStartInfo } from '../environment/snap-start.ts';
import { functionIdentity, type FunctionIdentity } from '../environment/lambda-env.ts';
import type { EngineRegistry } from '../engines/registry.ts';
import { SnapStartException } from '../errors.ts';
import type { LogSink } from '../observability/log-sink.ts';
import { bootAndInit, environmentDeps, poolConfig, type Deployment, type Prepared } from './deployment.ts';
import type { FunctionRegistry } from './registry.ts';

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

/** What a deploy needs from the runtime that owns the registry. */
export interface DeployContext {
  readonly options: RuntimeOptions;
  readonly sink: LogSink;
  readonly engines: EngineRegistry;
  readonly dispatcher: Dispatcher<ExecutionEnvironment, Deployment>;
  readonly registry: FunctionRegistry;
  /** Throws RuntimeClosedError once the runtime is closing. */
  assertOpen(): void;
  isClosing(): boolean;
}

export async function deployFunction(ctx: DeployContext, config: FunctionConfig): Promise<FunctionInfo> {
  const engine = ctx.engines.get(config.engine);
  engine.assertAvailable();
  // Reservations are checked again when the pool is configured; this only fails fast.
  ctx.dispatcher.check(config.name, poolConfig(config));
  const outcome =
    'component' in config.code
      ? { ok: true as const, bundle: await componentBundle(config.code.component, config.handler) }
      : await bundleFunction(config.code, config.handler);
  const prepared: Prepared = outcome.ok
    ? { ok: true, bundle: outcome.bundle, blueprint: await engine.prepare(outcome.bundle, { memoryMb: config.memoryMb }) }
    : { ok: false, failure: outcome.failure };
  ctx.assertOpen();
  const identity = functionIdentity(ctx.options.region, ctx.options.accountId, config.name);
  const snapStart = config.snapStart ? await takeSnapshot(ctx, config, identity, prepared) : undefined;
  if (ctx.isClosing()) {
    snapStart?.dispose();
    ctx.assertOpen();
  }
  const deployment: Deployment = { config, identity, prepared, ...(snapStart ? { snapStart } : {}) };
  // Idle environments of the previous deploy are disposed; busy ones when their invocation ends.
  const pool = ctx.dispatcher.configure(config.name, poolConfig(config), deployment);
  ctx.registry.get(config.name)?.snapStart?.dispose();
  ctx.registry.set({ ...deployment, pool });
  if (prepared.ok && config.provisionedConcurrency > 0) {
    await ctx.dispatcher.provision(pool, () => bootAndInit(deployment, ctx.sink));
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
async function takeSnapshot(ctx: DeployContext, config: FunctionConfig, identity: FunctionIdentity, prepared: Prepared): Promise<FunctionSnapStart> {
  if (!prepared.ok) {
    const { errorType, errorMessage, trace } = prepared.failure;
    throw new SnapStartException(`SnapStart: INIT of ${config.name} failed at deploy`, { errorType, errorMessage, trace });
  }
  const limitMs = Math.max(ctx.options.snapStartInitTimeoutMs, config.timeoutMs);
  return FunctionSnapStart.create(environmentDeps({ config, identity, prepared }, ctx.sink, 'snap-start'), limitMs);
}
