/**
 * Randomness from the host's CSPRNG (node:crypto.randomBytes through the `random` host call, at
 * most 64 KiB per call): randomBytes, randomFill(Sync), randomInt, randomUUID, getRandomValues.
 */
import { Buffer } from 'buffer';
import { hostCall, nodeError } from '../../bridge.ts';
import { DOMExceptionLike } from '../encoding.ts';
import { deferToCallback, validateFunction, validateInteger } from './host.ts';

/** Most bytes one getRandomValues call may fill (Web Crypto's QuotaExceededError limit), and one host call. */
const RANDOM_MAX = 65_536;
/** Node's kMaxLength-bound for randomBytes' size. */
const MAX_SIZE = 2 ** 31 - 1;

/** Fills `target` from the host's CSPRNG, 64 KiB per host call. */
export function randomFill(target: Uint8Array): Uint8Array {
  for (let offset = 0; offset < target.length; offset += RANDOM_MAX) {
    const n = Math.min(RANDOM_MAX, target.length - offset);
    target.set(hostCall('random', [n]).payload ?? new Uint8Array(0), offset);
  }
  return target;
}

export function getRandomValues<T extends ArrayBufferView | null>(array: T): T {
  if (!ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
    throw new DOMExceptionLike('The data argument must be an integer-type TypedArray', 'TypeMismatchError');
  }
  if (array.byteLength > RANDOM_MAX) {
    throw new DOMExceptionLike(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (${RANDOM_MAX})`, 'QuotaExceededError');
  }
  randomFill(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return array;
}

export function randomUUID(): `${string}-${string}-${string}-${string}-${string}` {
  const b = randomFill(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function randomBytes(size: number, callback?: (err: Error | null, buf?: Buffer) => void): Buffer | undefined {
  validateInteger(size, 'size', 0, MAX_SIZE);
  if (callback !== undefined) validateFunction(callback, 'callback');
  if (!callback) return Buffer.from(randomFill(new Uint8Array(size)).buffer);
  deferToCallback(callback, () => Buffer.from(randomFill(new Uint8Array(size)).buffer));
  return undefined;
}

function viewOf(buf: ArrayBufferView | ArrayBuffer, offset = 0, size?: number): Uint8Array {
  const whole = ArrayBuffer.isView(buf) ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf);
  validateInteger(offset, 'offset', 0, whole.length);
  const n = size === undefined ? whole.length - offset : validateInteger(size, 'size', 0, whole.length - offset);
  return whole.subarray(offset, offset + n);
}

export function randomFillSync<T extends ArrayBufferView | ArrayBuffer>(buf: T, offset?: number, size?: number): T {
  randomFill(viewOf(buf, offset, size));
  return buf;
}

export function randomFillAsync<T extends ArrayBufferView | ArrayBuffer>(buf: T, ...rest: unknown[]): void {
  const callback = validateFunction(rest.pop(), 'callback') as (err: Error | null, buf?: T) => void;
  const view = viewOf(buf, rest[0] as number | undefined, rest[1] as number | undefined);
  deferToCallback(callback, () => (randomFill(view), buf));
}

/** Node's randomInt: uniform in [min, max) by rejection sampling over 48-bit draws; max - min < 2^48. */
export function randomInt(min: number, max?: number | ((err: Error | null, n?: number) => void), callback?: (err: Error | null, n?: number) => void): number | undefined {
  if (typeof max === 'function' || max === undefined) {
    callback = max;
    max = min;
    min = 0;
  }
  if (!Number.isSafeInteger(min)) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "min" argument must be a safe integer. Received ${String(min)}`);
  if (!Number.isSafeInteger(max)) throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "max" argument must be a safe integer. Received ${String(max)}`);
  if (max <= min) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "max" is out of range. It must be greater than the value of "min" (${min}). Received ${max}`);
  }
  const range = max - min;
  if (range > 2 ** 48 - 1) {
    throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "max - min" is out of range. It must be <= 281474976710655. Received ${range}`);
  }
  const limit = 2 ** 48 - (2 ** 48 % range);
  const draw = (): number => {
    for (;;) {
      const b = randomFill(new Uint8Array(6));
      const n = b.reduce((acc, x) => acc * 256 + x, 0);
      if (n < limit) return min + (n % range);
    }
  };
  if (callback === undefined) return draw();
  deferToCallback(validateFunction(callback, 'callback') as (e: Error | null, n?: number) => void, draw);
  return undefined;
}
