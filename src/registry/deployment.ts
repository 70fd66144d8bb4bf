/**
 * What one deploy of a function made, and how execution environments are made from it. A
 * Deployment is immutable: a redeploy makes a new one, and every environment remembers the
 * Deployment that booted it (the dispatcher's pool generation), so an environment of old code
 * finishes its invocation on old code.
 */
import type { FunctionBundle, InitFailure } from '../code/types.ts';
import type { FunctionConfig } from '../config/index.ts';
import type { FunctionPool, Lease, PoolConfig } from '../dispatch/index.ts';
import type { Blueprint } from '../engines/engine.ts';
import { ExecutionEnvironment, type EnvironmentDeps, type HostEnvironment, type PhaseLimits } from '../environment/environment.ts';
import type { FunctionSnapStart } from '../environment/snap-start.ts';
import type { FunctionIdentity } from '../environment/lambda-env.ts';
import type { LogSink } from '../observability/log-sink.ts';

/** The bundled code and its engine blueprint, or the INIT error bundling found. */
export type Prepared =
  | { readonly ok: true; readonly bundle: FunctionBundle; readonly blueprint: Blueprint }
  | { readonly ok: false; readonly failure: InitFailure };

/** What one deploy of a function made; environments remember the deploy that booted them. */
export interface Deployment {
  readonly config: FunctionConfig;
  readonly identity: FunctionIdentity;
  readonly prepared: Prepared;
  /** With `snapStart`: the function's snapshot (or its pre-initialised environments). */
  readonly snapStart?: FunctionSnapStart;
  /** /opt's files: the function's layers merged in order. Absent without layers. */
  readonly opt?: Readonly<Record<string, Uint8Array>>;
  /** INIT's and the restore phase's limits, from the runtime options. Default: Lambda's 10 s each. */
  readonly phaseLimits?: PhaseLimits;
  /** The runtime's host variables (AWS_ENDPOINT_URL_LAMBDA while it serves). */
  readonly hostEnv?: HostEnvironment;
}

/** One deployed function ($LATEST) and its pool of environments (in the dispatcher). */
export interface DeployedFunction extends Deployment {
  readonly pool: FunctionPool<ExecutionEnvironment, Deployment>;
}

/** A dispatcher lease: one environment (or a slot for a new one) of one Deployment. */
export type EnvironmentLease = Lease<ExecutionEnvironment, Deployment>;

export type InitializationType = EnvironmentDeps['initializationType'];

/** What an environment of `deployment` needs to boot. Throws if the code failed to bundle (a bug). */
export function environmentDeps(deployment: Deployment, sink: LogSink, initializationType: InitializationType): EnvironmentDeps {
  const { config, identity, prepared, opt, phaseLimits, hostEnv } = deployment;
  if (!prepared.ok) throw new Error('lambdalet bug: booting a function whose code failed to bundle');
  return { config, bundle: prepared.bundle, blueprint: prepared.blueprint, identity, sink, initializationType, opt, phaseLimits, hostEnv };
}

/** Boots a new environment of `deployment` (no INIT yet). */
export function bootEnvironment(deployment: Deployment, sink: LogSink, initializationType: 'on-demand' | 'provisioned-concurrency'): Promise<ExecutionEnvironment> {
  return ExecutionEnvironment.boot(environmentDeps(deployment, sink, initializationType));
}

/** A provisioned environment: booted and through INIT before any invoke (dead if INIT failed). */
export async function bootAndInit(deployment: Deployment, sink: LogSink): Promise<ExecutionEnvironment> {
  const env = await bootEnvironment(deployment, sink, 'provisioned-concurrency');
  await env.init();
  return env;
}

/** The dispatcher's view of a function's configuration. */
export function poolConfig(config: FunctionConfig): PoolConfig {
  return {
    memoryMb: config.memoryMb,
    reservedConcurrency: config.reservedConcurrency,
    provisionedConcurrency: config.provisionedConcurrency,
    perTenant: config.tenancy !== undefined,
  };
}
