/**
 * How configuration errors read, in one place. Schemas state only what they expect (a phrase such
 * as "be an integer from 1 to 900000"); this file turns the first zod issue into an
 * InvalidParameterValueException whose message names the field, the expectation and the value:
 *
 *   Expected `timeoutMs` to be an integer from 1 to 900000, got `0` (number)
 */

import type { z } from 'zod';
import { InvalidParameterValueException } from '../errors.ts';

/** Longest piece of a string shown in a message; the rest is cut with `…` so messages stay one line. */
const SHOWN_CHARS = 40;
/** How many keys of an object a message lists before it says "and N more". */
const SHOWN_KEYS = 5;
/** Marks a custom issue whose message is already a whole sentence, not an expectation phrase. */
const FINAL = 'lambdalet.final';

/**
 * Shows a string inside backticks for a message: control characters escaped, anything past
 * 40 characters cut with `…`. `'1BAD'` → `` `1BAD` ``.
 */
export function quote(text: string): string {
  const chars = Array.from(text);
  const shown = chars.length > SHOWN_CHARS ? `${chars.slice(0, SHOWN_CHARS).join('')}…` : text;
  // A newline or NUL inside a message would break log lines; show them the way JSON writes them.
  // eslint-disable-next-line no-control-regex
  return `\`${shown.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1))}\``;
}

/** Lists names the way messages do: `` `a`, `b`, `c` ``. */
export function quoteList(names: readonly string[]): string {
  return names.map((name) => `\`${name}\``).join(', ');
}

/**
 * Describes any value briefly for a message: `` `0` (number)``, `` `bad name!` (string)``,
 * `` `null` ``, `an object with keys `dir`, `zip``, `a Uint8Array of 12 bytes`.
 */
export function describeValue(value: unknown): string {
  if (value === null) return '`null`';
  if (value === undefined) return '`undefined`';
  switch (typeof value) {
    case 'string': {
      if (value === '') return 'an empty string';
      const length = Array.from(value).length;
      // A cut string hides its length, which is what a length limit is about: say it.
      return length > SHOWN_CHARS ? `${quote(value)} (string, ${length} characters)` : `${quote(value)} (string)`;
    }
    case 'number':
    case 'boolean':
      return `\`${String(value)}\` (${typeof value})`;
    case 'bigint':
      return `\`${value}n\` (bigint)`;
    case 'symbol':
      return `\`${value.toString()}\` (symbol)`;
    case 'function':
      return 'a function';
  }
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  const keys = Object.keys(value);
  if (keys.length === 0) return 'an empty object';
  const more = keys.length > SHOWN_KEYS ? ` and ${keys.length - SHOWN_KEYS} more` : '';
  return `an object with keys ${quoteList(keys.slice(0, SHOWN_KEYS))}${more}`;
}

/**
 * The zod params that make a schema or check report `phrase` as what it expected. Pass the same
 * params to the type and to each of its checks, so every failure of one field reads the same.
 */
export function expected(phrase: string): { readonly error: string } {
  return { error: phrase };
}

/** Reports, from a refinement, that the value at `path` (relative to the refined one) is not `phrase`. */
export function reportExpected(
  ctx: z.core.$RefinementCtx,
  phrase: string,
  input: unknown,
  path: readonly PropertyKey[] = [],
): void {
  ctx.addIssue({ code: 'custom', message: phrase, input, path: [...path] });
}

/** Reports, from a refinement, a problem whose message is a whole sentence of its own. */
export function reportFinal(ctx: z.core.$RefinementCtx, message: string, path: readonly PropertyKey[] = []): void {
  ctx.addIssue({ code: 'custom', message, input: undefined, path: [...path], params: { [FINAL]: true } });
}

/** What is being parsed, for the messages about it. */
export interface Subject {
  /** How messages name the whole input, e.g. `function config`. */
  readonly name: string;
  /** The options it knows, listed when an unknown option has no likely meaning. */
  readonly knownOptions: readonly string[];
  /** Common spellings (AWS API names, mostly) → the option we call that. */
  readonly renames: Readonly<Record<string, string>>;
}

/**
 * Parses `input` with `schema`, or throws InvalidParameterValueException for its first problem.
 * Unknown options come first: `functionName` instead of `name` should say "did you mean `name`?",
 * not that `name` is missing.
 */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, subject: Subject): z.output<S> {
  // reportInput puts the offending value on each issue, which every message shows.
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues.find((issue) => issue.code === 'unrecognized_keys') ?? issues[0];
  // zod never fails without an issue; the fallback only keeps the types honest.
  if (first === undefined) throw new InvalidParameterValueException('', `Invalid ${subject.name}`);
  throw toException(first, subject);
}

/** Turns one zod issue into the exception the caller sees. The only place messages are composed. */
function toException(issue: z.core.$ZodIssue, subject: Subject): InvalidParameterValueException {
  const field = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const option = field === '' ? key : `${field}.${key}`;
    return new InvalidParameterValueException(option, unknownOption(option, field === '', subject));
  }
  if (issue.code === 'custom' && issue.params?.[FINAL] === true) {
    return new InvalidParameterValueException(field, issue.message);
  }
  const name = field === '' ? `the ${subject.name}` : `\`${field}\``;
  return new InvalidParameterValueException(field, `Expected ${name} to ${issue.message}, got ${describeValue(issue.input)}`);
}

/** "Unknown option `x` in function config", with the option the caller most likely meant. */
function unknownOption(option: string, topLevel: boolean, subject: Subject): string {
  const message = `Unknown option ${quote(option)} in ${subject.name}`;
  if (!topLevel) return message;
  // hasOwn: an option called `constructor` must not find Object.prototype's.
  const meant = Object.hasOwn(subject.renames, option)
    ? subject.renames[option]
    : subject.knownOptions.find((known) => known.toLowerCase() === option.toLowerCase());
  if (meant !== undefined) return `${message} (did you mean \`${meant}\`?)`;
  return `${message} (known options: ${quoteList(subject.knownOptions)})`;
}
