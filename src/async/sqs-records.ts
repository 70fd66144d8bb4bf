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

/**
 * ReceiveMessage / DeleteMessage for a host caller: a receipt handle is its lease's token, kept in
 * memory until the lease ends (receipt handles do not outlive the runtime; SQS's expire too). On a
 * backend several runtimes share (`ackLeased`: a cluster's), the handle also carries the message id
 * (`<token>.<id, base64url>`), so any member can delete a message another member received.
 */
export class Receiver {
  readonly #received = new Map<string, LeasedEvent>();
  readonly #backend: EventQueueBackend;
  readonly #queues: QueueRegistry;
  readonly #options: RuntimeOptions;
  readonly #log: (queueName: string, line: string) => void;

  constructor(backend: EventQueueBackend, queues: QueueRegistry, options: RuntimeOptions, log: (queueName: string, line: string) => void) {
    this.#backend = backend;
    this.#queues = queues;
    this.#options = options;
    this.#log = log;
  }

  /** Up to `max` messages leased for `visibilityMs`, redriven past maxReceiveCount, as SQS records. */
  async receive(queue: QueueInfo, now: number, max: number, visibilityMs: number): Promise<SQSRecord[]> {
    // Receipt handles of leases that have ended are dead (as SQS's expire): forget them.
    for (const [handle, lease] of this.#received) if (lease.leaseUntil <= now) this.#received.delete(handle);
    const leases = await this.#backend.claim(queueBackendName(queue.queueName), now, max, visibilityMs);
    const kept = await redrive(this.#backend, this.#queues, queue, leases, now, (line) => this.#log(queue.queueName, line));
    return kept.map((lease) => {
      const receiptHandle = this.#backend.ackLeased === undefined ? lease.token : `${lease.token}.${Buffer.from(lease.id).toString('base64url')}`;
      this.#received.set(receiptHandle, lease);
      return { ...sqsRecord(lease, queue, this.#options), receiptHandle };
    });
  }

  /** Deletes the message a receipt handle names; a stale or unknown handle deletes nothing. */
  async delete(queueName: string, receiptHandle: string): Promise<void> {
    const lease = this.#received.get(receiptHandle);
    this.#received.delete(receiptHandle);
    if (lease !== undefined) {
      await this.#backend.ack(lease);
      return;
    }
    // Received through another runtime sharing the backend: its token and the message id settle it.
    const dot = receiptHandle.indexOf('.');
    if (this.#backend.ackLeased === undefined || dot < 0) return;
    await this.#backend.ackLeased(queueBackendName(queueName), Buffer.from(receiptHandle.slice(dot + 1), 'base64url').toString(), receiptHandle.slice(0, dot));
  }
}
