/**
 * The function calls of the Lambda API: CreateFunction, GetFunction, GetFunctionConfiguration,
 * ListFunctions, UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction, PublishVersion,
 * ListVersionsByFunction and the reserved-concurrency calls — each a thin translation onto the
 * runtime's control plane, answering with Lambda's status (201 for creates, 204 for deletes).
 */
import type { EngineName } from '../../config/index.ts';
import { ResourceConflictException } from '../../errors.ts';
import { HttpError } from '../errors.ts';
import { parseJsonBody } from '../body.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import { json, paginate, roleOf, type ApiContext } from './context.ts';
import { blob, configurationFields, functionConfiguration, optionalInteger, optionalString, validationError } from './shapes.ts';
import { checkCount, parseTags, setTags, tagsField } from './tags.ts';

/** CreateFunction's Tags key that picks lambdalet's engine (`v8` default, `quickjs`, `wasm`). */
export const ENGINE_TAG = 'lambdalet:engine';

function qualifierOf(request: ApiRequest): { qualifier?: string } {
  const qualifier = request.query.get('Qualifier');
  return qualifier === null ? {} : { qualifier };
}

function zipOf(code: unknown): Uint8Array {
  if (typeof code !== 'object' || code === null) throw validationError('code', 'null', 'Member must not be null');
  const fields = code as Record<string, unknown>;
  if (fields.ZipFile === undefined) {
    const other = ['S3Bucket', 'ImageUri', 'SourceKMSKeyArn'].find((k) => fields[k] !== undefined);
    throw new HttpError(400, 'InvalidParameterValueException', `lambdalet takes code as Code.ZipFile (base64 zip bytes)${other ? `; ${other} is not supported` : ''}`);
  }
  return blob(fields.ZipFile, 'code.zipFile');
}

export async function createFunction(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const body = parseJsonBody(request.body);
  const name = optionalString(body, 'FunctionName');
  if (name === undefined) throw validationError('functionName', 'null', 'Member must not be null');
  const role = optionalString(body, 'Role');
  if (role === undefined) throw validationError('role', 'null', 'Member must not be null');
  const zip = zipOf(body.Code);
  const fields = configurationFields(body, { functionName: name });
  const tags = parseTags(body.Tags);
  checkCount(tags.size);
  const engine = tags.get(ENGINE_TAG);
  // Lambda's CreateFunction does not replace: an existing name is a conflict (rt.deploy would replace $LATEST).
  if (ctx.rt.listFunctions().some((f) => f.functionName === name)) throw new ResourceConflictException(`Function already exist: ${name}`);
  let info = await ctx.rt.deploy({ name, code: { zip }, ...fields, ...(engine !== undefined ? { engine: engine as EngineName } : {}) });
  ctx.roles.set(info.functionName, role);
  setTags(ctx, info.functionName, tags);
  if (body.Publish === true) info = await ctx.rt.publishVersion(name);
  return json(201, functionConfiguration(info, role));
}

export function getFunction(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const info = ctx.rt.getFunction(request.params.FunctionName!, qualifierOf(request));
  return json(200, {
    Configuration: functionConfiguration(info, roleOf(ctx, info.functionName)),
    Code: { RepositoryType: 'S3' },
    ...tagsField(ctx, info.functionName),
    ...(info.reservedConcurrency !== undefined ? { Concurrency: { ReservedConcurrentExecutions: info.reservedConcurrency } } : {}),
  });
}

export function getFunctionConfiguration(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const info = ctx.rt.getFunction(request.params.FunctionName!, qualifierOf(request));
  return json(200, functionConfiguration(info, roleOf(ctx, info.functionName)));
}

export function listFunctions(ctx: ApiContext, request: ApiRequest): ApiResponse {
  // FunctionVersion=ALL lists every version of every function (ListFunctions); otherwise $LATEST only.
  const all = request.query.get('FunctionVersion') === 'ALL';
  const infos = all ? ctx.rt.listFunctions().flatMap((f) => ctx.rt.listVersions(f.functionName)) : ctx.rt.listFunctions();
  const { page, nextMarker } = paginate(infos, request.query);
  return json(200, { Functions: page.map((info) => functionConfiguration(info, roleOf(ctx, info.functionName))), ...(nextMarker ? { NextMarker: nextMarker } : {}) });
}

export async function updateFunctionCode(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const body = parseJsonBody(request.body);
  const zip = zipOf(body);
  const revisionId = optionalString(body, 'RevisionId');
  const name = request.params.FunctionName!;
  let info = await ctx.rt.updateFunctionCode(name, { zip }, revisionId === undefined ? {} : { revisionId });
  if (body.Publish === true) info = await ctx.rt.publishVersion(info.functionName);
  return json(200, functionConfiguration(info, roleOf(ctx, info.functionName)));
}

export async function updateFunctionConfiguration(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const body = parseJsonBody(request.body);
  const fields = configurationFields(body, ctx.rt.getFunction(request.params.FunctionName!));
  const revisionId = optionalString(body, 'RevisionId');
  const role = optionalString(body, 'Role');
  const info = await ctx.rt.updateFunctionConfiguration(request.params.FunctionName!, { ...fields, ...(revisionId === undefined ? {} : { revisionId }) });
  if (role !== undefined) ctx.roles.set(info.functionName, role);
  return json(200, functionConfiguration(info, roleOf(ctx, info.functionName)));
}

export async function deleteFunction(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const name = request.params.FunctionName!;
  const qualifier = qualifierOf(request);
  // The runtime forgets the function's Role, tags and policies with it (a version's policy with the version).
  await ctx.rt.deleteFunction(name, qualifier);
  return { status: 204 };
}

export async function publishVersion(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const body = parseJsonBody(request.body);
  const description = optionalString(body, 'Description');
  const sha = optionalString(body, 'CodeSha256');
  const revisionId = optionalString(body, 'RevisionId');
  const info = await ctx.rt.publishVersion(request.params.FunctionName!, {
    ...(description !== undefined ? { description } : {}),
    // Lambda's CodeSha256 is base64; the runtime compares hex.
    ...(sha !== undefined ? { codeSha256: Buffer.from(sha, 'base64').toString('hex') } : {}),
    ...(revisionId !== undefined ? { revisionId } : {}),
  });
  return json(201, functionConfiguration(info, roleOf(ctx, info.functionName)));
}

export function listVersionsByFunction(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const infos = ctx.rt.listVersions(request.params.FunctionName!);
  const { page, nextMarker } = paginate(infos, request.query);
  return json(200, { Versions: page.map((info) => functionConfiguration(info, roleOf(ctx, info.functionName))), ...(nextMarker ? { NextMarker: nextMarker } : {}) });
}

export async function putFunctionConcurrency(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const body = parseJsonBody(request.body);
  const reserved = optionalInteger(body, 'ReservedConcurrentExecutions', 0, 100_000);
  if (reserved === undefined) throw validationError('reservedConcurrentExecutions', 'null', 'Member must not be null');
  await ctx.rt.updateFunctionConfiguration(request.params.FunctionName!, { reservedConcurrency: reserved });
  return json(200, { ReservedConcurrentExecutions: reserved });
}

export function getFunctionConcurrency(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const info = ctx.rt.getFunction(request.params.FunctionName!);
  return json(200, info.reservedConcurrency !== undefined ? { ReservedConcurrentExecutions: info.reservedConcurrency } : {});
}

export async function deleteFunctionConcurrency(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const name = request.params.FunctionName!;
  if (ctx.rt.getFunction(name).reservedConcurrency === undefined) return { status: 204 };
  await ctx.rt.updateFunctionConfiguration(name, { reservedConcurrency: undefined });
  return { status: 204 };
}

/**
 * GetFunctionCodeSigningConfig (`GET /2020-06-30/functions/{FunctionName}/code-signing-config`,
 * the SDK's model): lambdalet has no code signing configuration resources (a function's
 * `codeSigning` is its own option), so a function has none attached and the answer is empty, as
 * LocalStack's provider answers a function without one (`GetFunctionCodeSigningConfigResponse()`);
 * an unknown function is ResourceNotFoundException. Terraform's aws_lambda_function reads it on
 * every refresh.
 */
export function getFunctionCodeSigningConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  ctx.rt.getFunction(request.params.FunctionName!);
  return json(200, {});
}
