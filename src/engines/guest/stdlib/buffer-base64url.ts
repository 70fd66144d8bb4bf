/**
 * Node's `base64url` encoding on feross/buffer 6, which lacks it (issue #12: `Buffer.from(segment,
 * 'base64url')`, the usual way to read a JWT's parts by hand, threw "Unknown encoding: base64url" on
 * every engine; Node has had it since 15.7). guest-bundle.ts appends a call of this to the package's
 * own module, so every Buffer in the guest (the global, `node:buffer`, the ports' own imports) has it.
 *
 * Decoding: feross's base64 decoder already reads the URL-safe alphabet (`-`, `_`) and missing
 * padding, as Node's base64 does, so `base64url` is read as `base64`. Encoding: base64, then `+/`
 * become `-_` and the padding goes (Node: RFC 4648 §5, unpadded).
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
    const base64 = apply(toString, this, ['base64', ...args.slice(1)]) as string;
    return apply(replace, apply(replace, apply(replace, base64, [/\+/g, '-']), [/\//g, '_']), [/=+$/, '']);
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
}
