/** The identity and reserved environment variables Lambda gives every execution environment. */
import { randomHex } from '../random-hex.ts';
import type { FunctionConfig } from '../config/index.ts';

export interface FunctionIdentity {
  readonly region: string;
  readonly accountId: string;
  /** arn:aws:lambda:<region>:<account>:function:<name> (unqualified) */
  readonly functionArn: string;
  /** The version environments of this deployment run: `$LATEST` or a published number ('3'). */
  readonly version: string;
}

export function functionIdentity(region: string, accountId: string, name: string, version = '$LATEST'): FunctionIdentity {
  return { region, accountId, functionArn: `arn:aws:lambda:${region}:${accountId}:function:${name}`, version };
}

/** `YYYY/MM/DD/[<version>]<32 hex>`: one stream per environment, as on AWS. */
export function logStreamName(now = new Date(), version = '$LATEST'): string {
  const date = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${date}/[${version}]${randomHex(16)}`;
}

/** AWS_LAMBDA_INITIALIZATION_TYPE: how an execution environment was started. */
export type InitializationType = 'on-demand' | 'provisioned-concurrency' | 'snap-start';

/** What `process.env` holds besides the user's variables (which cannot override these). */
export function lambdaEnvironmentVariables(
  config: FunctionConfig,
  identity: FunctionIdentity,
  streamName: string,
  initializationType: InitializationType = 'on-demand',
): Record<string, string> {
  const node = config.runtime === 'nodejs24.x' ? 'node24' : 'node22';
  const variables: Record<string, string> = {
    _HANDLER: config.handler,
    AWS_REGION: identity.region,
    AWS_DEFAULT_REGION: identity.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${config.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: config.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: identity.version,
    AWS_LAMBDA_INITIALIZATION_TYPE: initializationType,
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: streamName,
    // The Runtime API's address the runtime client polls (Lambda: 127.0.0.1:9001); SDKs and
    // extensions test for it to tell "inside Lambda".
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    NODE_PATH: `/opt/nodejs/${node}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
  };
  // Advanced logging controls: Lambda tells the runtime the format and application level of JSON logs.
  if (config.loggingConfig.logFormat === 'JSON') {
    variables.AWS_LAMBDA_LOG_FORMAT = 'JSON';
    variables.AWS_LAMBDA_LOG_LEVEL = config.loggingConfig.applicationLogLevel;
  }
  // Not reserved on Lambda: a function's own TZ, LANG, PATH or NODE_PATH replaces the default.
  for (const key of ['TZ', 'LANG', 'PATH', 'NODE_PATH']) {
    if (Object.prototype.hasOwnProperty.call(config.env, key)) delete variables[key];
  }
  if (initializationType === 'snap-start') {
    // Absent under SnapStart, as on Lambda: one snapshot serves many environments, each its own stream.
    delete variables.AWS_LAMBDA_LOG_GROUP_NAME;
    delete variables.AWS_LAMBDA_LOG_STREAM_NAME;
  }
  return variables;
}
