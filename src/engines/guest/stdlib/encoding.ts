/**
 * TextEncoder / TextDecoder (UTF-8, UTF-16LE and latin1), atob / btoa and node:string_decoder.
 * Written here rather than taken from a polyfill: feross/buffer already carries a WHATWG-conformant
 * UTF-8 codec (replacement characters for bad sequences), and the polyfills on npm install
 * themselves as globals or predate `fatal`/`stream`.
 */
import { Buffer } from 'buffer';
import { nodeError } from '../bridge.ts';

const LABELS: Readonly<Record<string, 'utf-8' | 'utf-16le' | 'latin1'>> = {
  'utf-8': 'utf-8', utf8: 'utf-8', 'unicode-1-1-utf-8': 'utf-8',
  'utf-16le': 'utf-16le', 'utf-16': 'utf-16le',
  latin1: 'latin1', 'iso-8859-1': 'latin1', ascii: 'latin1', 'us-ascii': 'latin1', 'windows-1252': 'latin1',
};

export class TextEncoder {
  get encoding(): string {
    return 'utf-8';
  }
  encode(input = ''): Uint8Array {
    const bytes = Buffer.from(String(input), 'utf8');
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  encodeInto(input: string, dest: Uint8Array): { read: number; written: number } {
    let read = 0;
    let written = 0;
    for (const ch of String(input)) {
      const bytes = Buffer.from(ch, 'utf8');
      if (written + bytes.length > dest.length) break;
      dest.set(bytes, written);
      written += bytes.length;
      read += ch.length;
    }
    return { read, written };
  }
}

/** Bytes at the end of `bytes` that begin an unfinished UTF-8 sequence. */
function incompleteTail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

export class TextDecoder {
  readonly #encoding: 'utf-8' | 'utf-16le' | 'latin1';
  readonly #fatal: boolean;
  readonly #ignoreBOM: boolean;
  #pending: Uint8Array = new Uint8Array(0);
  #started = false;

  constructor(label = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    const encoding = LABELS[String(label).trim().toLowerCase()];
    if (!encoding) throw nodeError(RangeError, 'ERR_ENCODING_NOT_SUPPORTED', `The "${String(label)}" encoding is not supported`);
    this.#encoding = encoding;
    this.#fatal = options.fatal === true;
    this.#ignoreBOM = options.ignoreBOM === true;
  }
  get encoding(): string {
    return this.#encoding === 'latin1' ? 'windows-1252' : this.#encoding;
  }
  get fatal(): boolean {
    return this.#fatal;
  }
  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }

  decode(input?: ArrayBuffer | ArrayBufferView, options: { stream?: boolean } = {}): string {
    let bytes =
      input === undefined
        ? new Uint8Array(0)
        : ArrayBuffer.isView(input)
          ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
          : new Uint8Array(input);
    if (this.#pending.length > 0) {
      const joined = new Uint8Array(this.#pending.length + bytes.length);
      joined.set(this.#pending);
      joined.set(bytes, this.#pending.length);
      bytes = joined;
      this.#pending = new Uint8Array(0);
    }
    if (options.stream) {
      const keep = this.#encoding === 'utf-8' ? incompleteTail(bytes) : this.#encoding === 'utf-16le' ? bytes.length % 2 : 0;
      if (keep > 0) {
        this.#pending = bytes.slice(bytes.length - keep);
        bytes = bytes.subarray(0, bytes.length - keep);
      }
    }
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let text = buffer.toString(this.#encoding === 'utf-8' ? 'utf8' : this.#encoding);
    if (this.#fatal && this.#encoding === 'utf-8' && text.includes('\ufffd') && !Buffer.from(text, 'utf8').equals(buffer)) {
      throw nodeError(TypeError, 'ERR_ENCODING_INVALID_ENCODED_DATA', 'The encoded data was not valid for encoding utf-8');
    }
    if (!this.#started && !this.#ignoreBOM && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    this.#started = options.stream === true;
    return text;
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function btoa(data: unknown): string {
  const text = String(data);
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) throw new DOMExceptionLike('Invalid character', 'InvalidCharacterError');
  }
  return Buffer.from(text, 'latin1').toString('base64');
}

export function atob(data: unknown): string {
  const text = String(data).replace(/[\t\n\f\r ]/g, '');
  if (!BASE64.test(text) || text.length % 4 === 1) throw new DOMExceptionLike('The string to be decoded is not correctly encoded.', 'InvalidCharacterError');
  return Buffer.from(text, 'base64').toString('latin1');
}

/** DOMException where the engine has none (neither V8 without Node nor QuickJS does). */
/** DOMException's legacy codes (WebIDL; Web Crypto's DataError and OperationError have none). */
const LEGACY_CODES: Readonly<Record<string, number>> = {
  IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5, NoModificationAllowedError: 7,
  NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14,
  InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21,
  QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
};

export class DOMExceptionLike extends Error {
  constructor(message = '', name = 'Error') {
    super(message);
    this.name = name;
  }
  get code(): number {
    return LEGACY_CODES[this.name] ?? 0;
  }
}

/** node:string_decoder, over TextDecoder's streaming mode. */
class StringDecoder {
  readonly encoding: string;
  readonly #decoder: TextDecoder | undefined;
  constructor(encoding = 'utf8') {
    this.encoding = String(encoding).toLowerCase();
    this.#decoder = ['utf8', 'utf-8', 'utf16le', 'utf-16le', 'ucs2', 'latin1', 'binary'].includes(this.encoding)
      ? new TextDecoder(this.encoding.replace('ucs2', 'utf-16le').replace('utf16le', 'utf-16le').replace('binary', 'latin1'))
      : undefined;
  }
  write(buffer: Uint8Array | string): string {
    if (typeof buffer === 'string') return buffer;
    return this.#decoder ? this.#decoder.decode(buffer, { stream: true }) : Buffer.from(buffer).toString(this.encoding as 'hex');
  }
  end(buffer?: Uint8Array): string {
    const text = buffer ? this.write(buffer) : '';
    return text + (this.#decoder ? this.#decoder.decode() : '');
  }
}

export const stringDecoderModule = { StringDecoder };
