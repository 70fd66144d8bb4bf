/**
 * What `createRuntime(options?)` accepts: the account the emulated functions live in, and where
 * their logs go.
 */

import { z } from 'zod';
import { matching, oneOf } from './fields.ts';
import { expected, parseWith, type Subject } from './format.ts';

/** What a region must look like: `us-east-1`, `eu-central-2`, `us-gov-west-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
/** `region` when none is given: `us-east-1`. */
export const REGION_DEFAULT = 'us-east-1';
/** What an account id must look like: 12 digits. */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** `accountId` when none is given: AWS's documentation account, `123456789012`. */
export const ACCOUNT_ID_DEFAULT = '123456789012';
/** The log formats a runtime can write. Lambda's `JSON` format is not supported yet. */
export const LOG_FORMATS = ['Text'] as const;
/** One of {@link LOG_FORMATS}. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where a runtime writes its functions' log lines (the START/END/REPORT lines included). */
export interface LogSink {
  /** Called once per line, without the trailing newline, in order per environment. */
  write(line: string, meta: LogLineMeta): void;
}

/** Which log stream a line belongs to. */
export interface LogLineMeta {
  /** The function's name (its log group is `/aws/lambda/<name>`). */
  readonly functionName: string;
  /** The log stream: one per execution environment, as on AWS. */
  readonly logStreamName: string;
}

/** Options for `createRuntime()`; every one may be left out. */
export interface RuntimeOptionsInput {
  /** AWS region the functions pretend to run in (`AWS_REGION`, ARNs). Default `us-east-1`. */
  readonly region?: string;
  /** 12-digit account id used in ARNs. Default `123456789012`. */
  readonly accountId?: string;
  /** Receives every log line. Default: standard output, as a function's logs go to its log stream. */
  readonly logSink?: LogSink;
  /** Log format. Default `Text`, the only one for now. */
  readonly logFormat?: LogFormat;
}

/** Runtime options after parsing: defaults filled, frozen. */
export interface RuntimeOptions {
  /** AWS region. Default `us-east-1`. */
  readonly region: string;
  /** Account id. Default `123456789012`. */
  readonly accountId: string;
  /** The caller's sink, the very object given (so its `this` still works), if any. */
  readonly logSink?: LogSink | undefined;
  /** Log format. Default `Text`. */
  readonly logFormat: LogFormat;
}

const DEFAULT_RUNTIME_OPTIONS: RuntimeOptions = Object.freeze({
  region: REGION_DEFAULT,
  accountId: ACCOUNT_ID_DEFAULT,
  logFormat: 'Text',
});

const runtimeOptionsSchema = z.strictObject(
  {
    region: matching(REGION_PATTERN, REGION_PATTERN.source).default(REGION_DEFAULT),
    accountId: matching(ACCOUNT_ID_PATTERN, ACCOUNT_ID_PATTERN.source).default(ACCOUNT_ID_DEFAULT),
    // z.custom returns the value itself: an object schema would copy it and lose its prototype.
    logSink: z.custom<LogSink>(isLogSink, expected('be an object with a write(line) function')).optional(),
    logFormat: oneOf(LOG_FORMATS).default('Text'),
  },
  expected('be an object'),
);

// Fails to compile if the schema's output and the documented RuntimeOptions ever disagree.
const _outputMatches: (parsed: z.output<typeof runtimeOptionsSchema>) => RuntimeOptions = (parsed) => parsed;
void _outputMatches;

const subject: Subject = {
  name: 'runtime options',
  knownOptions: Object.keys(runtimeOptionsSchema.shape),
  renames: { Region: 'region', account: 'accountId', accountID: 'accountId', logger: 'logSink', LogFormat: 'logFormat' },
};

function isLogSink(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { write?: unknown }).write === 'function';
}

/**
 * Validates what `createRuntime()` was given and fills the defaults; `undefined` gives the defaults.
 * @throws InvalidParameterValueException for the first problem; `field` is its dotted path.
 */
export function parseRuntimeOptions(input?: unknown): RuntimeOptions {
  if (input === undefined) return DEFAULT_RUNTIME_OPTIONS;
  return Object.freeze(parseWith(runtimeOptionsSchema, input, subject));
}
