/**
 * CreateFunctionUrlConfig, GetFunctionUrlConfig, UpdateFunctionUrlConfig, DeleteFunctionUrlConfig
 * (`/2021-10-31/functions/{FunctionName}/url?Qualifier=`), onto the runtime's function URLs.
 * Wire shape: Lambda API reference, FunctionUrlConfig and Cors (PascalCase fields).
 */
import type { CorsInput, FunctionUrlConfig, FunctionUrlConfigInput } from '../../runtime.ts';
import { parseJsonBody } from '../body.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import { ResourceNotFoundException } from '../../errors.ts';
import { json, paginate, type ApiContext } from './context.ts';
import { lambdaTimestamp, validationError } from './shapes.ts';

const CORS_FIELDS: Readonly<Record<string, keyof CorsInput>> = {
  AllowCredentials: 'allowCredentials',
  AllowHeaders: 'allowHeaders',
  AllowMethods: 'allowMethods',
  AllowOrigins: 'allowOrigins',
  ExposeHeaders: 'exposeHeaders',
  MaxAge: 'maxAge',
};

function corsIn(value: unknown): CorsInput | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw validationError('cors', JSON.stringify(value), 'Member must be an object');
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = CORS_FIELDS[key];
    if (field === undefined) throw validationError(`cors.${key}`, JSON.stringify(v), 'Member is not a Cors field');
    out[field] = v;
  }
  return out;
}

function shape(config: FunctionUrlConfig): Record<string, unknown> {
  const cors: Record<string, unknown> = {};
  for (const [wire, field] of Object.entries(CORS_FIELDS)) if (config.cors?.[field] !== undefined) cors[wire] = config.cors[field];
  return {
    FunctionUrl: config.functionUrl,
    FunctionArn: config.functionArn,
    AuthType: config.authType,
    ...(config.cors ? { Cors: cors } : {}),
    CreationTime: lambdaTimestamp(config.creationTime),
    LastModifiedTime: lambdaTimestamp(config.lastModifiedTime),
    InvokeMode: config.invokeMode,
  };
}

function fields(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (body.AuthType !== undefined) out.authType = body.AuthType;
  if (body.InvokeMode !== undefined) out.invokeMode = body.InvokeMode;
  const cors = corsIn(body.Cors);
  if (cors !== undefined) out.cors = cors;
  return out;
}

function qualifier(request: ApiRequest): { qualifier?: string } {
  const q = request.query.get('Qualifier');
  return q === null ? {} : { qualifier: q };
}

export function createFunctionUrlConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const body = parseJsonBody(request.body);
  if (body.AuthType === undefined) throw validationError('authType', 'null', 'Member must not be null');
  const config = ctx.rt.createFunctionUrlConfig(request.params.FunctionName!, { ...fields(body), ...qualifier(request) } as unknown as FunctionUrlConfigInput) // the runtime validates every field (zod);
  return json(201, shape(config));
}

export function getFunctionUrlConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  return json(200, shape(ctx.rt.getFunctionUrlConfig(request.params.FunctionName!, qualifier(request))));
}

export function updateFunctionUrlConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const body = parseJsonBody(request.body);
  return json(200, shape(ctx.rt.updateFunctionUrlConfig(request.params.FunctionName!, fields(body), qualifier(request))));
}

export function deleteFunctionUrlConfig(ctx: ApiContext, request: ApiRequest): ApiResponse {
  ctx.rt.deleteFunctionUrlConfig(request.params.FunctionName!, qualifier(request));
  return { status: 204 };
}

/**
 * ListFunctionUrlConfigs (`GET /2021-10-31/functions/{FunctionName}/urls`, the SDK's model): the
 * function's URL configs — the unqualified one and each alias's (a URL names `$LATEST` or an
 * alias, never a version) — as `FunctionUrlConfigs`, paged by MaxItems/Marker.
 */
export function listFunctionUrlConfigs(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const name = request.params.FunctionName!;
  const fn = ctx.rt.getFunction(name).functionName;
  const configs: FunctionUrlConfig[] = [];
  for (const q of [undefined, ...ctx.rt.listAliases(fn).map((a) => a.name)]) {
    try {
      configs.push(ctx.rt.getFunctionUrlConfig(fn, q === undefined ? {} : { qualifier: q }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
  const { page, nextMarker } = paginate(configs, request.query);
  return json(200, { FunctionUrlConfigs: page.map(shape), ...(nextMarker ? { NextMarker: nextMarker } : {}) });
}
