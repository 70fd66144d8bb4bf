/**
 * Asynchronous-invocation settings over the Lambda API, onto the runtime's own calls:
 * Put/Update/Get/Delete FunctionEventInvokeConfig (`/2019-09-25/functions/{FunctionName}/event-invoke-config`,
 * `?Qualifier=`), ListFunctionEventInvokeConfigs (`…/event-invoke-config/list`), Put/Get
 * FunctionRecursionConfig (`/2024-08-31/functions/{FunctionName}/recursion-config`) and the legacy
 * InvokeAsync (`POST /2014-11-13/functions/{FunctionName}/invoke-async`, 202).
 *
 * Paths, methods and success statuses are the SDK's model (@aws-sdk/client-lambda schemas_0.js:
 * PutFunctionEventInvokeConfig PUT 200, UpdateFunctionEventInvokeConfig POST 200, Get GET 200,
 * Delete DELETE 204, List GET 200, PutFunctionRecursionConfig PUT 200, GetFunctionRecursionConfig
 * GET 200, InvokeAsync POST 202). Wire shape: Lambda API reference, FunctionEventInvokeConfig
 * (`LastModified` a timestamp, epoch seconds on the wire; `DestinationConfig.OnSuccess/OnFailure
 * .Destination`) and the model's ranges (MaximumRetryAttempts 0-2, MaximumEventAgeInSeconds 60-21600),
 * refused as ValidationException as the service's model validation does.
 */
import type { DestinationConfigInput, EventInvokeConfigInput, FunctionEventInvokeConfig } from '../../async/invoke-config.ts';
import { parseJsonBody } from '../body.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import { json, paginate, type ApiContext } from './context.ts';
import { eventFromPayload } from '../../invoke/payload.ts';
import { optionalInteger, optionalString, validationError } from './shapes.ts';

function qualifierOf(request: ApiRequest): { qualifier?: string } {
  const q = request.query.get('Qualifier');
  return q === null ? {} : { qualifier: q };
}

function destination(value: unknown, field: string): { destination?: string } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw validationError(field, JSON.stringify(value), 'Member must be an object');
  const arn = optionalString(value as Record<string, unknown>, 'Destination');
  return arn === undefined ? {} : { destination: arn };
}

function eventInvokeConfigInput(request: ApiRequest): EventInvokeConfigInput {
  const body = parseJsonBody(request.body);
  const input: { -readonly [K in keyof EventInvokeConfigInput]: EventInvokeConfigInput[K] } = { ...qualifierOf(request) };
  const retries = optionalInteger(body, 'MaximumRetryAttempts', 0, 2);
  const age = optionalInteger(body, 'MaximumEventAgeInSeconds', 60, 21600);
  if (retries !== undefined) input.maximumRetryAttempts = retries;
  if (age !== undefined) input.maximumEventAgeInSeconds = age;
  const config: unknown = body.DestinationConfig;
  if (config !== undefined && config !== null) {
    if (typeof config !== 'object' || Array.isArray(config)) throw validationError('destinationConfig', JSON.stringify(config), 'Member must be an object');
    const { OnSuccess, OnFailure } = config as { OnSuccess?: unknown; OnFailure?: unknown };
    const onSuccess = destination(OnSuccess, 'destinationConfig.onSuccess');
    const onFailure = destination(OnFailure, 'destinationConfig.onFailure');
    const out: { -readonly [K in keyof DestinationConfigInput]: DestinationConfigInput[K] } = {};
    if (onSuccess !== undefined) out.onSuccess = onSuccess;
    if (onFailure !== undefined) out.onFailure = onFailure;
    input.destinationConfig = out;
  }
  return input;
}

/** FunctionEventInvokeConfig as Lambda sends it (PascalCase; absent settings left out). */
export function eventInvokeConfigShape(config: FunctionEventInvokeConfig): Record<string, unknown> {
  const side = (d: { readonly destination?: string }): Record<string, string> => (d.destination === undefined ? {} : { Destination: d.destination });
  return {
    LastModified: config.lastModified,
    FunctionArn: config.functionArn,
    ...(config.maximumRetryAttempts !== undefined ? { MaximumRetryAttempts: config.maximumRetryAttempts } : {}),
    ...(config.maximumEventAgeInSeconds !== undefined ? { MaximumEventAgeInSeconds: config.maximumEventAgeInSeconds } : {}),
    DestinationConfig: { OnSuccess: side(config.destinationConfig.onSuccess), OnFailure: side(config.destinationConfig.onFailure) },
  };
}

export function putFunctionEventInvokeConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  return json(200, eventInvokeConfigShape(ctx.rt.putFunctionEventInvokeConfig(request.params.FunctionName!, eventInvokeConfigInput(request))));
}

export function updateFunctionEventInvokeConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  return json(200, eventInvokeConfigShape(ctx.rt.updateFunctionEventInvokeConfig(request.params.FunctionName!, eventInvokeConfigInput(request))));
}

export function getFunctionEventInvokeConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  return json(200, eventInvokeConfigShape(ctx.rt.getFunctionEventInvokeConfig(request.params.FunctionName!, qualifierOf(request))));
}

export function deleteFunctionEventInvokeConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  ctx.rt.deleteFunctionEventInvokeConfig(request.params.FunctionName!, qualifierOf(request));
  return { status: 204 };
}

export function listFunctionEventInvokeConfigs(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const { page, nextMarker } = paginate(ctx.rt.listFunctionEventInvokeConfigs(request.params.FunctionName!), request.query);
  return json(200, { FunctionEventInvokeConfigs: page.map(eventInvokeConfigShape), ...(nextMarker ? { NextMarker: nextMarker } : {}) });
}

export function putFunctionRecursionConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const body = parseJsonBody(request.body);
  const loop = optionalString(body, 'RecursiveLoop');
  if (loop === undefined) throw validationError('recursiveLoop', 'null', 'Member must not be null');
  if (loop !== 'Allow' && loop !== 'Terminate') throw validationError('recursiveLoop', loop, 'Member must satisfy enum value set: [Allow, Terminate]');
  return json(200, { RecursiveLoop: ctx.rt.putFunctionRecursionConfig(request.params.FunctionName!, { recursiveLoop: loop }).recursiveLoop });
}

export function getFunctionRecursionConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  return json(200, { RecursiveLoop: ctx.rt.getFunctionRecursionConfig(request.params.FunctionName!).recursiveLoop });
}

/**
 * InvokeAsync, Lambda's deprecated asynchronous call: the body is the event (InvokeArgs), queued as
 * an `Event` invoke of the unqualified function (the operation has no Qualifier), answered 202 with
 * `{"Status":202}` (InvokeAsyncResponse's Status is the HTTP status).
 */
export async function invokeAsync(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const event = eventFromPayload(request.body);
  const queued = await ctx.rt.invoke(request.params.FunctionName!, event, { invocationType: 'Event' });
  return json(202, { Status: 202 }, { 'x-amzn-RequestId': queued.requestId });
}
