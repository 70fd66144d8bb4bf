/**
 * Published versions: publishVersion makes an immutable copy of `$LATEST`'s code and
 * configuration under the next number; listVersions lists `$LATEST` and every version.
 *
 * Lambda's rules kept here: publishing when nothing changed since the newest version returns that
 * version; a `codeSha256` that is not `$LATEST`'s is InvalidParameterValueException; a stale
 * `revisionId` is PreconditionFailedException; publishing while an update is in progress is
 * ResourceConflictException. Numbers are never reused, even after a version is deleted.
 *
 * A version shares `$LATEST`'s bundled code and engine blueprint (both immutable) and keeps its
 * code package's bytes as its `/var/task`, so a `{dir}` changed on disk later does not change it.
 * Its environments get their own pool (`name:version`): AWS_LAMBDA_FUNCTION_VERSION,
 * context.functionVersion and the log stream name carry the number. A SnapStart function's
 * version takes its own snapshot, as Lambda snapshots each published version.
 */
import { parsePublishVersionInput, type PublishVersionInput } from '../config/index.ts';
import { InvalidParameterValueException } from '../errors.ts';
import { persistVersion, poolKey, prepareDeployment, versionPoolConfig, versionRecord, type DeployContext } from './deploy.ts';
import { optimistic, reloadFunction } from './commit.ts';
import { checkRevision, existing, updateInProgress } from './functions.ts';
import { functionInfo, type FunctionInfo } from './info.ts';
import type { VersionRecord } from './records.ts';

export function publishVersion(ctx: DeployContext, name: string, input?: PublishVersionInput): Promise<FunctionInfo> {
  ctx.assertOpen();
  const options = parsePublishVersionInput(input);
  const entry = existing(ctx, name);
  if (ctx.registry.changing(entry.name)) throw updateInProgress(ctx, entry.name);
  checkPublishable(entry.latest, options);
  // Computed from the entry as it is when the change runs (reloaded after a conflict); stored only
  // if no other member took the number and $LATEST is still the one copied (commit.ts).
  return ctx.registry.serialise(entry.name, () => optimistic(ctx, entry.name, () => publish(ctx, entry.name, options)));
}

type PublishOptions = ReturnType<typeof parsePublishVersionInput>;

async function publish(ctx: DeployContext, name: string, options: PublishOptions, reloaded = false): Promise<FunctionInfo> {
  const entry = existing(ctx, name);
  const latest = entry.latest;
  checkPublishable(latest, options);
  const newest = entry.newestVersion();
  if (newest && newest.fingerprint === latest.fingerprint) {
    // Nothing to write, so no store condition checks this answer: with a store other runtimes
    // share (one that writes behind, a cluster's), $LATEST may have moved on there; read it once.
    if (!reloaded && ctx.store?.confirm !== undefined) {
      await reloadFunction(ctx, name);
      return publish(ctx, name, options, true);
    }
    return functionInfo(newest);
  }
  const version = String(entry.lastVersion + 1);
  const config = Object.freeze({
    ...latest.config,
    code: latest.package.source,
    ...(options.description !== undefined ? { description: options.description } : {}),
  });
  const { deployment } = await prepareDeployment(ctx, config, version, latest.prepared);
  const pool = ctx.dispatcher.configure(poolKey(entry.name, version), versionPoolConfig(config, 0), deployment);
  const record = versionRecord(deployment, pool, latest.package, version);
  // The fingerprint is $LATEST's (description excluded), so re-publishing unchanged code returns this version.
  entry.versions.set(version, { ...record, fingerprint: latest.fingerprint });
  entry.lastVersion += 1;
  persistVersion(ctx, entry, record, undefined, { replaces: null, latest: latest.revisionId });
  return functionInfo(record);
}

/** @throws PreconditionFailedException (revisionId), InvalidParameterValueException (codeSha256). */
function checkPublishable(latest: VersionRecord, options: PublishOptions): void {
  checkRevision(latest, options.revisionId);
  if (options.codeSha256 !== undefined && options.codeSha256 !== latest.package.sha256) {
    // Lambda: "CodeSHA256 (...) is different from current CodeSHA256 in $LATEST (...)".
    throw new InvalidParameterValueException(
      'codeSha256',
      `CodeSHA256 (${options.codeSha256}) is different from current CodeSHA256 in $LATEST (${latest.package.sha256}). Please try again from CreateFunction/UpdateFunctionCode.`,
    );
  }
}

/** `$LATEST` and every published version, oldest first (Lambda's ListVersionsByFunction). */
export function listVersions(ctx: DeployContext, name: string): FunctionInfo[] {
  const entry = existing(ctx, name);
  return [entry.latest, ...entry.versions.values()].map(functionInfo);
}
