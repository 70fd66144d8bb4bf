/**
 * Alias calls (CreateAlias, GetAlias, UpdateAlias, ListAliases, DeleteAlias), provisioned
 * concurrency (Put/Get/DeleteProvisionedConcurrencyConfig) and layer calls (PublishLayerVersion,
 * GetLayerVersion, ListLayerVersions, ListLayers, DeleteLayerVersion) translated onto the runtime. Wire shapes: Lambda API
 * reference (AliasConfiguration, AliasRoutingConfiguration, PublishLayerVersion).
 */
import type { AliasInput } from '../../config/index.ts';
import type { ProvisionedConcurrencyInfo } from '../../runtime.ts';
import { ResourceNotFoundException } from '../../errors.ts';
import { parseJsonBody } from '../body.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import { json, paginate, type ApiContext } from './context.ts';
import { aliasConfiguration, blob, lambdaTimestamp, layerVersion, optionalInteger, optionalString, validationError } from './shapes.ts';

function aliasInput(body: Record<string, unknown>): AliasInput {
  const functionVersion = optionalString(body, 'FunctionVersion');
  const description = optionalString(body, 'Description');
  const revisionId = optionalString(body, 'RevisionId');
  const input: { -readonly [K in keyof AliasInput]: AliasInput[K] } = {};
  if (functionVersion !== undefined) input.functionVersion = functionVersion;
  if (description !== undefined) input.description = description;
  if (revisionId !== undefined) input.revisionId = revisionId;
  const routing: unknown = body.RoutingConfig;
  if (routing !== undefined) {
    if (routing !== null && (typeof routing !== 'object' || Array.isArray(routing))) throw validationError('routingConfig', JSON.stringify(routing), 'Member must be an object');
    const weights: unknown = routing === null ? undefined : (routing as { AdditionalVersionWeights?: unknown }).AdditionalVersionWeights;
    if (weights === undefined || weights === null) input.routingConfig = null;
    else if (typeof weights !== 'object' || Array.isArray(weights)) throw validationError('routingConfig.additionalVersionWeights', JSON.stringify(weights), 'Member must be a map of version to weight');
    else input.routingConfig = { additionalVersionWeights: weights as Record<string, number> };
  }
  return input;
}

export async function createAlias(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const body = parseJsonBody(request.body);
  const name = optionalString(body, 'Name');
  if (name === undefined) throw validationError('name', 'null', 'Member must not be null');
  if (body.FunctionVersion === undefined) throw validationError('functionVersion', 'null', 'Member must not be null');
  return json(201, aliasConfiguration(await ctx.rt.createAlias(request.params.FunctionName!, name, aliasInput(body))));
}

export function getAlias(ctx: ApiContext, request: ApiRequest): ApiResponse {
  return json(200, aliasConfiguration(ctx.rt.getAlias(request.params.FunctionName!, request.params.Name!)));
}

export async function updateAlias(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const body = parseJsonBody(request.body);
  return json(200, aliasConfiguration(await ctx.rt.updateAlias(request.params.FunctionName!, request.params.Name!, aliasInput(body))));
}

export function listAliases(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const version = request.query.get('FunctionVersion');
  const aliases = ctx.rt.listAliases(request.params.FunctionName!, version === null ? undefined : { functionVersion: version });
  const { page, nextMarker } = paginate(aliases, request.query);
  return json(200, { Aliases: page.map(aliasConfiguration), ...(nextMarker ? { NextMarker: nextMarker } : {}) });
}

export async function deleteAlias(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  await ctx.rt.deleteAlias(request.params.FunctionName!, request.params.Name!);
  return { status: 204 };
}

function requiredQualifier(request: ApiRequest): string {
  const qualifier = request.query.get('Qualifier');
  if (qualifier === null) throw validationError('qualifier', 'null', 'Member must not be null');
  return qualifier;
}

/** ProvisionedConcurrencyConfig as Lambda returns it (GetProvisionedConcurrencyConfig response). */
function provisionedShape(info: ProvisionedConcurrencyInfo): Record<string, unknown> {
  return {
    RequestedProvisionedConcurrentExecutions: info.requestedProvisionedConcurrentExecutions,
    AllocatedProvisionedConcurrentExecutions: info.allocatedProvisionedConcurrentExecutions,
    AvailableProvisionedConcurrentExecutions: info.allocatedProvisionedConcurrentExecutions,
    Status: info.status,
    ...(info.statusReason !== undefined ? { StatusReason: info.statusReason } : {}),
    LastModified: lambdaTimestamp(info.lastModified),
  };
}

export async function putProvisionedConcurrencyConfig(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const body = parseJsonBody(request.body);
  const count = optionalInteger(body, 'ProvisionedConcurrentExecutions', 1, 100_000);
  if (count === undefined) throw validationError('provisionedConcurrentExecutions', 'null', 'Member must not be null');
  const info = await ctx.rt.putProvisionedConcurrencyConfig(request.params.FunctionName!, requiredQualifier(request), { provisionedConcurrentExecutions: count });
  return json(202, provisionedShape(info));
}

export function getProvisionedConcurrencyConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  // ListProvisionedConcurrencyConfigs is the same path with `?List=ALL` (the SDK's model).
  if (request.query.get('List') === 'ALL') return listProvisionedConcurrencyConfigs(ctx, request);
  return json(200, provisionedShape(ctx.rt.getProvisionedConcurrencyConfig(request.params.FunctionName!, requiredQualifier(request))));
}

/**
 * ListProvisionedConcurrencyConfigs (`GET …/provisioned-concurrency?List=ALL`): the config of every
 * version and alias that has one, each with its qualified `FunctionArn`, paged by MaxItems/Marker.
 */
function listProvisionedConcurrencyConfigs(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const name = request.params.FunctionName!;
  const fn = ctx.rt.getFunction(ctx.rt.getFunction(name).functionName); // $LATEST: the unqualified ARN
  const qualifiers = [...ctx.rt.listVersions(fn.functionName).map((v) => v.version).filter((v) => v !== '$LATEST'), ...ctx.rt.listAliases(fn.functionName).map((a) => a.name)];
  const items: Record<string, unknown>[] = [];
  for (const qualifier of qualifiers) {
    try {
      items.push({ FunctionArn: `${fn.functionArn}:${qualifier}`, ...provisionedShape(ctx.rt.getProvisionedConcurrencyConfig(fn.functionName, qualifier)) });
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
  const { page, nextMarker } = paginate(items, request.query);
  return json(200, { ProvisionedConcurrencyConfigs: page, ...(nextMarker ? { NextMarker: nextMarker } : {}) });
}

export async function deleteProvisionedConcurrencyConfig(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  await ctx.rt.deleteProvisionedConcurrencyConfig(request.params.FunctionName!, requiredQualifier(request));
  return { status: 204 };
}

export async function publishLayerVersion(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const body = parseJsonBody(request.body);
  const content = body.Content as { ZipFile?: unknown } | undefined;
  if (content === undefined || content === null || content.ZipFile === undefined) {
    throw validationError('content', 'null', 'Member must not be null (lambdalet takes Content.ZipFile)');
  }
  const description = optionalString(body, 'Description');
  const runtimes = body.CompatibleRuntimes;
  if (runtimes !== undefined && (!Array.isArray(runtimes) || !runtimes.every((r) => typeof r === 'string'))) throw validationError('compatibleRuntimes', JSON.stringify(runtimes), 'Member must be a list of strings');
  const info = await ctx.rt.publishLayerVersion({
    layerName: request.params.LayerName!,
    content: { zip: blob(content.ZipFile, 'content.zipFile') },
    ...(description !== undefined ? { description } : {}),
    ...(runtimes !== undefined ? { compatibleRuntimes: runtimes } : {}),
  });
  return json(201, layerVersion(info));
}

export function getLayerVersion(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const { LayerName: name, VersionNumber: version } = request.params;
  const arn = `arn:aws:lambda:${ctx.region}:${ctx.accountId}:layer:${name}:${version}`;
  if (!/^[1-9][0-9]*$/.test(version!)) throw new ResourceNotFoundException(`Layer version ${arn} does not exist.`);
  return json(200, layerVersion(ctx.rt.getLayerVersion(arn)));
}

/**
 * `GET /2018-10-31/layers`: ListLayers (each layer with its LatestMatchingVersion, filtered by
 * `CompatibleRuntime`; lambdalet keeps no architectures, so a `CompatibleArchitecture` matches
 * nothing), or GetLayerVersionByArn with `?find=LayerVersion&Arn=` (the SDK's model).
 */
export function listLayers(ctx: ApiContext, request: ApiRequest): ApiResponse {
  if (request.query.get('find') === 'LayerVersion') {
    const arn = request.query.get('Arn');
    if (arn === null) throw validationError('arn', 'null', 'Member must not be null');
    return json(200, layerVersion(ctx.rt.getLayerVersion(arn)));
  }
  const runtime = request.query.get('CompatibleRuntime');
  const layers = request.query.get('CompatibleArchitecture') !== null ? [] : ctx.rt.listLayers(runtime === null ? {} : { compatibleRuntime: runtime });
  const { page, nextMarker } = paginate(layers, request.query);
  return json(200, {
    Layers: page.map((layer) => ({
      LayerName: layer.layerName,
      LayerArn: layer.layerArn,
      LatestMatchingVersion: {
        LayerVersionArn: layer.latestMatchingVersion.layerVersionArn,
        Version: layer.latestMatchingVersion.version,
        Description: layer.latestMatchingVersion.description,
        CreatedDate: lambdaTimestamp(layer.latestMatchingVersion.createdDate),
        CompatibleRuntimes: [...layer.latestMatchingVersion.compatibleRuntimes],
      },
    })),
    ...(nextMarker ? { NextMarker: nextMarker } : {}),
  });
}

export function listLayerVersions(ctx: ApiContext, request: ApiRequest): ApiResponse {
  // Newest first, as Lambda lists them.
  const versions = ctx.rt.listLayerVersions(request.params.LayerName!).toReversed();
  const { page, nextMarker } = paginate(versions, request.query);
  return json(200, { LayerVersions: page.map(layerVersion), ...(nextMarker ? { NextMarker: nextMarker } : {}) });
}

/** DeleteLayerVersion's LayerName (API reference: 1-140 characters of this pattern). */
const LAYER_NAME_OR_ARN = /^(?:arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+|[a-zA-Z0-9-_]+)$/;

/**
 * DeleteLayerVersion (`DELETE /2018-10-31/layers/{LayerName}/versions/{VersionNumber}`, the SDK's
 * model): 204 with no body, also for a version that does not exist or was deleted already (Lambda
 * API reference, DeleteLayerVersion: its only errors are ServiceException and
 * TooManyRequestsException). A VersionNumber that is not a number is the SDK model's Long refused.
 */
export async function deleteLayerVersion(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const { LayerName: name, VersionNumber: version } = request.params;
  if (!/^[0-9]{1,15}$/.test(version!)) throw validationError('versionNumber', version!, 'Member must be a number');
  if (!LAYER_NAME_OR_ARN.test(name!) || name!.length > 140) {
    throw validationError('layerName', name!, 'Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+');
  }
  const n = Number(version);
  // Version 0 never exists: nothing to delete.
  if (n >= 1) await ctx.rt.deleteLayerVersion(name!, n);
  return { status: 204 };
}
