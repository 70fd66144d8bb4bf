/**
 * The Lambda API's routes, with the paths and methods of the SDK's model (@aws-sdk/client-lambda
 * `schemas_0.js`: e.g. `["POST", "/2015-03-31/functions/{FunctionName}/invocations", 200]`) and
 * each call's body limit: Invoke's 6 MB (Lambda quotas: "Invocation payload (request and
 * response) 6 MB (synchronous)"), a deployment package's 70,167,211 bytes of request for the calls
 * that carry a base64 zip (Lambda's message "Request must be smaller than 70167211 bytes for the
 * CreateFunction operation"; 50 MB zipped once base64-encoded), 1 MiB for the other JSON calls.
 */
import { REQUEST_PAYLOAD_MAX_BYTES } from '../../config/index.ts';
import { HttpError } from '../errors.ts';
import { Router, type Handler } from '../router.ts';
import * as al from './aliases-layers.ts';
import * as ac from './async-configs.ts';
import * as perms from './permissions.ts';
import * as tags from './tags.ts';
import type { ApiContext } from './context.ts';
import * as esm from './event-source-mappings.ts';
import * as fn from './functions.ts';
import { invoke } from './invoke.ts';
import { invokeWithResponseStream } from './invoke-stream.ts';
import * as urls from './url-configs.ts';

/** A deployment package request's limit (base64 zip in JSON). */
export const PACKAGE_REQUEST_MAX_BYTES = 70_167_211;
/** Any other control-plane request. */
export const CONTROL_REQUEST_MAX_BYTES = 1_048_576;

/** Lambda's 413 for a request over the operation's limit. */
export function tooLarge(operation: string, max: number): (bytes: number | undefined) => HttpError {
  // Lambda names Invoke "InvokeFunction" in this message (and in RequestTooLargeException from the runtime).
  const name = operation === 'Invoke' || operation === 'InvokeWithResponseStream' ? 'InvokeFunction' : operation;
  return () => new HttpError(413, 'RequestTooLargeException', `Request must be smaller than ${max} bytes for the ${name} operation`);
}

export function lambdaApiRouter(ctx: ApiContext): Router {
  const router = new Router();
  const add = (method: string, pattern: string, operation: string, handler: (ctx: ApiContext, request: Parameters<Handler>[0]) => ReturnType<Handler>, maxBodyBytes = CONTROL_REQUEST_MAX_BYTES): void => {
    router.add({ method, pattern, operation, maxBodyBytes, jsonBody: !operation.startsWith('Invoke'), handler: (request) => handler(ctx, request) });
  };
  const F = '/2015-03-31/functions/{FunctionName}';
  add('POST', `${F}/invocations`, 'Invoke', invoke, REQUEST_PAYLOAD_MAX_BYTES);
  add('POST', '/2021-11-15/functions/{FunctionName}/response-streaming-invocations', 'InvokeWithResponseStream', invokeWithResponseStream, REQUEST_PAYLOAD_MAX_BYTES);
  add('POST', '/2015-03-31/functions', 'CreateFunction', fn.createFunction, PACKAGE_REQUEST_MAX_BYTES);
  add('GET', '/2015-03-31/functions', 'ListFunctions', fn.listFunctions);
  add('GET', F, 'GetFunction', fn.getFunction);
  add('DELETE', F, 'DeleteFunction', fn.deleteFunction);
  add('GET', `${F}/configuration`, 'GetFunctionConfiguration', fn.getFunctionConfiguration);
  add('PUT', `${F}/configuration`, 'UpdateFunctionConfiguration', fn.updateFunctionConfiguration);
  add('PUT', `${F}/code`, 'UpdateFunctionCode', fn.updateFunctionCode, PACKAGE_REQUEST_MAX_BYTES);
  add('POST', `${F}/versions`, 'PublishVersion', fn.publishVersion);
  add('GET', `${F}/versions`, 'ListVersionsByFunction', fn.listVersionsByFunction);
  add('POST', `${F}/aliases`, 'CreateAlias', al.createAlias);
  add('GET', `${F}/aliases`, 'ListAliases', al.listAliases);
  add('GET', `${F}/aliases/{Name}`, 'GetAlias', al.getAlias);
  add('PUT', `${F}/aliases/{Name}`, 'UpdateAlias', al.updateAlias);
  add('DELETE', `${F}/aliases/{Name}`, 'DeleteAlias', al.deleteAlias);
  add('PUT', '/2017-10-31/functions/{FunctionName}/concurrency', 'PutFunctionConcurrency', fn.putFunctionConcurrency);
  add('DELETE', '/2017-10-31/functions/{FunctionName}/concurrency', 'DeleteFunctionConcurrency', fn.deleteFunctionConcurrency);
  add('GET', '/2019-09-30/functions/{FunctionName}/concurrency', 'GetFunctionConcurrency', fn.getFunctionConcurrency);
  add('GET', '/2020-06-30/functions/{FunctionName}/code-signing-config', 'GetFunctionCodeSigningConfig', fn.getFunctionCodeSigningConfig);
  const P = '/2019-09-30/functions/{FunctionName}/provisioned-concurrency';
  add('PUT', P, 'PutProvisionedConcurrencyConfig', al.putProvisionedConcurrencyConfig);
  add('GET', P, 'GetProvisionedConcurrencyConfig', al.getProvisionedConcurrencyConfig);
  add('DELETE', P, 'DeleteProvisionedConcurrencyConfig', al.deleteProvisionedConcurrencyConfig);
  add('POST', '/2018-10-31/layers/{LayerName}/versions', 'PublishLayerVersion', al.publishLayerVersion, PACKAGE_REQUEST_MAX_BYTES);
  add('GET', '/2018-10-31/layers', 'ListLayers', al.listLayers);
  add('GET', '/2018-10-31/layers/{LayerName}/versions', 'ListLayerVersions', al.listLayerVersions);
  add('GET', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'GetLayerVersion', al.getLayerVersion);
  add('DELETE', '/2018-10-31/layers/{LayerName}/versions/{VersionNumber}', 'DeleteLayerVersion', al.deleteLayerVersion);
  const U = '/2021-10-31/functions/{FunctionName}/url';
  add('POST', U, 'CreateFunctionUrlConfig', urls.createFunctionUrlConfig);
  add('GET', U, 'GetFunctionUrlConfig', urls.getFunctionUrlConfig);
  add('PUT', U, 'UpdateFunctionUrlConfig', urls.updateFunctionUrlConfig);
  add('DELETE', U, 'DeleteFunctionUrlConfig', urls.deleteFunctionUrlConfig);
  add('GET', '/2021-10-31/functions/{FunctionName}/urls', 'ListFunctionUrlConfigs', urls.listFunctionUrlConfigs);
  const C = '/2019-09-25/functions/{FunctionName}/event-invoke-config';
  add('PUT', C, 'PutFunctionEventInvokeConfig', ac.putFunctionEventInvokeConfig);
  add('POST', C, 'UpdateFunctionEventInvokeConfig', ac.updateFunctionEventInvokeConfig);
  add('GET', C, 'GetFunctionEventInvokeConfig', ac.getFunctionEventInvokeConfig);
  add('DELETE', C, 'DeleteFunctionEventInvokeConfig', ac.deleteFunctionEventInvokeConfig);
  add('GET', `${C}/list`, 'ListFunctionEventInvokeConfigs', ac.listFunctionEventInvokeConfigs);
  add('PUT', '/2024-08-31/functions/{FunctionName}/recursion-config', 'PutFunctionRecursionConfig', ac.putFunctionRecursionConfig);
  add('GET', '/2024-08-31/functions/{FunctionName}/recursion-config', 'GetFunctionRecursionConfig', ac.getFunctionRecursionConfig);
  // InvokeAsync's body is the raw event, like Invoke's (the name starts with Invoke: not parsed as a JSON request).
  add('POST', '/2014-11-13/functions/{FunctionName}/invoke-async', 'InvokeAsync', ac.invokeAsync, REQUEST_PAYLOAD_MAX_BYTES);
  add('POST', `${F}/policy`, 'AddPermission', perms.addPermission);
  add('GET', `${F}/policy`, 'GetPolicy', perms.getPolicy);
  add('DELETE', `${F}/policy/{StatementId}`, 'RemovePermission', perms.removePermission);
  add('GET', '/2017-03-31/tags/{Resource}', 'ListTags', tags.listTags);
  add('POST', '/2017-03-31/tags/{Resource}', 'TagResource', tags.tagResource);
  add('DELETE', '/2017-03-31/tags/{Resource}', 'UntagResource', tags.untagResource);
  add('GET', '/2016-08-19/account-settings', 'GetAccountSettings', (c) => tags.getAccountSettings(c));
  const E = '/2015-03-31/event-source-mappings';
  add('POST', E, 'CreateEventSourceMapping', esm.createEventSourceMapping);
  add('GET', E, 'ListEventSourceMappings', esm.listEventSourceMappings);
  add('GET', `${E}/{UUID}`, 'GetEventSourceMapping', esm.getEventSourceMapping);
  add('PUT', `${E}/{UUID}`, 'UpdateEventSourceMapping', esm.updateEventSourceMapping);
  add('DELETE', `${E}/{UUID}`, 'DeleteEventSourceMapping', esm.deleteEventSourceMapping);
  return router;
}
