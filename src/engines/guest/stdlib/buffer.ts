/** node:buffer: feross/buffer (the Buffer browserify and webpack ship), plus Node's extras. */
import * as polyfill from 'buffer';
import { atob, btoa } from './encoding.ts';

export const Buffer = polyfill.Buffer;

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
