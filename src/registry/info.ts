/** What the control-plane calls return: plain, frozen snapshots of registry records. */
import type { DeadLetterConfig, FunctionConfig, LoggingConfig } from '../config/index.ts';
import type { SnapStartInfo } from '../environment/snap-start.ts';
import type { AliasRecord, VersionRecord } from './records.ts';

/** A function version's configuration (Lambda's FunctionConfiguration), as deploy, getFunction, publishVersion... return it. */
export interface FunctionInfo {
  readonly functionName: string;
  /** Unqualified for `$LATEST`, `...:function:<name>:<version>` for a published version. */
  readonly functionArn: string;
  /** `$LATEST` or the published version number. */
  readonly version: string;
  readonly description: string;
  /** Changes on every update of `$LATEST`; pass it back to make an update conditional. */
  readonly revisionId: string;
  /** ISO 8601: when this version's code or configuration last changed. */
  readonly lastModified: string;
  readonly engine: FunctionConfig['engine'];
  readonly runtime: FunctionConfig['runtime'];
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  /** sha256 (hex) of the code package: a `{zip}`'s bytes, `{files}`/`{dir}` packed into a canonical zip, an `{entry}` file's bytes. */
  readonly codeSha256: string;
  /** Bytes of the code package. */
  readonly codeSize: number;
  /** Environment variables (Lambda's Environment.Variables). */
  readonly env: Readonly<Record<string, string>>;
  /** Layer version ARNs, in merge order. */
  readonly layers: readonly string[];
  /** Reserved concurrency, when set (Lambda's GetFunctionConcurrency). */
  readonly reservedConcurrency?: number;
  /** Size of /tmp in MB (Lambda's EphemeralStorage.Size). */
  readonly ephemeralStorageMb: number;
  /** Log format and, for JSON, levels (Lambda's LoggingConfig). */
  readonly loggingConfig: LoggingConfig;
  /** Where failed asynchronous events go, when set (Lambda's DeadLetterConfig). */
  readonly deadLetterConfig?: DeadLetterConfig;
  /** The bundled code's INIT error, when bundling found one (every invoke answers with it). */
  readonly initError?: { readonly errorType: string; readonly errorMessage: string };
  /** With `snapStart`: how environments start (snapshot or the pre-initialised fallback) and what it cost. */
  readonly snapStart?: SnapStartInfo;
}

/** An alias (Lambda's AliasConfiguration). */
export interface AliasInfo {
  readonly aliasArn: string;
  readonly name: string;
  readonly functionVersion: string;
  readonly description: string;
  readonly routingConfig?: { readonly additionalVersionWeights: Readonly<Record<string, number>> };
  readonly revisionId: string;
}

export function functionInfo(record: VersionRecord): FunctionInfo {
  const { config, prepared } = record;
  return Object.freeze({
    functionName: config.name,
    functionArn: record.version === '$LATEST' ? record.identity.functionArn : record.qualifiedArn,
    version: record.version,
    description: config.description ?? '',
    revisionId: record.revisionId,
    lastModified: record.lastModified,
    engine: config.engine,
    runtime: config.runtime,
    handler: config.handler,
    memoryMb: config.memoryMb,
    timeoutMs: config.timeoutMs,
    codeSha256: record.package.sha256,
    codeSize: record.package.bytes.byteLength,
    env: config.env,
    layers: config.layers,
    ...(config.reservedConcurrency !== undefined ? { reservedConcurrency: config.reservedConcurrency } : {}),
    ephemeralStorageMb: config.ephemeralStorageMb,
    loggingConfig: config.loggingConfig,
    ...(config.deadLetterConfig !== undefined ? { deadLetterConfig: config.deadLetterConfig } : {}),
    ...(prepared.ok ? {} : { initError: { errorType: prepared.failure.errorType, errorMessage: prepared.failure.errorMessage } }),
    ...(record.snapStart ? { snapStart: record.snapStart.info } : {}),
  });
}

export function aliasInfo(alias: AliasRecord): AliasInfo {
  return Object.freeze({
    aliasArn: alias.aliasArn,
    name: alias.name,
    functionVersion: alias.functionVersion,
    description: alias.description,
    ...(alias.additionalVersion !== undefined
      ? { routingConfig: { additionalVersionWeights: { [alias.additionalVersion]: alias.additionalWeight } } }
      : {}),
    revisionId: alias.revisionId,
  });
}
