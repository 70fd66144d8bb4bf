/**
 * lambdalet's own queues, with SQS's semantics and names: `rt.createQueue(name, { visibilityTimeout,
 * delaySeconds, redrivePolicy })`, `rt.sendMessage(queue, body, { messageAttributes, delaySeconds })`.
 * A message is an event of the backend queue `sqs:<name>` (its id is the messageId): a receive is
 * a claim whose lease is the visibility timeout, `attempts` is ApproximateReceiveCount, a delete is
 * an ack. Limits are SQS's (developer guide, "Amazon SQS quotas" and the CreateQueue / SendMessage
 * API references): names 1-80 of [A-Za-z0-9_-], visibility timeout 0-43200 s (default 30),
 * delay 0-900 s, maxReceiveCount 1-1000, a message body of 1 byte to 1 MiB (1,048,576 bytes
 * since August 2025; 256 KiB before).
 */
import { randomUUID } from 'node:crypto';
import { QUEUE_ARN_PATTERN, type RuntimeOptions } from '../config/index.ts';
import { InvalidParameterValueException, QueueDeletedRecently, ResourceNotFoundException } from '../errors.ts';
import type { ConfigStore } from './config-store.ts';
import type { NewEvent } from './queue.ts';

export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;
export const VISIBILITY_TIMEOUT_MAX_S = 43_200;
export const DELAY_SECONDS_MAX = 900;
export const MAX_RECEIVE_COUNT_MAX = 1000;
export const MESSAGE_MAX_BYTES = 1_048_576;

export interface RedrivePolicy {
  /** The dead-letter queue's ARN (a lambdalet queue). */
  readonly deadLetterTargetArn: string;
  /** Receives before a message moves to the dead-letter queue: 1 to 1000. */
  readonly maxReceiveCount: number;
}

export interface CreateQueueInput {
  /** Seconds a received message stays invisible: 0 to 43200. Default 30. */
  readonly visibilityTimeout?: number;
  /** Seconds every new message waits before it can be received: 0 to 900. Default 0. */
  readonly delaySeconds?: number;
  readonly redrivePolicy?: RedrivePolicy;
}

/** A queue as `rt.createQueue` / `rt.getQueue` return it. */
export interface QueueInfo {
  readonly queueName: string;
  readonly queueArn: string;
  readonly visibilityTimeout: number;
  readonly delaySeconds: number;
  readonly redrivePolicy?: RedrivePolicy | undefined;
}

/** An SQS message attribute (SendMessage's MessageAttributeValue). */
export interface MessageAttributeValue {
  readonly dataType: string;
  readonly stringValue?: string;
}

/** What a queued message holds (JSON in the backend). */
export interface StoredMessage {
  readonly body: string;
  readonly sentTimestamp: number;
  readonly messageAttributes?: Readonly<Record<string, MessageAttributeValue>> | undefined;
}

export function queueBackendName(queueName: string): string {
  return `sqs:${queueName}`;
}

function invalid(field: string, message: string): InvalidParameterValueException {
  return new InvalidParameterValueException(field, message);
}

function checkInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(field, `Expected \`${field}\` to be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** SQS: "you must wait at least 60 seconds before creating a queue with the same name" (DeleteQueue API reference). */
export const RECREATE_AFTER_MS = 60_000;

export class QueueRegistry {
  readonly #queues = new Map<string, QueueInfo>();
  /** Names deleted by this runtime, and when (in memory: a restart forgets them). */
  readonly #deletedAt = new Map<string, number>();
  readonly #options: RuntimeOptions;
  readonly #store: ConfigStore;

  constructor(options: RuntimeOptions, store: ConfigStore) {
    this.#options = options;
    this.#store = store;
    this.reload();
  }

  /** Reads the queue definitions again from the store (at restore; another runtime changed one). */
  reload(): void {
    this.#queues.clear();
    for (const [name, info] of this.#store.all('queue')) this.#queues.set(name, Object.freeze(info as QueueInfo));
  }

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.#options.region}:${this.#options.accountId}:${name}`;
  }

  /**
   * Creating an existing queue with the same attributes returns it, as SQS does. `now`: epoch ms
   * on the event clock, for SQS's 60 seconds between deleting a name and creating it again.
   * @throws InvalidParameterValueException (name, ranges, an unknown or self redrive target,
   *   other attributes for an existing name), QueueDeletedRecently.
   */
  create(name: string, input: CreateQueueInput = {}, now = Date.now()): QueueInfo {
    if (typeof name !== 'string' || !QUEUE_NAME_PATTERN.test(name)) {
      throw invalid('queueName', `Expected the queue name to be 1 to 80 characters from [A-Za-z0-9_-], got ${JSON.stringify(name)}`);
    }
    const deletedAt = this.#deletedAt.get(name);
    if (deletedAt !== undefined && now - deletedAt < RECREATE_AFTER_MS) throw new QueueDeletedRecently();
    const visibilityTimeout = checkInt('visibilityTimeout', input.visibilityTimeout ?? 30, 0, VISIBILITY_TIMEOUT_MAX_S);
    const delaySeconds = checkInt('delaySeconds', input.delaySeconds ?? 0, 0, DELAY_SECONDS_MAX);
    let redrivePolicy: RedrivePolicy | undefined;
    if (input.redrivePolicy !== undefined) {
      const { deadLetterTargetArn, maxReceiveCount } = input.redrivePolicy;
      checkInt('redrivePolicy.maxReceiveCount', maxReceiveCount, 1, MAX_RECEIVE_COUNT_MAX);
      const target = this.get(deadLetterTargetArn, 'redrivePolicy.deadLetterTargetArn');
      if (target.queueName === name) throw invalid('redrivePolicy.deadLetterTargetArn', 'A queue cannot be its own dead-letter queue');
      redrivePolicy = Object.freeze({ deadLetterTargetArn: target.queueArn, maxReceiveCount });
    }
    const info: QueueInfo = Object.freeze({ queueName: name, queueArn: this.arnOf(name), visibilityTimeout, delaySeconds, redrivePolicy });
    const existing = this.#queues.get(name);
    if (existing !== undefined) {
      if (JSON.stringify(existing) === JSON.stringify(info)) return existing;
      // SQS's CreateQueue on an existing name with other attributes: QueueAlreadyExists.
      throw invalid('queueName', `A queue already exists with the same name and a different value for attribute(s): ${name}`);
    }
    this.#queues.set(name, info);
    this.#store.put('queue', name, info);
    return info;
  }

  /** A queue by name or ARN. @throws ResourceNotFoundException (SQS: QueueDoesNotExist) naming it. */
  get(nameOrArn: string, field = 'queue'): QueueInfo {
    const name = this.nameOf(nameOrArn, field);
    const info = this.#queues.get(name);
    if (info === undefined) throw new ResourceNotFoundException(`The specified queue does not exist: ${nameOrArn}`);
    return info;
  }

  /** The queue, or undefined (a delivery to a queue deleted meanwhile). */
  find(nameOrArn: string): QueueInfo | undefined {
    try {
      return this.get(nameOrArn);
    } catch {
      return undefined;
    }
  }

  list(): QueueInfo[] {
    return [...this.#queues.values()];
  }

  /** Forgets the queue; its name can be created again `RECREATE_AFTER_MS` after `now`. */
  delete(nameOrArn: string, now = Date.now()): QueueInfo {
    const info = this.get(nameOrArn);
    this.#deletedAt.set(info.queueName, now);
    this.#queues.delete(info.queueName);
    this.#store.delete('queue', info.queueName);
    return info;
  }

  /** A name from a name or this account's ARN. @throws InvalidParameterValueException. */
  nameOf(nameOrArn: string, field: string): string {
    if (typeof nameOrArn !== 'string') throw invalid(field, `Expected \`${field}\` to be a queue name or ARN, got ${typeof nameOrArn}`);
    if (QUEUE_NAME_PATTERN.test(nameOrArn)) return nameOrArn;
    if (!QUEUE_ARN_PATTERN.test(nameOrArn)) throw invalid(field, `Expected \`${field}\` to be a queue name or an SQS queue ARN, got ${JSON.stringify(nameOrArn)}`);
    const parts = nameOrArn.split(':');
    if (parts[3] !== this.#options.region || parts[4] !== this.#options.accountId) {
      throw new ResourceNotFoundException(`The specified queue does not exist: ${nameOrArn}`);
    }
    return parts[5]!;
  }

  /**
   * The backend event for one message to `queue`, checked as SendMessage checks it.
   * @throws InvalidParameterValueException (empty or too large body, delay out of range).
   */
  message(queue: QueueInfo, body: string, now: number, options: { messageAttributes?: Record<string, MessageAttributeValue>; delaySeconds?: number } = {}): NewEvent {
    if (typeof body !== 'string' || body.length === 0) throw invalid('body', 'Expected the message body to be a non-empty string');
    const bytes = Buffer.byteLength(body, 'utf8');
    if (bytes > MESSAGE_MAX_BYTES) throw invalid('body', `One or more parameters are invalid. Reason: Message must be shorter than ${MESSAGE_MAX_BYTES} bytes.`);
    const delay = checkInt('delaySeconds', options.delaySeconds ?? queue.delaySeconds, 0, DELAY_SECONDS_MAX);
    const stored: StoredMessage = { body, sentTimestamp: now, messageAttributes: options.messageAttributes };
    return {
      queue: queueBackendName(queue.queueName),
      id: randomUUID(),
      body: JSON.stringify(stored),
      enqueuedAt: now,
      availableAt: now + delay * 1000,
    };
  }
}
