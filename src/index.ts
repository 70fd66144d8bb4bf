/**
 * lambdalet: AWS Lambda as a library. Deploy handlers and invoke them in sandboxes inside this
 * Node.js process, with Lambda's semantics.
 */
// First: on a Node older than 24 importing lambdalet stops here, with one line saying so.
import './node-version-guard.ts';
export {
  createRuntime,
  Runtime,
  type AliasInfo,
  type AliasMetrics,
  type FunctionConcurrency,
  type FunctionInfo,
  type InvokeResult,
  type EventInvokeResult,
  type DryRunInvokeResult,
  type LambdaletServer,
  type DestinationCallback,
  type EventInvokeConfigInput,
  type FunctionEventInvokeConfig,
  type RecursiveLoop,
  type CreateQueueInput,
  type MessageAttributeValue,
  type QueueInfo,
  type RedrivePolicy,
  type InvocationRecord,
  type CorsInput,
  type FunctionUrlConfig,
  type FunctionUrlConfigInput,
  type HttpApiInfo,
  type HttpApiInput,
  type HttpApiRouteInput,
  type HttpApiStageInput,
  type EventSourceMappingInfo,
  type EventSourceMappingInput,
  type ScheduleInfo,
  type ScheduleInput,
  type StreamInfo,
  type LayerVersionInfo,
  type Metrics,
  type ClusterMetrics,
  type FunctionTotals,
  type MemberReport,
  type ProvisionedConcurrencyInfo,
  type ServeOptionsInput,
  type UpdateCodeOptions,
  type UpdateOptions,
} from './runtime.ts';
export type {
  AliasInput,
  AliasRoutingConfig,
  ClusterOptionsInput,
  CodeSigningInput,
  FunctionConfigInput,
  InvokeOptionsInput,
  InvocationType,
  EventClock,
  LoggingConfigInput,
  PublishLayerVersionInput,
  PublishVersionInput,
  RuntimeOptionsInput,
} from './config/index.ts';
export type { CodeSource } from './code/types.ts';
export type { EventQueueBackend, NewEvent, LeasedEvent, DeadEvent, QueueDue } from './async/queue.ts';
export type { LogSink, LogLineMeta } from './observability/log-sink.ts';
export { stdoutSink, silentSink } from './observability/log-sink.ts';
export {
  LambdaletError,
  ResourceNotFoundException,
  RequestTooLargeException,
  InvalidParameterValueException,
  InvalidRequestContentException,
  RuntimeClosedError,
  EngineUnavailableError,
  TooManyRequestsException,
  SnapStartException,
  SnapStartTimeoutException,
  ResourceConflictException,
  PreconditionFailedException,
  QueueDeletedRecently,
  DataDirError,
  ClusterError,
  CodeVerificationFailedException,
  type ClusterProblem,
  type DataDirProblem,
  type SnapStartErrorDetail,
  type ThrottleReason,
} from './errors.ts';
export type { SnapStartInfo } from './environment/snap-start.ts';
export type {
  HttpResponsePrelude,
  InvokeComplete,
  InvokeResponseStream,
  ResponseStreamCompletion,
  ResponseStreamOptionsInput,
} from './invoke/response-stream.ts';
export type { DurationStats, FunctionMetrics, RuntimeMetrics } from './dispatch/index.ts';
export type { EngineIsolation } from './engines/registry.ts';
