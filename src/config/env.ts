/**
 * The `env` field: environment variables as Lambda accepts them. Keys are checked in order and
 * the first bad one is reported, then the total size, which only means something once every
 * entry is valid.
 */

import { z } from 'zod';
import { isPlainObject } from './fields.ts';
import { quote, reportExpected, reportFinal } from './format.ts';
import { ENV_KEY_PATTERN, ENV_TOTAL_BYTES_MAX, RESERVED_ENV_KEYS } from './limits.ts';

/** Environment variables after parsing: frozen, so a deployed function's env cannot drift. */
export type Env = Readonly<Record<string, string>>;

const EMPTY_ENV: Env = Object.freeze({});

/** Validates `env` and returns a frozen copy; absent → a shared frozen `{}`. */
export const envSchema = z
  .custom<Env>()
  .superRefine(checkEnv)
  // Object.fromEntries defines properties, so even an odd key could never reach a prototype.
  .transform((env): Env => Object.freeze(Object.fromEntries(Object.entries(env))))
  .default(() => EMPTY_ENV);

function checkEnv(value: unknown, ctx: z.core.$RefinementCtx): void {
  if (!isPlainObject(value)) return reportExpected(ctx, 'be an object of string values', value);
  let bytes = 0;
  for (const [key, entry] of Object.entries(value)) {
    if (!ENV_KEY_PATTERN.test(key)) {
      return reportFinal(ctx, `Expected \`env\` key to match ${ENV_KEY_PATTERN.source}, got ${quote(key)}`, [key]);
    }
    if (RESERVED_ENV_KEYS.has(key)) {
      return reportFinal(ctx, `\`env.${key}\` is reserved by the Lambda runtime and cannot be set`, [key]);
    }
    if (typeof entry !== 'string') return reportExpected(ctx, 'be a string', entry, [key]);
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(entry, 'utf8');
  }
  if (bytes > ENV_TOTAL_BYTES_MAX) {
    reportFinal(
      ctx,
      `Expected \`env\` to total at most ${ENV_TOTAL_BYTES_MAX} bytes (keys and values), got ${bytes} bytes`,
    );
  }
}
