/**
 * An HTTP API (payload 2.0) handler that prices orders, and an SQS consumer that reports the
 * messages it could not process (partial batch response). Tested in orders.test.ts.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { totalCents, type OrderLine } from './pricing.ts';

let served = 0; // module state: it survives warm invokes, and starts over on a cold start

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  served++;
  if (event.requestContext.http.method !== 'POST') return json(405, { message: 'use POST' });
  let order: { lines?: OrderLine[] };
  try {
    order = JSON.parse(event.body ?? '') as { lines?: OrderLine[] };
  } catch {
    return json(400, { message: 'the body must be JSON' });
  }
  if (!Array.isArray(order.lines) || order.lines.length === 0) return json(400, { message: '`lines` must be a non-empty array' });
  const total = totalCents(order.lines);
  console.log(`priced ${order.lines.length} lines: ${total} ${process.env.CURRENCY ?? 'EUR'} cents`);
  return json(201, { orderId: context.awsRequestId, totalCents: total, currency: process.env.CURRENCY ?? 'EUR', served });
}

export async function consume(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures = event.Records.filter((record) => {
    try {
      JSON.parse(record.body);
      return false;
    } catch {
      console.error(`bad message ${record.messageId}`);
      return true;
    }
  });
  return { batchItemFailures: failures.map((record) => ({ itemIdentifier: record.messageId })) };
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
