/**
 * The registry's records: one FunctionEntry per function, holding its `$LATEST`, its published
 * versions and its aliases. A VersionRecord (and the Deployment in it) is immutable — `$LATEST` is
 * changed by replacing its record whole — so an invocation that resolved a record keeps a
 * consistent view of it, whatever is published, updated or re-pointed meanwhile.
 */
import type { FunctionConfig } from '../config/index.ts';
import type { DeployedFunction } from './deployment.ts';
import type { CodePackage } from './package.ts';

/** One version of a function: `$LATEST` or a published, immutable one. */
export interface VersionRecord extends DeployedFunction {
  readonly version: string;
  /** arn:aws:lambda:<region>:<account>:function:<name>:<version> */
  readonly qualifiedArn: string;
  /** The code package (its sha256 is `codeSha256`). */
  readonly package: CodePackage;
  /** What the version's behaviour depends on (code + configuration): equal fingerprints, nothing to publish. */
  readonly fingerprint: string;
  /** Changes whenever this record does (every update of `$LATEST`); a published version's never changes. */
  readonly revisionId: string;
  /** ISO 8601, when this record was made. */
  readonly lastModified: string;
}

/** Per-alias invocation counters (rt.metrics().aliases). */
export interface AliasCounters {
  invocations: number;
  errors: number;
  /** Invocations by the version that ran. */
  readonly byVersion: Map<string, number>;
}

/** An alias: a name pointing at a version, optionally sending a share of traffic to a second one. */
export interface AliasRecord {
  readonly name: string;
  readonly aliasArn: string;
  readonly functionVersion: string;
  readonly description: string;
  /** The second version and its share, when the alias has a routing config. */
  readonly additionalVersion: string | undefined;
  readonly additionalWeight: number;
  readonly revisionId: string;
  readonly counters: AliasCounters;
}

/** One PutProvisionedConcurrencyConfig: the count and when it was put (ISO 8601). */
export interface ProvisionedConfig {
  readonly n: number;
  readonly lastModified: string;
}

/** Everything the registry holds about one function. */
export class FunctionEntry {
  readonly name: string;
  latest: VersionRecord;
  readonly versions = new Map<string, VersionRecord>();
  readonly aliases = new Map<string, AliasRecord>();
  /** The highest version number ever published: numbers are never reused, as on Lambda. */
  lastVersion = 0;
  /** Provisioned concurrency configured on versions and aliases, by qualifier (registry/provisioned.ts). */
  readonly provisioned = new Map<string, ProvisionedConfig>();

  constructor(latest: VersionRecord) {
    this.name = latest.config.name;
    this.latest = latest;
  }

  /** The most recently published version, if any is left. */
  newestVersion(): VersionRecord | undefined {
    let newest: VersionRecord | undefined;
    for (const record of this.versions.values()) if (!newest || Number(record.version) > Number(newest.version)) newest = record;
    return newest;
  }

  /** Aliases whose primary or additional version is `version`. */
  aliasesOf(version: string): string[] {
    const names: string[] = [];
    for (const alias of this.aliases.values()) {
      if (alias.functionVersion === version || alias.additionalVersion === version) names.push(alias.name);
    }
    return names;
  }
}

/**
 * The configuration fields that make two versions behave the same (code is compared by package).
 * The reservation is the function's, not a version's (PutFunctionConcurrency): changing it leaves
 * nothing new to publish. Keys are sorted: a config parsed again from a store (another cluster
 * member's, a restart's) lists them in another order and must still match.
 */
export function configFingerprint(config: FunctionConfig): string {
  const { code: _code, name: _name, description: _description, reservedConcurrency: _reserved, ...rest } = config;
  return JSON.stringify(rest, (_key, value: unknown) => {
    if (typeof value === 'function') return `fn:${String(value)}`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
