/**
 * What every request leaves behind once answered: a Prometheus observation (metrics.ts), an
 * OpenTelemetry span through @opentelemetry/api (a SERVER span named `<METHOD> <operation>`; the
 * API is a no-op until the host registers a tracer provider), and, with `accessLog: true`, one
 * access log line through the runtime's log sink, in the Common Log Format API Gateway's access
 * logs default to ($context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod
 * $context.routeKey $context.protocol" $context.status $context.responseLength $context.requestId),
 * with the operation and duration added.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { lambdaletTracer } from '../observability/tracer.ts';
import type { LogSink } from '../observability/log-sink.ts';
import { clfTime } from './events.ts';
import type { ServerMetrics } from './metrics.ts';


/** The log stream access lines are written to (LogLineMeta.logStreamName). */
export const ACCESS_LOG_STREAM = 'lambdalet/http/access';

export interface Observation {
  /** Names what the request turned out to be (an SDK operation, `FunctionUrl`, `HttpApi`, `Metrics`). */
  operation: string;
  /** The function it invoked, when known (span attribute faas.invoked_name). */
  functionName?: string;
  /** The request's span: the parent of the invocation spans (invoke/trace.ts) when a context manager is registered. */
  readonly span: Span;
}

export function observe(req: IncomingMessage, res: ServerResponse, metrics: ServerMetrics, sink: LogSink | undefined): Observation {
  const started = performance.now();
  const span: Span = lambdaletTracer().startSpan('HTTP', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': (req.url ?? '/').split('?')[0]!, 'faas.trigger': 'http' },
  });
  const observation: Observation = { operation: 'Unknown', span };
  res.once('close', () => {
    const seconds = (performance.now() - started) / 1000;
    const status = res.statusCode;
    metrics.observe(observation.operation, status, seconds);
    if (span.isRecording()) {
      span.updateName(`${req.method ?? 'GET'} ${observation.operation}`);
      span.setAttribute('http.response.status_code', status);
      span.setAttribute('rpc.method', observation.operation);
      if (observation.functionName !== undefined) span.setAttribute('faas.invoked_name', observation.functionName);
      const requestId = res.getHeader('x-amzn-requestid');
      if (typeof requestId === 'string') span.setAttribute('faas.invocation_id', requestId);
      if (status >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: res.writableFinished ? `HTTP ${status}` : 'the response did not finish' });
    }
    span.end();
    if (sink) {
      const ip = (req.socket.remoteAddress ?? '-').replace(/^::ffff:/, '');
      const length = res.getHeader('content-length') ?? '-';
      const requestId = res.getHeader('x-amzn-requestid') ?? '-';
      sink.write(
        `${ip} - - [${clfTime(Date.now())}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} ${String(length)} ${String(requestId)} ${observation.operation} ${(seconds * 1000).toFixed(1)}ms`,
        { functionName: '', logStreamName: ACCESS_LOG_STREAM },
      );
    }
  });
  return observation;
}
