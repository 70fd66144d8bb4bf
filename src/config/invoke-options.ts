/**
 * What `rt.invoke(name, event, options?)` accepts. This runs on every invoke, so the usual calls
 * (no options, or only `logType` / `qualifier: '$LATEST'`) are answered from frozen presets
 * without zod; anything else goes through the schema.
 */

import { z } from 'zod';
import { isPlainObject, oneOf } from './fields.ts';
import { expected, parseWith, reportExpected, reportFinal, type Subject } from './format.ts';
import { integerIn } from './fields.ts';
import { CLIENT_CONTEXT_MAX_BYTES, WAIT_FOR_CAPACITY_MS_MAX } from './limits.ts';

/** The log types an invoke may ask for: `Tail` returns the last 4 KB of its log. */
export const LOG_TYPES = ['None', 'Tail'] as const;
/** One of {@link LOG_TYPES}. */
export type LogType = (typeof LOG_TYPES)[number];
/** Invoke's `InvocationType` (Lambda API reference, Invoke): synchronous, queued, or checked only. */
export const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'] as const;
/** One of {@link INVOCATION_TYPES}. */
export type InvocationType = (typeof INVOCATION_TYPES)[number];
/** The unpublished version every function has. */
export const LATEST = '$LATEST';
/** Invoke's `Qualifier`: `(|[a-zA-Z0-9$_-]+)`, 1 to 128 characters (Lambda API reference). */
const QUALIFIER = /^[a-zA-Z0-9$_-]{1,128}$/;
/** Invoke's `TenantId` (X-Amz-Tenant-Id): 1 to 256 characters of `[a-zA-Z0-9._:/=+\-@ ]` (Lambda API reference). */
export const TENANT_ID_PATTERN = /^[a-zA-Z0-9._:/=+\-@ ]{1,256}$/;

/** The caller's Cognito identity, as a handler sees it in `context.identity`. */
export interface CognitoIdentity {
  readonly cognitoIdentityId: string;
  readonly cognitoIdentityPoolId: string;
}

/** Options for one invoke; every one may be left out. */
export interface InvokeOptionsInput {
  /** `Tail` to get the last 4 KB of the invoke's log back. Default `None`. */
  readonly logType?: LogType;
  /** Mobile-client context (`context.clientContext`); a plain object whose JSON is ≤ 3583 bytes. Default: none. */
  readonly clientContext?: Readonly<Record<string, unknown>>;
  /** Cognito identity (`context.identity`). Default: none. */
  readonly identity?: CognitoIdentity;
  /**
   * Version or alias to invoke (`'3'`, `'live'`, `'$LATEST'`), as Lambda's `Qualifier`. Default: the
   * one in the function name (`'orders:live'`), else `$LATEST`. Given both, they must agree.
   * @example rt.invoke('orders', event, { qualifier: 'live' })
   */
  readonly qualifier?: string;
  /**
   * When there is no capacity, wait up to this many ms in the runtime's bounded queue instead of
   * failing at once with TooManyRequestsException; an integer from 0 to 900000. Default 0 (fail fast,
   * as Lambda's synchronous invoke does).
   * @example rt.invoke('fn', event, { waitForCapacityMs: 2000 })
   */
  readonly waitForCapacityMs?: number;
  /**
   * The tenant (Lambda's `TenantId`, X-Amz-Tenant-Id) for a function deployed with
   * `tenancy: { isolationMode: 'PER_TENANT' }`: required there, refused elsewhere
   * (InvalidParameterValueException). 1 to 256 characters of `[a-zA-Z0-9._:/=+-@ ]`; the handler
   * sees it as `context.tenantId`. Default: none.
   * @example rt.invoke('fn', event, { tenantId: 'blue' })
   */
  readonly tenantId?: string;
  /**
   * `RequestResponse` (default): run now and answer with the result. `Event`: queue the event
   * (durably with `dataDir`) and answer `{ statusCode: 202, requestId }` at once; the payload limit
   * is then 1 MB. `DryRun`: check the name and event, answer `{ statusCode: 204 }`, run nothing.
   * @example rt.invoke('fn', event, { invocationType: 'Event' })
   */
  readonly invocationType?: InvocationType;
}

/** Invoke options after parsing: defaults filled, frozen. */
export interface InvokeOptions {
  /** Log type. Default `None`. */
  readonly logType: LogType;
  /** Client context, the object given, if any. */
  readonly clientContext?: Readonly<Record<string, unknown>> | undefined;
  /** Cognito identity (a copy), if any. */
  readonly identity?: CognitoIdentity | undefined;
  /** Qualifier, if one was given (the name's own, if any, is resolved with the name). */
  readonly qualifier?: string | undefined;
  /** How long to wait for capacity, if the caller asked to wait. */
  readonly waitForCapacityMs?: number | undefined;
  /** The tenant, if one was given. */
  readonly tenantId?: string | undefined;
  /** The invocation type, if one was given (undefined: RequestResponse). */
  readonly invocationType?: InvocationType | undefined;
}

/** The options of an invoke given none: `logType: 'None'`, no qualifier. */
export const DEFAULT_INVOKE_OPTIONS: InvokeOptions = Object.freeze({ logType: 'None' });
const TAIL_INVOKE_OPTIONS: InvokeOptions = Object.freeze({ logType: 'Tail' });

const identityPhrase = expected('be a string');

const invokeOptionsSchema = z.strictObject(
  {
    logType: oneOf(LOG_TYPES).default('None'),
    clientContext: z.custom<Readonly<Record<string, unknown>>>().superRefine(checkClientContext).optional(),
    identity: z
      .strictObject(
        { cognitoIdentityId: z.string(identityPhrase), cognitoIdentityPoolId: z.string(identityPhrase) },
        expected('be an object with string `cognitoIdentityId` and `cognitoIdentityPoolId`'),
      )
      .optional(),
    qualifier: z
      .string(expected('be a version or alias name of 1 to 128 characters from [a-zA-Z0-9$_-]'))
      .regex(QUALIFIER, expected('be a version or alias name of 1 to 128 characters from [a-zA-Z0-9$_-]'))
      .optional(),
    waitForCapacityMs: integerIn(0, WAIT_FOR_CAPACITY_MS_MAX).optional(),
    tenantId: z
      .string(expected('be a tenant id of 1 to 256 characters from [a-zA-Z0-9._:/=+-@ ]'))
      .regex(TENANT_ID_PATTERN, expected('be a tenant id of 1 to 256 characters from [a-zA-Z0-9._:/=+-@ ]'))
      .optional(),
    invocationType: oneOf(INVOCATION_TYPES).optional(),
  },
  expected('be an object'),
);

// Fails to compile if the schema's output and the documented InvokeOptions ever disagree.
const _outputMatches: (parsed: z.output<typeof invokeOptionsSchema>) => InvokeOptions = (parsed) => parsed;
void _outputMatches;

const subject: Subject = {
  name: 'invoke options',
  knownOptions: Object.keys(invokeOptionsSchema.shape),
  renames: { LogType: 'logType', ClientContext: 'clientContext', Qualifier: 'qualifier', waitMs: 'waitForCapacityMs', TenantId: 'tenantId', InvocationType: 'invocationType', type: 'invocationType' },
};

function checkClientContext(value: unknown, ctx: z.core.$RefinementCtx): void {
  if (!isPlainObject(value)) return reportExpected(ctx, 'be a plain object', value);
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    // Cycles and BigInts: the context travels to the handler as JSON, so it must become JSON.
    return reportFinal(ctx, `Expected \`clientContext\` to be JSON-serializable: ${(error as Error).message}`);
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > CLIENT_CONTEXT_MAX_BYTES) {
    reportFinal(ctx, `Expected \`clientContext\` to be at most ${CLIENT_CONTEXT_MAX_BYTES} bytes as JSON, got ${bytes} bytes`);
  }
}

/**
 * The preset for options that only set `logType` and/or a valid `qualifier`, or undefined when the
 * schema has to look. Must accept nothing the schema would reject.
 */
function preset(input: object): InvokeOptions | undefined {
  let logType: unknown;
  let qualifier: string | undefined;
  for (const key in input) {
    // for-in also walks inherited keys; anything but an own plain-object key goes to the schema.
    if (!Object.hasOwn(input, key)) return undefined;
    const value: unknown = (input as Record<string, unknown>)[key];
    if (key === 'logType') logType = value;
    else if (key !== 'qualifier') return undefined;
    else if (typeof value === 'string' && QUALIFIER.test(value)) qualifier = value;
    else if (value !== undefined) return undefined;
  }
  const base = logType === undefined || logType === 'None' ? DEFAULT_INVOKE_OPTIONS : logType === 'Tail' ? TAIL_INVOKE_OPTIONS : undefined;
  if (base === undefined || qualifier === undefined) return base;
  return Object.freeze({ ...base, qualifier });
}

/**
 * Validates the options of one invoke and fills the defaults; `undefined` gives
 * {@link DEFAULT_INVOKE_OPTIONS} without touching zod.
 * @throws InvalidParameterValueException for the first problem; `field` is its dotted path.
 */
export function parseInvokeOptions(input?: unknown): InvokeOptions {
  if (input === undefined) return DEFAULT_INVOKE_OPTIONS;
  if (isPlainObject(input)) {
    const fast = preset(input);
    if (fast !== undefined) return fast;
  }
  const parsed = parseWith(invokeOptionsSchema, input, subject);
  if (parsed.identity !== undefined) Object.freeze(parsed.identity);
  return Object.freeze(parsed);
}
