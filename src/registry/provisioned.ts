/**
 * Provisioned concurrency on published versions and aliases (Lambda's
 * PutProvisionedConcurrencyConfig / GetProvisionedConcurrencyConfig /
 * DeleteProvisionedConcurrencyConfig). Never on `$LATEST`: "Provisioned Concurrency Configs cannot
 * be applied to unpublished function versions" (InvalidParameterValueException).
 *
 * A version's pool gets the sum of what is configured on the version and on every alias whose
 * primary version it is (an alias's share follows it when it moves). Changing that sum starts a new
 * generation of the version's pool (dispatch/: idle environments of the version are replaced,
 * busy ones finish) and boots the provisioned environments before the call returns.
 * Known gaps: an alias's weighted second version gets none of the alias's share (Lambda splits it
 * by weight), and these configurations are not kept in the durable store.
 */
import { CONCURRENCY_MAX, LATEST_VERSION, describeValue } from '../config/index.ts';
import { InvalidParameterValueException, ResourceNotFoundException } from '../errors.ts';
import { poolKey, versionPoolConfig, type DeployContext } from './deploy.ts';
import { bootAndInit } from './deployment.ts';
import { existing, updateInProgress } from './functions.ts';
import { functionArn, functionNotFound } from './names.ts';
import type { FunctionEntry } from './records.ts';

export interface ProvisionedConcurrencyInfo {
  readonly requestedProvisionedConcurrentExecutions: number;
  readonly allocatedProvisionedConcurrentExecutions: number;
  readonly status: 'READY';
}

export async function putProvisionedConcurrencyConfig(
  ctx: DeployContext,
  name: string,
  qualifier: string,
  input: { readonly provisionedConcurrentExecutions: number },
): Promise<ProvisionedConcurrencyInfo> {
  ctx.assertOpen();
  const entry = existing(ctx, name);
  const n = input?.provisionedConcurrentExecutions;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > CONCURRENCY_MAX) {
    throw new InvalidParameterValueException(
      'provisionedConcurrentExecutions',
      `Expected \`provisionedConcurrentExecutions\` to be an integer from 1 to ${CONCURRENCY_MAX}, got ${describeValue(n)}`,
    );
  }
  checkQualifier(ctx, entry, qualifier);
  if (ctx.registry.changing(entry.name)) throw updateInProgress(ctx, entry.name);
  return ctx.registry.serialise(entry.name, async () => {
    const previous = entry.provisioned.get(qualifier);
    entry.provisioned.set(qualifier, n);
    try {
      await reallocate(ctx, entry);
    } catch (error) {
      if (previous === undefined) entry.provisioned.delete(qualifier);
      else entry.provisioned.set(qualifier, previous);
      throw error;
    }
    return { requestedProvisionedConcurrentExecutions: n, allocatedProvisionedConcurrentExecutions: n, status: 'READY' };
  });
}

export function getProvisionedConcurrencyConfig(ctx: DeployContext, name: string, qualifier: string): ProvisionedConcurrencyInfo {
  const entry = existing(ctx, name);
  checkQualifier(ctx, entry, qualifier);
  const n = entry.provisioned.get(qualifier);
  if (n === undefined) {
    throw new ResourceNotFoundException(`No Provisioned Concurrency Config found for this function: ${functionArn(ctx.options, entry.name, qualifier)}`);
  }
  return { requestedProvisionedConcurrentExecutions: n, allocatedProvisionedConcurrentExecutions: n, status: 'READY' };
}

export async function deleteProvisionedConcurrencyConfig(ctx: DeployContext, name: string, qualifier: string): Promise<void> {
  getProvisionedConcurrencyConfig(ctx, name, qualifier);
  const entry = existing(ctx, name);
  await ctx.registry.serialise(entry.name, async () => {
    entry.provisioned.delete(qualifier);
    await reallocate(ctx, entry);
  });
}

/** Gives every published version's pool its share; boots what is missing. Called after alias moves too. */
export async function reallocate(ctx: DeployContext, entry: FunctionEntry): Promise<void> {
  const wanted = new Map<string, number>();
  for (const [qualifier, n] of entry.provisioned) {
    const version = entry.versions.has(qualifier) ? qualifier : entry.aliases.get(qualifier)?.functionVersion;
    if (version !== undefined && version !== LATEST_VERSION) wanted.set(version, (wanted.get(version) ?? 0) + n);
  }
  for (const record of entry.versions.values()) {
    const n = wanted.get(record.version) ?? 0;
    if (record.pool.config.provisionedConcurrency === n) continue;
    const pool = ctx.dispatcher.configure(poolKey(entry.name, record.version), versionPoolConfig(record.config, n), record);
    if (n > 0 && record.prepared.ok) await ctx.dispatcher.provision(pool, () => bootAndInit(record, ctx.sink));
  }
}

function checkQualifier(ctx: DeployContext, entry: FunctionEntry, qualifier: string): void {
  if (qualifier === LATEST_VERSION) {
    // Lambda's words.
    throw new InvalidParameterValueException('qualifier', 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
  }
  if (!entry.versions.has(qualifier) && !entry.aliases.has(qualifier)) throw functionNotFound(ctx.options, entry.name, qualifier);
  const alias = entry.aliases.get(qualifier);
  if (alias?.functionVersion === LATEST_VERSION) {
    throw new InvalidParameterValueException('qualifier', 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.');
  }
}
