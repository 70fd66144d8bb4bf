/** node:buffer: feross/buffer (the Buffer browserify and webpack ship), plus Node's extras. */
import * as polyfill from 'buffer';
import { nodeError } from '../bridge.ts';
import { atob, btoa } from './encoding.ts';
import { describeReceived } from './node-errors.ts';

export const Buffer = polyfill.Buffer;

// Node's refusal of a first argument Buffer.from cannot take (lib/buffer.js: ERR_INVALID_ARG_TYPE,
// one message for every type); feross/buffer throws a plain TypeError worded otherwise, without
// a code, which libraries that check `err.code` do not recognise.
const polyfillFrom = Buffer.from;
function refuse(value: unknown): never {
  throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received ${describeReceived(value)}`);
}
Object.defineProperty(Buffer, 'from', {
  value: function from(this: unknown, value: unknown, encodingOrOffset?: unknown, length?: unknown) {
    if (value === null || (typeof value !== 'string' && typeof value !== 'object')) refuse(value);
    try {
      return Reflect.apply(polyfillFrom, this, [value, encodingOrOffset, length]) as InstanceType<typeof polyfill.Buffer>;
    } catch (error) {
      if (error instanceof TypeError && (error as { code?: unknown }).code === undefined && /^The first argument must be/.test(error.message)) refuse(value);
      throw error;
    }
  },
  writable: true,
  configurable: true,
});

export const bufferModule = {
  ...polyfill,
  Buffer,
  atob,
  btoa,
  constants: { MAX_LENGTH: polyfill.kMaxLength, MAX_STRING_LENGTH: 0x1fffffe8 },
  isUtf8: (input: Uint8Array): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(input);
      return true;
    } catch {
      return false;
    }
  },
  // Node's buffer.Blob and buffer.File are the globals (https://nodejs.org/docs/latest-v24.x/api/buffer.html#class-blob).
  // Getters: the globals load the fetch chunk on first touch, and most handlers never use a Blob.
  get Blob() {
    return globalThis.Blob;
  },
  get File() {
    return globalThis.File;
  },
  isAscii: (input: Uint8Array): boolean => input.every((b) => b < 0x80),
};
