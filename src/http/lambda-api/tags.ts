/**
 * Tags of functions — ListTags (GET), TagResource (POST, 204), UntagResource (DELETE `?tagKeys=`,
 * 204) on `/2017-03-31/tags/{Resource}` (the SDK's model, schemas_0.js), CreateFunction's `Tags`
 * and GetFunction's `Tags` — and GetAccountSettings (`GET /2016-08-19/account-settings`).
 *
 * Tags are kept by the runtime with the Role (http/function-extras.ts: in memory, and in `dataDir`'s
 * store or a cluster's Redis, so a restart keeps them); the function's config has no tags. Lambda tags a function as a whole ("You can't add tags to versions or aliases", Lambda
 * developer guide, "Using tags on Lambda functions"), so `{Resource}` is an unqualified function ARN.
 * Limits from the same guide and the API reference (TagResource): at most 50 tags per resource;
 * keys 1-128 characters, values 0-256.
 */
import { functionArn } from '../../registry/names.ts';
import { HttpError } from '../errors.ts';
import { parseJsonBody } from '../body.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import { json, type ApiContext } from './context.ts';
import { validationError } from './shapes.ts';

export const MAX_TAGS = 50;
export const MAX_TAG_KEY_CHARS = 128;
export const MAX_TAG_VALUE_CHARS = 256;

/** Lambda's account limits (GetAccountSettings, as a new account's; Lambda quotas page). */
export const TOTAL_CODE_SIZE_LIMIT = 80_530_636_800;
export const CODE_SIZE_UNZIPPED_LIMIT = 262_144_000;
export const CODE_SIZE_ZIPPED_LIMIT = 52_428_800;

/** A Tags map from a request body, checked. @throws HttpError 400. */
export function parseTags(value: unknown): Map<string, string> {
  if (value === undefined || value === null) return new Map();
  if (typeof value !== 'object' || Array.isArray(value)) throw validationError('tags', JSON.stringify(value), 'Member must be a map of strings');
  const tags = new Map<string, string>();
  for (const [key, tag] of Object.entries(value)) {
    if (typeof tag !== 'string') throw validationError('tags', JSON.stringify(value), 'Member must be a map of strings');
    if (key.length < 1 || key.length > MAX_TAG_KEY_CHARS) {
      throw new HttpError(400, 'InvalidParameterValueException', `Tag key must be 1 to ${MAX_TAG_KEY_CHARS} characters, got ${key.length}: ${JSON.stringify(key)}`);
    }
    if (tag.length > MAX_TAG_VALUE_CHARS) {
      throw new HttpError(400, 'InvalidParameterValueException', `Tag value must be at most ${MAX_TAG_VALUE_CHARS} characters, got ${tag.length} for the key ${JSON.stringify(key)}`);
    }
    tags.set(key, tag);
  }
  return tags;
}

/** @throws HttpError 400 past {@link MAX_TAGS}. */
export function checkCount(count: number): void {
  if (count > MAX_TAGS) throw new HttpError(400, 'InvalidParameterValueException', `A function can have at most ${MAX_TAGS} tags, this request would give it ${count}`);
}

/** Sets a new function's tags (CreateFunction). */
export function setTags(ctx: ApiContext, functionName: string, tags: Map<string, string>): void {
  checkCount(tags.size);
  if (tags.size === 0) ctx.tags.delete(functionName);
  else ctx.tags.set(functionName, tags);
}

/** GetFunction's `Tags` field: present when the function has tags. */
export function tagsField(ctx: ApiContext, functionName: string): { Tags?: Record<string, string> } {
  const tags = ctx.tags.get(functionName);
  return tags === undefined || tags.size === 0 ? {} : { Tags: Object.fromEntries(tags) };
}

/** The function a tag call names. @throws ResourceNotFoundException; InvalidParameterValueException for a version or alias. */
function taggedFunction(ctx: ApiContext, request: ApiRequest): string {
  const resource = request.params.Resource!;
  const info = ctx.rt.getFunction(resource);
  if (resource !== functionArn(ctx, info.functionName) && resource !== info.functionName) {
    throw new HttpError(400, 'InvalidParameterValueException', `Tags apply to a function, not to a version or alias: give the unqualified function ARN ${functionArn(ctx, info.functionName)}, got ${resource}`);
  }
  return info.functionName;
}

export function listTags(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const name = taggedFunction(ctx, request);
  return json(200, { Tags: Object.fromEntries(ctx.tags.get(name) ?? []) });
}

export function tagResource(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const body = parseJsonBody(request.body);
  if (body.Tags === undefined || body.Tags === null) throw validationError('tags', 'null', 'Member must not be null');
  const name = taggedFunction(ctx, request);
  const merged = new Map([...(ctx.tags.get(name) ?? []), ...parseTags(body.Tags)]);
  checkCount(merged.size);
  ctx.tags.set(name, merged);
  return { status: 204 };
}

export function untagResource(ctx: ApiContext, request: ApiRequest): ApiResponse {
  const keys = request.query.getAll('tagKeys');
  if (keys.length === 0) throw validationError('tagKeys', 'null', 'Member must not be null');
  const name = taggedFunction(ctx, request);
  const old = ctx.tags.get(name);
  if (old === undefined || !keys.some((key) => old.has(key))) return { status: 204 };
  // A new map, set whole: ctx.tags writes each set through to the store (function-extras.ts).
  const tags = new Map(old);
  for (const key of keys) tags.delete(key);
  if (tags.size === 0) ctx.tags.delete(name);
  else ctx.tags.set(name, tags);
  return { status: 204 };
}

/**
 * GetAccountSettings: the runtime's account concurrency (`createRuntime({ concurrency })`) and what
 * reservations leave unreserved, Lambda's code-size limits, and the code stored (every version's
 * package) and the function count.
 */
export function getAccountSettings(ctx: ApiContext): ApiResponse {
  const functions = ctx.rt.listFunctions();
  const concurrency = ctx.rt.metrics().concurrency;
  const reserved = functions.reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0);
  const totalCodeSize = functions.reduce((sum, f) => sum + ctx.rt.listVersions(f.functionName).reduce((s, v) => s + v.codeSize, 0), 0);
  return json(200, {
    AccountLimit: {
      TotalCodeSize: TOTAL_CODE_SIZE_LIMIT,
      CodeSizeUnzipped: CODE_SIZE_UNZIPPED_LIMIT,
      CodeSizeZipped: CODE_SIZE_ZIPPED_LIMIT,
      ConcurrentExecutions: concurrency,
      UnreservedConcurrentExecutions: concurrency - reserved,
    },
    AccountUsage: { TotalCodeSize: totalCodeSize, FunctionCount: functions.length },
  });
}
