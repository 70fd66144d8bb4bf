/**
 * CreateEventSourceMapping (POST /2015-03-31/event-source-mappings, 202), GetEventSourceMapping
 * (GET .../{UUID}, 200), UpdateEventSourceMapping (PUT .../{UUID}, 202), DeleteEventSourceMapping
 * (DELETE .../{UUID}, 202) and ListEventSourceMappings (GET ..., 200, `EventSourceArn`,
 * `FunctionName`, `Marker`, `MaxItems`): paths and statuses from the SDK's model
 * (@aws-sdk/client-lambda schemas), wire shape from the API reference's
 * EventSourceMappingConfiguration (PascalCase; `LastModified` epoch seconds). Sources are lambdalet
 * queues and streams (src/async, which validates every field with Lambda's ranges and words).
 *
 * Fields Lambda has and lambdalet's sources do not (FilterCriteria, Tags, Kafka/MQ/DocumentDB
 * settings, ...) are refused with InvalidParameterValueException
 * naming the field, never dropped silently.
 */
import type { EventSourceMappingInfo, EventSourceMappingInput } from '../../runtime.ts';
import { parseJsonBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import { json, paginate, type ApiContext } from './context.ts';

/** The request fields lambdalet maps, wire name → EventSourceMappingInput field. */
const INPUT_FIELDS: Readonly<Record<string, keyof EventSourceMappingInput>> = {
  EventSourceArn: 'eventSourceArn',
  FunctionName: 'functionName',
  BatchSize: 'batchSize',
  MaximumBatchingWindowInSeconds: 'maximumBatchingWindowInSeconds',
  FunctionResponseTypes: 'functionResponseTypes',
  Enabled: 'enabled',
  BisectBatchOnFunctionError: 'bisectBatchOnFunctionError',
  MaximumRetryAttempts: 'maximumRetryAttempts',
  MaximumRecordAgeInSeconds: 'maximumRecordAgeInSeconds',
  ParallelizationFactor: 'parallelizationFactor',
  StartingPosition: 'startingPosition',
  // A timestamp: the SDK sends epoch seconds, as src/async takes it.
  StartingPositionTimestamp: 'startingPositionTimestamp',
};

function unsupported(field: string, why: string): HttpError {
  return new HttpError(400, 'InvalidParameterValueException', `${field} is not supported by lambdalet: ${why}`);
}

/** The request body → the runtime's input; every field known or refused. */
function input(body: Record<string, unknown>): EventSourceMappingInput {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || value === null) continue;
    const field = INPUT_FIELDS[key];
    if (field !== undefined) {
      out[field] = value;
    } else if (key === 'DestinationConfig') {
      out.destinationConfig = destinationIn(value);
    } else {
      throw unsupported(key, 'lambdalet queues and streams have no such setting');
    }
  }
  return out;
}

function destinationIn(value: unknown): EventSourceMappingInput['destinationConfig'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'InvalidParameterValueException', 'DestinationConfig must be an object');
  const { OnFailure, OnSuccess, ...rest } = value as Record<string, unknown>;
  if (OnSuccess !== undefined) throw unsupported('DestinationConfig.OnSuccess', 'event source mappings have on-failure destinations only');
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw unsupported(`DestinationConfig.${unknown}`, 'not a DestinationConfig field');
  if (OnFailure === undefined) return {};
  if (typeof OnFailure !== 'object' || OnFailure === null) throw new HttpError(400, 'InvalidParameterValueException', 'DestinationConfig.OnFailure must be an object');
  const destination = (OnFailure as Record<string, unknown>).Destination;
  return { onFailure: destination === undefined ? {} : { destination: destination as string } };
}

/** EventSourceMappingConfiguration as the SDK reads it. */
function shape(info: EventSourceMappingInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    UUID: info.uuid,
    EventSourceArn: info.eventSourceArn,
    FunctionArn: info.functionArn,
    BatchSize: info.batchSize,
    MaximumBatchingWindowInSeconds: info.maximumBatchingWindowInSeconds,
    FunctionResponseTypes: info.functionResponseTypes,
    State: info.state,
    StateTransitionReason: info.stateTransitionReason,
    LastModified: info.lastModified,
    LastProcessingResult: info.lastProcessingResult,
  };
  if (info.startingPosition !== undefined) out.StartingPosition = info.startingPosition;
  if (info.startingPositionTimestamp !== undefined) out.StartingPositionTimestamp = info.startingPositionTimestamp;
  if (info.bisectBatchOnFunctionError !== undefined) out.BisectBatchOnFunctionError = info.bisectBatchOnFunctionError;
  if (info.maximumRetryAttempts !== undefined) out.MaximumRetryAttempts = info.maximumRetryAttempts;
  if (info.maximumRecordAgeInSeconds !== undefined) out.MaximumRecordAgeInSeconds = info.maximumRecordAgeInSeconds;
  if (info.parallelizationFactor !== undefined) out.ParallelizationFactor = info.parallelizationFactor;
  if (info.destinationConfig !== undefined) {
    const destination = info.destinationConfig.onFailure.destination;
    out.DestinationConfig = { OnFailure: destination === undefined ? {} : { Destination: destination } };
  }
  return out;
}

export function createEventSourceMapping(ctx: ApiContext, request: ApiRequest): ApiResponse {
  return json(202, shape(ctx.rt.createEventSourceMapping(input(parseJsonBody(request.body)))));
}

export function getEventSourceMapping(ctx: ApiContext, request: ApiRequest): ApiResponse {
  return json(200, shape(ctx.rt.getEventSourceMapping(request.params.UUID!)));
}

export function updateEventSourceMapping(ctx: ApiContext, request: ApiRequest): ApiResponse {
  return json(202, shape(ctx.rt.updateEventSourceMapping(request.params.UUID!, input(parseJsonBody(request.body)))));
}

export function deleteEventSourceMapping(ctx: ApiContext, request: ApiRequest): ApiResponse {
  // Lambda answers a delete with the mapping, its State `Deleting`.
  return json(202, { ...shape(ctx.rt.deleteEventSourceMapping(request.params.UUID!)), State: 'Deleting' });
}

export function listEventSourceMappings(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const eventSourceArn = request.query.get('EventSourceArn') ?? undefined;
  const functionName = request.query.get('FunctionName') ?? undefined;
  const all = ctx.rt.listEventSourceMappings({ ...(eventSourceArn === undefined ? {} : { eventSourceArn }), ...(functionName === undefined ? {} : { functionName }) });
  const { page, nextMarker } = paginate(all, request.query);
  return json(200, { EventSourceMappings: page.map(shape), ...(nextMarker === undefined ? {} : { NextMarker: nextMarker }) });
}
