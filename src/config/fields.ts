/**
 * Schema builders for the kinds of field the configs share, so a kind of field always fails with
 * the same wording. Each passes one phrase to the type and to every check: whichever check fails,
 * the message says the whole rule ("an integer from 1 to 900000"), not just the broken part.
 */

import { z } from 'zod';
import { expected, quoteList } from './format.ts';

/** An integer from `min` to `max`, both included. */
export function integerIn(min: number, max: number) {
  const params = expected(`be an integer from ${min} to ${max}`);
  return z.number(params).int(params).min(min, params).max(max, params);
}

/** A string matching `pattern`; messages show the pattern as `shown`. */
export function matching(pattern: RegExp, shown: string) {
  const params = expected(`match ${shown}`);
  return z.string(params).regex(pattern, params);
}

/** One of a fixed list of strings; the message lists them all. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, expected(`be one of ${quoteList(values)}`));
}

/** A string of at most `max` characters (UTF-16 units, as `String.length` counts them). */
export function stringUpTo(max: number) {
  const params = expected(`be a string of at most ${max} characters`);
  return z.string(params).max(max, params);
}

/** Whether `value` is an object literal (or `Object.create(null)`), not an array, class instance or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
