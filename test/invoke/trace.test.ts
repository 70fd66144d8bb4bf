/**
 * One OpenTelemetry span per invocation (src/invoke/trace.ts), recorded by the OpenTelemetry SDK's
 * own InMemorySpanExporter (@opentelemetry/sdk-trace-base, a devDependency) with an
 * AsyncLocalStorage context manager, as a host would register them. Attribute names and values are
 * the semantic conventions' for FaaS servers on AWS Lambda (open-telemetry/semantic-conventions
 * docs/faas/faas-spans.md, docs/faas/aws-lambda.md, docs/resource/faas.md — faas.max_memory in
 * bytes —, docs/resource/cloud.md — cloud.resource_id: "replace any alias suffix with the resolved
 * function version").
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime, silentSink, TooManyRequestsException, type Runtime } from '../../src/index.ts';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
let rt: Runtime;

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
  rt = await createRuntime({ logSink: silentSink, region: 'eu-west-1', accountId: '111122223333' });
  const files = (source: string) => ({ files: { 'index.mjs': source } });
  await rt.deploy({ name: 'ok', memoryMb: 256, code: files('export const handler = async (e) => ({ got: e });') });
  await rt.publishVersion('ok');
  await rt.createAlias('ok', 'live', { functionVersion: '1' });
  await rt.deploy({ name: 'fails', code: files("export const handler = async () => { throw new TypeError('bad input'); };") });
});
afterAll(async () => {
  await rt.close();
  trace.disable();
  context.disable();
  await provider.shutdown();
});
beforeEach(() => exporter.reset());

const invocationSpans = (): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.attributes['faas.invocation_id'] !== undefined);

describe('a span per invocation, with the FaaS semantic conventions', () => {
  it('rt.invoke: a SERVER span named after the function; invocation id, cold start, version, memory in bytes, cloud.*', async () => {
    const cold = await rt.invoke('ok', { a: 1 });
    const warm = await rt.invoke('ok', { a: 2 });
    const spans = invocationSpans();
    expect(spans).toHaveLength(2);
    const [first, second] = spans;
    expect(first!.name).toBe('ok');
    expect(first!.kind).toBe(SpanKind.SERVER);
    expect(first!.attributes).toEqual({
      'faas.invocation_id': cold.requestId,
      'faas.name': 'ok',
      'faas.max_memory': 256 * 1024 * 1024,
      'faas.coldstart': true,
      'faas.version': '$LATEST',
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_lambda',
      'cloud.region': 'eu-west-1',
      'cloud.account.id': '111122223333',
      'cloud.resource_id': 'arn:aws:lambda:eu-west-1:111122223333:function:ok:$LATEST',
      'aws.lambda.invoked_arn': 'arn:aws:lambda:eu-west-1:111122223333:function:ok',
    });
    expect(first!.status.code).toBe(SpanStatusCode.UNSET);
    expect(second!.attributes['faas.invocation_id']).toBe(warm.requestId);
    expect(second!.attributes['faas.coldstart']).toBe(false);
  });

  it('through an alias: the invoked ARN keeps the alias, cloud.resource_id names the version that ran', async () => {
    await rt.invoke('ok', {}, { qualifier: 'live' });
    const [span] = invocationSpans();
    expect(span!.attributes).toMatchObject({
      'faas.version': '1',
      'cloud.resource_id': 'arn:aws:lambda:eu-west-1:111122223333:function:ok:1',
      'aws.lambda.invoked_arn': 'arn:aws:lambda:eu-west-1:111122223333:function:ok:live',
    });
  });

  it('a function error: status ERROR with its message, error.type its errorType', async () => {
    const result = await rt.invoke('fails', {});
    expect(result.functionError).toBe('Unhandled');
    const [span] = invocationSpans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input' });
    expect(span!.attributes['error.type']).toBe('TypeError');
  });

  it('a refused invocation (throttled at reserved concurrency 0) still has its span, with the service error', async () => {
    rt.putFunctionConcurrency('fails', { reservedConcurrentExecutions: 0 });
    try {
      await expect(rt.invoke('fails', {})).rejects.toBeInstanceOf(TooManyRequestsException);
    } finally {
      rt.deleteFunctionConcurrency('fails');
    }
    const [span] = invocationSpans();
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes['error.type']).toBe('TooManyRequestsException');
  });

  it('every invocation, not only HTTP requests: a streamed one and an asynchronous event each get one', async () => {
    const streamed = await rt.invokeWithResponseStream('ok', {});
    for await (const chunk of streamed.payload) void chunk;
    await streamed.completion;
    const queued = await rt.invoke('ok', {}, { invocationType: 'Event' });
    await rt.eventsIdle();
    const ids = invocationSpans().map((s) => s.attributes['faas.invocation_id']);
    expect(ids).toContain(streamed.requestId);
    expect(ids).toContain(queued.requestId);
  });

  it('over HTTP: the invocation span is a child of the request span (same trace)', async () => {
    const server = await rt.serve({ port: 0 });
    try {
      const url = rt.createFunctionUrlConfig('ok', { authType: 'NONE' });
      const res = await fetch(`${url.functionUrl}x`);
      expect(res.status).toBe(200);
      await res.text();
      await expect.poll(() => exporter.getFinishedSpans().length).toBeGreaterThanOrEqual(2);
      const request = exporter.getFinishedSpans().find((s) => s.attributes['faas.trigger'] === 'http')!;
      const [invocation] = invocationSpans();
      expect(invocation!.spanContext().traceId).toBe(request.spanContext().traceId);
      expect(invocation!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    } finally {
      rt.deleteFunctionUrlConfig('ok');
      await server.close();
    }
  });
});

describe('a host that replaces its tracer provider', () => {
  // @opentelemetry/api: a tracer is bound to the ProxyTracerProvider global when it was obtained, and
  // trace.disable() replaces that proxy — a tracer kept from import would record nothing after a
  // disable-then-register (seen in CI: two test files in one process, the second saw no span).
  it('a provider registered after trace.disable() receives the spans', async () => {
    const later = new InMemorySpanExporter();
    const laterProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(later)] });
    trace.disable();
    expect(trace.setGlobalTracerProvider(laterProvider)).toBe(true);
    try {
      const result = await rt.invoke('ok', {});
      expect(later.getFinishedSpans().map((s) => s.attributes['faas.invocation_id'])).toContain(result.requestId);
      expect(invocationSpans()).toHaveLength(0);
    } finally {
      trace.disable();
      trace.setGlobalTracerProvider(provider);
      await laterProvider.shutdown();
    }
  });
});
