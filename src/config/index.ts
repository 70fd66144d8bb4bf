/** Function configuration and runtime options, validated once at the boundary. */

export * from './limits.ts';
export {
  ENGINE_DEFAULT,
  ENGINE_NAMES,
  parseFunctionConfig,
  TENANT_ISOLATION_MODES,
  type EngineName,
  type TenancyConfig,
  type DeadLetterConfig,
  QUEUE_ARN_PATTERN,
  type FunctionConfig,
  type FunctionConfigInput,
  type EgressPolicy,
  type EgressPolicyInput,
  type CodeSigningInput,
} from './function-config.ts';
export type { Env } from './env.ts';
export {
  APPLICATION_LOG_LEVELS,
  SYSTEM_LOG_LEVELS,
  type ApplicationLogLevel,
  type LoggingConfig,
  type LoggingConfigInput,
  type SystemLogLevel,
} from './logging-config.ts';
export { credentialVariables, type AwsCredentialProvider, type AwsCredentials, type CredentialSource } from './credentials.ts';
export {
  ACCOUNT_ID_DEFAULT,
  ACCOUNT_ID_PATTERN,
  LOG_FORMATS,
  QUICKJS_ISOLATIONS,
  ISOLATION_MODES,
  CPU_HEAVY_NICE_DEFAULT,
  CPU_HEAVY_NICE_MAX,
  ENGINE_PROCESSES_DEFAULT,
  ENGINE_PROCESSES_MAX,
  ENGINE_THREADS_DEFAULT,
  ENGINE_THREADS_MAX,
  parseRuntimeOptions,
  REGION_DEFAULT,
  REGION_PATTERN,
  type EventClock,
  type LogFormat,
  type LogSink,
  type LogLineMeta,
  type QuickJSIsolation,
  type IsolationMode,
  type RuntimeOptions,
  type RuntimeOptionsInput,
} from './runtime-options.ts';
export {
  DEFAULT_INVOKE_OPTIONS,
  LATEST,
  LOG_TYPES,
  INVOCATION_TYPES,
  parseInvokeOptions,
  TENANT_ID_PATTERN,
  type CognitoIdentity,
  type InvokeOptions,
  type InvokeOptionsInput,
  type InvocationType,
  type LogType,
} from './invoke-options.ts';
export {
  CLUSTER_NAME_PATTERN,
  LEASE_TTL_MS_DEFAULT,
  LEASE_TTL_MS_MAX,
  LEASE_TTL_MS_MIN,
  REDIS_URL_PATTERN,
  type ClusterOptions,
  type ClusterOptionsInput,
} from './cluster-options.ts';
export { describeValue } from './format.ts';
export { HOST_DEFAULTS, hostDefaults, minUnreservedConcurrency, type HostDefaults, type HostFacts } from './host-defaults.ts';
export {
  ALIAS_ADDITIONAL_VERSIONS_MAX,
  LAYERS_MAX,
  LAYER_NAME_PATTERN,
  LAYER_VERSION_ARN_PATTERN,
  parsePublishLayerVersionInput,
  type PublishLayerVersionInput,
  ALIAS_NAME_PATTERN,
  LATEST_VERSION,
  QUALIFIER_PATTERN,
  VERSION_NUMBER_PATTERN,
  checkAliasName,
  parseAliasInput,
  parsePublishVersionInput,
  type AliasInput,
  type AliasOptions,
  type AliasRoutingConfig,
  type PublishVersionInput,
} from './control-plane.ts';
