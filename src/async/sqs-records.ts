/**
 * A lambdalet queue's message as Lambda's SQS event record (`SQSRecord` of @types/aws-lambda;
 * the shape of AWS's sample event, which src/testing/events.ts's `sqsEvent` also holds): messageId,
 * receiptHandle, body, attributes {ApproximateReceiveCount, SentTimestamp, SenderId,
 * ApproximateFirstReceiveTimestamp}, messageAttributes, md5OfBody, eventSource 'aws:sqs',
 * eventSourceARN, awsRegion. And the redrive rule: a message received more than its queue's
 * `maxReceiveCount` times moves to the dead-letter queue instead (SQS developer guide,
 * "Using dead-letter queues").
 */
import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { RuntimeOptions } from '../config/index.ts';
import type { EventQueueBackend, LeasedEvent } from './queue.ts';
import { queueBackendName, type QueueInfo, type QueueRegistry, type StoredMessage } from './queues.ts';

export function sqsRecord(lease: LeasedEvent, queue: QueueInfo, options: RuntimeOptions): SQSRecord {
  const message = JSON.parse(lease.body) as StoredMessage;
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.messageAttributes ?? {})) {
    messageAttributes[name] = { stringValue: value.stringValue, stringListValues: [], binaryListValues: [], dataType: value.dataType };
  }
  return {
    messageId: lease.id,
    receiptHandle: lease.token,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(lease.attempts),
      SentTimestamp: String(message.sentTimestamp),
      // The account's id, as SenderId is for a message sent with the account's own credentials.
      SenderId: options.accountId,
      // Not stored: the time the message first became receivable.
      ApproximateFirstReceiveTimestamp: String(lease.availableAt),
    },
    messageAttributes,
    md5OfBody: createHash('md5').update(message.body, 'utf8').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.queueArn,
    awsRegion: options.region,
  };
}

/**
 * Moves the claimed messages past their queue's maxReceiveCount to its dead-letter queue (one
 * atomic ack + enqueue each) and returns the others. A dead-letter queue deleted meanwhile leaves
 * the message where it is (it is received again), with a log line.
 */
export async function redrive(
  backend: EventQueueBackend,
  queues: QueueRegistry,
  queue: QueueInfo,
  leases: readonly LeasedEvent[],
  now: number,
  log: (line: string) => void,
): Promise<LeasedEvent[]> {
  const policy = queue.redrivePolicy;
  if (policy === undefined) return [...leases];
  const kept: LeasedEvent[] = [];
  for (const lease of leases) {
    if (lease.attempts <= policy.maxReceiveCount) {
      kept.push(lease);
      continue;
    }
    const target = queues.find(policy.deadLetterTargetArn);
    if (target === undefined) {
      log(`Queue ${queue.queueName}: message ${lease.id} is past maxReceiveCount but its dead-letter queue ${policy.deadLetterTargetArn} does not exist`);
      kept.push(lease);
      continue;
    }
    // Same messageId and body, in the dead-letter queue.
    await backend.ack(lease, [{ queue: queueBackendName(target.queueName), id: lease.id, body: lease.body, enqueuedAt: lease.enqueuedAt, availableAt: now }]);
  }
  return kept;
}
