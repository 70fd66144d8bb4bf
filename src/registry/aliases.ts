/**
 * Aliases: createAlias, updateAlias, deleteAlias, getAlias, listAliases, and the weighted pick
 * an invocation through an alias makes.
 *
 * Lambda's rules kept here: a taken alias name is ResourceConflictException; an unknown version
 * or alias is ResourceNotFoundException; alias names are never numbers or `$LATEST`; a routing
 * config has at most one additional version, with a weight in [0, 1], never the primary version
 * and never on an alias of `$LATEST`; a stale `revisionId` is PreconditionFailedException.
 * Moving an alias changes nothing for invocations already admitted: they hold the version they
 * resolved, and that version's environments keep serving them.
 */
import { randomUUID } from 'node:crypto';
import { checkAliasName, LATEST_VERSION, parseAliasInput, type AliasInput, type AliasOptions } from '../config/index.ts';
import { InvalidParameterValueException, ResourceConflictException, ResourceNotFoundException } from '../errors.ts';
import { optimistic } from './commit.ts';
import type { DeployContext } from './deploy.ts';
import { reallocate } from './provisioned.ts';
import { checkRevision, existing } from './functions.ts';
import { aliasInfo, type AliasInfo } from './info.ts';
import { functionArn, functionNotFound } from './names.ts';
import type { AliasRecord, FunctionEntry, VersionRecord } from './records.ts';
import type { WriteCondition } from './store.ts';

export async function createAlias(ctx: DeployContext, name: string, aliasName: string, input: AliasInput): Promise<AliasInfo> {
  ctx.assertOpen();
  const { name: fn } = existing(ctx, name);
  checkAliasName(aliasName);
  const options = parseAliasInput(input);
  const functionVersion = options.functionVersion;
  if (functionVersion === undefined) {
    throw new InvalidParameterValueException('functionVersion', 'Expected `functionVersion` to be a published version number or `$LATEST`, got `undefined`');
  }
  // Written only if no other member created the alias meanwhile (commit.ts): then it is taken.
  return ctx.registry.serialise(fn, () =>
    optimistic(ctx, fn, async () => {
      const entry = existing(ctx, fn);
      if (entry.aliases.has(aliasName)) {
        throw new ResourceConflictException(`Alias already exists: ${functionArn(ctx.options, entry.name, aliasName)}`);
      }
      const alias = makeAlias(ctx, entry, aliasName, options, functionVersion, options.description ?? '');
      persistAlias(ctx, entry, alias, { replaces: null });
      entry.aliases.set(aliasName, alias);
      return aliasInfo(alias);
    }),
  );
}

/**
 * Changes an alias's version, description or routing config; fields left out stay. `routingConfig: null` removes the routing.
 * With `revisionId`, only if the alias still has it (PreconditionFailedException), checked atomically in the store.
 */
export async function updateAlias(ctx: DeployContext, name: string, aliasName: string, input: AliasInput): Promise<AliasInfo> {
  ctx.assertOpen();
  const { name: fn } = existing(ctx, name);
  const options = parseAliasInput(input);
  checkRevision(aliasOf(ctx, existing(ctx, fn), aliasName), options.revisionId);
  return ctx.registry.serialise(fn, () =>
    optimistic(ctx, fn, async () => {
      const entry = existing(ctx, fn);
      const current = aliasOf(ctx, entry, aliasName);
      checkRevision(current, options.revisionId);
      const routing: AliasOptions['routingConfig'] =
        options.routingConfig !== undefined
          ? options.routingConfig
          : current.additionalVersion !== undefined
            ? { additionalVersionWeights: { [current.additionalVersion]: current.additionalWeight } }
            : undefined;
      const alias = makeAlias(
        ctx,
        entry,
        aliasName,
        { ...options, routingConfig: routing },
        options.functionVersion ?? current.functionVersion,
        options.description ?? current.description,
        current.counters,
      );
      persistAlias(ctx, entry, alias, { replaces: current.revisionId });
      entry.aliases.set(aliasName, alias);
      const moved =
        alias.functionVersion !== current.functionVersion || alias.additionalVersion !== current.additionalVersion || alias.additionalWeight !== current.additionalWeight;
      if (entry.provisioned.has(aliasName) && moved) followProvisioned(ctx, entry);
      return aliasInfo(alias);
    }),
  );
}

/**
 * An alias's provisioned concurrency follows it to its new version or weights, in the background
 * (the move itself is immediate, as on Lambda, where the allocation then takes a while).
 */
function followProvisioned(ctx: DeployContext, entry: FunctionEntry): void {
  // Failures (no room in the memory budget, say) leave the old allocation; the next change retries.
  ctx.registry.serialise(entry.name, () => reallocate(ctx, entry)).catch(() => undefined);
}

/** Lambda's DeleteAlias takes no RevisionId: the delete is unconditional. */
export async function deleteAlias(ctx: DeployContext, name: string, aliasName: string): Promise<void> {
  ctx.assertOpen();
  const { name: fn } = existing(ctx, name);
  aliasOf(ctx, existing(ctx, fn), aliasName);
  await ctx.registry.serialise(fn, async () => {
    const entry = existing(ctx, fn);
    aliasOf(ctx, entry, aliasName);
    ctx.store?.deleteAlias(entry.name, aliasName);
    entry.aliases.delete(aliasName);
    if (entry.provisioned.delete(aliasName)) followProvisioned(ctx, entry);
  });
}

export function getAlias(ctx: DeployContext, name: string, aliasName: string): AliasInfo {
  return aliasInfo(aliasOf(ctx, existing(ctx, name), aliasName));
}

/** Every alias of the function, in creation order; with `functionVersion`, only those that route to it. */
export function listAliases(ctx: DeployContext, name: string, options: { readonly functionVersion?: string } = {}): AliasInfo[] {
  const entry = existing(ctx, name);
  const wanted = options.functionVersion;
  return [...entry.aliases.values()]
    .filter((alias) => wanted === undefined || alias.functionVersion === wanted || alias.additionalVersion === wanted)
    .map(aliasInfo);
}

/**
 * The version an invocation through `alias` runs: the additional version with its weight's
 * probability, else the primary one. `random` is the runtime's (reproducible in tests).
 */
export function pickVersion(entry: FunctionEntry, alias: AliasRecord, random: () => number): VersionRecord | undefined {
  const version = alias.additionalVersion !== undefined && random() < alias.additionalWeight ? alias.additionalVersion : alias.functionVersion;
  return version === LATEST_VERSION ? entry.latest : entry.versions.get(version);
}

function persistAlias(ctx: DeployContext, entry: FunctionEntry, alias: AliasRecord, condition: WriteCondition): void {
  ctx.store?.putAlias(entry.name, {
    alias: alias.name,
    functionVersion: alias.functionVersion,
    description: alias.description,
    additionalVersion: alias.additionalVersion,
    additionalWeight: alias.additionalWeight,
    revisionId: alias.revisionId,
  }, condition);
}

function aliasOf(ctx: DeployContext, entry: FunctionEntry, aliasName: string): AliasRecord {
  const alias = entry.aliases.get(aliasName);
  // Lambda's words (GetAlias, UpdateAlias, DeleteAlias): tools match on them — Terraform's
  // aws_lambda_alias read treats "Cannot find alias arn" as the alias having been deleted.
  if (!alias) throw new ResourceNotFoundException(`Cannot find alias arn: ${functionArn(ctx.options, entry.name, aliasName)}`);
  return alias;
}

export function makeAlias(
  ctx: DeployContext,
  entry: FunctionEntry,
  aliasName: string,
  options: AliasOptions,
  functionVersion: string,
  description: string,
  counters: AliasRecord['counters'] = { invocations: 0, errors: 0, byVersion: new Map() },
  revisionId: string = randomUUID(),
): AliasRecord {
  checkVersionExists(ctx, entry, functionVersion);
  const weights = Object.entries(options.routingConfig?.additionalVersionWeights ?? {});
  const [additional] = weights;
  if (additional !== undefined) {
    const [version] = additional;
    if (functionVersion === LATEST_VERSION) {
      // Lambda's words (CreateAlias/UpdateAlias with a routing config on $LATEST).
      throw new InvalidParameterValueException('routingConfig', '$LATEST is not supported for an alias pointing to more than 1 version');
    }
    if (version === functionVersion) {
      throw new InvalidParameterValueException(
        `routingConfig.additionalVersionWeights.${version}`,
        `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
      );
    }
    checkVersionExists(ctx, entry, version);
  }
  return Object.freeze({
    name: aliasName,
    aliasArn: functionArn(ctx.options, entry.name, aliasName),
    functionVersion,
    description,
    additionalVersion: additional?.[0],
    additionalWeight: additional?.[1] ?? 0,
    revisionId,
    counters,
  });
}

function checkVersionExists(ctx: DeployContext, entry: FunctionEntry, version: string): void {
  if (version !== LATEST_VERSION && !entry.versions.has(version)) throw functionNotFound(ctx.options, entry.name, version);
}
