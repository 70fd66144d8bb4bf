/**
 * Invoke (`POST /2015-03-31/functions/{FunctionName}/invocations`) as the Lambda API reference
 * describes it: the event is the raw body (JSON; empty means `{}`), `Qualifier` in the query,
 * `X-Amz-Invocation-Type` RequestResponse (200 with the payload) | Event (202) | DryRun (204),
 * `X-Amz-Log-Type: Tail` (the last 4 KB of the log, base64, in `X-Amz-Log-Result`),
 * `X-Amz-Client-Context` (base64 JSON: `context.clientContext`), `X-Amz-Tenant-Id`. A function
 * error is still 200, with `X-Amz-Function-Error: Unhandled` and Lambda's error payload.
 * `X-Amz-Executed-Version` names the version that ran (an alias's pick).
 */
import { eventFromPayload } from '../../invoke/payload.ts';
import { responseTextOf } from '../../invoke/result.ts';
import type { InvokeOptionsInput } from '../../config/index.ts';
import { HttpError } from '../errors.ts';
import type { ApiRequest, ApiResponse } from '../router.ts';
import type { ApiContext } from './context.ts';
import { validationError } from './shapes.ts';

const INVOCATION_TYPES = ['Event', 'RequestResponse', 'DryRun'] as const;
const LOG_TYPES = ['None', 'Tail'] as const;

function header(request: ApiRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], field: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw validationError(field, value, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  return value as T;
}

function clientContext(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch (error) {
    throw new HttpError(400, 'InvalidRequestContentException', `X-Amz-Client-Context must be base64-encoded JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'InvalidRequestContentException', 'X-Amz-Client-Context must be base64-encoded JSON of an object');
  return parsed as Record<string, unknown>;
}

/** The invoke options in Invoke's and InvokeWithResponseStream's headers and query. */
export function invokeOptionsOf(request: ApiRequest): { -readonly [K in keyof InvokeOptionsInput]: InvokeOptionsInput[K] } {
  const logType = oneOf(header(request, 'x-amz-log-type'), LOG_TYPES, 'logType');
  const qualifier = request.query.get('Qualifier') ?? undefined;
  const context = header(request, 'x-amz-client-context');
  const tenantId = header(request, 'x-amz-tenant-id');
  const options: { -readonly [K in keyof InvokeOptionsInput]: InvokeOptionsInput[K] } = {};
  if (logType !== undefined) options.logType = logType;
  if (qualifier !== undefined) options.qualifier = qualifier;
  if (context !== undefined) options.clientContext = clientContext(context);
  if (tenantId !== undefined) options.tenantId = tenantId;
  return options;
}

export async function invoke(ctx: ApiContext, request: ApiRequest): Promise<ApiResponse> {
  const name = request.params.FunctionName!;
  const invocationType = oneOf(header(request, 'x-amz-invocation-type'), INVOCATION_TYPES, 'invocationType') ?? 'RequestResponse';
  const options = invokeOptionsOf(request);
  const event = eventFromPayload(request.body);

  if (invocationType !== 'RequestResponse') {
    // Event: queued (202) for the runtime's asynchronous invocation, with its 1 MiB limit and
    // retries; DryRun: checked, nothing run (204). Lambda answers both with an empty body.
    const queued = await ctx.rt.invoke(name, event, { ...options, invocationType });
    return { status: queued.statusCode, headers: { 'x-amzn-RequestId': queued.requestId } };
  }
  const result = await ctx.rt.invoke(name, event, options);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Amz-Executed-Version': result.executedVersion,
    'x-amzn-RequestId': result.requestId,
  };
  if (result.functionError !== undefined) headers['X-Amz-Function-Error'] = result.functionError;
  if (result.logResult !== undefined) headers['X-Amz-Log-Result'] = result.logResult;
  // A large response goes out as the text the function's runtime sent, never parsed here (result.ts).
  return { status: result.statusCode, headers, body: responseTextOf(result) ?? JSON.stringify(result.payload) ?? 'null' };
}
