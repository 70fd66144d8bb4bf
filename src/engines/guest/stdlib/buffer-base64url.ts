/**
 * Node's `base64url` encoding on feross/buffer 6, which lacks it (issue #12: `Buffer.from(segment,
 * 'base64url')`, the usual way to read a JWT's parts by hand, threw "Unknown encoding: base64url" on
 * every engine; Node has had it since 15.7). guest-bundle.ts appends a call of this to the package's
 * own module, so every Buffer in the guest (the global, `node:buffer`, the ports' own imports) has it.
 *
 * Decoding: feross's base64 decoder already reads the URL-safe alphabet (`-`, `_`) and missing
 * padding, as Node's base64 does, so `base64url` is read as `base64`. Encoding: base64, then `+/`
 * become `-_` and the padding goes (Node: RFC 4648 §5, unpadded). string_decoder (node:string_decoder,
 * and readable-stream's setEncoding) gets it the same way: {@link addBase64UrlDecoder}.
 */
type Encoding = unknown;
interface FerossBuffer {
  from: (...args: unknown[]) => unknown;
  alloc: (...args: unknown[]) => unknown;
  byteLength: (...args: unknown[]) => unknown;
  isEncoding: (encoding: unknown) => boolean;
  prototype: Record<string, (...args: unknown[]) => unknown>;
}

const { apply } = Reflect;
const toLowerCase = String.prototype.toLowerCase;
const replace = String.prototype.replace;

function isBase64Url(encoding: Encoding): boolean {
  return typeof encoding === 'string' && apply(toLowerCase, encoding, []) === 'base64url';
}

/** `args` with every string `base64url` after the first argument read as `base64` (encodings follow the value). */
function decodingArgs(args: unknown[]): unknown[] {
  return args.map((arg, i) => (i > 0 && isBase64Url(arg) ? 'base64' : arg));
}

export function addBase64Url(Buffer: FerossBuffer): void {
  const { from, alloc, byteLength, isEncoding } = Buffer;
  const proto = Buffer.prototype;
  const { toString, write, fill, indexOf, lastIndexOf, includes } = proto as Record<string, (...args: unknown[]) => unknown>;
  Buffer.isEncoding = function isEncoding_(encoding: unknown): boolean {
    return isBase64Url(encoding) || isEncoding(encoding);
  };
  Object.defineProperty(Buffer.isEncoding, 'name', { value: 'isEncoding' });
  Buffer.from = function from_(this: unknown, ...args: unknown[]): unknown {
    return apply(from, this, typeof args[0] === 'string' ? decodingArgs(args) : args);
  };
  Object.defineProperty(Buffer.from, 'name', { value: 'from' });
  Buffer.alloc = function alloc_(this: unknown, ...args: unknown[]): unknown {
    return apply(alloc, this, decodingArgs(args));
  };
  Object.defineProperty(Buffer.alloc, 'name', { value: 'alloc' });
  Buffer.byteLength = function byteLength_(this: unknown, ...args: unknown[]): unknown {
    return apply(byteLength, this, decodingArgs(args));
  };
  Object.defineProperty(Buffer.byteLength, 'name', { value: 'byteLength' });
  const stringify = function toString_(this: unknown, ...args: unknown[]): unknown {
    if (!isBase64Url(args[0])) return apply(toString, this, args);
    return urlSafe(apply(toString, this, ['base64', ...args.slice(1)]));
  };
  Object.defineProperty(stringify, 'name', { value: 'toString' });
  const methods = proto as Record<string, unknown>;
  methods['toString'] = stringify;
  methods['toLocaleString'] = stringify;
  for (const [name, method] of [['write', write], ['fill', fill], ['indexOf', indexOf], ['lastIndexOf', lastIndexOf], ['includes', includes]] as const) {
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      return apply(method!, this, decodingArgs(args));
    };
    Object.defineProperty(wrapped, 'name', { value: name });
    methods[name] = wrapped;
  }
  addEncodingMethods(proto);
}

/**
 * Node's per-encoding methods on Buffer.prototype (`utf8Slice(start, end)`, `utf8Write(string,
 * offset, length)`, and the same for ascii, base64, base64url, latin1, hex and ucs2): undocumented,
 * but undici reads response bodies with `buffer.utf8Slice` ("buffer.utf8Slice is not a function" in
 * a guest). feross/buffer keeps them internal: here they are toString / write with the encoding.
 */
function addEncodingMethods(proto: Record<string, (...args: unknown[]) => unknown>): void {
  const { toString, write } = proto;
  for (const encoding of ['ascii', 'base64', 'base64url', 'latin1', 'hex', 'ucs2', 'utf8']) {
    const slice = function (this: { length: number }, start = 0, end = this.length): unknown {
      return apply(toString, this, [encoding, start, end]);
    };
    const writeAs = function (this: { length: number }, string: unknown, offset = 0, length = this.length - (offset)): unknown {
      return apply(write!, this, [string, offset, length, encoding]);
    };
    Object.defineProperty(proto, `${encoding}Slice`, { value: slice, writable: true, enumerable: true, configurable: true });
    Object.defineProperty(proto, `${encoding}Write`, { value: writeAs, writable: true, enumerable: true, configurable: true });
  }
}

/** `+/` to `-_`, padding dropped: base64 text as base64url. */
function urlSafe(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  return apply(replace, apply(replace, apply(replace, text, [/\+/g, '-']), [/\//g, '_']), [/=+$/, '']);
}

interface Decoder {
  encoding: unknown;
  write: (...args: unknown[]) => unknown;
  end: (...args: unknown[]) => unknown;
}

/**
 * string_decoder 1.3's StringDecoder with Node's `base64url`: a base64 decoder whose text is made
 * URL-safe (its write() returns whole 4-character groups, so only end() can carry padding). The
 * package's own module calls this (guest-bundle.ts); other encodings reach its decoder unchanged.
 */
export function addBase64UrlDecoder(exports: { StringDecoder: new (encoding?: unknown) => Decoder }): void {
  const Base = exports.StringDecoder;
  const StringDecoder = function StringDecoder(encoding?: unknown): Decoder {
    if (!isBase64Url(encoding)) return new Base(encoding);
    const decoder = new Base('base64');
    const { write, end } = decoder;
    decoder.encoding = 'base64url';
    decoder.write = (...args: unknown[]): unknown => urlSafe(apply(write, decoder, args));
    decoder.end = (...args: unknown[]): unknown => urlSafe(apply(end, decoder, args));
    return decoder;
  };
  // Same prototype: `instanceof StringDecoder` and the methods other encodings use hold as before.
  Object.defineProperty(StringDecoder, 'prototype', { value: Base.prototype as unknown });
  exports.StringDecoder = StringDecoder as unknown as typeof Base;
}

