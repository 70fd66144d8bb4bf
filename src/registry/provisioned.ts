/**
 * Provisioned concurrency on published versions and aliases (Lambda's
 * PutProvisionedConcurrencyConfig / GetProvisionedConcurrencyConfig /
 * DeleteProvisionedConcurrencyConfig). Never on `$LATEST`: "Provisioned Concurrency Configs cannot
 * be applied to unpublished function versions" (InvalidParameterValueException).
 *
 * A version's pool gets the sum of what is configured on the version and on the aliases routing to
 * it. An alias with a weighted second version splits its share by the weight (Lambda's API
 * reference, AllocatedProvisionedConcurrentExecutions: "When a weighted alias is used during
 * linear and canary deployments, this value fluctuates depending on the amount of concurrency that
 * is provisioned for the function versions"): round(n × weight) to the second version, the rest to
 * the primary one. Changing a version's sum starts a new generation of its pool (dispatch/: idle
 * environments of the version are replaced, busy ones finish).
 *
 * As on Lambda the put answers at once with status IN_PROGRESS (HTTP 202) and the environments
 * boot and run INIT in the background; GetProvisionedConcurrencyConfig says IN_PROGRESS until they
 * are all ready, then READY, or FAILED when an INIT failed (those are not retried). When they are
 * busy, invocations spill over to on-demand environments (dispatch/). Configs are kept in the
 * durable store and allocated again when a runtime opens it.
 */
import { CONCURRENCY_MAX, LATEST_VERSION, describeValue } from '../config/index.ts';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException } from '../errors.ts';
import { poolKey, versionPoolConfig, type DeployContext } from './deploy.ts';
import { bootAndInit } from './deployment.ts';
import { existing, updateInProgress } from './functions.ts';
import { functionArn, functionNotFound } from './names.ts';
import type { FunctionEntry, VersionRecord } from './records.ts';

/** Lambda's ProvisionedConcurrencyConfig response, camelCase. */
export interface ProvisionedConcurrencyInfo {
  readonly requestedProvisionedConcurrentExecutions: number;
  /** Environments booted and through INIT for this config (all of them once READY). */
  readonly allocatedProvisionedConcurrentExecutions: number;
  readonly status: 'IN_PROGRESS' | 'READY' | 'FAILED';
  /** With FAILED: why (an INIT failed). */
  readonly statusReason?: string;
  /** ISO 8601: when the config was last put. */
  readonly lastModified: string;
}

/** Lambda's words for an allocation whose INIT failed (its FUNCTION_ERROR_INIT_FAILURE reason). */
const INIT_FAILURE = 'FUNCTION_ERROR_INIT_FAILURE';

export async function putProvisionedConcurrencyConfig(
  ctx: DeployContext,
  name: string,
  qualifier: string,
  input: { readonly provisionedConcurrentExecutions: number },
): Promise<ProvisionedConcurrencyInfo> {
  ctx.assertOpen();
  const entry = existing(ctx, name);
  const n = (input as { provisionedConcurrentExecutions?: unknown } | undefined)?.provisionedConcurrentExecutions;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > CONCURRENCY_MAX) {
    throw new InvalidParameterValueException(
      'provisionedConcurrentExecutions',
      `Expected \`provisionedConcurrentExecutions\` to be an integer from 1 to ${CONCURRENCY_MAX}, got ${describeValue(n)}`,
    );
  }
  checkQualifier(ctx, entry, qualifier);
  checkNotBoth(entry, qualifier);
  if (ctx.registry.changing(entry.name)) throw updateInProgress(ctx, entry.name);
  return ctx.registry.serialise(entry.name, () => {
    const previous = entry.provisioned.get(qualifier);
    const config = { n, lastModified: new Date().toISOString() };
    entry.provisioned.set(qualifier, config);
    try {
      // Boots run on in the background (the dispatcher's close waits for them); failures show as FAILED.
      reallocate(ctx, entry).catch(() => undefined);
    } catch (error) {
      if (previous === undefined) entry.provisioned.delete(qualifier);
      else entry.provisioned.set(qualifier, previous);
      // Each pool is checked alone before any changes; two pools of one weighted alias may pass
      // alone and fail together, after the first was configured: give every pool its old share back.
      try {
        reallocate(ctx, entry).catch(() => undefined);
      } catch {
        // The previous allocation fitted before; nothing more to undo.
      }
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    ctx.store?.putProvisionedConfig(entry.name, qualifier, config);
    return Promise.resolve(infoOf(entry, qualifier));
  });
}

/** The config on `qualifier` and how far its allocation got. @throws ResourceNotFoundException when there is none. */
export function getProvisionedConcurrencyConfig(ctx: DeployContext, name: string, qualifier: string): ProvisionedConcurrencyInfo {
  const entry = existing(ctx, name);
  checkQualifier(ctx, entry, qualifier);
  if (!entry.provisioned.has(qualifier)) {
    throw new ResourceNotFoundException(`No Provisioned Concurrency Config found for this function: ${functionArn(ctx.options, entry.name, qualifier)}`);
  }
  return infoOf(entry, qualifier);
}

export async function deleteProvisionedConcurrencyConfig(ctx: DeployContext, name: string, qualifier: string): Promise<void> {
  getProvisionedConcurrencyConfig(ctx, name, qualifier);
  const entry = existing(ctx, name);
  await ctx.registry.serialise(entry.name, () => {
    entry.provisioned.delete(qualifier);
    ctx.store?.putProvisionedConfig(entry.name, qualifier, undefined);
    return reallocate(ctx, entry);
  });
}

/** How many provisioned environments each published version should have, from every config. */
export function wantedByVersion(entry: FunctionEntry): Map<string, number> {
  const wanted = new Map<string, number>();
  const add = (version: string, n: number): void => {
    if (version !== LATEST_VERSION && n > 0) wanted.set(version, (wanted.get(version) ?? 0) + n);
  };
  for (const [qualifier, { n }] of entry.provisioned) {
    if (entry.versions.has(qualifier)) {
      add(qualifier, n);
      continue;
    }
    const alias = entry.aliases.get(qualifier);
    if (alias === undefined) continue;
    const second = alias.additionalVersion === undefined ? 0 : Math.round(n * alias.additionalWeight);
    add(alias.functionVersion, n - second);
    if (alias.additionalVersion !== undefined) add(alias.additionalVersion, second);
  }
  return wanted;
}

/**
 * Gives every published version's pool its share: every pool that changes is configured first
 * (synchronously: a limit that fails throws here and changes nothing), then the missing
 * environments boot in the background; the promise settles when they are booted. Called after
 * puts, deletes, alias moves and restores.
 * @throws InvalidParameterValueException (account or reservation limits, memory budget).
 */
export function reallocate(ctx: DeployContext, entry: FunctionEntry): Promise<void> {
  const wanted = wantedByVersion(entry);
  const changed: VersionRecord[] = [];
  for (const record of entry.versions.values()) {
    const n = wanted.get(record.version) ?? 0;
    if (record.pool.config.provisionedConcurrency === n) continue;
    ctx.dispatcher.check(poolKey(entry.name, record.version), versionPoolConfig(record.config, n));
    changed.push(record);
  }
  const boots: Promise<void>[] = [];
  for (const record of changed) {
    const n = wanted.get(record.version) ?? 0;
    const pool = ctx.dispatcher.configure(poolKey(entry.name, record.version), versionPoolConfig(record.config, n), record);
    if (n > 0 && record.prepared.ok) boots.push(ctx.dispatcher.provision(pool, () => bootAndInit(record, ctx.sink)));
  }
  return Promise.all(boots).then(() => undefined);
}

function infoOf(entry: FunctionEntry, qualifier: string): ProvisionedConcurrencyInfo {
  const { n, lastModified } = entry.provisioned.get(qualifier)!;
  const alias = entry.aliases.get(qualifier);
  const versions = alias ? [alias.functionVersion, ...(alias.additionalVersion === undefined ? [] : [alias.additionalVersion])] : [qualifier];
  let ready = 0;
  let status: ProvisionedConcurrencyInfo['status'] = 'READY';
  for (const version of versions) {
    const record = entry.versions.get(version);
    if (record === undefined) continue;
    const pool = record.pool;
    let live = pool.provisionedIdle.length;
    for (const lease of pool.busy) if (lease.provisioned && lease.generation === pool.generation) live += 1;
    ready += live;
    const booting = pool.provisionedLive - live;
    if (live >= pool.config.provisionedConcurrency) continue;
    // Fewer than wanted and nothing booting: an INIT failed (or the code failed to bundle).
    if (booting <= 0 || !record.prepared.ok) status = 'FAILED';
    else if (status === 'READY') status = 'IN_PROGRESS';
  }
  return Object.freeze({
    requestedProvisionedConcurrentExecutions: n,
    allocatedProvisionedConcurrentExecutions: status === 'READY' ? n : Math.min(n, ready),
    status,
    ...(status === 'FAILED' ? { statusReason: INIT_FAILURE } : {}),
    lastModified,
  });
}

function checkQualifier(ctx: DeployContext, entry: FunctionEntry, qualifier: string): void {
  // Lambda's words (InvalidParameterValueException), for $LATEST and for an alias of it.
  const unpublished = (): InvalidParameterValueException =>
    new InvalidParameterValueException('qualifier', 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
  if (qualifier === LATEST_VERSION) throw unpublished();
  const alias = entry.aliases.get(qualifier);
  const record = alias ? entry.versions.get(alias.functionVersion) : entry.versions.get(qualifier);
  if (alias?.functionVersion === LATEST_VERSION) throw unpublished();
  if (record === undefined) throw functionNotFound(ctx.options, entry.name, qualifier);
  // Lambda: "You can't use SnapStart and provisioned concurrency on the same function version";
  // provisioned concurrency is not supported with tenant isolation (tenant-isolation.html).
  if (record.config.snapStart) {
    throw new InvalidParameterValueException('qualifier', `Provisioned concurrency cannot be configured on version ${record.version}: it has SnapStart (the two cannot be combined)`);
  }
  if (record.config.tenancy !== undefined) {
    throw new InvalidParameterValueException('qualifier', `Provisioned concurrency cannot be configured on version ${record.version}: tenant isolation and provisioned concurrency cannot be combined`);
  }
}

/**
 * Lambda's rule (LocalStack's AWS-validated provider): a version has its config or is reached by
 * aliases' configs, not both. @throws ResourceConflictException with Lambda's words.
 */
export function checkNotBoth(entry: FunctionEntry, qualifier: string): void {
  const alias = entry.aliases.get(qualifier);
  if (alias !== undefined) {
    if (entry.provisioned.has(alias.functionVersion)) {
      throw new ResourceConflictException("Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version");
    }
    return;
  }
  for (const other of entry.aliases.values()) {
    if (other.functionVersion === qualifier && entry.provisioned.has(other.name)) {
      throw new ResourceConflictException('Version is pointed by a Provisioned Concurrency alias');
    }
  }
}
