/**
 * Rebuilding the registry from the durable store when a runtime opens a `dataDir` (or joins a
 * cluster): every function's `$LATEST`, its published versions (same numbers, revisionIds and
 * code bytes), its aliases, its reservation (in `$LATEST`'s config) and its provisioned
 * concurrency configs (allocated again: their environments boot and run INIT before the restore
 * resolves); and every layer version.
 *
 * Each stored config is parsed again as deploy parses it, so defaults added since it was stored
 * are filled. Code is bundled and prepared again (bundles are not stored), once per distinct
 * package + handler + engine + memory size: versions published from unchanged code share it.
 *
 * `restoreFunction` also applies a change another cluster member made (src/cluster/): a version
 * whose revisionId the local entry already holds keeps its record (and its warm environments);
 * versions no longer stored lose their pools.
 */
import { LATEST_VERSION, parseFunctionConfig } from '../config/index.ts';
import { sha256Hex } from './package.ts';
import { makeAlias } from './aliases.ts';
import { poolKey, prepareDeployment, versionPoolConfig, versionRecord, type DeployContext } from './deploy.ts';
import { poolConfig, type Prepared } from './deployment.ts';
import { reallocate } from './provisioned.ts';
import { layerFromPackage } from './layers.ts';
import { FunctionEntry, type VersionRecord } from './records.ts';
import { reviveHooks, type StoredFunction, type StoredLayerVersion, type StoredVersion } from './store.ts';

export async function restoreRegistry(ctx: DeployContext, functions: readonly StoredFunction[]): Promise<void> {
  const prepared = new Map<string, Prepared>();
  for (const stored of functions) await restoreFunction(ctx, stored, prepared);
}

/**
 * Builds `stored`'s entry and puts it in the registry (replacing the one there, whose records are
 * reused where their revisionId is unchanged). Callers that replace run inside `serialise(name)`.
 */
export async function restoreFunction(ctx: DeployContext, stored: StoredFunction, prepared = new Map<string, Prepared>()): Promise<void> {
  const [latest, ...published] = stored.versions;
  if (latest === undefined || latest.version !== LATEST_VERSION) return;
  const previous = ctx.registry.get(stored.name);
  const reuse = (version: StoredVersion): VersionRecord | undefined => {
    const record = version.version === LATEST_VERSION ? previous?.latest : previous?.versions.get(version.version);
    return record?.revisionId === version.revisionId ? record : undefined;
  };
  const latestRecord = reuse(latest) ?? (await restoreVersion(ctx, stored.name, latest, prepared));
  const entry = new FunctionEntry(latestRecord);
  entry.lastVersion = stored.lastVersion;
  for (const version of published) {
    const record = reuse(version) ?? (await restoreVersion(ctx, stored.name, version, prepared));
    // Republishing unchanged code must find this version again, as before the restart.
    entry.versions.set(version.version, record.fingerprint === latestRecord.fingerprint ? record : { ...record });
  }
  for (const alias of stored.aliases) {
    const routing = alias.additionalVersion === undefined ? undefined : { additionalVersionWeights: { [alias.additionalVersion]: alias.additionalWeight } };
    const counters = previous?.aliases.get(alias.alias)?.counters;
    entry.aliases.set(
      alias.alias,
      makeAlias(ctx, entry, alias.alias, { routingConfig: routing }, alias.functionVersion, alias.description, counters, alias.revisionId),
    );
  }
  for (const [qualifier, config] of Object.entries(stored.provisioned)) {
    if (entry.versions.has(qualifier) || entry.aliases.has(qualifier)) entry.provisioned.set(qualifier, config);
  }
  if (previous) {
    if (previous.latest !== latestRecord) previous.latest.snapStart?.dispose();
    for (const [version, record] of previous.versions) {
      if (entry.versions.get(version)?.revisionId === record.revisionId) continue;
      // A version number is never reused: one not stored any more was deleted.
      if (!entry.versions.has(version)) ctx.dispatcher.remove(record.pool);
      record.snapStart?.dispose();
    }
  }
  ctx.registry.add(entry);
  // Provisioned environments are booted and through INIT before the runtime is handed out; pools
  // whose share did not change (a cluster member's reused records) are left as they are.
  await reallocate(ctx, entry);
}

/** Forgets a function another member deleted: idle environments go now, busy ones when they finish. */
export function forgetFunction(ctx: DeployContext, name: string): void {
  const entry = ctx.registry.get(name);
  if (!entry) return;
  ctx.registry.delete(name);
  for (const record of [entry.latest, ...entry.versions.values()]) {
    ctx.dispatcher.remove(record.pool);
    record.snapStart?.dispose();
  }
}

/**
 * Adds the stored layer versions the runtime does not hold yet; a stored version marked deleted
 * (`info.deleted`, DeleteLayerVersion) is held as a deleted copy, for the functions that use it, and
 * one held live here is deleted (another cluster member deleted it).
 */
export function restoreLayers(ctx: DeployContext, layers: readonly StoredLayerVersion[]): void {
  for (const layer of layers) {
    const { deleted, ...meta } = layer.info as { description: string; compatibleRuntimes: string[]; createdDate: string; codeSignature?: string; deleted?: boolean };
    if (ctx.layers.holds(layer.layerName, layer.version)) {
      if (deleted === true) ctx.layers.delete(layer.layerName, layer.version);
      continue;
    }
    const pkg = { kind: 'zip' as const, bytes: layer.bytes, sha256: sha256Hex(layer.bytes), source: { zip: layer.bytes } };
    ctx.layers.add(layer.layerName, layerFromPackage(ctx.options, layer.layerName, layer.version, pkg, meta), deleted === true);
  }
}

async function restoreVersion(ctx: DeployContext, name: string, stored: StoredVersion, cache: Map<string, Prepared>): Promise<VersionRecord> {
  // A registry written before $LATEST's provisioned concurrency was refused may still hold some: dropped.
  const where = `function ${name} (version ${stored.version})`;
  const revived = reviveHooks(stored.config, ctx.options.hooks, where) as Record<string, unknown>;
  const config = parseFunctionConfig({ ...revived, name, code: stored.code, provisionedConcurrency: 0 });
  const { deployment, package: pkg } = await prepareDeployment(ctx, config, stored.version, undefined, cache);
  const pool =
    stored.version === LATEST_VERSION
      ? ctx.dispatcher.configure(name, poolConfig(config), deployment)
      : ctx.dispatcher.configure(poolKey(name, stored.version), versionPoolConfig(config, 0), deployment);
  return versionRecord(deployment, pool, pkg, stored.version, stored.revisionId, stored.lastModified);
}
