/**
 * Node's argument errors, worded as Node words them (lib/internal/errors.js): ERR_INVALID_ARG_TYPE
 * with `determineSpecificType`'s "Received ..." and ERR_OUT_OF_RANGE with its numeric separators,
 * and lib/internal/validators.js's validateInteger. Each wording below was checked against Node 24.
 */
import { nodeError } from '../bridge.ts';

/** Node's addNumericalSeparator: "9007199254740992" → "9_007_199_254_740_992". */
function withSeparators(digits: string): string {
  let out = '';
  let i = digits.length;
  const start = digits.startsWith('-') ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${digits.slice(i - 3, i)}${out}`;
  return `${digits.slice(0, i)}${out}`;
}

/** Node's determineSpecificType: what follows "Received " in ERR_INVALID_ARG_TYPE. */
export function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${String(value)}n)`;
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : String(value)})`;
    case 'boolean':
    case 'symbol':
      return `type ${typeof value} (${String(value)})`;
    case 'function':
      return `function ${(value as { name?: unknown }).name as string}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: unknown } }).constructor;
      if (ctor !== undefined && ctor !== null && 'name' in ctor) return `an instance of ${ctor.name as string}`;
      // Node prints util.inspect(value, { depth: -1 }) here: for the cases a guest meets, these.
      if (Object.getPrototypeOf(value) === null) return Object.keys(value).length === 0 ? '[Object: null prototype] {}' : '[Object: null prototype]';
      return '{}';
    }
    default: {
      let text = value as string;
      if (text.length > 28) text = `${text.slice(0, 25)}...`;
      return text.includes("'") ? `type string (${JSON.stringify(text)})` : `type string ('${text}')`;
    }
  }
}

/** ERR_INVALID_ARG_TYPE: `The "<name>" argument must be <expected>. Received ...` ("property" for a dotted name, as Node words it). */
export function invalidArgType(name: string, expected: string, value: unknown): TypeError & { code: string } {
  const kind = name.includes('.') ? 'property' : 'argument';
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" ${kind} must be ${expected}. Received ${describeReceived(value)}`);
}

/** ERR_OUT_OF_RANGE: `The value of "<name>" is out of range. It must be <range>. Received <value>`. */
export function outOfRange(name: string, range: string, value: unknown): RangeError & { code: string } {
  let received: string;
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 32) received = withSeparators(String(value));
  else if (typeof value === 'bigint') received = `${value > 2n ** 32n || value < -(2n ** 32n) ? withSeparators(String(value)) : String(value)}n`;
  else received = Object.is(value, -0) ? '-0' : String(value);
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${received}`);
}

/** Node's validateInteger(value, name, min, max), its defaults the safe-integer range. */
export function validateInteger(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
}

/**
 * Node's AbortError (lib/internal/errors.js): what its promise APIs reject with when their signal
 * aborts — code ABORT_ERR, the signal's reason as `cause` — not the reason itself.
 */
export class AbortError extends Error {
  code: string;
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    if (options !== undefined && typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    super(message, options);
    this.code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}

/** Node's validateAbortSignal: undefined, or an object with `aborted` (ERR_INVALID_ARG_TYPE otherwise). */
export function validateAbortSignal(signal: unknown, name: string): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) throw invalidArgType(name, 'an instance of AbortSignal', signal);
}
