/**
 * One OpenTelemetry span per invocation, through @opentelemetry/api: a no-op (no attributes are
 * even computed) until the host registers a tracer provider. Every path that runs a function makes
 * one — rt.invoke, InvokeWithResponseStream, asynchronous events and their retries, event source
 * mappings, schedules, the HTTP server's Invoke and URLs (whose request span, when a context
 * manager is registered, is its parent).
 *
 * Names and attributes are the OpenTelemetry semantic conventions for FaaS servers on AWS Lambda
 * (semantic-conventions: docs/faas/faas-spans.md "Incoming Invocations", docs/faas/aws-lambda.md,
 * docs/resource/faas.md, docs/resource/cloud.md):
 * - span name: the function's name; kind SERVER (the function side of an invocation);
 * - `faas.invocation_id`: the request id; `faas.coldstart`: whether this invocation booted an
 *   environment; `faas.name`, `faas.version` (the version that ran; an alias's pick);
 *   `faas.max_memory`: the memory size in bytes;
 * - `cloud.provider` `aws`, `cloud.platform` `aws_lambda`, `cloud.region`, `cloud.account.id`;
 *   `cloud.resource_id`: the function ARN with the version that ran (the conventions: "replace
 *   any alias suffix with the resolved function version"); `aws.lambda.invoked_arn`: the ARN as
 *   the caller named it (qualified or not);
 * - a function error: status ERROR with the error's message, `error.type` its errorType.
 * `faas.trigger` is left out: the invoker does not know what triggered it (the HTTP request span
 * carries `faas.trigger: http`).
 */
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { lambdaletTracer } from '../observability/tracer.ts';
import type { VersionRecord } from '../registry/records.ts';
import type { InvokeResult } from './result.ts';


const SERVER = { kind: SpanKind.SERVER } as const;

/** `arn:aws:lambda:<region>:<account>:function:<name>:<version>` → its parts. */
const QUALIFIED_ARN = /^arn:aws[a-zA-Z-]*:lambda:([^:]+):([^:]+):function:([^:]+):(.+)$/;

/** Starts the invocation's span, or returns undefined when nothing records it (no provider). */
export function startInvocationSpan(fn: VersionRecord, requestId: string, invokedFunctionArn: string | undefined): Span | undefined {
  // Nothing is computed before isRecording(): this runs on every warm invoke.
  const name = fn.config.name;
  const span = lambdaletTracer().startSpan(name, SERVER);
  if (!span.isRecording()) {
    span.end();
    return undefined;
  }
  const parts = QUALIFIED_ARN.exec(fn.qualifiedArn);
  const unqualified = parts === null ? fn.qualifiedArn : fn.qualifiedArn.slice(0, fn.qualifiedArn.length - parts[4]!.length - 1);
  span.setAttributes({
    'faas.invocation_id': requestId,
    'faas.name': name,
    'faas.max_memory': fn.config.memoryMb * 1024 * 1024,
    'cloud.provider': 'aws',
    'cloud.platform': 'aws_lambda',
    ...(parts ? { 'cloud.region': parts[1], 'cloud.account.id': parts[2] } : {}),
    'aws.lambda.invoked_arn': invokedFunctionArn ?? unqualified,
  });
  return span;
}

/** Ends the span with what the invocation turned out to be (or the service error that stopped it). */
export function endInvocationSpan(span: Span, fn: VersionRecord, outcome: { result: InvokeResult } | { error: unknown }): void {
  if ('result' in outcome) {
    const { result } = outcome;
    const base = fn.qualifiedArn.slice(0, fn.qualifiedArn.length - fn.version.length - 1);
    span.setAttributes({ 'faas.coldstart': result.coldStart, 'faas.version': result.executedVersion, 'cloud.resource_id': `${base}:${result.executedVersion}` });
    if (result.functionError !== undefined) {
      const error = result.payload as { errorType?: unknown; errorMessage?: unknown } | null;
      const type = typeof error?.errorType === 'string' ? error.errorType : 'Unhandled';
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: typeof error?.errorMessage === 'string' ? error.errorMessage : type });
    }
  } else {
    // Refused before it ran (throttled, no such tenant, ...): the service error's name.
    const error = outcome.error;
    span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}
