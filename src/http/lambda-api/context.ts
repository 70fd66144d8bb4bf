/**
 * What the Lambda API's handlers share: the runtime they drive, its region and account (for ARNs),
 * and what the API carries that the function's config does not (each function's `Role`, echoed
 * back as CreateFunction was given it, its tags and resource policies): the runtime's
 * FunctionExtras (http/function-extras.ts), kept with `dataDir` or a cluster like the URL configs.
 */
import type { Runtime } from '../../runtime.ts';
import { HttpError } from '../errors.ts';
import type { ServeOptions } from '../options.ts';
import type { FunctionUrlConfigs } from '../url-config.ts';

export interface ApiContext {
  readonly rt: Runtime;
  readonly region: string;
  readonly accountId: string;
  /** Function name → the Role given at CreateFunction / UpdateFunctionConfiguration. */
  readonly roles: Map<string, string>;
  /** Function name → its tags (CreateFunction's Tags, TagResource, UntagResource: tags.ts); kept as `roles`. Replace a value, never change it in place. */
  readonly tags: Map<string, Map<string, string>>;
  /** `name` or `name:qualifier` → its resource policy's statements (AddPermission: permissions.ts); kept as `roles`. */
  readonly policies: Map<string, readonly (Record<string, unknown> & { readonly Sid: string })[]>;
  readonly urls: FunctionUrlConfigs;
  /** serve({ responseStream }): InvokeWithResponseStream's size limit and bandwidth cap. */
  readonly responseStream: ServeOptions['responseStream'];
}

/** The Role shown for a function created through `rt.deploy()` rather than the API. */
export function roleOf(ctx: ApiContext, functionName: string): string {
  return ctx.roles.get(functionName) ?? `arn:aws:iam::${ctx.accountId}:role/lambdalet-execution-role`;
}

/** JSON response helper. */
export function json(status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): { status: number; headers: Record<string, string>; body: string } {
  return { status, headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

/** MaxItems of the List* calls: 1 to 10000, default 50 (Lambda API reference, ListFunctions). */
export function paginate<T>(items: readonly T[], query: URLSearchParams): { page: T[]; nextMarker: string | undefined } {
  const maxRaw = query.get('MaxItems');
  let max = 50;
  if (maxRaw !== null) {
    max = Number(maxRaw);
    if (!Number.isInteger(max) || max < 1 || max > 10000) {
      throw new HttpError(400, 'ValidationException', `1 validation error detected: Value '${maxRaw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000`);
    }
  }
  const marker = query.get('Marker');
  let start = 0;
  if (marker !== null) {
    start = Number(Buffer.from(marker, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new HttpError(400, 'InvalidParameterValueException', `Marker is not one this server handed out: ${marker}`);
  }
  const page = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
  return { page, nextMarker: next };
}
