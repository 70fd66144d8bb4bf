/**
 * Rebuilding the registry from the durable store when a runtime opens a `dataDir`: every function's
 * `$LATEST`, its published versions (same numbers, revisionIds and code bytes) and its aliases.
 *
 * Each stored config is parsed again as deploy parses it, so defaults added since it was stored
 * are filled. Code is bundled and prepared again (bundles are not stored), once per distinct
 * package + handler + engine + memory size: versions published from unchanged code share it.
 */
import { LATEST_VERSION, parseFunctionConfig } from '../config/index.ts';
import { makeAlias } from './aliases.ts';
import { poolKey, prepareDeployment, versionPoolConfig, versionRecord, type DeployContext } from './deploy.ts';
import { bootAndInit, poolConfig, type Prepared } from './deployment.ts';
import { FunctionEntry, type VersionRecord } from './records.ts';
import type { StoredFunction, StoredVersion } from './store.ts';

export async function restoreRegistry(ctx: DeployContext, functions: readonly StoredFunction[]): Promise<void> {
  const prepared = new Map<string, Prepared>();
  for (const stored of functions) {
    const [latest, ...published] = stored.versions;
    if (latest === undefined || latest.version !== LATEST_VERSION) continue;
    const latestRecord = await restoreVersion(ctx, stored.name, latest, prepared);
    const entry = new FunctionEntry(latestRecord);
    entry.lastVersion = stored.lastVersion;
    for (const version of published) {
      const record = await restoreVersion(ctx, stored.name, version, prepared);
      // Republishing unchanged code must find this version again, as before the restart.
      entry.versions.set(version.version, record.fingerprint === latestRecord.fingerprint ? record : { ...record });
    }
    ctx.registry.add(entry);
    for (const alias of stored.aliases) {
      const routing = alias.additionalVersion === undefined ? undefined : { additionalVersionWeights: { [alias.additionalVersion]: alias.additionalWeight } };
      entry.aliases.set(
        alias.alias,
        makeAlias(ctx, entry, alias.alias, { routingConfig: routing }, alias.functionVersion, alias.description, undefined, alias.revisionId),
      );
    }
    if (latestRecord.prepared.ok && latestRecord.config.provisionedConcurrency > 0) {
      await ctx.dispatcher.provision(latestRecord.pool, () => bootAndInit(latestRecord, ctx.sink));
    }
  }
}

async function restoreVersion(ctx: DeployContext, name: string, stored: StoredVersion, cache: Map<string, Prepared>): Promise<VersionRecord> {
  const config = parseFunctionConfig({ ...stored.config, name, code: stored.code });
  const { deployment, package: pkg } = await prepareDeployment(ctx, config, stored.version, undefined, cache);
  const pool =
    stored.version === LATEST_VERSION
      ? ctx.dispatcher.configure(name, poolConfig(config), deployment)
      : ctx.dispatcher.configure(poolKey(name, stored.version), versionPoolConfig(config, 0), deployment);
  return versionRecord(deployment, pool, pkg, stored.version, stored.revisionId, stored.lastModified);
}
