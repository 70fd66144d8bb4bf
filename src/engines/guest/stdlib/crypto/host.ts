/**
 * The guest's side of the `crypto` host call (environment/crypto-service.ts answers it with the
 * host's node:crypto): bytes in, bytes out, plain data beside them. And the argument handling every
 * crypto module shares: Node's ways of passing bytes (string + encoding, Buffer, TypedArray,
 * DataView, ArrayBuffer) and of returning them (a Buffer, or a string in an encoding).
 */
import { Buffer } from 'buffer';
import { hostCall } from '../../bridge.ts';
import { invalidArgType, validateInteger as validateNodeInteger } from '../node-errors.ts';

export { invalidArgType };

export type BinaryLike = string | ArrayBufferView | ArrayBuffer;

export interface CryptoResult {
  readonly value: unknown;
  readonly parts: Uint8Array[];
}

/** One crypto host call: `parts` go as one payload with their lengths; the answer's parts come back split. */
export function cryptoCall(method: string, params: object, parts: readonly Uint8Array[] = []): CryptoResult {
  let total = 0;
  for (const part of parts) total += part.length;
  const payload = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    payload.set(part, at);
    at += part.length;
  }
  const answer = hostCall('crypto', [method, params, parts.map((part) => part.length)], parts.length === 0 ? undefined : payload);
  const head = answer.value as { v: unknown; l: number[] };
  const bytes = answer.payload ?? new Uint8Array(0);
  const out: Uint8Array[] = [];
  at = 0;
  for (const length of head.l) {
    out.push(bytes.subarray(at, at + length));
    at += length;
  }
  return { value: head.v, parts: out };
}

/**
 * Text in `encoding` → bytes. The guest's Buffer (feross/buffer 6) does not know `base64url`
 * (Node 15.7+), which JWT libraries use: it is decoded here as base64 with the URL alphabet.
 */
function decodeText(text: string, encoding: string | undefined): Uint8Array {
  if (encoding === 'base64url') return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return Buffer.from(text, (encoding === undefined || encoding === 'buffer' ? 'utf8' : encoding) as BufferEncoding);
}

/** Bytes → text in `encoding` (with `base64url`, see decodeText). */
export function encodeText(bytes: Uint8Array, encoding: string): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (encoding === 'base64url') return buffer.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return buffer.toString(encoding as BufferEncoding);
}

/** Bytes of a BinaryLike (a view of the caller's memory, not a copy). */
export function bytesOf(data: unknown, encoding?: string, name = 'data'): Uint8Array {
  if (typeof data === 'string') return decodeText(data, encoding);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) return new Uint8Array(data);
  throw invalidArgType(name, 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView', data);
}

/** A Buffer over `bytes`, or its text in `encoding`. */
export function output(bytes: Uint8Array, encoding?: string): Buffer | string {
  if (encoding === undefined || encoding === 'buffer') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return encodeText(bytes, encoding);
}

/** Copies into a fresh ArrayBuffer (Web Crypto's results). */
export function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

/** Node's validateInteger, with the lower bound crypto's sizes and counts use (0) as the default. */
export function validateInteger(value: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  return validateNodeInteger(value, name, min, max);
}

export function validateFunction(value: unknown, name: string): (...args: never[]) => unknown {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
  return value as (...args: never[]) => unknown;
}

/**
 * Runs `work` now and hands its outcome to a Node-style callback on a later turn (the host did
 * the work synchronously; the callback still never runs before the caller's next line).
 */
export function deferToCallback<T>(callback: (error: Error | null, value?: T) => void, work: () => T): void {
  let result: { error: Error | null; value?: T };
  try {
    result = { error: null, value: work() };
  } catch (error) {
    result = { error: error as Error };
  }
  setImmediate(() => (result.error ? callback(result.error) : callback(null, result.value)));
}
