/**
 * GET /metrics (Prometheus text through prom-client) with Lambda's metric names per function and
 * version (Lambda developer guide, "Types of metrics for Lambda functions": Invocations, Errors,
 * Throttles, Duration, ConcurrentExecutions), the server's request histogram, OpenTelemetry
 * SERVER spans through @opentelemetry/api once a tracer provider is registered, and access lines
 * through the log sink.
 */
import { trace, type Span, type SpanOptions, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type LambdaletServer, type LogLineMeta, type Runtime } from '../../src/index.ts';
import { ACCESS_LOG_STREAM } from '../../src/http/observe.ts';

/** A tracer provider that records what the API hands it (the host's side of @opentelemetry/api). */
interface Recorded { name: string; kind: number | undefined; attributes: Record<string, unknown>; ended: boolean; status?: { code: number } }
const spans: Recorded[] = [];
const provider: TracerProvider = {
  getTracer(): Tracer {
    const startSpan = (name: string, options?: SpanOptions): Span => {
      const rec: Recorded = { name, kind: options?.kind, attributes: { ...options?.attributes }, ended: false };
      spans.push(rec);
      const span: Span = {
        spanContext: () => ({ traceId: '0'.repeat(31) + '1', spanId: '0'.repeat(15) + '1', traceFlags: 1 }),
        setAttribute: (k, v) => ((rec.attributes[k] = v), span),
        setAttributes: (a) => (Object.assign(rec.attributes, a), span),
        addEvent: () => span,
        addLink: () => span,
        addLinks: () => span,
        setStatus: (s) => ((rec.status = s), span),
        updateName: (n) => ((rec.name = n), span),
        end: () => void (rec.ended = true),
        isRecording: () => true,
        recordException: () => {},
      };
      return span;
    };
    return { startSpan, startActiveSpan: (() => { throw new Error('not used'); }) };
  },
};

const lines: { line: string; meta: LogLineMeta }[] = [];
let rt: Runtime;
let server: LambdaletServer;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  rt = await createRuntime({ logSink: { write: (line, meta) => void lines.push({ line, meta }) } });
  await rt.deploy({ name: 'hello', code: { files: { 'index.mjs': 'export const handler = async (e) => { if (e.fail) throw new Error("no"); return "hi"; };' } } });
  server = await rt.serve({ port: 0, accessLog: true });
});
afterAll(async () => {
  await rt.close();
  trace.disable();
});

const invoke = (body: string) => fetch(`${server.url}2015-03-31/functions/hello/invocations`, { method: 'POST', body });

describe('observability', () => {
  it('GET /metrics: Lambda\'s metrics per function and version, and the server\'s request histogram', async () => {
    await invoke('{}');
    await invoke('{}');
    await invoke('{"fail":true}');
    const res = await fetch(`${server.url}metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const labels = '{function_name="hello",version="$LATEST"}';
    expect(text).toContain(`# TYPE lambda_invocations_total counter\nlambda_invocations_total${labels} 3`);
    expect(text).toContain(`lambda_errors_total${labels} 1`);
    expect(text).toContain(`lambda_throttles_total${labels} 0`);
    expect(text).toContain(`lambda_cold_starts_total${labels} 1`);
    expect(text).toContain('# TYPE lambda_duration_milliseconds summary');
    expect(text).toMatch(/lambda_duration_milliseconds\{function_name="hello",version="\$LATEST",quantile="0\.99"\} [\d.]+/);
    expect(text).toContain(`lambda_duration_milliseconds_count${labels} 3`);
    expect(text).toContain('lambdalet_http_requests_total{operation="Invoke",status="200"} 3');
    expect(text).toMatch(/lambdalet_http_request_duration_seconds_bucket\{le="\+Inf",operation="Invoke"\} 3/);
    expect(text).toContain('lambdalet_process_resident_memory_bytes');
  });

  it('a SERVER span per request, named by operation, with the function, status and request id', async () => {
    spans.length = 0;
    const res = await invoke('{}');
    await res.text();
    while (!spans.some((s) => s.ended)) await new Promise((r) => setTimeout(r, 5));
    const span = spans.find((s) => s.ended)!;
    expect(span).toMatchObject({ name: 'POST Invoke', kind: 1, ended: true });
    expect(span.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 200, 'faas.invoked_name': 'hello', 'faas.trigger': 'http', 'rpc.method': 'Invoke' });
    expect(span.attributes['faas.invocation_id']).toBe(res.headers.get('x-amzn-requestid'));
  });

  it('access log lines go to the log sink, in the access stream', async () => {
    const res = await fetch(`${server.url}2015-03-31/nothing`);
    await res.text();
    while (!lines.some((l) => l.meta.logStreamName === ACCESS_LOG_STREAM && l.line.includes('/2015-03-31/nothing'))) await new Promise((r) => setTimeout(r, 5));
    const line = lines.find((l) => l.meta.logStreamName === ACCESS_LOG_STREAM && l.line.includes('/2015-03-31/nothing'))!.line;
    expect(line).toMatch(/^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/2015-03-31\/nothing HTTP\/1\.1" 404 \d+ [0-9a-f-]{36} Unknown [\d.]+ms$/);
  });
});
