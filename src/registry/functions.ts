/**
 * Function-level control-plane calls: deploy (create or replace `$LATEST`), updateFunctionCode,
 * updateFunctionConfiguration, getFunction, listFunctions, deleteFunction.
 *
 * Lambda's rules kept here: an update while another update of the same function is in progress
 * is ResourceConflictException (deploy alone waits its turn, as it always has); a stale
 * `revisionId` is PreconditionFailedException; `$LATEST` cannot be deleted on its own; a version
 * an alias points to cannot be deleted.
 */
import type { CodeSource } from '../code/types.ts';
import { LATEST_VERSION, parseFunctionConfig, type FunctionConfig, type FunctionConfigInput } from '../config/index.ts';
import { InvalidParameterValueException, PreconditionFailedException, ResourceConflictException } from '../errors.ts';
import { optimistic, updateInProgress } from './commit.ts';
import { deployLatest, type DeployContext } from './deploy.ts';
import { functionInfo, type FunctionInfo } from './info.ts';
import { functionNotFound, splitFunctionName } from './names.ts';
import type { FunctionEntry, VersionRecord } from './records.ts';

/** Options of updateFunctionCode / updateFunctionConfiguration. */
export interface UpdateOptions {
  /** The revisionId of `$LATEST` this update expects; PreconditionFailedException when it moved on. */
  readonly revisionId?: string;
}

/** Options of updateFunctionCode. */
export interface UpdateCodeOptions extends UpdateOptions {
  /** The new package's signature (see `codeSignature` in the function config); the old one never carries over. */
  readonly codeSignature?: string;
}

export function deployFunction(ctx: DeployContext, input: FunctionConfigInput): Promise<FunctionInfo> {
  const config = parseFunctionConfig(input);
  return ctx.registry.serialise(config.name, async () => functionInfo(await deployLatest(ctx, config)));
}

/** Replaces `$LATEST`'s code; its configuration stays. */
export function updateFunctionCode(ctx: DeployContext, name: string, code: CodeSource, options: UpdateCodeOptions = {}): Promise<FunctionInfo> {
  return updateLatest(ctx, name, options, (config) => ({ ...config, code, codeSignature: options.codeSignature }));
}

/** Changes `$LATEST`'s configuration (any field of deploy's config but `name` and `code`). */
export function updateFunctionConfiguration(
  ctx: DeployContext,
  name: string,
  changes: Partial<Omit<FunctionConfigInput, 'name' | 'code'>> & UpdateOptions,
): Promise<FunctionInfo> {
  if (typeof changes !== 'object' || changes === null) {
    throw new InvalidParameterValueException('', 'Expected the configuration changes to be an object');
  }
  for (const field of ['name', 'code'] as const) {
    if (field in changes) {
      throw new InvalidParameterValueException(field, `\`${field}\` cannot be changed by updateFunctionConfiguration${field === 'code' ? ' (use updateFunctionCode)' : ''}`);
    }
  }
  const { revisionId, ...rest } = changes;
  return updateLatest(ctx, name, revisionId === undefined ? {} : { revisionId }, (config) => ({ ...config, ...rest }));
}

function updateLatest(
  ctx: DeployContext,
  name: string,
  options: UpdateOptions,
  change: (config: FunctionConfig) => FunctionConfigInput,
): Promise<FunctionInfo> {
  ctx.assertOpen();
  const entry = existing(ctx, name);
  if (ctx.registry.changing(entry.name)) throw updateInProgress(ctx, entry.name);
  checkRevision(entry.latest, options.revisionId);
  // Re-parsing the merged config checks every field again, with deploy's messages.
  parseFunctionConfig(change(entry.latest.config));
  // Computed again from the entry as it is when the change runs (reloaded after a conflict), and
  // written only if $LATEST is still the one it was computed from (commit.ts).
  return ctx.registry.serialise(entry.name, () =>
    optimistic(ctx, entry.name, async () => {
      const latest = existing(ctx, entry.name).latest;
      checkRevision(latest, options.revisionId);
      const config = parseFunctionConfig(change(latest.config));
      return functionInfo(await deployLatest(ctx, config, { replaces: latest.revisionId }));
    }),
  );
}

/** getFunction('name[:qualifier]'): `$LATEST`, a version, or the version an alias points to. */
export function getFunction(ctx: DeployContext, nameOrArn: string, qualifier?: string): FunctionInfo {
  const ref = splitFunctionName(nameOrArn, ctx.options, qualifier);
  const entry = ctx.registry.get(ref.name);
  if (!entry) throw functionNotFound(ctx.options, ref.name);
  return functionInfo(versionOrAlias(ctx, entry, ref.qualifier));
}

/** Every function's `$LATEST`, in creation order (Lambda's ListFunctions without FunctionVersion=ALL). */
export function listFunctions(ctx: DeployContext): FunctionInfo[] {
  return [...ctx.registry.values()].map((entry) => functionInfo(entry.latest));
}

/**
 * Deletes the function (its versions and aliases with it) or, with a version qualifier, that
 * version alone. Environments of what is deleted finish the invocation they run; idle ones go now.
 */
export async function deleteFunction(ctx: DeployContext, nameOrArn: string, options: { readonly qualifier?: string } = {}): Promise<void> {
  ctx.assertOpen();
  const ref = splitFunctionName(nameOrArn, ctx.options, options.qualifier);
  const entry = ctx.registry.get(ref.name);
  if (!entry) throw functionNotFound(ctx.options, ref.name);
  await ctx.registry.serialise(entry.name, () => {
    if (ref.qualifier === undefined) {
      ctx.store?.deleteFunction(entry.name);
      ctx.registry.delete(entry.name);
      for (const record of [entry.latest, ...entry.versions.values()]) dropVersion(ctx, record);
      return Promise.resolve();
    }
    if (ref.qualifier === LATEST_VERSION) {
      throw new InvalidParameterValueException('qualifier', '$LATEST version cannot be deleted without deleting the function.');
    }
    // Lambda's words for both refusals (DeleteFunction; as LocalStack's AWS-validated provider and
    // floci's live-measured emulator give them): a qualifier that is not a version number names an
    // alias (use deleteAlias), and a version an alias routes to stays.
    if (!/^\d+$/.test(ref.qualifier)) throw new InvalidParameterValueException('qualifier', 'Deletion of aliases is not currently supported.');
    const record = entry.versions.get(ref.qualifier);
    if (!record) throw functionNotFound(ctx.options, entry.name, ref.qualifier);
    const aliases = entry.aliasesOf(record.version);
    if (aliases.length > 0) {
      throw new ResourceConflictException(`Unable to delete version because the following aliases reference it: [${aliases.join(', ')}]`);
    }
    ctx.store?.deleteVersion(entry.name, record.version);
    entry.versions.delete(record.version);
    entry.provisioned.delete(record.version);
    dropVersion(ctx, record);
    return Promise.resolve();
  });
}

function dropVersion(ctx: DeployContext, record: VersionRecord): void {
  ctx.dispatcher.remove(record.pool);
  record.snapStart?.dispose();
}

/** The record a qualifier names: `$LATEST` when none, a version, or an alias's primary version. */
export function versionOrAlias(ctx: DeployContext, entry: FunctionEntry, qualifier: string | undefined): VersionRecord {
  if (qualifier === undefined || qualifier === LATEST_VERSION) return entry.latest;
  const version = entry.versions.get(qualifier);
  if (version) return version;
  const alias = entry.aliases.get(qualifier);
  const target = alias && (alias.functionVersion === LATEST_VERSION ? entry.latest : entry.versions.get(alias.functionVersion));
  if (target) return target;
  throw functionNotFound(ctx.options, entry.name, qualifier);
}

export function existing(ctx: DeployContext, nameOrArn: string): FunctionEntry {
  const ref = splitFunctionName(nameOrArn, ctx.options);
  if (ref.qualifier !== undefined) {
    throw new InvalidParameterValueException('functionName', `Expected an unqualified function name, got \`${nameOrArn}\``);
  }
  const entry = ctx.registry.get(ref.name);
  if (!entry) throw functionNotFound(ctx.options, ref.name);
  return entry;
}

export { updateInProgress };

/** PreconditionFailedException when `expected` is given and is not the record's revisionId. */
export function checkRevision(record: { readonly revisionId: string }, expected: string | undefined): void {
  if (expected !== undefined && expected !== record.revisionId) {
    throw new PreconditionFailedException(
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    );
  }
}
