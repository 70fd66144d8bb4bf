/**
 * Lambda's wire shapes (the 2015-03-31 REST API's JSON, PascalCase) to and from lambdalet's
 * (camelCase) ones: FunctionConfiguration, AliasConfiguration, LayerVersion, and the request
 * fields of CreateFunction / UpdateFunctionConfiguration. Sources: the Lambda API reference's
 * data types (FunctionConfiguration, AliasConfiguration, PublishLayerVersion response) and the
 * SDK's model (@aws-sdk/client-lambda schemas) for field names and types.
 */
import type { FunctionConfigInput, LoggingConfig, LoggingConfigInput } from '../../config/index.ts';
import type { AliasInfo, FunctionInfo, LayerVersionInfo } from '../../runtime.ts';
import { HttpError } from '../errors.ts';

/** Lambda's timestamps: `2019-08-14T22:26:11.234+0000` (ISO 8601 with a +0000 offset). */
export function lambdaTimestamp(iso: string): string {
  return iso.replace(/Z$/, '+0000');
}

/** Lambda's CodeSha256 is base64; lambdalet keeps hex. */
export function base64OfHex(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

/** FunctionConfiguration as GetFunctionConfiguration, CreateFunction and PublishVersion return it. */
export function functionConfiguration(info: FunctionInfo, role: string): Record<string, unknown> {
  return {
    FunctionName: info.functionName,
    FunctionArn: info.functionArn,
    Runtime: info.runtime,
    Role: role,
    Handler: info.handler,
    CodeSize: info.codeSize,
    Description: info.description,
    // lambdalet keeps milliseconds; Lambda's Timeout is whole seconds.
    Timeout: Math.ceil(info.timeoutMs / 1000),
    MemorySize: info.memoryMb,
    LastModified: lambdaTimestamp(info.lastModified),
    CodeSha256: base64OfHex(info.codeSha256),
    Version: info.version,
    Environment: { Variables: { ...info.env } },
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: info.revisionId,
    Layers: info.layers.map((arn) => ({ Arn: arn })),
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
    EphemeralStorage: { Size: info.ephemeralStorageMb },
    SnapStart: info.snapStart ? { ApplyOn: 'PublishedVersions', OptimizationStatus: 'On' } : { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: {
      LogFormat: info.loggingConfig.logFormat,
      ...(info.loggingConfig.logFormat === 'JSON' ? { ApplicationLogLevel: info.loggingConfig.applicationLogLevel, SystemLogLevel: info.loggingConfig.systemLogLevel } : {}),
      LogGroup: `/aws/lambda/${info.functionName}`,
    },
    ...(info.deadLetterConfig !== undefined ? { DeadLetterConfig: { TargetArn: info.deadLetterConfig.targetArn } } : {}),
  };
}

export function aliasConfiguration(alias: AliasInfo): Record<string, unknown> {
  return {
    AliasArn: alias.aliasArn,
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    ...(alias.routingConfig ? { RoutingConfig: { AdditionalVersionWeights: { ...alias.routingConfig.additionalVersionWeights } } } : {}),
    RevisionId: alias.revisionId,
  };
}

export function layerVersion(info: LayerVersionInfo): Record<string, unknown> {
  return {
    Content: { CodeSha256: base64OfHex(info.codeSha256), CodeSize: info.codeSize },
    LayerArn: info.layerArn,
    LayerVersionArn: info.layerVersionArn,
    Description: info.description,
    CreatedDate: lambdaTimestamp(info.createdDate),
    Version: info.version,
    CompatibleRuntimes: [...info.compatibleRuntimes],
  };
}

/** `1 validation error detected: Value '...' at '...' failed to satisfy constraint: ...` (Lambda's ValidationException). */
export function validationError(field: string, value: unknown, constraint: string): HttpError {
  return new HttpError(400, 'ValidationException', `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`);
}

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validationError(lowerFirst(field), JSON.stringify(value), 'Member must be a string');
  return value;
}

export function optionalInteger(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw validationError(lowerFirst(field), JSON.stringify(value), 'Member must be an integer');
  if (value < min) throw validationError(lowerFirst(field), value, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw validationError(lowerFirst(field), value, `Member must have value less than or equal to ${max}`);
  return value;
}

function lowerFirst(field: string): string {
  return field.charAt(0).toLowerCase() + field.slice(1);
}

/** A base64 blob field (ZipFile, ZipFile of a layer) as bytes. */
export function blob(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw validationError(field, '<blob>', 'Member must be base64-encoded bytes');
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length === 0) throw new HttpError(400, 'InvalidParameterValueException', `${field} is empty: a deployment package needs at least one file`);
  return bytes;
}

/**
 * The configuration fields CreateFunction and UpdateFunctionConfiguration share, in lambdalet's
 * names. Ranges are Lambda's (MemorySize 128-10240, Timeout 1-900 s); the rest is checked by the
 * runtime's own validation.
 */
export function configurationFields(body: Record<string, unknown>, current?: { readonly functionName: string; readonly loggingConfig?: LoggingConfig }): Partial<Omit<FunctionConfigInput, 'name' | 'code'>> {
  const out: { -readonly [K in keyof FunctionConfigInput]?: FunctionConfigInput[K] } = {};
  const runtime = optionalString(body, 'Runtime');
  if (runtime !== undefined) out.runtime = runtime as FunctionConfigInput['runtime'];
  const handler = optionalString(body, 'Handler');
  if (handler !== undefined) out.handler = handler;
  const description = optionalString(body, 'Description');
  if (description !== undefined) out.description = description;
  const memory = optionalInteger(body, 'MemorySize', 128, 10240);
  if (memory !== undefined) out.memoryMb = memory;
  const timeout = optionalInteger(body, 'Timeout', 1, 900);
  if (timeout !== undefined) out.timeoutMs = timeout * 1000;
  const environment = body.Environment as { Variables?: unknown } | undefined;
  if (environment !== undefined && environment !== null) {
    const variables = environment.Variables ?? {};
    if (typeof variables !== 'object' || variables === null || Array.isArray(variables) || !Object.values(variables).every((v) => typeof v === 'string')) {
      throw validationError('environment.variables', JSON.stringify(variables), 'Member must be a map of strings');
    }
    out.env = variables as Record<string, string>;
  }
  if (body.Layers !== undefined && body.Layers !== null) {
    if (!Array.isArray(body.Layers) || !body.Layers.every((l) => typeof l === 'string')) throw validationError('layers', JSON.stringify(body.Layers), 'Member must be a list of layer version ARNs');
    out.layers = body.Layers;
  }
  const storage = body.EphemeralStorage as { Size?: unknown } | undefined;
  if (storage !== undefined && storage !== null) {
    const size = optionalInteger(storage, 'Size', 512, 10240);
    if (size !== undefined) out.ephemeralStorageMb = size;
  }
  const logging = loggingConfigOf(body.LoggingConfig, current);
  if (logging !== undefined) out.loggingConfig = logging;
  const dlq: unknown = body.DeadLetterConfig;
  if (dlq !== undefined && dlq !== null) {
    if (typeof dlq !== 'object' || Array.isArray(dlq)) throw validationError('deadLetterConfig', JSON.stringify(dlq), 'Member must be an object');
    const target = optionalString(dlq as Record<string, unknown>, 'TargetArn');
    // An empty (or absent) TargetArn removes the dead-letter queue, as UpdateFunctionConfiguration does.
    out.deadLetterConfig = target === undefined || target === '' ? undefined : { targetArn: target };
  }
  return out;
}

/**
 * LoggingConfig (LogFormat, ApplicationLogLevel, SystemLogLevel, LogGroup) in lambdalet's names.
 * An update that leaves LogFormat out keeps the function's (Lambda changes only the fields given).
 * A LogGroup other than the function's own `/aws/lambda/<name>` is refused: lambdalet's log sink
 * has no log groups to route to, and AWS_LAMBDA_LOG_GROUP_NAME would not follow it.
 */
function loggingConfigOf(value: unknown, current: { readonly functionName: string; readonly loggingConfig?: LoggingConfig } | undefined): LoggingConfigInput | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw validationError('loggingConfig', JSON.stringify(value), 'Member must be an object');
  const fields = value as Record<string, unknown>;
  const logGroup = optionalString(fields, 'LogGroup');
  if (logGroup !== undefined && current !== undefined && logGroup !== `/aws/lambda/${current.functionName}`) {
    throw new HttpError(400, 'InvalidParameterValueException', `lambdalet logs every function to its own log group /aws/lambda/${current.functionName}; LoggingConfig.LogGroup ${logGroup} is not supported`);
  }
  const format = optionalString(fields, 'LogFormat');
  const application = optionalString(fields, 'ApplicationLogLevel');
  const system = optionalString(fields, 'SystemLogLevel');
  const logFormat = format ?? current?.loggingConfig?.logFormat;
  const previous = current?.loggingConfig?.logFormat === 'JSON' && logFormat === 'JSON' ? current.loggingConfig : undefined;
  const out: Record<string, string> = {};
  if (logFormat !== undefined) out.logFormat = logFormat;
  const applicationLogLevel = application ?? previous?.applicationLogLevel;
  const systemLogLevel = system ?? previous?.systemLogLevel;
  if (applicationLogLevel !== undefined) out.applicationLogLevel = applicationLogLevel;
  if (systemLogLevel !== undefined) out.systemLogLevel = systemLogLevel;
  // The runtime checks the values (formats, levels, levels only with JSON) with deploy's messages.
  return out;
}
