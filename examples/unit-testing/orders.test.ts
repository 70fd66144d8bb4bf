// Unit tests of orders.ts, run as Lambda would run it: in a sandbox, with Lambda's context,
// errors, timeouts and logs. vitest needs the lambdalet preset (see README.md in this folder).
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApiEvent, loadHandler, sqsEvent, type LoadedHandler } from 'lambdalet/testing';

describe('orders API', () => {
  let api: LoadedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;
  beforeAll(async () => {
    api = await loadHandler(new URL('./orders.ts', import.meta.url), { env: { CURRENCY: 'USD' } });
  });
  afterAll(() => api.dispose());

  const post = (body: string): APIGatewayProxyEventV2 =>
    httpApiEvent({ rawPath: '/orders', requestContext: { http: { method: 'POST' } }, body });

  it('prices an order and logs it', async () => {
    const res = await api.invoke(post(JSON.stringify({ lines: [{ sku: 'tea', quantity: 2, unitPriceCents: 450 }] })));
    expect(res.error).toBeUndefined();
    expect(res.payload?.statusCode).toBe(201);
    expect(JSON.parse(res.payload?.body ?? '')).toMatchObject({ totalCents: 900, currency: 'USD', orderId: res.requestId });
    expect(res.logs.join('\n')).toContain('priced 1 lines: 900 USD cents');
    expect(res.logs.at(-1)).toMatch(/^REPORT RequestId: /);
  });

  it('gives 10% off from 10 items', async () => {
    const res = await api.invoke(post(JSON.stringify({ lines: [{ sku: 'cake', quantity: 10, unitPriceCents: 300 }] })));
    expect(JSON.parse(res.payload?.body ?? '')).toMatchObject({ totalCents: 2700 });
  });

  it('answers 405 to a GET and 400 to a bad body', async () => {
    expect((await api.invoke(httpApiEvent())).payload?.statusCode).toBe(405);
    expect((await api.invoke(post('not json'))).payload?.statusCode).toBe(400);
    expect((await api.invoke(post('{"lines":[]}'))).payload?.body).toContain('non-empty array');
  });

  it('keeps module state while warm; fresh() starts a new environment', async () => {
    const before = await api.invoke(httpApiEvent());
    expect(before.coldStart).toBe(false);
    await api.fresh();
    const after = await api.invoke(post('{"lines":[{"sku":"a","quantity":1,"unitPriceCents":1}]}'));
    expect(after.coldStart).toBe(true);
    expect(JSON.parse(after.payload?.body ?? '')).toMatchObject({ served: 1 });
  });
});

describe('orders queue consumer', () => {
  it('reports the messages it could not parse', async () => {
    await using consumer = await loadHandler<SQSEvent, SQSBatchResponse>(new URL('./orders.ts', import.meta.url), { handler: 'consume' });
    const event = sqsEvent({ Records: [{ body: '{"orderId":"o-1"}' }, { body: 'oops' }, { body: '{"orderId":"o-3"}' }] });
    const res = await consumer.invoke(event);
    expect(res.payload).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[1]?.messageId }] });
    expect(res.logs.join('\n')).toMatch(/\tERROR\tbad message /);
  });
});
