/**
 * Destinations of asynchronous invocation and where their records go. A destination is named as
 * Lambda names it, by ARN — another function (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`,
 * invoked asynchronously with the invocation record as its event) or a lambdalet queue
 * (`arn:aws:sqs:<region>:<account>:<name>`, the record as the message body) — or a host callback
 * registered with `rt.registerDestinationCallback(name, fn)`, named `callback:<name>`.
 *
 * The invocation record is Lambda's (developer guide, "Capturing records of Lambda asynchronous
 * invocations"): `version` '1.0', `timestamp`, `requestContext` {requestId, functionArn (qualified),
 * condition, approximateInvokeCount}, `requestPayload`, `responseContext` {statusCode,
 * executedVersion, functionError?}, `responsePayload`.
 */
import { randomUUID } from 'node:crypto';
import { QUEUE_ARN_PATTERN, type RuntimeOptions } from '../config/index.ts';
import { InvalidParameterValueException, ResourceNotFoundException } from '../errors.ts';
import { splitFunctionName } from '../registry/names.ts';
import type { FunctionRegistry } from '../registry/registry.ts';
import { invokeEvent, type Lineage } from './async-invoke.ts';
import type { LastAttempt } from './outcome.ts';
import type { NewEvent } from './queue.ts';
import type { MessageAttributeValue, QueueRegistry } from './queues.ts';

export type Destination =
  | { readonly kind: 'function'; readonly name: string; readonly qualifier: string | undefined }
  | { readonly kind: 'queue'; readonly name: string }
  | { readonly kind: 'callback'; readonly name: string };

const CALLBACK = /^callback:([A-Za-z0-9_.-]{1,128})$/;

/** The queue of a host callback's deliveries. */
export function callbackQueue(name: string): string {
  return `callback:${name}`;
}

/**
 * Parses a destination and checks it exists now (a function, a queue, a registered callback).
 * @throws InvalidParameterValueException naming `field` (malformed, or another account's or
 *   region's); ResourceNotFoundException (no such function or queue, or callback not registered).
 */
export function parseDestination(
  arn: unknown,
  field: string,
  options: RuntimeOptions,
  registry: FunctionRegistry,
  queues: QueueRegistry,
  callbacks: ReadonlyMap<string, unknown>,
): Destination {
  if (typeof arn !== 'string') throw new InvalidParameterValueException(field, `Expected \`${field}\` to be a destination ARN, got ${typeof arn}`);
  const callback = CALLBACK.exec(arn);
  if (callback !== null) {
    const name = callback[1]!;
    if (!callbacks.has(name)) throw new ResourceNotFoundException(`No destination callback is registered as ${JSON.stringify(name)}: call rt.registerDestinationCallback first`);
    return { kind: 'callback', name };
  }
  if (QUEUE_ARN_PATTERN.test(arn)) return { kind: 'queue', name: queues.get(arn, field).queueName };
  if (/^arn:aws[a-zA-Z-]*:lambda:/.test(arn)) {
    const ref = splitFunctionName(arn, options);
    if (!registry.get(ref.name)) throw new ResourceNotFoundException(`Function not found: ${arn}`);
    return { kind: 'function', name: ref.name, qualifier: ref.qualifier };
  }
  throw new InvalidParameterValueException(
    field,
    `Expected \`${field}\` to be a function ARN, a lambdalet queue ARN (arn:aws:sqs:...) or callback:<name>, got ${JSON.stringify(arn)}`,
  );
}

/** Lambda's invocation record. */
export interface InvocationRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: { requestId: string; functionArn: string; condition: string; approximateInvokeCount: number };
  readonly requestPayload: unknown;
  readonly responseContext?: { statusCode: number; executedVersion: string; functionError?: string };
  readonly responsePayload?: unknown;
}

export function invocationRecord(
  requestId: string,
  functionArn: string,
  condition: string,
  approximateInvokeCount: number,
  eventJson: string,
  last: LastAttempt | undefined,
  now: number,
): InvocationRecord {
  const record: InvocationRecord = {
    version: '1.0',
    timestamp: new Date(now).toISOString(),
    requestContext: { requestId, functionArn, condition, approximateInvokeCount },
    requestPayload: JSON.parse(eventJson) as unknown,
  };
  if (last === undefined) return record;
  const { response: result } = last;
  return {
    ...record,
    responseContext: {
      statusCode: result.statusCode,
      executedVersion: result.executedVersion,
      ...(result.functionError !== undefined ? { functionError: result.functionError } : {}),
    },
    responsePayload: result.payload,
  };
}

/**
 * The queue event that delivers `body` to `destination`, or undefined when it no longer exists
 * (deleted since it was configured): the caller counts a DestinationDeliveryFailure. `id` (the
 * delivery's requestId or messageId; default a fresh UUID) lets a caller derive it from what is
 * delivered, so a delivery made again is recognised as the same one (outcome.ts `deliveryId`).
 */
export function deliveryEvent(
  destination: Destination,
  body: string,
  now: number,
  registry: FunctionRegistry,
  queues: QueueRegistry,
  lineage: Lineage,
  messageAttributes?: Record<string, MessageAttributeValue>,
  id: string = randomUUID(),
): NewEvent | undefined {
  switch (destination.kind) {
    case 'function':
      if (!registry.get(destination.name)) return undefined;
      return invokeEvent(id, { fn: destination.name, q: destination.qualifier, event: body, lineage }, now);
    case 'queue': {
      const queue = queues.find(destination.name);
      if (queue === undefined) return undefined;
      try {
        return { ...queues.message(queue, body, now, { messageAttributes, delaySeconds: 0 }), id };
      } catch {
        return undefined; // too large for a message: a delivery failure, as on Lambda
      }
    }
    case 'callback':
      return { queue: callbackQueue(destination.name), id, body, enqueuedAt: now, availableAt: now };
  }
}
