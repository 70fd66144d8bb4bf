/**
 * `loggingConfig`: Lambda's advanced logging controls (CreateFunction's LoggingConfig). The log
 * format, and for JSON the application and system log levels. Levels exist only with JSON, as on
 * Lambda, where both default to INFO.
 */
import { z } from 'zod';
import { InvalidParameterValueException } from '../errors.ts';
import { oneOf } from './fields.ts';
import { expected } from './format.ts';

/** LoggingConfig.LogFormat. */
export const LOG_FORMATS_FUNCTION = ['Text', 'JSON'] as const;
/** LoggingConfig.ApplicationLogLevel, most detail first. */
export const APPLICATION_LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
/** LoggingConfig.SystemLogLevel, most detail first. */
export const SYSTEM_LOG_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;

export type ApplicationLogLevel = (typeof APPLICATION_LOG_LEVELS)[number];
export type SystemLogLevel = (typeof SYSTEM_LOG_LEVELS)[number];

/** `loggingConfig` as given to deploy. */
export interface LoggingConfigInput {
  /** `Text` (default: Lambda's tab-separated lines) or `JSON` (one JSON object per line). */
  readonly logFormat?: 'Text' | 'JSON';
  /** JSON only: console calls below this level are dropped (AWS_LAMBDA_LOG_LEVEL). Default INFO. */
  readonly applicationLogLevel?: ApplicationLogLevel;
  /** JSON only: platform events below this level are dropped. Default INFO. */
  readonly systemLogLevel?: SystemLogLevel;
}

/** `loggingConfig` after parsing. */
export type LoggingConfig =
  | { readonly logFormat: 'Text' }
  | { readonly logFormat: 'JSON'; readonly applicationLogLevel: ApplicationLogLevel; readonly systemLogLevel: SystemLogLevel };

export const TEXT_LOGGING: LoggingConfig = Object.freeze({ logFormat: 'Text' });

export const loggingConfigSchema = z.strictObject(
  {
    logFormat: oneOf(LOG_FORMATS_FUNCTION).default('Text'),
    applicationLogLevel: oneOf(APPLICATION_LOG_LEVELS).optional(),
    systemLogLevel: oneOf(SYSTEM_LOG_LEVELS).optional(),
  },
  expected("be an object like { logFormat: 'JSON', applicationLogLevel: 'INFO' }"),
);

/**
 * The parsed option with Lambda's rules applied: levels only with JSON (else
 * InvalidParameterValueException naming the field), INFO by default.
 */
export function normaliseLoggingConfig(v: z.output<typeof loggingConfigSchema> | undefined): LoggingConfig {
  if (v === undefined) return TEXT_LOGGING;
  if (v.logFormat === 'Text') {
    for (const field of ['applicationLogLevel', 'systemLogLevel'] as const) {
      if (v[field] !== undefined) {
        throw new InvalidParameterValueException(
          `loggingConfig.${field}`,
          `Expected \`loggingConfig.${field}\` to be set only with logFormat 'JSON' (Lambda filters the levels of JSON logs only), got '${v[field]}' with logFormat 'Text'`,
        );
      }
    }
    return TEXT_LOGGING;
  }
  return Object.freeze({ logFormat: 'JSON', applicationLogLevel: v.applicationLogLevel ?? 'INFO', systemLogLevel: v.systemLogLevel ?? 'INFO' });
}
